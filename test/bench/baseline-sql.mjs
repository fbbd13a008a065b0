// The baseline for summary and stats: the equivalent hand-written SQL through the same driver
// (better-sqlite3 or pg), printed as JSON, including Node's start like the CLI pays it.
const [kind, db] = process.argv.slice(2);
const queries = kind === 'summary'
  ? [
      `SELECT t.id, t.wa_id, t.contact_name, t.created_at, t.last_message_at, COUNT(m.id) AS n FROM threads t LEFT JOIN messages m ON m.thread_id = t.id WHERE t.client_id = 1 GROUP BY t.id, t.wa_id, t.contact_name, t.created_at, t.last_message_at ORDER BY t.last_message_at DESC`,
      `SELECT thread_id, role, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, COUNT(*) AS n FROM messages WHERE client_id = 1 GROUP BY thread_id, role`,
    ]
  : [
      `SELECT client_id, role, status, COUNT(*) AS n FROM messages GROUP BY client_id, role, status`,
      `SELECT client_id, COUNT(*) AS n FROM threads GROUP BY client_id`,
    ];
let rows = [];
if (db.startsWith('postgres')) {
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
