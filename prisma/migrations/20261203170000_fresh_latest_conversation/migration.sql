-- The latest conversation of a thread and its client's policy, as JSON, read with a snapshot of
-- its own (VOLATILE: a fresh one at each call). The ingest statement calls it for each thread it
-- has just upserted, so once it holds the thread's lock: when it had to wait for another writer of
-- the same thread (another daemon), what that writer committed meanwhile is seen, where the
-- statement's own snapshot, taken when it started, would not see it.
CREATE FUNCTION "wa_latest_conversation"(thread_id INTEGER, client_id INTEGER) RETURNS TEXT
LANGUAGE sql VOLATILE AS $$
  SELECT row_to_json(x)::text FROM (
    SELECT cl.conversation_idle_seconds, cl.assistant_enabled, cl.csat_enabled, cl.csat_scale, c.*
    FROM clients cl LEFT JOIN LATERAL (
      SELECT * FROM conversations c2 WHERE c2.thread_id = $1 ORDER BY c2.started_at DESC, c2.id DESC LIMIT 1
    ) c ON true
    WHERE cl.id = $2) x
$$;
