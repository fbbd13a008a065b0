// The baseline for summary and stats: the equivalent hand-written SQL through the same driver
// (better-sqlite3 or pg) — the same questions wa-report asks (conversation list with counts, counts
// by role and status, messages per 15-minute bucket, response times via LAG) — printed as JSON,
// including Node's start like the CLI pays it.
const [kind, db] = process.argv.slice(2);
const pgDialect = db.startsWith('postgres');
const bucket = pgDialect ? 'floor(extract(epoch from created_at) / 900)' : '(created_at / 900000)';
const delta = pgDialect ? 'floor(extract(epoch from (created_at - prev_at)))' : '(created_at - prev_at) / 1000';
const responseTimes = (where) => `SELECT client_id, ${delta} AS d, COUNT(*) AS n FROM (
    SELECT client_id, role, created_at, LAG(role) OVER w AS prev_role, LAG(created_at) OVER w AS prev_at
    FROM messages ${where} WINDOW w AS (PARTITION BY thread_id ORDER BY created_at, id)) x
  WHERE role = 'assistant' AND prev_role = 'user' GROUP BY client_id, ${delta}`;
const queries =
  kind === 'summary'
    ? [
        'SELECT t.id, t.wa_id, t.contact_name, t.created_at, t.last_message_at, COUNT(m.id) AS n ' +
          'FROM threads t LEFT JOIN messages m ON m.thread_id = t.id WHERE t.client_id = 1 ' +
          'GROUP BY t.id, t.wa_id, t.contact_name, t.created_at, t.last_message_at ORDER BY t.last_message_at DESC',
        "SELECT thread_id, role, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, COUNT(*) AS n " +
          'FROM messages WHERE client_id = 1 GROUP BY thread_id, role',
        `SELECT client_id, ${bucket} AS b, COUNT(*) AS n FROM messages WHERE client_id = 1 ` +
          `GROUP BY client_id, ${bucket}`,
      ]
    : [
        `SELECT client_id, role, status, COUNT(*) AS n FROM messages GROUP BY client_id, role, status`,
        `SELECT client_id, COUNT(*) AS n FROM threads GROUP BY client_id`,
        `SELECT client_id, ${bucket} AS b, COUNT(*) AS n FROM messages GROUP BY client_id, ${bucket}`,
        responseTimes(''),
      ];
const rows = [];
if (pgDialect) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  for (const q of queries) rows.push((await c.query(q)).rows);
  await c.end();
} else {
  const Database = (await import('better-sqlite3')).default;
  const d = new Database(db, { readonly: true });
  for (const q of queries) rows.push(d.prepare(q).all());
  d.close();
}
process.stdout.write(JSON.stringify(rows).slice(0, 100));
