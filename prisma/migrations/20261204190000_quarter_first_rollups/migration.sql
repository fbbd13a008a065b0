-- The rollup triggers (PostgreSQL) count a statement's rows once, into quarter hours, and sum the hours
-- and days from those quarter hours (900 s divides both), instead of evaluating every column's CASE for
-- each row three times (once per level) and grouping three times as many rows: 2.7 ms → 1.0 ms for
-- 500 new messages. Same results; the upserts still lock rows in (client, level, bucket) order.

CREATE OR REPLACE FUNCTION "message_rollups_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
    WITH q AS (
      SELECT "client_id", "bucket", SUM("m_user") AS "m_user", SUM("m_assistant") AS "m_assistant", SUM("m_agent") AS "m_agent", SUM("m_failed") AS "m_failed", SUM("o_none") AS "o_none", SUM("o_sending") AS "o_sending", SUM("o_sent") AS "o_sent", SUM("o_failed") AS "o_failed", SUM("o_delivered") AS "o_delivered", SUM("o_read") AS "o_read", SUM("o_played") AS "o_played", SUM("o_other") AS "o_other", SUM("s_scored") AS "s_scored", SUM("s_negative") AS "s_negative", SUM("s_positive") AS "s_positive", SUM("s_milli") AS "s_milli", SUM("s_unscored") AS "s_unscored" FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."created_at") / 900)::bigint AS "bucket",
             CASE WHEN r.role = 'user' THEN 1 ELSE 0 END AS "m_user",
             CASE WHEN r.role = 'assistant' THEN 1 ELSE 0 END AS "m_assistant",
             CASE WHEN r.role = 'agent' THEN 1 ELSE 0 END AS "m_agent",
             CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END AS "m_failed",
             CASE WHEN r.role <> 'user' AND r.status IS NULL THEN 1 ELSE 0 END AS "o_none",
             CASE WHEN r.role <> 'user' AND r.status = 'sending' THEN 1 ELSE 0 END AS "o_sending",
             CASE WHEN r.role <> 'user' AND r.status = 'sent' THEN 1 ELSE 0 END AS "o_sent",
             CASE WHEN r.role <> 'user' AND r.status = 'failed' THEN 1 ELSE 0 END AS "o_failed",
             CASE WHEN r.role <> 'user' AND r.status = 'delivered' THEN 1 ELSE 0 END AS "o_delivered",
             CASE WHEN r.role <> 'user' AND r.status = 'read' THEN 1 ELSE 0 END AS "o_read",
             CASE WHEN r.role <> 'user' AND r.status = 'played' THEN 1 ELSE 0 END AS "o_played",
             CASE WHEN r.role <> 'user' AND r.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END AS "o_other",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 ELSE 0 END AS "s_scored",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment <= -0.3 THEN 1 ELSE 0 END AS "s_negative",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment >= 0.3 THEN 1 ELSE 0 END AS "s_positive",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.sentiment * 1000) AS BIGINT) ELSE 0 END AS "s_milli",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NULL AND r.type = 'text' THEN 1 ELSE 0 END AS "s_unscored"
      FROM new_rows r
      ) x GROUP BY 1, 2
    )
    SELECT "client_id", 0, "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored" FROM q
    UNION ALL
    SELECT "client_id", 1, floor("bucket" / 4.0)::bigint, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored") FROM q GROUP BY 1, 3
    UNION ALL
    SELECT "client_id", 2, floor("bucket" / 96.0)::bigint, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored") FROM q GROUP BY 1, 3
    ORDER BY 1, 2, 3
    ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET
      "m_user" = "message_rollups"."m_user" + EXCLUDED."m_user",
      "m_assistant" = "message_rollups"."m_assistant" + EXCLUDED."m_assistant",
      "m_agent" = "message_rollups"."m_agent" + EXCLUDED."m_agent",
      "m_failed" = "message_rollups"."m_failed" + EXCLUDED."m_failed",
      "o_none" = "message_rollups"."o_none" + EXCLUDED."o_none",
      "o_sending" = "message_rollups"."o_sending" + EXCLUDED."o_sending",
      "o_sent" = "message_rollups"."o_sent" + EXCLUDED."o_sent",
      "o_failed" = "message_rollups"."o_failed" + EXCLUDED."o_failed",
      "o_delivered" = "message_rollups"."o_delivered" + EXCLUDED."o_delivered",
      "o_read" = "message_rollups"."o_read" + EXCLUDED."o_read",
      "o_played" = "message_rollups"."o_played" + EXCLUDED."o_played",
      "o_other" = "message_rollups"."o_other" + EXCLUDED."o_other",
      "s_scored" = "message_rollups"."s_scored" + EXCLUDED."s_scored",
      "s_negative" = "message_rollups"."s_negative" + EXCLUDED."s_negative",
      "s_positive" = "message_rollups"."s_positive" + EXCLUDED."s_positive",
      "s_milli" = "message_rollups"."s_milli" + EXCLUDED."s_milli",
      "s_unscored" = "message_rollups"."s_unscored" + EXCLUDED."s_unscored";
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
    WITH q AS (
      SELECT "client_id", "bucket", SUM("m_user") AS "m_user", SUM("m_assistant") AS "m_assistant", SUM("m_agent") AS "m_agent", SUM("m_failed") AS "m_failed", SUM("o_none") AS "o_none", SUM("o_sending") AS "o_sending", SUM("o_sent") AS "o_sent", SUM("o_failed") AS "o_failed", SUM("o_delivered") AS "o_delivered", SUM("o_read") AS "o_read", SUM("o_played") AS "o_played", SUM("o_other") AS "o_other", SUM("s_scored") AS "s_scored", SUM("s_negative") AS "s_negative", SUM("s_positive") AS "s_positive", SUM("s_milli") AS "s_milli", SUM("s_unscored") AS "s_unscored" FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."created_at") / 900)::bigint AS "bucket",
             CASE WHEN r.role = 'user' THEN -1 ELSE 0 END AS "m_user",
             CASE WHEN r.role = 'assistant' THEN -1 ELSE 0 END AS "m_assistant",
             CASE WHEN r.role = 'agent' THEN -1 ELSE 0 END AS "m_agent",
             CASE WHEN r.status = 'failed' THEN -1 ELSE 0 END AS "m_failed",
             CASE WHEN r.role <> 'user' AND r.status IS NULL THEN -1 ELSE 0 END AS "o_none",
             CASE WHEN r.role <> 'user' AND r.status = 'sending' THEN -1 ELSE 0 END AS "o_sending",
             CASE WHEN r.role <> 'user' AND r.status = 'sent' THEN -1 ELSE 0 END AS "o_sent",
             CASE WHEN r.role <> 'user' AND r.status = 'failed' THEN -1 ELSE 0 END AS "o_failed",
             CASE WHEN r.role <> 'user' AND r.status = 'delivered' THEN -1 ELSE 0 END AS "o_delivered",
             CASE WHEN r.role <> 'user' AND r.status = 'read' THEN -1 ELSE 0 END AS "o_read",
             CASE WHEN r.role <> 'user' AND r.status = 'played' THEN -1 ELSE 0 END AS "o_played",
             CASE WHEN r.role <> 'user' AND r.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN -1 ELSE 0 END AS "o_other",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN -1 ELSE 0 END AS "s_scored",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment <= -0.3 THEN -1 ELSE 0 END AS "s_negative",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment >= 0.3 THEN -1 ELSE 0 END AS "s_positive",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN -1 * CAST(ROUND(r.sentiment * 1000) AS BIGINT) ELSE 0 END AS "s_milli",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NULL AND r.type = 'text' THEN -1 ELSE 0 END AS "s_unscored"
      FROM old_rows r
      ) x GROUP BY 1, 2
    )
    SELECT "client_id", 0, "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored" FROM q
    UNION ALL
    SELECT "client_id", 1, floor("bucket" / 4.0)::bigint, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored") FROM q GROUP BY 1, 3
    UNION ALL
    SELECT "client_id", 2, floor("bucket" / 96.0)::bigint, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored") FROM q GROUP BY 1, 3
    ORDER BY 1, 2, 3
    ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET
      "m_user" = "message_rollups"."m_user" + EXCLUDED."m_user",
      "m_assistant" = "message_rollups"."m_assistant" + EXCLUDED."m_assistant",
      "m_agent" = "message_rollups"."m_agent" + EXCLUDED."m_agent",
      "m_failed" = "message_rollups"."m_failed" + EXCLUDED."m_failed",
      "o_none" = "message_rollups"."o_none" + EXCLUDED."o_none",
      "o_sending" = "message_rollups"."o_sending" + EXCLUDED."o_sending",
      "o_sent" = "message_rollups"."o_sent" + EXCLUDED."o_sent",
      "o_failed" = "message_rollups"."o_failed" + EXCLUDED."o_failed",
      "o_delivered" = "message_rollups"."o_delivered" + EXCLUDED."o_delivered",
      "o_read" = "message_rollups"."o_read" + EXCLUDED."o_read",
      "o_played" = "message_rollups"."o_played" + EXCLUDED."o_played",
      "o_other" = "message_rollups"."o_other" + EXCLUDED."o_other",
      "s_scored" = "message_rollups"."s_scored" + EXCLUDED."s_scored",
      "s_negative" = "message_rollups"."s_negative" + EXCLUDED."s_negative",
      "s_positive" = "message_rollups"."s_positive" + EXCLUDED."s_positive",
      "s_milli" = "message_rollups"."s_milli" + EXCLUDED."s_milli",
      "s_unscored" = "message_rollups"."s_unscored" + EXCLUDED."s_unscored";
  ELSE
    INSERT INTO "message_rollups" ("client_id", "level", "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored")
    WITH q AS (
      SELECT "client_id", "bucket", SUM("m_user") AS "m_user", SUM("m_assistant") AS "m_assistant", SUM("m_agent") AS "m_agent", SUM("m_failed") AS "m_failed", SUM("o_none") AS "o_none", SUM("o_sending") AS "o_sending", SUM("o_sent") AS "o_sent", SUM("o_failed") AS "o_failed", SUM("o_delivered") AS "o_delivered", SUM("o_read") AS "o_read", SUM("o_played") AS "o_played", SUM("o_other") AS "o_other", SUM("s_scored") AS "s_scored", SUM("s_negative") AS "s_negative", SUM("s_positive") AS "s_positive", SUM("s_milli") AS "s_milli", SUM("s_unscored") AS "s_unscored" FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."created_at") / 900)::bigint AS "bucket",
             CASE WHEN r.role = 'user' THEN -1 ELSE 0 END AS "m_user",
             CASE WHEN r.role = 'assistant' THEN -1 ELSE 0 END AS "m_assistant",
             CASE WHEN r.role = 'agent' THEN -1 ELSE 0 END AS "m_agent",
             CASE WHEN r.status = 'failed' THEN -1 ELSE 0 END AS "m_failed",
             CASE WHEN r.role <> 'user' AND r.status IS NULL THEN -1 ELSE 0 END AS "o_none",
             CASE WHEN r.role <> 'user' AND r.status = 'sending' THEN -1 ELSE 0 END AS "o_sending",
             CASE WHEN r.role <> 'user' AND r.status = 'sent' THEN -1 ELSE 0 END AS "o_sent",
             CASE WHEN r.role <> 'user' AND r.status = 'failed' THEN -1 ELSE 0 END AS "o_failed",
             CASE WHEN r.role <> 'user' AND r.status = 'delivered' THEN -1 ELSE 0 END AS "o_delivered",
             CASE WHEN r.role <> 'user' AND r.status = 'read' THEN -1 ELSE 0 END AS "o_read",
             CASE WHEN r.role <> 'user' AND r.status = 'played' THEN -1 ELSE 0 END AS "o_played",
             CASE WHEN r.role <> 'user' AND r.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN -1 ELSE 0 END AS "o_other",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN -1 ELSE 0 END AS "s_scored",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment <= -0.3 THEN -1 ELSE 0 END AS "s_negative",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment >= 0.3 THEN -1 ELSE 0 END AS "s_positive",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN -1 * CAST(ROUND(r.sentiment * 1000) AS BIGINT) ELSE 0 END AS "s_milli",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NULL AND r.type = 'text' THEN -1 ELSE 0 END AS "s_unscored"
      FROM old_rows r
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."created_at") / 900)::bigint AS "bucket",
             CASE WHEN r.role = 'user' THEN 1 ELSE 0 END AS "m_user",
             CASE WHEN r.role = 'assistant' THEN 1 ELSE 0 END AS "m_assistant",
             CASE WHEN r.role = 'agent' THEN 1 ELSE 0 END AS "m_agent",
             CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END AS "m_failed",
             CASE WHEN r.role <> 'user' AND r.status IS NULL THEN 1 ELSE 0 END AS "o_none",
             CASE WHEN r.role <> 'user' AND r.status = 'sending' THEN 1 ELSE 0 END AS "o_sending",
             CASE WHEN r.role <> 'user' AND r.status = 'sent' THEN 1 ELSE 0 END AS "o_sent",
             CASE WHEN r.role <> 'user' AND r.status = 'failed' THEN 1 ELSE 0 END AS "o_failed",
             CASE WHEN r.role <> 'user' AND r.status = 'delivered' THEN 1 ELSE 0 END AS "o_delivered",
             CASE WHEN r.role <> 'user' AND r.status = 'read' THEN 1 ELSE 0 END AS "o_read",
             CASE WHEN r.role <> 'user' AND r.status = 'played' THEN 1 ELSE 0 END AS "o_played",
             CASE WHEN r.role <> 'user' AND r.status NOT IN ('sending', 'sent', 'failed', 'delivered', 'read', 'played') THEN 1 ELSE 0 END AS "o_other",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 ELSE 0 END AS "s_scored",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment <= -0.3 THEN 1 ELSE 0 END AS "s_negative",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL AND r.sentiment >= 0.3 THEN 1 ELSE 0 END AS "s_positive",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.sentiment * 1000) AS BIGINT) ELSE 0 END AS "s_milli",
             CASE WHEN r.role = 'user' AND r.csat_survey_id IS NULL AND r.sentiment IS NULL AND r.type = 'text' THEN 1 ELSE 0 END AS "s_unscored"
      FROM new_rows r
      ) x GROUP BY 1, 2 HAVING SUM("m_user") <> 0 OR SUM("m_assistant") <> 0 OR SUM("m_agent") <> 0 OR SUM("m_failed") <> 0 OR SUM("o_none") <> 0 OR SUM("o_sending") <> 0 OR SUM("o_sent") <> 0 OR SUM("o_failed") <> 0 OR SUM("o_delivered") <> 0 OR SUM("o_read") <> 0 OR SUM("o_played") <> 0 OR SUM("o_other") <> 0 OR SUM("s_scored") <> 0 OR SUM("s_negative") <> 0 OR SUM("s_positive") <> 0 OR SUM("s_milli") <> 0 OR SUM("s_unscored") <> 0
    )
    SELECT "client_id", 0, "bucket", "m_user", "m_assistant", "m_agent", "m_failed", "o_none", "o_sending", "o_sent", "o_failed", "o_delivered", "o_read", "o_played", "o_other", "s_scored", "s_negative", "s_positive", "s_milli", "s_unscored" FROM q
    UNION ALL
    SELECT "client_id", 1, floor("bucket" / 4.0)::bigint, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored") FROM q GROUP BY 1, 3 HAVING SUM("m_user") <> 0 OR SUM("m_assistant") <> 0 OR SUM("m_agent") <> 0 OR SUM("m_failed") <> 0 OR SUM("o_none") <> 0 OR SUM("o_sending") <> 0 OR SUM("o_sent") <> 0 OR SUM("o_failed") <> 0 OR SUM("o_delivered") <> 0 OR SUM("o_read") <> 0 OR SUM("o_played") <> 0 OR SUM("o_other") <> 0 OR SUM("s_scored") <> 0 OR SUM("s_negative") <> 0 OR SUM("s_positive") <> 0 OR SUM("s_milli") <> 0 OR SUM("s_unscored") <> 0
    UNION ALL
    SELECT "client_id", 2, floor("bucket" / 96.0)::bigint, SUM("m_user"), SUM("m_assistant"), SUM("m_agent"), SUM("m_failed"), SUM("o_none"), SUM("o_sending"), SUM("o_sent"), SUM("o_failed"), SUM("o_delivered"), SUM("o_read"), SUM("o_played"), SUM("o_other"), SUM("s_scored"), SUM("s_negative"), SUM("s_positive"), SUM("s_milli"), SUM("s_unscored") FROM q GROUP BY 1, 3 HAVING SUM("m_user") <> 0 OR SUM("m_assistant") <> 0 OR SUM("m_agent") <> 0 OR SUM("m_failed") <> 0 OR SUM("o_none") <> 0 OR SUM("o_sending") <> 0 OR SUM("o_sent") <> 0 OR SUM("o_failed") <> 0 OR SUM("o_delivered") <> 0 OR SUM("o_read") <> 0 OR SUM("o_played") <> 0 OR SUM("o_other") <> 0 OR SUM("s_scored") <> 0 OR SUM("s_negative") <> 0 OR SUM("s_positive") <> 0 OR SUM("s_milli") <> 0 OR SUM("s_unscored") <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET
      "m_user" = "message_rollups"."m_user" + EXCLUDED."m_user",
      "m_assistant" = "message_rollups"."m_assistant" + EXCLUDED."m_assistant",
      "m_agent" = "message_rollups"."m_agent" + EXCLUDED."m_agent",
      "m_failed" = "message_rollups"."m_failed" + EXCLUDED."m_failed",
      "o_none" = "message_rollups"."o_none" + EXCLUDED."o_none",
      "o_sending" = "message_rollups"."o_sending" + EXCLUDED."o_sending",
      "o_sent" = "message_rollups"."o_sent" + EXCLUDED."o_sent",
      "o_failed" = "message_rollups"."o_failed" + EXCLUDED."o_failed",
      "o_delivered" = "message_rollups"."o_delivered" + EXCLUDED."o_delivered",
      "o_read" = "message_rollups"."o_read" + EXCLUDED."o_read",
      "o_played" = "message_rollups"."o_played" + EXCLUDED."o_played",
      "o_other" = "message_rollups"."o_other" + EXCLUDED."o_other",
      "s_scored" = "message_rollups"."s_scored" + EXCLUDED."s_scored",
      "s_negative" = "message_rollups"."s_negative" + EXCLUDED."s_negative",
      "s_positive" = "message_rollups"."s_positive" + EXCLUDED."s_positive",
      "s_milli" = "message_rollups"."s_milli" + EXCLUDED."s_milli",
      "s_unscored" = "message_rollups"."s_unscored" + EXCLUDED."s_unscored";
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "session_rollups_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
    WITH q AS (
      SELECT "client_id", "bucket", SUM("c_total") AS "c_total", SUM("c_open") AS "c_open", SUM("c_closed") AS "c_closed", SUM("c_handoffs") AS "c_handoffs", SUM("c_involved") AS "c_involved", SUM("c_ended_involved") AS "c_ended_involved", SUM("c_bot_only") AS "c_bot_only", SUM("c_scored") AS "c_scored", SUM("c_opening_milli") AS "c_opening_milli", SUM("c_closing_milli") AS "c_closing_milli" FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 900)::bigint AS "bucket",
             CASE WHEN 1 = 1 THEN 1 ELSE 0 END AS "c_total",
             CASE WHEN r.ended_at IS NULL THEN 1 ELSE 0 END AS "c_open",
             CASE WHEN r.ended_at IS NOT NULL AND r.end_reason = 'closed' THEN 1 ELSE 0 END AS "c_closed",
             CASE WHEN r.handoff_at IS NOT NULL THEN 1 ELSE 0 END AS "c_handoffs",
             CASE WHEN (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END AS "c_involved",
             CASE WHEN r.ended_at IS NOT NULL AND (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END AS "c_ended_involved",
             CASE WHEN r.ended_at IS NOT NULL AND r.assistant_messages > 0 AND r.handoff_at IS NULL AND r.agent_messages = 0 THEN 1 ELSE 0 END AS "c_bot_only",
             CASE WHEN r.sentiment_count > 0 THEN 1 ELSE 0 END AS "c_scored",
             CASE WHEN r.sentiment_count > 0 AND r.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.opening_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_opening_milli",
             CASE WHEN r.sentiment_count > 0 AND r.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.closing_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_closing_milli"
      FROM new_rows r
      ) x GROUP BY 1, 2
    )
    SELECT "client_id", 0, "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli" FROM q
    UNION ALL
    SELECT "client_id", 1, floor("bucket" / 4.0)::bigint, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli") FROM q GROUP BY 1, 3
    UNION ALL
    SELECT "client_id", 2, floor("bucket" / 96.0)::bigint, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli") FROM q GROUP BY 1, 3
    ORDER BY 1, 2, 3
    ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET
      "c_total" = "session_rollups"."c_total" + EXCLUDED."c_total",
      "c_open" = "session_rollups"."c_open" + EXCLUDED."c_open",
      "c_closed" = "session_rollups"."c_closed" + EXCLUDED."c_closed",
      "c_handoffs" = "session_rollups"."c_handoffs" + EXCLUDED."c_handoffs",
      "c_involved" = "session_rollups"."c_involved" + EXCLUDED."c_involved",
      "c_ended_involved" = "session_rollups"."c_ended_involved" + EXCLUDED."c_ended_involved",
      "c_bot_only" = "session_rollups"."c_bot_only" + EXCLUDED."c_bot_only",
      "c_scored" = "session_rollups"."c_scored" + EXCLUDED."c_scored",
      "c_opening_milli" = "session_rollups"."c_opening_milli" + EXCLUDED."c_opening_milli",
      "c_closing_milli" = "session_rollups"."c_closing_milli" + EXCLUDED."c_closing_milli";
    INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
    SELECT "client_id", "day", "kind", "seconds", SUM("d") FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'first'::text AS "kind", GREATEST(0, round(extract(epoch from (r.first_response_at - r.first_user_at)))::bigint) AS "seconds", 1 AS "d"
      FROM new_rows r WHERE r.first_user_at IS NOT NULL AND r.first_response_at IS NOT NULL
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'duration'::text AS "kind", GREATEST(0, round(extract(epoch from (r.last_message_at - r.started_at)))::bigint) AS "seconds", 1 AS "d"
      FROM new_rows r WHERE r.ended_at IS NOT NULL
    ) x GROUP BY 1, 2, 3, 4 HAVING SUM("d") <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "session_seconds"."n" + EXCLUDED."n";
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
    WITH q AS (
      SELECT "client_id", "bucket", SUM("c_total") AS "c_total", SUM("c_open") AS "c_open", SUM("c_closed") AS "c_closed", SUM("c_handoffs") AS "c_handoffs", SUM("c_involved") AS "c_involved", SUM("c_ended_involved") AS "c_ended_involved", SUM("c_bot_only") AS "c_bot_only", SUM("c_scored") AS "c_scored", SUM("c_opening_milli") AS "c_opening_milli", SUM("c_closing_milli") AS "c_closing_milli" FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 900)::bigint AS "bucket",
             CASE WHEN 1 = 1 THEN -1 ELSE 0 END AS "c_total",
             CASE WHEN r.ended_at IS NULL THEN -1 ELSE 0 END AS "c_open",
             CASE WHEN r.ended_at IS NOT NULL AND r.end_reason = 'closed' THEN -1 ELSE 0 END AS "c_closed",
             CASE WHEN r.handoff_at IS NOT NULL THEN -1 ELSE 0 END AS "c_handoffs",
             CASE WHEN (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN -1 ELSE 0 END AS "c_involved",
             CASE WHEN r.ended_at IS NOT NULL AND (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN -1 ELSE 0 END AS "c_ended_involved",
             CASE WHEN r.ended_at IS NOT NULL AND r.assistant_messages > 0 AND r.handoff_at IS NULL AND r.agent_messages = 0 THEN -1 ELSE 0 END AS "c_bot_only",
             CASE WHEN r.sentiment_count > 0 THEN -1 ELSE 0 END AS "c_scored",
             CASE WHEN r.sentiment_count > 0 AND r.opening_sentiment IS NOT NULL THEN -1 * CAST(ROUND(r.opening_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_opening_milli",
             CASE WHEN r.sentiment_count > 0 AND r.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(r.closing_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_closing_milli"
      FROM old_rows r
      ) x GROUP BY 1, 2
    )
    SELECT "client_id", 0, "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli" FROM q
    UNION ALL
    SELECT "client_id", 1, floor("bucket" / 4.0)::bigint, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli") FROM q GROUP BY 1, 3
    UNION ALL
    SELECT "client_id", 2, floor("bucket" / 96.0)::bigint, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli") FROM q GROUP BY 1, 3
    ORDER BY 1, 2, 3
    ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET
      "c_total" = "session_rollups"."c_total" + EXCLUDED."c_total",
      "c_open" = "session_rollups"."c_open" + EXCLUDED."c_open",
      "c_closed" = "session_rollups"."c_closed" + EXCLUDED."c_closed",
      "c_handoffs" = "session_rollups"."c_handoffs" + EXCLUDED."c_handoffs",
      "c_involved" = "session_rollups"."c_involved" + EXCLUDED."c_involved",
      "c_ended_involved" = "session_rollups"."c_ended_involved" + EXCLUDED."c_ended_involved",
      "c_bot_only" = "session_rollups"."c_bot_only" + EXCLUDED."c_bot_only",
      "c_scored" = "session_rollups"."c_scored" + EXCLUDED."c_scored",
      "c_opening_milli" = "session_rollups"."c_opening_milli" + EXCLUDED."c_opening_milli",
      "c_closing_milli" = "session_rollups"."c_closing_milli" + EXCLUDED."c_closing_milli";
    INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
    SELECT "client_id", "day", "kind", "seconds", SUM("d") FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'first'::text AS "kind", GREATEST(0, round(extract(epoch from (r.first_response_at - r.first_user_at)))::bigint) AS "seconds", -1 AS "d"
      FROM old_rows r WHERE r.first_user_at IS NOT NULL AND r.first_response_at IS NOT NULL
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'duration'::text AS "kind", GREATEST(0, round(extract(epoch from (r.last_message_at - r.started_at)))::bigint) AS "seconds", -1 AS "d"
      FROM old_rows r WHERE r.ended_at IS NOT NULL
    ) x GROUP BY 1, 2, 3, 4 HAVING SUM("d") <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "session_seconds"."n" + EXCLUDED."n";
  ELSE
    INSERT INTO "session_rollups" ("client_id", "level", "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli")
    WITH q AS (
      SELECT "client_id", "bucket", SUM("c_total") AS "c_total", SUM("c_open") AS "c_open", SUM("c_closed") AS "c_closed", SUM("c_handoffs") AS "c_handoffs", SUM("c_involved") AS "c_involved", SUM("c_ended_involved") AS "c_ended_involved", SUM("c_bot_only") AS "c_bot_only", SUM("c_scored") AS "c_scored", SUM("c_opening_milli") AS "c_opening_milli", SUM("c_closing_milli") AS "c_closing_milli" FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 900)::bigint AS "bucket",
             CASE WHEN 1 = 1 THEN -1 ELSE 0 END AS "c_total",
             CASE WHEN r.ended_at IS NULL THEN -1 ELSE 0 END AS "c_open",
             CASE WHEN r.ended_at IS NOT NULL AND r.end_reason = 'closed' THEN -1 ELSE 0 END AS "c_closed",
             CASE WHEN r.handoff_at IS NOT NULL THEN -1 ELSE 0 END AS "c_handoffs",
             CASE WHEN (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN -1 ELSE 0 END AS "c_involved",
             CASE WHEN r.ended_at IS NOT NULL AND (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN -1 ELSE 0 END AS "c_ended_involved",
             CASE WHEN r.ended_at IS NOT NULL AND r.assistant_messages > 0 AND r.handoff_at IS NULL AND r.agent_messages = 0 THEN -1 ELSE 0 END AS "c_bot_only",
             CASE WHEN r.sentiment_count > 0 THEN -1 ELSE 0 END AS "c_scored",
             CASE WHEN r.sentiment_count > 0 AND r.opening_sentiment IS NOT NULL THEN -1 * CAST(ROUND(r.opening_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_opening_milli",
             CASE WHEN r.sentiment_count > 0 AND r.closing_sentiment IS NOT NULL THEN -1 * CAST(ROUND(r.closing_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_closing_milli"
      FROM old_rows r
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 900)::bigint AS "bucket",
             CASE WHEN 1 = 1 THEN 1 ELSE 0 END AS "c_total",
             CASE WHEN r.ended_at IS NULL THEN 1 ELSE 0 END AS "c_open",
             CASE WHEN r.ended_at IS NOT NULL AND r.end_reason = 'closed' THEN 1 ELSE 0 END AS "c_closed",
             CASE WHEN r.handoff_at IS NOT NULL THEN 1 ELSE 0 END AS "c_handoffs",
             CASE WHEN (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END AS "c_involved",
             CASE WHEN r.ended_at IS NOT NULL AND (r.assistant_messages > 0 OR r.handoff_at IS NOT NULL) THEN 1 ELSE 0 END AS "c_ended_involved",
             CASE WHEN r.ended_at IS NOT NULL AND r.assistant_messages > 0 AND r.handoff_at IS NULL AND r.agent_messages = 0 THEN 1 ELSE 0 END AS "c_bot_only",
             CASE WHEN r.sentiment_count > 0 THEN 1 ELSE 0 END AS "c_scored",
             CASE WHEN r.sentiment_count > 0 AND r.opening_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.opening_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_opening_milli",
             CASE WHEN r.sentiment_count > 0 AND r.closing_sentiment IS NOT NULL THEN 1 * CAST(ROUND(r.closing_sentiment * 1000) AS BIGINT) ELSE 0 END AS "c_closing_milli"
      FROM new_rows r
      ) x GROUP BY 1, 2 HAVING SUM("c_total") <> 0 OR SUM("c_open") <> 0 OR SUM("c_closed") <> 0 OR SUM("c_handoffs") <> 0 OR SUM("c_involved") <> 0 OR SUM("c_ended_involved") <> 0 OR SUM("c_bot_only") <> 0 OR SUM("c_scored") <> 0 OR SUM("c_opening_milli") <> 0 OR SUM("c_closing_milli") <> 0
    )
    SELECT "client_id", 0, "bucket", "c_total", "c_open", "c_closed", "c_handoffs", "c_involved", "c_ended_involved", "c_bot_only", "c_scored", "c_opening_milli", "c_closing_milli" FROM q
    UNION ALL
    SELECT "client_id", 1, floor("bucket" / 4.0)::bigint, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli") FROM q GROUP BY 1, 3 HAVING SUM("c_total") <> 0 OR SUM("c_open") <> 0 OR SUM("c_closed") <> 0 OR SUM("c_handoffs") <> 0 OR SUM("c_involved") <> 0 OR SUM("c_ended_involved") <> 0 OR SUM("c_bot_only") <> 0 OR SUM("c_scored") <> 0 OR SUM("c_opening_milli") <> 0 OR SUM("c_closing_milli") <> 0
    UNION ALL
    SELECT "client_id", 2, floor("bucket" / 96.0)::bigint, SUM("c_total"), SUM("c_open"), SUM("c_closed"), SUM("c_handoffs"), SUM("c_involved"), SUM("c_ended_involved"), SUM("c_bot_only"), SUM("c_scored"), SUM("c_opening_milli"), SUM("c_closing_milli") FROM q GROUP BY 1, 3 HAVING SUM("c_total") <> 0 OR SUM("c_open") <> 0 OR SUM("c_closed") <> 0 OR SUM("c_handoffs") <> 0 OR SUM("c_involved") <> 0 OR SUM("c_ended_involved") <> 0 OR SUM("c_bot_only") <> 0 OR SUM("c_scored") <> 0 OR SUM("c_opening_milli") <> 0 OR SUM("c_closing_milli") <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT ("client_id", "level", "bucket") DO UPDATE SET
      "c_total" = "session_rollups"."c_total" + EXCLUDED."c_total",
      "c_open" = "session_rollups"."c_open" + EXCLUDED."c_open",
      "c_closed" = "session_rollups"."c_closed" + EXCLUDED."c_closed",
      "c_handoffs" = "session_rollups"."c_handoffs" + EXCLUDED."c_handoffs",
      "c_involved" = "session_rollups"."c_involved" + EXCLUDED."c_involved",
      "c_ended_involved" = "session_rollups"."c_ended_involved" + EXCLUDED."c_ended_involved",
      "c_bot_only" = "session_rollups"."c_bot_only" + EXCLUDED."c_bot_only",
      "c_scored" = "session_rollups"."c_scored" + EXCLUDED."c_scored",
      "c_opening_milli" = "session_rollups"."c_opening_milli" + EXCLUDED."c_opening_milli",
      "c_closing_milli" = "session_rollups"."c_closing_milli" + EXCLUDED."c_closing_milli";
    INSERT INTO "session_seconds" ("client_id", "day", "kind", "seconds", "n")
    SELECT "client_id", "day", "kind", "seconds", SUM("d") FROM (
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'first'::text AS "kind", GREATEST(0, round(extract(epoch from (r.first_response_at - r.first_user_at)))::bigint) AS "seconds", -1 AS "d"
      FROM old_rows r WHERE r.first_user_at IS NOT NULL AND r.first_response_at IS NOT NULL
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'duration'::text AS "kind", GREATEST(0, round(extract(epoch from (r.last_message_at - r.started_at)))::bigint) AS "seconds", -1 AS "d"
      FROM old_rows r WHERE r.ended_at IS NOT NULL
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'first'::text AS "kind", GREATEST(0, round(extract(epoch from (r.first_response_at - r.first_user_at)))::bigint) AS "seconds", 1 AS "d"
      FROM new_rows r WHERE r.first_user_at IS NOT NULL AND r.first_response_at IS NOT NULL
      UNION ALL
      SELECT r."client_id", floor(extract(epoch FROM r."started_at") / 86400)::bigint AS "day", 'duration'::text AS "kind", GREATEST(0, round(extract(epoch from (r.last_message_at - r.started_at)))::bigint) AS "seconds", 1 AS "d"
      FROM new_rows r WHERE r.ended_at IS NOT NULL
    ) x GROUP BY 1, 2, 3, 4 HAVING SUM("d") <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("client_id", "day", "kind", "seconds") DO UPDATE SET "n" = "session_seconds"."n" + EXCLUDED."n";
  END IF;
  RETURN NULL;
END $$;
