-- Wide rollups. The narrow message_rollups had a row per client, quarter hour, role and status: at
-- a busy year's density about a third as many rows as messages. Now every count is a column of one
-- row per client and quarter hour (level 0), and also per client and hour (level 1, read for zones
-- whose offsets are whole hours: 4 times fewer rows). Sessions get the same (session_rollups) and
-- histograms of their first-response and duration seconds per UTC day (session_seconds), so the
-- dashboard reads no message or session row for whole buckets; threads are counted per UTC day of
-- their first and last message (thread_rollups). What each column counts is defined
-- once, in src/db/repositories/rollups.ts; these triggers were written from it.

DROP TRIGGER "message_rollups_insert";
DROP TRIGGER "message_rollups_delete";
DROP TRIGGER "message_rollups_update";
DROP TABLE "message_rollups";

-- WITHOUT ROWID: rows are stored in key order, so a client's year is one range of the table itself.
CREATE TABLE "message_rollups" (
    "client_id" INTEGER NOT NULL,
    "level" SMALLINT NOT NULL,
    "bucket" BIGINT NOT NULL,
    "m_user" INTEGER NOT NULL DEFAULT 0,
    "m_assistant" INTEGER NOT NULL DEFAULT 0,
    "m_agent" INTEGER NOT NULL DEFAULT 0,
    "m_failed" INTEGER NOT NULL DEFAULT 0,
    "o_none" INTEGER NOT NULL DEFAULT 0,
    "o_sending" INTEGER NOT NULL DEFAULT 0,
    "o_sent" INTEGER NOT NULL DEFAULT 0,
    "o_failed" INTEGER NOT NULL DEFAULT 0,
    "o_delivered" INTEGER NOT NULL DEFAULT 0,
    "o_read" INTEGER NOT NULL DEFAULT 0,
    "o_played" INTEGER NOT NULL DEFAULT 0,
    "o_other" INTEGER NOT NULL DEFAULT 0,
    "s_scored" INTEGER NOT NULL DEFAULT 0,
    "s_negative" INTEGER NOT NULL DEFAULT 0,
    "s_positive" INTEGER NOT NULL DEFAULT 0,
    "s_milli" BIGINT NOT NULL DEFAULT 0,
    "s_unscored" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("client_id","level","bucket")
) WITHOUT ROWID;

CREATE TABLE "session_rollups" (
    "client_id" INTEGER NOT NULL,
    "level" SMALLINT NOT NULL,
    "bucket" BIGINT NOT NULL,
    "c_total" INTEGER NOT NULL DEFAULT 0,
    "c_open" INTEGER NOT NULL DEFAULT 0,
    "c_closed" INTEGER NOT NULL DEFAULT 0,
    "c_handoffs" INTEGER NOT NULL DEFAULT 0,
    "c_involved" INTEGER NOT NULL DEFAULT 0,
    "c_ended_involved" INTEGER NOT NULL DEFAULT 0,
    "c_bot_only" INTEGER NOT NULL DEFAULT 0,
    "c_scored" INTEGER NOT NULL DEFAULT 0,
    "c_opening_milli" BIGINT NOT NULL DEFAULT 0,
    "c_closing_milli" BIGINT NOT NULL DEFAULT 0,

    PRIMARY KEY ("client_id","level","bucket")
) WITHOUT ROWID;

CREATE TABLE "session_seconds" (
    "client_id" INTEGER NOT NULL,
    "day" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "seconds" BIGINT NOT NULL,
    "n" INTEGER NOT NULL,

    PRIMARY KEY ("client_id","day","kind","seconds")
) WITHOUT ROWID;

CREATE TABLE "thread_rollups" (
    "client_id" INTEGER NOT NULL,
    "day" BIGINT NOT NULL,
    "created_n" INTEGER NOT NULL DEFAULT 0,
    "last_n" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("client_id","day")
) WITHOUT ROWID;

