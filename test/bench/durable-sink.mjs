// The limit for the ingest benchmark: the smallest honest durable webhook sink in Node. Express 5,
// the HMAC of the raw bytes checked in constant time, JSON parsed, each message's row inserted by
// one prepared multi-row statement per group commit (every request waiting when a commit starts
// goes into it), 200 only after the commit. Idempotent by wamid, like wa-report. No threads, no
// conversations, no outbox, no rollups, no encryption: what wa-report does on top is what costs.
//   node durable-sink.mjs <sqlite file | postgresql://…>   (prints {"msg":"listening","port":…})
import express from 'express';
import { createHmac, timingSafeEqual } from 'node:crypto';

const target = process.argv[2];
const secret = process.env.WHATSAPP_APP_SECRET ?? '';
const MAX_BATCH = 1000;
const COLUMNS = ['wamid', 'wa_id', 'phone_number_id', 'type', 'body', 'created_at'];

/** { insert(rows): Promise<void> } — one transaction, one multi-row statement. */
async function openSink(url) {
  if (/^postgres(ql)?:/.test(url)) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    await pool.query(`CREATE TABLE IF NOT EXISTS sink_messages (
      id BIGSERIAL PRIMARY KEY, wamid TEXT NOT NULL UNIQUE, wa_id TEXT NOT NULL, phone_number_id TEXT NOT NULL,
      type TEXT NOT NULL, body TEXT, created_at TIMESTAMPTZ(3) NOT NULL)`);
    // One statement for any number of rows: arrays, unnested (a named statement, prepared once).
    const text =
      `INSERT INTO sink_messages (${COLUMNS.join(', ')}) ` +
      'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) ' +
      'ON CONFLICT (wamid) DO NOTHING';
    return {
      async insert(rows) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query({ name: 'sink-insert', text, values: COLUMNS.map((_, c) => rows.map((r) => r[c])) });
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
    };
  }
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(url);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS sink_messages (
    id INTEGER PRIMARY KEY, wamid TEXT NOT NULL UNIQUE, wa_id TEXT NOT NULL, phone_number_id TEXT NOT NULL,
    type TEXT NOT NULL, body TEXT, created_at INTEGER NOT NULL)`);
  // Prepared once per batch size (SQLite binds at most 32,766 values: 1,000 rows × 6 fit).
  const statements = new Map();
  const statement = (n) => {
    let s = statements.get(n);
    if (!s) {
      const row = `(${COLUMNS.map(() => '?').join(', ')})`;
      s = db.prepare(
        `INSERT INTO sink_messages (${COLUMNS.join(', ')}) VALUES ${Array(n).fill(row).join(', ')} ` +
          'ON CONFLICT (wamid) DO NOTHING',
      );
      statements.set(n, s);
    }
    return s;
  };
  const write = db.transaction((rows) => {
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      statement(chunk.length).run(chunk.flat());
    }
  });
  return {
    async insert(rows) {
      write(rows.map((r) => [...r.slice(0, 5), r[5].getTime()]));
    },
  };
}

const sink = await openSink(target);

// Group commit: requests wait in `pending`; one commit at a time takes all of them (up to MAX_BATCH).
const pending = [];
let committing = false;
async function commitLoop() {
  if (committing) return;
  committing = true;
  while (pending.length) {
    const batch = pending.splice(0, MAX_BATCH);
    const rows = batch.flatMap((p) => p.rows);
    try {
      if (rows.length) await sink.insert(rows);
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
  committing = false;
}
const store = (rows) =>
  new Promise((resolve, reject) => {
    pending.push({ rows, resolve, reject });
    void commitLoop();
  });

function signatureOk(body, header) {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(header.slice(7), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function rowsOf(payload) {
  const rows = [];
  for (const entry of payload?.entry ?? []) {
    for (const change of entry?.changes ?? []) {
      const value = change?.value;
      for (const m of value?.messages ?? []) {
        rows.push([
          String(m.id),
          String(m.from),
          String(value.metadata?.phone_number_id ?? ''),
          String(m.type),
          m.text?.body ?? null,
          new Date(Number(m.timestamp) * 1000),
        ]);
      }
    }
  }
  return rows;
}

const app = express();
app.post('/webhook', express.raw({ type: () => true, limit: '4mb' }), async (req, res) => {
  if (!signatureOk(req.body, req.headers['x-hub-signature-256'])) return res.sendStatus(401);
  let payload;
  try {
    payload = JSON.parse(req.body.toString('utf8'));
  } catch {
    return res.sendStatus(400);
  }
  try {
    await store(rowsOf(payload));
  } catch {
    return res.status(503).set('Retry-After', '1').end();
  }
  res.status(200).type('text/plain').send('EVENT_RECEIVED');
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
