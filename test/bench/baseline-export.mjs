// The floor for exports: Node reading the same rows through the same driver (better-sqlite3 or pg),
// in the same 1,000-row keyset pages, the way the fastest honest exporter would (array rows:
// better-sqlite3 raw mode, pg rowMode 'array'), and writing them tab-separated to a file. What the
// CLI spends above this is formatting; what this spends above sqlite3/psql is Node's start and the
// driver turning values into JavaScript.
import { createWriteStream } from 'node:fs';

const [db, file] = process.argv.slice(2);
const pgDialect = db.startsWith('postgres');
const columns =
  'id, role, type, content, wamid, created_at, status, status_at, error_code, error_message, reply_to_wamid';
const out = createWriteStream(file, { highWaterMark: 256 * 1024 });
const write = (s) => (out.write(s) ? undefined : new Promise((r) => out.once('drain', r)));
let after = null;
let query;
let close;
if (pgDialect) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  const [{ id: thread }] = (await c.query('SELECT min(id) AS id FROM threads')).rows;
  query = async () =>
    (
      await c.query({
        text: after
          ? `SELECT ${columns} FROM messages WHERE thread_id = $1 AND (created_at, id) > ($2, $3) ` +
            'ORDER BY created_at, id LIMIT 1000'
          : `SELECT ${columns} FROM messages WHERE thread_id = $1 ORDER BY created_at, id LIMIT 1000`,
        values: after ? [thread, after[0], after[1]] : [thread],
        rowMode: 'array',
      })
    ).rows;
  close = () => c.end();
} else {
  const Database = (await import('better-sqlite3')).default;
  const d = new Database(db, { readonly: true });
  const first = d
    .prepare(`SELECT ${columns} FROM messages WHERE thread_id = 1 ORDER BY created_at, id LIMIT 1000`)
    .raw(true);
  const next = d
    .prepare(
      `SELECT ${columns} FROM messages WHERE thread_id = 1 AND (created_at, id) > (?, ?) ` +
        'ORDER BY created_at, id LIMIT 1000',
    )
    .raw(true);
  query = async () => (after ? next.all(after[0], after[1]) : first.all());
  close = async () => d.close();
}
for (;;) {
  const rows = await query();
  let text = '';
  // id, role, type, content, wamid, created_at, status, …, error_message (9)
  for (const r of rows) text += `${r[0]}\t${r[1]}\t${r[2]}\t${r[3]}\t${r[4]}\t${r[5]}\t${r[6]}\t${r[9]}\n`;
  await write(text);
  if (rows.length < 1000) break;
  const last = rows[rows.length - 1];
  after = [last[5], last[0]];
}
await close();
await new Promise((r) => out.end(r));