-- Row triggers (times are epoch milliseconds); an update counts only when what a rollup reads changed.
CREATE TRIGGER "message_rollups_insert" AFTER INSERT ON "messages" BEGIN
  INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
  VALUES (NEW."client_id", 0, NEW."created_at" / 900000, CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END),
    (NEW."client_id", 1, NEW."created_at" / 3600000, CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "m_user" = "m_user" + excluded."m_user", "m_assistant" = "m_assistant" + excluded."m_assistant", "m_agent" = "m_agent" + excluded."m_agent", "m_failed" = "m_failed" + excluded."m_failed", "o_none" = "o_none" + excluded."o_none", "o_sending" = "o_sending" + excluded."o_sending", "o_sent" = "o_sent" + excluded."o_sent", "o_failed" = "o_failed" + excluded."o_failed", "o_delivered" = "o_delivered" + excluded."o_delivered", "o_read" = "o_read" + excluded."o_read", "o_played" = "o_played" + excluded."o_played", "o_other" = "o_other" + excluded."o_other", "s_scored" = "s_scored" + excluded."s_scored", "s_negative" = "s_negative" + excluded."s_negative", "s_positive" = "s_positive" + excluded."s_positive", "s_milli" = "s_milli" + excluded."s_milli", "s_unscored" = "s_unscored" + excluded."s_unscored";
END;

CREATE TRIGGER "message_rollups_delete" AFTER DELETE ON "messages" BEGIN
  INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
  VALUES (OLD."client_id", 0, OLD."created_at" / 900000, CASE WHEN OLD.role = 'user' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'assistant' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'agent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN -1 ELSE 0 END),
    (OLD."client_id", 1, OLD."created_at" / 3600000, CASE WHEN OLD.role = 'user' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'assistant' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'agent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN -1 ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "m_user" = "m_user" + excluded."m_user", "m_assistant" = "m_assistant" + excluded."m_assistant", "m_agent" = "m_agent" + excluded."m_agent", "m_failed" = "m_failed" + excluded."m_failed", "o_none" = "o_none" + excluded."o_none", "o_sending" = "o_sending" + excluded."o_sending", "o_sent" = "o_sent" + excluded."o_sent", "o_failed" = "o_failed" + excluded."o_failed", "o_delivered" = "o_delivered" + excluded."o_delivered", "o_read" = "o_read" + excluded."o_read", "o_played" = "o_played" + excluded."o_played", "o_other" = "o_other" + excluded."o_other", "s_scored" = "s_scored" + excluded."s_scored", "s_negative" = "s_negative" + excluded."s_negative", "s_positive" = "s_positive" + excluded."s_positive", "s_milli" = "s_milli" + excluded."s_milli", "s_unscored" = "s_unscored" + excluded."s_unscored";
END;

CREATE TRIGGER "message_rollups_update" AFTER UPDATE OF "client_id", "created_at", "role", "status", "sentiment", "csat_survey_id", "type" ON "messages"
WHEN OLD."client_id" IS NOT NEW."client_id" OR OLD."created_at" IS NOT NEW."created_at" OR OLD."role" IS NOT NEW."role" OR OLD."status" IS NOT NEW."status" OR OLD."sentiment" IS NOT NEW."sentiment" OR OLD."csat_survey_id" IS NOT NEW."csat_survey_id" OR OLD."type" IS NOT NEW."type"
BEGIN
  INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
  VALUES (OLD."client_id", 0, OLD."created_at" / 900000, CASE WHEN OLD.role = 'user' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'assistant' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'agent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN -1 ELSE 0 END),
    (OLD."client_id", 1, OLD."created_at" / 3600000, CASE WHEN OLD.role = 'user' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'assistant' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'agent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN -1 ELSE 0 END,
    CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN -1 ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN -1 ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "m_user" = "m_user" + excluded."m_user", "m_assistant" = "m_assistant" + excluded."m_assistant", "m_agent" = "m_agent" + excluded."m_agent", "m_failed" = "m_failed" + excluded."m_failed", "o_none" = "o_none" + excluded."o_none", "o_sending" = "o_sending" + excluded."o_sending", "o_sent" = "o_sent" + excluded."o_sent", "o_failed" = "o_failed" + excluded."o_failed", "o_delivered" = "o_delivered" + excluded."o_delivered", "o_read" = "o_read" + excluded."o_read", "o_played" = "o_played" + excluded."o_played", "o_other" = "o_other" + excluded."o_other", "s_scored" = "s_scored" + excluded."s_scored", "s_negative" = "s_negative" + excluded."s_negative", "s_positive" = "s_positive" + excluded."s_positive", "s_milli" = "s_milli" + excluded."s_milli", "s_unscored" = "s_unscored" + excluded."s_unscored";
  INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
  VALUES (NEW."client_id", 0, NEW."created_at" / 900000, CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END),
    (NEW."client_id", 1, NEW."created_at" / 3600000, CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END,
    CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "m_user" = "m_user" + excluded."m_user", "m_assistant" = "m_assistant" + excluded."m_assistant", "m_agent" = "m_agent" + excluded."m_agent", "m_failed" = "m_failed" + excluded."m_failed", "o_none" = "o_none" + excluded."o_none", "o_sending" = "o_sending" + excluded."o_sending", "o_sent" = "o_sent" + excluded."o_sent", "o_failed" = "o_failed" + excluded."o_failed", "o_delivered" = "o_delivered" + excluded."o_delivered", "o_read" = "o_read" + excluded."o_read", "o_played" = "o_played" + excluded."o_played", "o_other" = "o_other" + excluded."o_other", "s_scored" = "s_scored" + excluded."s_scored", "s_negative" = "s_negative" + excluded."s_negative", "s_positive" = "s_positive" + excluded."s_positive", "s_milli" = "s_milli" + excluded."s_milli", "s_unscored" = "s_unscored" + excluded."s_unscored";
END;

CREATE TRIGGER "session_rollups_insert" AFTER INSERT ON "conversations" BEGIN
  INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
  VALUES (NEW."client_id", 0, NEW."started_at" / 900000, CASE WHEN 1 = 1 THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (NEW."client_id", 1, NEW."started_at" / 3600000, CASE WHEN 1 = 1 THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "c_total" = "c_total" + excluded."c_total", "c_open" = "c_open" + excluded."c_open", "c_closed" = "c_closed" + excluded."c_closed", "c_handoffs" = "c_handoffs" + excluded."c_handoffs", "c_involved" = "c_involved" + excluded."c_involved", "c_ended_involved" = "c_ended_involved" + excluded."c_ended_involved", "c_bot_only" = "c_bot_only" + excluded."c_bot_only", "c_scored" = "c_scored" + excluded."c_scored", "c_opening_milli" = "c_opening_milli" + excluded."c_opening_milli", "c_closing_milli" = "c_closing_milli" + excluded."c_closing_milli";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT NEW."client_id", NEW."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((NEW.first_response_at - NEW.first_user_at) / 1000.0) AS INTEGER)), 1 WHERE NEW.first_user_at IS NOT NULL AND NEW.first_response_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT NEW."client_id", NEW."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((NEW.last_message_at - NEW.started_at) / 1000.0) AS INTEGER)), 1 WHERE NEW.ended_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
END;

CREATE TRIGGER "session_rollups_delete" AFTER DELETE ON "conversations" BEGIN
  INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
  VALUES (OLD."client_id", 0, OLD."started_at" / 900000, CASE WHEN 1 = 1 THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.handoff_at IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (OLD."client_id", 1, OLD."started_at" / 3600000, CASE WHEN 1 = 1 THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.handoff_at IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "c_total" = "c_total" + excluded."c_total", "c_open" = "c_open" + excluded."c_open", "c_closed" = "c_closed" + excluded."c_closed", "c_handoffs" = "c_handoffs" + excluded."c_handoffs", "c_involved" = "c_involved" + excluded."c_involved", "c_ended_involved" = "c_ended_involved" + excluded."c_ended_involved", "c_bot_only" = "c_bot_only" + excluded."c_bot_only", "c_scored" = "c_scored" + excluded."c_scored", "c_opening_milli" = "c_opening_milli" + excluded."c_opening_milli", "c_closing_milli" = "c_closing_milli" + excluded."c_closing_milli";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT OLD."client_id", OLD."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((OLD.first_response_at - OLD.first_user_at) / 1000.0) AS INTEGER)), -1 WHERE OLD.first_user_at IS NOT NULL AND OLD.first_response_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT OLD."client_id", OLD."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((OLD.last_message_at - OLD.started_at) / 1000.0) AS INTEGER)), -1 WHERE OLD.ended_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
END;

CREATE TRIGGER "session_rollups_update" AFTER UPDATE ON "conversations"
WHEN OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."end_reason" IS NOT NEW."end_reason" OR OLD."handoff_at" IS NOT NEW."handoff_at" OR OLD."sentiment_count" IS NOT NEW."sentiment_count" OR OLD."opening_sentiment" IS NOT NEW."opening_sentiment" OR OLD."closing_sentiment" IS NOT NEW."closing_sentiment"
  OR (OLD."assistant_messages" > 0) IS NOT (NEW."assistant_messages" > 0)
  OR (OLD."agent_messages" = 0) IS NOT (NEW."agent_messages" = 0)
BEGIN
  INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
  VALUES (OLD."client_id", 0, OLD."started_at" / 900000, CASE WHEN 1 = 1 THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.handoff_at IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (OLD."client_id", 1, OLD."started_at" / 3600000, CASE WHEN 1 = 1 THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NULL THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN -1 ELSE 0 END,
    CASE WHEN OLD.handoff_at IS NOT NULL THEN -1 ELSE 0 END,
    CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN -1 ELSE 0 END,
    CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 THEN -1 ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "c_total" = "c_total" + excluded."c_total", "c_open" = "c_open" + excluded."c_open", "c_closed" = "c_closed" + excluded."c_closed", "c_handoffs" = "c_handoffs" + excluded."c_handoffs", "c_involved" = "c_involved" + excluded."c_involved", "c_ended_involved" = "c_ended_involved" + excluded."c_ended_involved", "c_bot_only" = "c_bot_only" + excluded."c_bot_only", "c_scored" = "c_scored" + excluded."c_scored", "c_opening_milli" = "c_opening_milli" + excluded."c_opening_milli", "c_closing_milli" = "c_closing_milli" + excluded."c_closing_milli";
  INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
  VALUES (NEW."client_id", 0, NEW."started_at" / 900000, CASE WHEN 1 = 1 THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (NEW."client_id", 1, NEW."started_at" / 3600000, CASE WHEN 1 = 1 THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END,
    CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END,
    CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "c_total" = "c_total" + excluded."c_total", "c_open" = "c_open" + excluded."c_open", "c_closed" = "c_closed" + excluded."c_closed", "c_handoffs" = "c_handoffs" + excluded."c_handoffs", "c_involved" = "c_involved" + excluded."c_involved", "c_ended_involved" = "c_ended_involved" + excluded."c_ended_involved", "c_bot_only" = "c_bot_only" + excluded."c_bot_only", "c_scored" = "c_scored" + excluded."c_scored", "c_opening_milli" = "c_opening_milli" + excluded."c_opening_milli", "c_closing_milli" = "c_closing_milli" + excluded."c_closing_milli";
END;

CREATE TRIGGER "session_seconds_update" AFTER UPDATE ON "conversations"
WHEN OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."first_user_at" IS NOT NEW."first_user_at" OR OLD."first_response_at" IS NOT NEW."first_response_at"
  OR (NEW."ended_at" IS NOT NULL AND OLD."last_message_at" IS NOT NEW."last_message_at")
BEGIN
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT OLD."client_id", OLD."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((OLD.first_response_at - OLD.first_user_at) / 1000.0) AS INTEGER)), -1 WHERE OLD.first_user_at IS NOT NULL AND OLD.first_response_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT OLD."client_id", OLD."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((OLD.last_message_at - OLD.started_at) / 1000.0) AS INTEGER)), -1 WHERE OLD.ended_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT NEW."client_id", NEW."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((NEW.first_response_at - NEW.first_user_at) / 1000.0) AS INTEGER)), 1 WHERE NEW.first_user_at IS NOT NULL AND NEW.first_response_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT NEW."client_id", NEW."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((NEW.last_message_at - NEW.started_at) / 1000.0) AS INTEGER)), 1 WHERE NEW.ended_at IS NOT NULL
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
END;

CREATE TRIGGER "thread_rollups_insert" AFTER INSERT ON "threads" BEGIN
  INSERT INTO "thread_rollups" ("client_id", "day", "created_n", "last_n")
  VALUES (NEW."client_id", NEW."created_at" / 86400000, 1, 0), (NEW."client_id", NEW."last_message_at" / 86400000, 0, 1)
  ON CONFLICT ("client_id", "day") DO UPDATE SET "created_n" = "created_n" + excluded."created_n", "last_n" = "last_n" + excluded."last_n";
END;

CREATE TRIGGER "thread_rollups_delete" AFTER DELETE ON "threads" BEGIN
  INSERT INTO "thread_rollups" ("client_id", "day", "created_n", "last_n")
  VALUES (OLD."client_id", OLD."created_at" / 86400000, -1, 0), (OLD."client_id", OLD."last_message_at" / 86400000, 0, -1)
  ON CONFLICT ("client_id", "day") DO UPDATE SET "created_n" = "created_n" + excluded."created_n", "last_n" = "last_n" + excluded."last_n";
END;

CREATE TRIGGER "thread_rollups_update" AFTER UPDATE OF "client_id", "created_at", "last_message_at" ON "threads"
WHEN OLD."client_id" IS NOT NEW."client_id" OR OLD."created_at" / 86400000 IS NOT NEW."created_at" / 86400000
  OR OLD."last_message_at" / 86400000 IS NOT NEW."last_message_at" / 86400000
BEGIN
  INSERT INTO "thread_rollups" ("client_id", "day", "created_n", "last_n")
  VALUES (OLD."client_id", OLD."created_at" / 86400000, -1, 0), (OLD."client_id", OLD."last_message_at" / 86400000, 0, -1)
  ON CONFLICT ("client_id", "day") DO UPDATE SET "created_n" = "created_n" + excluded."created_n", "last_n" = "last_n" + excluded."last_n";
  INSERT INTO "thread_rollups" ("client_id", "day", "created_n", "last_n")
  VALUES (NEW."client_id", NEW."created_at" / 86400000, 1, 0), (NEW."client_id", NEW."last_message_at" / 86400000, 0, 1)
  ON CONFLICT ("client_id", "day") DO UPDATE SET "created_n" = "created_n" + excluded."created_n", "last_n" = "last_n" + excluded."last_n";
END;

-- Threads by first message, for the exact edges of the thread counts.
CREATE INDEX "threads_client_id_created_at_idx" ON "threads"("client_id", "created_at");
CREATE INDEX "threads_created_at_idx" ON "threads"("created_at");

-- What is already stored.
INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
SELECT r."client_id", 0, r."created_at" / 900000, SUM(CASE WHEN r.role = 'user' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'assistant' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'agent' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'sending' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'sent' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'delivered' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'read' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'played' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment <= -0.3 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment >= 0.3 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.sentiment * 1000) AS BIGINT) ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NULL AND r.type = 'text' THEN 1 ELSE 0 END)
FROM "messages" r GROUP BY 1, 2, 3;

INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
SELECT r."client_id", 1, r."created_at" / 3600000, SUM(CASE WHEN r.role = 'user' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'assistant' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'agent' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'sending' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'sent' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'delivered' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'read' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status = 'played' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role <> 'user' AND r.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment <= -0.3 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment >= 0.3 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.sentiment * 1000) AS BIGINT) ELSE 0 END),
       SUM(CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NULL AND r.type = 'text' THEN 1 ELSE 0 END)
FROM "messages" r GROUP BY 1, 2, 3;

INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
SELECT r."client_id", 0, r."started_at" / 900000, SUM(CASE WHEN 1 = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NOT NULL AND r.end_reason = 'closed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.handoff_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NOT NULL AND (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NOT NULL AND r.assistant_messages > 0 AND r.handoff_at IS NULL AND r.agent_messages = 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.sentiment_count > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.sentiment_count > 0 AND r.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.opening_sentiment * 1000) AS BIGINT) ELSE 0 END),
       SUM(CASE WHEN r.sentiment_count > 0 AND r.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
FROM "conversations" r GROUP BY 1, 2, 3;

INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
SELECT r."client_id", 1, r."started_at" / 3600000, SUM(CASE WHEN 1 = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NOT NULL AND r.end_reason = 'closed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.handoff_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NOT NULL AND (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.ended_at IS NOT NULL AND r.assistant_messages > 0 AND r.handoff_at IS NULL AND r.agent_messages = 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.sentiment_count > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.sentiment_count > 0 AND r.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.opening_sentiment * 1000) AS BIGINT) ELSE 0 END),
       SUM(CASE WHEN r.sentiment_count > 0 AND r.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
FROM "conversations" r GROUP BY 1, 2, 3;

INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
SELECT r."client_id", r."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((r.first_response_at - r.first_user_at) / 1000.0) AS INTEGER)), COUNT(*) FROM "conversations" r WHERE r.first_user_at IS NOT NULL AND r.first_response_at IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT r."client_id", r."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((r.last_message_at - r.started_at) / 1000.0) AS INTEGER)), COUNT(*) FROM "conversations" r WHERE r.ended_at IS NOT NULL GROUP BY 1, 2, 3, 4;

INSERT INTO "thread_rollups" ("client_id", "day", "created_n", "last_n")
SELECT "client_id", "day", SUM("c"), SUM("l") FROM (
  SELECT "client_id", "created_at" / 86400000 AS "day", 1 AS "c", 0 AS "l" FROM "threads"
  UNION ALL SELECT "client_id", "last_message_at" / 86400000, 0, 1 FROM "threads"
) x GROUP BY 1, 2;
