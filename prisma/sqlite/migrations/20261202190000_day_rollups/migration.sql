-- Rollups per UTC day (level 2) beside the quarter hours and hours: a year of a client is 365 rows
-- instead of 8,760 hours. They answer whole days directly when the figures are not grouped, and
-- grouped into the days of a zone each UTC day counts for the local day of its noon, corrected by
-- the hours (or quarter hours) of it that fall in another local day (src/db/repositories/rollups.ts).
-- The triggers below are those of 20261202180000_batched_rollups with the third level; the day rows
-- are summed from the hourly ones.

DROP TRIGGER "message_rollups_insert";
DROP TRIGGER "message_rollups_delete";
DROP TRIGGER "message_rollups_update";
DROP TRIGGER "message_rollups_move";
DROP TRIGGER "session_rollups_insert";
DROP TRIGGER "session_rollups_delete";
DROP TRIGGER "session_rollups_update";
DROP TRIGGER "session_rollups_move";

CREATE TRIGGER "message_rollups_insert" AFTER INSERT ON "messages"
WHEN NOT EXISTS (SELECT 1 FROM "rollup_deferrals" d WHERE NEW."id" > d."messages_after")
BEGIN
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
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END),
    (NEW."client_id", 2, NEW."created_at" / 86400000, CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END,
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

CREATE TRIGGER "message_rollups_delete" AFTER DELETE ON "messages"
WHEN NOT EXISTS (SELECT 1 FROM "rollup_deferrals" d WHERE OLD."id" > d."messages_after")
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
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN -1 ELSE 0 END),
    (OLD."client_id", 2, OLD."created_at" / 86400000, CASE WHEN OLD.role = 'user' THEN -1 ELSE 0 END,
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
WHEN OLD."client_id" IS NEW."client_id" AND OLD."created_at" IS NEW."created_at" AND (OLD."client_id" IS NOT NEW."client_id" OR OLD."created_at" IS NOT NEW."created_at" OR OLD."role" IS NOT NEW."role" OR OLD."status" IS NOT NEW."status" OR OLD."sentiment" IS NOT NEW."sentiment" OR OLD."csat_survey_id" IS NOT NEW."csat_survey_id" OR OLD."type" IS NOT NEW."type")
  AND NOT EXISTS (SELECT 1 FROM "rollup_deferrals" d WHERE OLD."id" > d."messages_after")
BEGIN
  INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
  VALUES (NEW."client_id", 0, NEW."created_at" / 900000, (CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'assistant' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'agent' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN 1 ELSE 0 END)),
    (NEW."client_id", 1, NEW."created_at" / 3600000, (CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'assistant' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'agent' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN 1 ELSE 0 END)),
    (NEW."client_id", 2, NEW."created_at" / 86400000, (CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'assistant' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'assistant' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'agent' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'agent' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status IS NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'sending' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'sending' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'sent' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'sent' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'failed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'delivered' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'delivered' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'read' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'read' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status = 'played' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status = 'played' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role <> 'user' AND NEW.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END) - (CASE WHEN OLD.role <> 'user' AND OLD.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment <= -0.3 THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment <= -0.3 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL AND NEW.sentiment >= 0.3 THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL AND OLD.sentiment >= 0.3 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.sentiment * 1000) AS BIGINT) ELSE 0 END),
    (CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END) - (CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN 1 ELSE 0 END))
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "m_user" = "m_user" + excluded."m_user", "m_assistant" = "m_assistant" + excluded."m_assistant", "m_agent" = "m_agent" + excluded."m_agent", "m_failed" = "m_failed" + excluded."m_failed", "o_none" = "o_none" + excluded."o_none", "o_sending" = "o_sending" + excluded."o_sending", "o_sent" = "o_sent" + excluded."o_sent", "o_failed" = "o_failed" + excluded."o_failed", "o_delivered" = "o_delivered" + excluded."o_delivered", "o_read" = "o_read" + excluded."o_read", "o_played" = "o_played" + excluded."o_played", "o_other" = "o_other" + excluded."o_other", "s_scored" = "s_scored" + excluded."s_scored", "s_negative" = "s_negative" + excluded."s_negative", "s_positive" = "s_positive" + excluded."s_positive", "s_milli" = "s_milli" + excluded."s_milli", "s_unscored" = "s_unscored" + excluded."s_unscored";
END;

CREATE TRIGGER "message_rollups_move" AFTER UPDATE OF "client_id", "created_at" ON "messages"
WHEN (OLD."client_id" IS NOT NEW."client_id" OR OLD."created_at" IS NOT NEW."created_at") AND NOT EXISTS (SELECT 1 FROM "rollup_deferrals" d WHERE OLD."id" > d."messages_after")
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
    CASE WHEN OLD.role = 'user' AND OLD.csat_survey_id IS NULL AND OLD.sentiment IS NULL AND OLD.type = 'text' THEN -1 ELSE 0 END),
    (OLD."client_id", 2, OLD."created_at" / 86400000, CASE WHEN OLD.role = 'user' THEN -1 ELSE 0 END,
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
    CASE WHEN NEW.role = 'user' AND NEW.csat_survey_id IS NULL AND NEW.sentiment IS NULL AND NEW.type = 'text' THEN 1 ELSE 0 END),
    (NEW."client_id", 2, NEW."created_at" / 86400000, CASE WHEN NEW.role = 'user' THEN 1 ELSE 0 END,
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
    CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (NEW."client_id", 2, NEW."started_at" / 86400000, CASE WHEN 1 = 1 THEN 1 ELSE 0 END,
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
    CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (OLD."client_id", 2, OLD."started_at" / 86400000, CASE WHEN 1 = 1 THEN -1 ELSE 0 END,
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
WHEN (OLD."client_id" IS NEW."client_id" AND OLD."started_at" IS NEW."started_at" AND (OLD."ended_at" IS NOT NEW."ended_at" OR OLD."end_reason" IS NOT NEW."end_reason" OR OLD."handoff_at" IS NOT NEW."handoff_at"
  OR (OLD."assistant_messages" > 0) IS NOT (NEW."assistant_messages" > 0) OR (OLD."agent_messages" = 0) IS NOT (NEW."agent_messages" = 0)
  OR (OLD."sentiment_count" > 0) IS NOT (NEW."sentiment_count" > 0) OR OLD."opening_sentiment" IS NOT NEW."opening_sentiment"
  OR OLD."closing_sentiment" IS NOT NEW."closing_sentiment"))
  OR (OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."first_user_at" IS NOT NEW."first_user_at" OR OLD."first_response_at" IS NOT NEW."first_response_at"
  OR (NEW."ended_at" IS NOT NULL AND OLD."last_message_at" IS NOT NEW."last_message_at"))
BEGIN
  INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
  SELECT NEW."client_id", 0, NEW."started_at" / 900000, (CASE WHEN 1 = 1 THEN 1 ELSE 0 END) - (CASE WHEN 1 = 1 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.handoff_at IS NOT NULL THEN 1 ELSE 0 END),
    (CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END) - (CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  WHERE OLD."client_id" IS NEW."client_id" AND OLD."started_at" IS NEW."started_at" AND (OLD."ended_at" IS NOT NEW."ended_at" OR OLD."end_reason" IS NOT NEW."end_reason" OR OLD."handoff_at" IS NOT NEW."handoff_at"
  OR (OLD."assistant_messages" > 0) IS NOT (NEW."assistant_messages" > 0) OR (OLD."agent_messages" = 0) IS NOT (NEW."agent_messages" = 0)
  OR (OLD."sentiment_count" > 0) IS NOT (NEW."sentiment_count" > 0) OR OLD."opening_sentiment" IS NOT NEW."opening_sentiment"
  OR OLD."closing_sentiment" IS NOT NEW."closing_sentiment")
  UNION ALL SELECT NEW."client_id", 1, NEW."started_at" / 3600000, (CASE WHEN 1 = 1 THEN 1 ELSE 0 END) - (CASE WHEN 1 = 1 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.handoff_at IS NOT NULL THEN 1 ELSE 0 END),
    (CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END) - (CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  WHERE OLD."client_id" IS NEW."client_id" AND OLD."started_at" IS NEW."started_at" AND (OLD."ended_at" IS NOT NEW."ended_at" OR OLD."end_reason" IS NOT NEW."end_reason" OR OLD."handoff_at" IS NOT NEW."handoff_at"
  OR (OLD."assistant_messages" > 0) IS NOT (NEW."assistant_messages" > 0) OR (OLD."agent_messages" = 0) IS NOT (NEW."agent_messages" = 0)
  OR (OLD."sentiment_count" > 0) IS NOT (NEW."sentiment_count" > 0) OR OLD."opening_sentiment" IS NOT NEW."opening_sentiment"
  OR OLD."closing_sentiment" IS NOT NEW."closing_sentiment")
  UNION ALL SELECT NEW."client_id", 2, NEW."started_at" / 86400000, (CASE WHEN 1 = 1 THEN 1 ELSE 0 END) - (CASE WHEN 1 = 1 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NULL THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND NEW.end_reason = 'closed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND OLD.end_reason = 'closed' THEN 1 ELSE 0 END),
    (CASE WHEN NEW.handoff_at IS NOT NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.handoff_at IS NOT NULL THEN 1 ELSE 0 END),
    (CASE WHEN (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END) - (CASE WHEN (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND (NEW.assistant_messages > 0 OR NEW.handoff_at IS NOT NULL) THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND (OLD.assistant_messages > 0 OR OLD.handoff_at IS NOT NULL) THEN 1 ELSE 0 END),
    (CASE WHEN NEW.ended_at IS NOT NULL AND NEW.assistant_messages > 0 AND NEW.handoff_at IS NULL AND NEW.agent_messages = 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.ended_at IS NOT NULL AND OLD.assistant_messages > 0 AND OLD.handoff_at IS NULL AND OLD.agent_messages = 0 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 THEN 1 ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 AND NEW.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.opening_sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 AND OLD.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.opening_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END) - (CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END)
  WHERE OLD."client_id" IS NEW."client_id" AND OLD."started_at" IS NEW."started_at" AND (OLD."ended_at" IS NOT NEW."ended_at" OR OLD."end_reason" IS NOT NEW."end_reason" OR OLD."handoff_at" IS NOT NEW."handoff_at"
  OR (OLD."assistant_messages" > 0) IS NOT (NEW."assistant_messages" > 0) OR (OLD."agent_messages" = 0) IS NOT (NEW."agent_messages" = 0)
  OR (OLD."sentiment_count" > 0) IS NOT (NEW."sentiment_count" > 0) OR OLD."opening_sentiment" IS NOT NEW."opening_sentiment"
  OR OLD."closing_sentiment" IS NOT NEW."closing_sentiment")
  ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET "c_total" = "c_total" + excluded."c_total", "c_open" = "c_open" + excluded."c_open", "c_closed" = "c_closed" + excluded."c_closed", "c_handoffs" = "c_handoffs" + excluded."c_handoffs", "c_involved" = "c_involved" + excluded."c_involved", "c_ended_involved" = "c_ended_involved" + excluded."c_ended_involved", "c_bot_only" = "c_bot_only" + excluded."c_bot_only", "c_scored" = "c_scored" + excluded."c_scored", "c_opening_milli" = "c_opening_milli" + excluded."c_opening_milli", "c_closing_milli" = "c_closing_milli" + excluded."c_closing_milli";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT OLD."client_id", OLD."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((OLD.first_response_at - OLD.first_user_at) / 1000.0) AS INTEGER)), -1 WHERE OLD.first_user_at IS NOT NULL AND OLD.first_response_at IS NOT NULL AND (OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."first_user_at" IS NOT NEW."first_user_at" OR OLD."first_response_at" IS NOT NEW."first_response_at"
  OR (NEW."ended_at" IS NOT NULL AND OLD."last_message_at" IS NOT NEW."last_message_at"))
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT OLD."client_id", OLD."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((OLD.last_message_at - OLD.started_at) / 1000.0) AS INTEGER)), -1 WHERE OLD.ended_at IS NOT NULL AND (OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."first_user_at" IS NOT NEW."first_user_at" OR OLD."first_response_at" IS NOT NEW."first_response_at"
  OR (NEW."ended_at" IS NOT NULL AND OLD."last_message_at" IS NOT NEW."last_message_at"))
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT NEW."client_id", NEW."started_at" / 86400000, 'first', MAX(0, CAST(ROUND((NEW.first_response_at - NEW.first_user_at) / 1000.0) AS INTEGER)), 1 WHERE NEW.first_user_at IS NOT NULL AND NEW.first_response_at IS NOT NULL AND (OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."first_user_at" IS NOT NEW."first_user_at" OR OLD."first_response_at" IS NOT NEW."first_response_at"
  OR (NEW."ended_at" IS NOT NULL AND OLD."last_message_at" IS NOT NEW."last_message_at"))
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
  INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
  SELECT NEW."client_id", NEW."started_at" / 86400000, 'duration', MAX(0, CAST(ROUND((NEW.last_message_at - NEW.started_at) / 1000.0) AS INTEGER)), 1 WHERE NEW.ended_at IS NOT NULL AND (OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at" OR OLD."ended_at" IS NOT NEW."ended_at" OR OLD."first_user_at" IS NOT NEW."first_user_at" OR OLD."first_response_at" IS NOT NEW."first_response_at"
  OR (NEW."ended_at" IS NOT NULL AND OLD."last_message_at" IS NOT NEW."last_message_at"))
  ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "n" + excluded."n";
END;

CREATE TRIGGER "session_rollups_move" AFTER UPDATE OF "client_id", "started_at" ON "conversations"
WHEN (OLD."client_id" IS NOT NEW."client_id" OR OLD."started_at" IS NOT NEW."started_at")
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
    CASE WHEN OLD.sentiment_count > 0 AND OLD.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(OLD.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (OLD."client_id", 2, OLD."started_at" / 86400000, CASE WHEN 1 = 1 THEN -1 ELSE 0 END,
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
    CASE WHEN NEW.sentiment_count > 0 AND NEW.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(NEW.closing_sentiment * 1000) AS BIGINT) ELSE 0 END),
    (NEW."client_id", 2, NEW."started_at" / 86400000, CASE WHEN 1 = 1 THEN 1 ELSE 0 END,
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

INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
SELECT "client_id", 2, "bucket" / 24, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored")
FROM "message_rollups" WHERE "level" = 1 GROUP BY "client_id", "bucket" / 24;

INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
SELECT "client_id", 2, "bucket" / 24, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli")
FROM "session_rollups" WHERE "level" = 1 GROUP BY "client_id", "bucket" / 24;
