#!/usr/bin/env node
// `npm run bench [-- --only ingest,reply,export,summary,start,batches,outbox,sentiment,rollover,dashboard]
//   [--runs 3] [--quick]`
// `--formats text,pdf` limits the export formats measured; `--dashboard-sizes 1000000,10000000` the
// dashboard's data sizes (default both; --quick: 100,000 and 1,000,000).
// Every figure is compared with a baseline measured in the same run (machines here are shared and
// noisy): the median of several runs, as a ratio. Prints one table and writes bench-results.json.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(root, 'bin/wa-report.js');
const RSS = join(root, 'test/bench/rss.mjs');
const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    formats: { type: 'string' },
    runs: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    postgres: { type: 'string' },
    'dashboard-sizes': { type: 'string' },
  },
});
const only = args.only ? new Set(args.only.split(',')) : null;
const runs = Number(args.runs);
const quick = args.quick;
const dataDir =
  args['data-dir'] ??
  join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? tmpdir(), '.cache'), 'wa-report-bench');
const pgUrl = args.postgres ?? process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? null;
mkdirSync(dataDir, { recursive: true });

const results = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (x, d = 2) => (x === null || x === undefined ? '–' : typeof x === 'number' ? x.toFixed(d) : String(x));
function record(row) {
  results.push(row);
  const pass = row.pass === undefined ? '' : row.pass ? 'ok' : 'MISSED';
  process.stderr.write(
    `  ${row.name}: ${fmt(row.value)} ${row.unit} vs ${fmt(row.baseline)} ` +
      `(ratio ${fmt(row.ratio)}) ${row.target ?? ''} ${pass}\n`,
  );
}
const wanted = (name) => !only || only.has(name);

function runCli(argv, env = {}) {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', RSS, BIN, ...argv], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`wa-report ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rss = Number(/BENCH_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  return { ms, rssMb: rss, stdout: r.stdout, stderr: r.stderr };
}
function timeCommand(cmd, argv, env = {}) {
  const started = performance.now();
  const r = spawnSync(cmd, argv, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    shell: false,
  });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------
// Data: generated once with bulk inserts and reused (delete the directory to regenerate).
async function sqliteWith(name, generate) {
  const file = join(dataDir, `${name}.db`);
  if (existsSync(file) && existsSync(`${file}.done`)) return file;
  rmSync(file, { force: true });
  process.stderr.write(`  generating ${file} …\n`);
  const started = performance.now();
  runCli(['--db', file, 'db', 'migrate']);
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  generate(db);
  db.close();
  writeFileSync(`${file}.done`, '');
  process.stderr.write(`  generated in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return file;
}

const LOREM = [
  'Hola, ¿abrís el domingo?',
  'Sí, de 9 a 15 h. ¡Te esperamos!',
  'Quería reservar una mesa para cuatro',
  'Claro, ¿a qué hora?',
  'Perfecto, gracias 😊',
  'Can I book a cleaning next week?',
  'We have Tuesday at 10:00 or Thursday at 16:30.',
];

/** clients × threads × messages, 30 s apart, alternating user / assistant with statuses. */
function fill(db, { clients, threadsPerClient, messagesPerThread, start = Date.UTC(2024, 0, 1) }) {
  const now = Date.now();
  const insClient = db.prepare(
    'INSERT INTO clients (name, phone_number, phone_number_id, active, assistant_enabled, created_at, updated_at) ' +
      'VALUES (?, ?, ?, 1, 1, ?, ?)',
  );
  const insThread = db.prepare(
    `INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const insMessage = db.prepare(
    'INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at, ' +
      "status, status_at, inserted_at) VALUES (?, ?, ?, 'text', ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const statuses = ['read', 'read', 'read', 'delivered', 'sent', 'failed'];
  db.transaction(() => {
    let wamid = 0;
    for (let c = 1; c <= clients; c++) {
      const pnid = String(100000000000000 + c);
      const clientId = Number(insClient.run(`Client ${c}`, `+3491100000${c}`, pnid, now, now).lastInsertRowid);
      for (let t = 0; t < threadsPerClient; t++) {
        const wa = String(34600000000 + c * 100000 + t);
        const t0 = start + t * 600_000;
        const last = t0 + (messagesPerThread - 1) * 30_000;
        const threadId = Number(insThread.run(clientId, wa, `User ${t}`, t0, last).lastInsertRowid);
        for (let m = 0; m < messagesPerThread; m++) {
          const role = m % 2 ? 'assistant' : 'user';
          const at = t0 + m * 30_000;
          const status = role === 'assistant' ? statuses[m % statuses.length] : null;
          insMessage.run(
            threadId,
            clientId,
            role,
            LOREM[m % LOREM.length],
            `wamid.bench.${++wamid}`,
            wa,
            pnid,
            at,
            status,
            status ? at : null,
            now,
          );
        }
      }
    }
  })();
}

/**
 * A PostgreSQL database for the bench, generated once by `generate(client)` after migrations and
 * reused while it holds the `bench_done` marker (a half-generated one is dropped and made again).
 */
async function cachedPgDatabase(dbName, generate) {
  const pg = (await import('pg')).default;
  const base = new URL(pgUrl);
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount > 0;
  base.pathname = `/${dbName}`;
  const url = base.toString();
  if (exists) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const done = (await c.query(`SELECT to_regclass('bench_done') AS t`)).rows[0].t;
    await c.end();
    if (done) {
      await admin.end();
      return url;
    }
    await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  process.stderr.write(`  generating ${dbName} on PostgreSQL …\n`);
  const started = performance.now();
  runCli(['--db', url, 'db', 'migrate']);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await generate(c);
  // What autovacuum does in a running database: without it the rows the rollup triggers updated
  // millions of times leave the visibility map empty, and reads visit the heap for every row.
  await c.query('VACUUM ANALYZE');
  await c.query('CREATE TABLE bench_done (x int)');
  await c.end();
  process.stderr.write(`  generated in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return url;
}

async function pgWith(name, spec) {
  return cachedPgDatabase(`wa_report_bench_${name}`, async (c) => {
    const { clients, threadsPerClient, messagesPerThread } = spec;
    await c.query(
      'INSERT INTO clients (name, phone_number, phone_number_id, active, assistant_enabled, created_at, updated_at)\n' +
        "    SELECT 'Client ' || g, '+3491100000' || g, (100000000000000 + g)::text, true, true, now(), now() " +
        `FROM generate_series(1, ${clients}) g`,
    );
    await c.query(
      'INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at)\n' +
        "    SELECT c.id, (34600000000 + c.id * 100000 + t)::text, 'User ' || t, " +
        "timestamptz '2024-01-01 00:00Z' + t * interval '10 minutes',\n" +
        "           timestamptz '2024-01-01 00:00Z' + t * interval '10 minutes' + " +
        `${messagesPerThread - 1} * interval '30 seconds'\n` +
        `    FROM clients c CROSS JOIN generate_series(0, ${threadsPerClient - 1}) t`,
    );
    await c.query(
      'INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at, ' +
        `status, status_at, inserted_at)
    SELECT t.id, t.client_id, CASE WHEN m % 2 = 1 THEN 'assistant' ELSE 'user' END, 'text',
           (ARRAY[${LOREM.map((l) => `'${l.replace(/'/g, "''")}'`).join(', ')}])[1 + m % ${LOREM.length}],
           'wamid.bench.' || t.id || '.' || m, t.wa_id, c.phone_number_id, t.created_at + m * interval '30 seconds',
           CASE WHEN m % 2 = 1 THEN (ARRAY['read','read','read','delivered','sent','failed'])[1 + m % 6] END,
           CASE WHEN m % 2 = 1 THEN t.created_at + m * interval '30 seconds' END, now()
    FROM threads t JOIN clients c ON c.id = t.client_id CROSS JOIN generate_series(0, ${messagesPerThread - 1}) m`,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Ingest throughput against bare Express (the first anchor) and a minimal durable sink (the limit).
function startChild(argv, env) {
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /"port":(\d+)/.exec(buf);
      if (m && /listening/.test(buf)) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}

async function load(url, seconds, secret, texts = null, connections = 50) {
  const autocannon = (await import('autocannon')).default;
  let n = 0;
  // Unique per call: two loads running at once never send the same wamid.
  const tag = Math.random().toString(36).slice(2, 8);
  const body = (id) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                contacts: [{ profile: { name: 'Bench' }, wa_id: String(34600000000 + (id % 5000)) }],
                messages: [
                  {
                    from: String(34600000000 + (id % 5000)),
                    id: `wamid.load.${process.pid}.${tag}.${Date.now()}.${id}`,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: 'text',
                    text: { body: texts ? texts[id % texts.length] : `mensaje ${id}` },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
  const result = await autocannon({
    url: `${url}/webhook`,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (req) => {
          const b = body(++n);
          return {
            ...req,
            body: b,
            headers: {
              'content-type': 'application/json',
              'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(b).digest('hex')}`,
            },
          };
        },
      },
    ],
  });
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    rps: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

async function countMessages(dbUrl) {
  const r = spawnSync(process.execPath, [BIN, '--db', dbUrl, 'stats', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return JSON.parse(r.stdout).clients.reduce((a, c) => a + c.messages, 0);
}

/** [name, () => a new empty database] for SQLite, and for PostgreSQL when it is configured. */
function emptyDatabases(name) {
  const targets = [
    [
      'sqlite',
      () => {
        const f = join(tmpdir(), `wa-bench-${name}-${process.pid}.db`);
        rmSync(f, { force: true });
        return f;
      },
    ],
  ];
  if (pgUrl)
    targets.push([
      'postgres',
      async () => {
        const pg = (await import('pg')).default;
        const admin = new pg.Client({ connectionString: pgUrl });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS wa_report_bench_${name} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE wa_report_bench_${name}`);
        await admin.end();
        const u = new URL(pgUrl);
        u.pathname = `/wa_report_bench_${name}`;
        return u.toString();
      },
    ]);
  return targets;
}

async function benchIngest() {
  const seconds = quick ? 3 : 10;
  const secret = 'bench-secret';
  const targets = emptyDatabases('ingest');
  for (const [name, makeDb] of targets) {
    const ratios = [];
    const sinkRatios = [];
    const figures = [];
    for (let r = 0; r < runs; r++) {
      const bare = await startChild([join(root, 'test/bench/bare-server.mjs')], {});
      const baseline = await load(bare.url, seconds, secret);
      bare.child.kill('SIGTERM');
      // The limit: a minimal durable sink on a fresh database of the same kind, same load.
      const sinkDb = await makeDb();
      const sinkChild = await startChild([join(root, 'test/bench/durable-sink.mjs'), sinkDb], {
        WHATSAPP_APP_SECRET: secret,
      });
      const sink = await load(sinkChild.url, seconds, secret);
      sinkChild.child.kill('SIGTERM');
      await new Promise((res) => sinkChild.child.on('exit', res));
      const dbUrl = await makeDb();
      const ingest = await startChild([BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
        WHATSAPP_APP_SECRET: secret,
        LOG_LEVEL: 'info',
        OPENAI_API_KEY: '',
      });
      const measured = await load(ingest.url, seconds, secret);
      ingest.child.kill('SIGTERM');
      await new Promise((res) => ingest.child.on('exit', res));
      const stored = await countMessages(dbUrl);
      figures.push({ ...measured, stored, baselineRps: baseline.rps, sink });
      ratios.push(measured.rps / baseline.rps);
      sinkRatios.push(measured.rps / sink.rps);
      if (stored < measured.ok) throw new Error(`${name}: ${measured.ok} acknowledged but only ${stored} stored`);
    }
    const m = figures[ratios.indexOf(median(ratios))];
    record({
      name: `ingest ${name}: stored msg/s ÷ bare Express req/s`,
      value: m.rps,
      baseline: m.baselineRps,
      unit: 'msg/s',
      ratio: median(ratios),
      target: '≥ 0.8',
      pass: median(ratios) >= 0.8,
      p50_ms: m.p50,
      p99_ms: m.p99,
      acknowledged: m.ok,
      stored: m.stored,
      non2xx: m.non2xx,
    });
    const ms = figures[sinkRatios.indexOf(median(sinkRatios))];
    const latency = ms.p99 / ms.sink.p99;
    record({
      name: `ingest ${name}: stored msg/s ÷ durable sink msg/s`,
      value: ms.rps,
      baseline: ms.sink.rps,
      unit: 'msg/s',
      ratio: median(sinkRatios),
      target: '≥ 0.8, p99 ≤ 2× the sink’s',
      pass: median(sinkRatios) >= 0.8 && latency <= 2,
      p50_ms: ms.p50,
      p99_ms: ms.p99,
      sink_p50_ms: ms.sink.p50,
      sink_p99_ms: ms.sink.p99,
      p99_ratio: latency,
    });
    if (name === 'postgres') await benchTwoDaemons(makeDb, seconds, secret);
  }
}

/**
 * Two daemons on one PostgreSQL, each given half the load generator's connections, against one
 * daemon given them all (the same 50). On two shared cores it cannot double: the daemons, the
 * database and the load generator share the same two cores.
 */
async function benchTwoDaemons(makeDb, seconds, secret) {
  const start = async (dbUrl) =>
    startChild([BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
      WHATSAPP_APP_SECRET: secret,
      LOG_LEVEL: 'info',
      OPENAI_API_KEY: '',
    });
  const stop = async (d) => {
    d.child.kill('SIGTERM');
    await new Promise((res) => d.child.on('exit', res));
  };
  const ratios = [];
  const figures = [];
  for (let r = 0; r < runs; r++) {
    const oneDb = await makeDb();
    const one = await start(oneDb);
    const single = await load(one.url, seconds, secret);
    await stop(one);
    const twoDb = await makeDb();
    const [a, b] = [await start(twoDb), await start(twoDb)];
    const both = await Promise.all([load(a.url, seconds, secret, null, 25), load(b.url, seconds, secret, null, 25)]);
    await stop(a);
    await stop(b);
    const stored = await countMessages(twoDb);
    const ok = both[0].ok + both[1].ok;
    if (stored < ok) throw new Error(`two daemons: ${ok} acknowledged but only ${stored} stored`);
    const rps = both[0].rps + both[1].rps;
    ratios.push(rps / single.rps);
    figures.push({ rps, single: single.rps, p99: Math.max(both[0].p99, both[1].p99) });
  }
  const m = figures[ratios.indexOf(median(ratios))];
  record({
    name: 'ingest postgres: two daemons on one database ÷ one daemon, stored msg/s',
    value: m.rps,
    baseline: m.single,
    unit: 'msg/s',
    ratio: median(ratios),
    target: '(reported)',
    p99_ms: m.p99,
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Reply path: webhook acknowledged → Graph send, with instant stand-ins.
async function benchReply() {
  const received = new Map();
  let sends = 0;
  const graph = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      const to = JSON.parse(b).to;
      received.set(to, performance.now());
      sends++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          messaging_product: 'whatsapp',
          contacts: [{ input: to, wa_id: to }],
          messages: [{ id: `wamid.bench.reply.${sends}` }],
        }),
      );
    });
  });
  const model = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 0,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        }),
      );
    });
  });
  await new Promise((r) => graph.listen(0, '127.0.0.1', r));
  await new Promise((r) => model.listen(0, '127.0.0.1', r));
  const file = join(tmpdir(), `wa-bench-reply-${process.pid}.db`);
  rmSync(file, { force: true });
  runCli([
    '--db',
    file,
    'clients',
    'add',
    '--name',
    'Bench',
    '--phone-number',
    '+15550783881',
    '--phone-number-id',
    '106540352242922',
    '--assistant',
  ]);
  const secret = 'bench-secret';
  const ingest = await startChild([BIN, '--db', file, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
    WHATSAPP_APP_SECRET: secret,
    LOG_LEVEL: 'info',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${model.address().port}/v1`,
    WHATSAPP_ACCESS_TOKEN: 'bench',
    WHATSAPP_GRAPH_URL: `http://127.0.0.1:${graph.address().port}/v26.0`,
  });
  const post = async (to, id) => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                messages: [
                  {
                    from: to,
                    id,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: 'text',
                    text: { body: 'hola' },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    await fetch(`${ingest.url}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
  };
  // Latency: one conversation, one message at a time.
  const single = [];
  for (let i = 0; i < (quick ? 20 : 60); i++) {
    const to = '34619999999';
    received.delete(`+${to}`);
    await post(to, `wamid.single.${i}.${Date.now()}`);
    const acked = performance.now();
    while (!received.has(`+${to}`)) await new Promise((r) => setTimeout(r, 1));
    single.push(received.get(`+${to}`) - acked);
  }
  sends = 0;
  // Throughput: 100 conversations at once.
  const conversations = 100;
  const perConversation = quick ? 3 : 10;
  const overheads = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: conversations }, async (_, c) => {
      const to = String(34611000000 + c);
      for (let i = 0; i < perConversation; i++) {
        received.delete(`+${to}`);
        const body = JSON.stringify({
          object: 'whatsapp_business_account',
          entry: [
            {
              id: '1',
              changes: [
                {
                  field: 'messages',
                  value: {
                    messaging_product: 'whatsapp',
                    metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                    messages: [
                      {
                        from: to,
                        id: `wamid.reply.${c}.${i}.${Date.now()}`,
                        timestamp: String(Math.floor(Date.now() / 1000)),
                        type: 'text',
                        text: { body: 'hola' },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        });
        await fetch(`${ingest.url}/webhook`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          },
          body,
        });
        const acked = performance.now();
        while (!received.has(`+${to}`)) await new Promise((r) => setTimeout(r, 1));
        overheads.push(received.get(`+${to}`) - acked);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  ingest.child.kill('SIGTERM');
  graph.close();
  model.close();
  const p50 = median(single);
  record({
    name: 'reply path: ack → Graph send, p50 (one conversation)',
    value: p50,
    baseline: null,
    unit: 'ms',
    ratio: null,
    target: '≤ 20 ms',
    pass: p50 <= 20,
  });
  record({
    name: 'reply path: 100 concurrent conversations',
    value: sends / elapsed,
    baseline: null,
    unit: 'replies/s',
    ratio: null,
    target: '',
    p50_under_load_ms: median(overheads),
    replies: sends,
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Detailed export of a 100,000-message conversation, against sqlite3 / psql dumping the rows.
const exportFormats = (args.formats ?? 'text,html,json,csv,pdf,xlsx').split(',');

async function benchExport() {
  const size = quick ? 20_000 : 100_000;
  const file = await sqliteWith(`export-${size}`, (db) =>
    fill(db, { clients: 1, threadsPerClient: 1, messagesPerThread: size }),
  );
  const sql =
    'SELECT id, role, type, content, wamid, created_at, status, error_message FROM messages ' +
    'WHERE thread_id = 1 ORDER BY created_at, id';
  const out = join(tmpdir(), `wa-bench-export-${process.pid}`);
  const targets = [
    ['sqlite', file, () => timeCommand('sh', ['-c', `sqlite3 -csv '${file}' "${sql}" > '${out}.baseline'`])],
  ];
  if (pgUrl) {
    const url = await pgWith(`export_${size}`, { clients: 1, threadsPerClient: 1, messagesPerThread: size });
    targets.push([
      'postgres',
      url,
      () =>
        timeCommand('sh', [
          '-c',
          `psql '${url}' -Atc "COPY (` +
            `${sql.replace('thread_id = 1', '(SELECT min(id) FROM threads) = thread_id')}` +
            `) TO STDOUT WITH CSV" > '${out}.baseline'`,
        ]),
    ]);
  }
  for (const [name, db, baseline] of targets) {
    for (const format of exportFormats) {
      const base = [];
      const mine = [];
      const rss = [];
      const floor = [];
      for (let r = 0; r < runs; r++) {
        base.push(baseline());
        floor.push(timeCommand(process.execPath, [join(root, 'test/bench/baseline-export.mjs'), db, `${out}.floor`]));
        const x = runCli(
          [
            '--db',
            db,
            'export',
            '--client-id',
            '1',
            '--wa-id',
            '34600100000',
            '--format',
            format,
            '-o',
            `${out}.${format}`,
          ],
          { TZ: 'UTC' },
        );
        mine.push(x.ms);
        rss.push(x.rssMb);
      }
      const ratio = median(mine) / median(base);
      // PDF and workbooks are measured against the Node + driver floor (issue 14): ≤ 6× and ≤ 4× it.
      const floorLimit = { pdf: 6, xlsx: 4 }[format];
      const toFloor = median(mine) / median(floor);
      record({
        name: floorLimit
          ? `export ${size.toLocaleString('en-US')} msgs ${format} (${name}) ÷ Node + driver floor`
          : `export ${size.toLocaleString('en-US')} msgs ${format} (${name}) ÷ ` +
            `${name === 'sqlite' ? 'sqlite3' : 'psql'} dump`,
        value: median(mine),
        baseline: floorLimit ? median(floor) : median(base),
        unit: 'ms',
        ratio: floorLimit ? toFloor : ratio,
        target: floorLimit ? `≤ ${floorLimit}× floor, ≤ 150 MB` : '≤ 2×, ≤ 150 MB',
        pass: (floorLimit ? toFloor <= floorLimit : ratio <= 2) && Math.max(...rss) <= 150,
        dump_ms: median(base),
        peak_rss_mb: Math.max(...rss),
        bytes: statSync(`${out}.${format}`).size,
        node_driver_floor_ms: median(floor),
        ratio_to_floor: median(mine) / median(floor),
      });
      console.log(
        `    Node + driver reading the same rows and writing them raw: ${median(floor).toFixed(0)} ms ` +
          `(export ÷ that: ${(median(mine) / median(floor)).toFixed(2)})`,
      );
      rmSync(`${out}.${format}`, { force: true });
    }
  }
  rmSync(`${out}.baseline`, { force: true });
  rmSync(`${out}.floor`, { force: true });
}

// ---------------------------------------------------------------------------------------------
// 4. Summary and stats at 1,000,000 messages in 10,000 conversations across 5 clients.
async function benchSummary() {
  const spec = quick
    ? { clients: 5, threadsPerClient: 200, messagesPerThread: 100 }
    : { clients: 5, threadsPerClient: 2_000, messagesPerThread: 100 };
  const total = spec.clients * spec.threadsPerClient * spec.messagesPerThread;
  const file = await sqliteWith(`summary-${total}`, (db) => fill(db, spec));
  const targets = [['sqlite', file]];
  if (pgUrl) targets.push(['postgres', await pgWith(`summary_${total}`, spec)]);
  for (const [name, db] of targets) {
    for (const [label, argv, kind] of [
      ['summary --client-id 1', ['--client-id', '1', '--format', 'summary', '--json'], 'summary'],
      ['stats', ['stats', '--json'], 'stats'],
    ]) {
      const base = [];
      const mine = [];
      for (let r = 0; r < runs; r++) {
        base.push(timeCommand(process.execPath, [join(root, 'test/bench/baseline-sql.mjs'), kind, db]));
        mine.push(runCli(['--db', db, ...argv], { TZ: 'UTC' }).ms);
      }
      const ratio = median(mine) / median(base);
      record({
        name: `${label} at ${total.toLocaleString('en-US')} msgs (${name}) ÷ hand-written SQL`,
        value: median(mine),
        baseline: median(base),
        unit: 'ms',
        ratio,
        target: '≤ 3×',
        pass: ratio <= 3,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 5. CLI start: `wa-report --list` on a small database against `node -e 0`.
async function benchStart() {
  const file = join(tmpdir(), `wa-bench-start-${process.pid}.db`);
  rmSync(file, { force: true });
  runCli([
    '--db',
    file,
    'clients',
    'add',
    '--name',
    'A',
    '--phone-number',
    '+15550000001',
    '--phone-number-id',
    '1001',
  ]);
  const n = quick ? 5 : 15;
  const node = [];
  const list = [];
  for (let i = 0; i < n; i++) {
    node.push(timeCommand(process.execPath, ['-e', '0']));
    list.push(timeCommand(process.execPath, [BIN, '--db', file, '--list']));
  }
  record({
    name: 'wa-report --list ÷ node -e 0',
    value: median(list),
    baseline: median(node),
    unit: 'ms',
    ratio: median(list) / median(node),
    target: '≤ 300 ms',
    pass: median(list) <= 300,
  });
  rmSync(file, { force: true });
}

// ---------------------------------------------------------------------------------------------
// 6. One group commit through the store: a batch of 25 new messages, then 25 statuses for them (what
// the daemon writes per transaction under load), against a one-row commit through the same driver.
async function benchBatches() {
  const { openStore } = await import('../../dist/db/store.js');
  const { openDatabase } = await import('../../dist/db/sql.js');
  const { resolveDbTarget } = await import('../../dist/db/target.js');
  const targets = emptyDatabases('batches');
  const batches = quick ? 50 : 200;
  for (const [name, makeDb] of targets) {
    const store = await openStore(resolveDbTarget(await makeDb()));
    // The baseline: a one-row commit through the same query layer and driver.
    const plain = await openDatabase(store.target, store.keys);
    const { id: clientId } = await store.clients.create({
      name: 'Bench',
      phoneNumber: '+15550000001',
      phoneNumberId: '1001',
    });
    let n = 0;
    const timeEach = async (fn) => {
      const started = performance.now();
      for (let i = 0; i < batches; i++) await fn(i);
      return (performance.now() - started) / batches;
    };
    const one = [];
    const msgs = [];
    const stats = [];
    for (let r = 0; r < runs; r++) {
      one.push(
        await timeEach((i) =>
          plain.transaction((tx) =>
            tx.run(
              "INSERT INTO settings (key, value, updated_at) VALUES ('bench', ?, ?) " +
                'ON CONFLICT (key) DO UPDATE SET value = excluded.value',
              [String(i), new Date()],
            ),
          ),
        ),
      );
      const wamids = [];
      msgs.push(
        await timeEach(() =>
          store.ingest.write({
            messages: Array.from({ length: 25 }, () => {
              const i = ++n;
              wamids.push(`wamid.batch.${i}`);
              return {
                clientId,
                waId: String(34600000000 + (i % 5000)),
                contactName: 'Bench',
                role: 'assistant',
                type: 'text',
                content: `respuesta ${i}`,
                wamid: `wamid.batch.${i}`,
                phoneNumberId: '1001',
                createdAt: new Date(),
                status: 'sending',
                raw: '{"type":"text"}',
              };
            }),
          }),
        ),
      );
      stats.push(
        await timeEach((i) =>
          store.ingest.write({
            statuses: wamids.slice(i * 25, i * 25 + 25).map((wamid) => ({
              wamid,
              status: 'delivered',
              occurredAt: new Date(),
              recipientId: '34600000000',
              raw: '{"status":"delivered"}',
            })),
          }),
        ),
      );
    }
    await plain.close();
    await store.close();
    for (const [what, xs] of [
      ['25 new messages', msgs],
      ['25 statuses', stats],
    ]) {
      record({
        name: `store: one transaction of ${what} (${name}) ÷ a one-row commit`,
        value: median(xs),
        baseline: median(one),
        unit: 'ms',
        ratio: median(xs) / median(one),
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 7. The outbox: ingest with an endpoint subscribed to message.received against none (same run),
//    and sustained deliveries to a receiver on loopback against a bare HTTP client's POSTs.
async function addBenchEndpoint(dbUrl, receiverUrl) {
  const r = spawnSync(
    process.execPath,
    [BIN, '--db', dbUrl, 'webhooks', 'add', '--url', receiverUrl, '--allow-http', '--events', 'message.received'],
    { encoding: 'utf8', env: { ...process.env, WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '1' } },
  );
  if (r.status !== 0) throw new Error(`webhooks add failed: ${r.stderr}`);
}

async function receiverCount(url) {
  return Number(await (await fetch(url.replace(/\/hooks$/, '/count'))).text());
}

async function barePosts(url, total, concurrency) {
  const { Agent, request } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({ type: 'message.received', timestamp: new Date().toISOString(), data: { n: 1 } });
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      next++;
      await new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return total / ((performance.now() - started) / 1000);
}

// 8. Sentiment: ingest of realistic user texts (the labelled dev set, Spanish and English) with
// every message scored as it is stored, against the same with WA_REPORT_SENTIMENT=off, interleaved
// in the same run; and `wa-report sentiment score` on 100,000 lines.
async function benchSentiment() {
  const seconds = quick ? 3 : 10;
  const secret = 'bench-secret';
  const texts = readFileSync(join(root, 'test/fixtures/sentiment/dev.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).text);
  const env = { WHATSAPP_APP_SECRET: secret, LOG_LEVEL: 'info', OPENAI_API_KEY: '' };
  for (const [name, makeDb] of emptyDatabases('sentiment')) {
    const on = [];
    const off = [];
    for (let r = 0; r < runs; r++) {
      for (const mode of ['off', 'lexicon']) {
        const dbUrl = await makeDb();
        const ingest = await startChild([BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
          ...env,
          WA_REPORT_SENTIMENT: mode,
        });
        const measured = await load(ingest.url, seconds, secret, texts);
        ingest.child.kill('SIGTERM');
        await new Promise((res) => ingest.child.on('exit', res));
        (mode === 'lexicon' ? on : off).push({ rps: measured.rps, p99: measured.p99 });
      }
    }
    const ratios = on.map((o, i) => o.rps / off[i].rps);
    const m = median(ratios);
    const i = ratios.indexOf(m);
    record({
      name: `sentiment ${name}: ingest msg/s with every user text scored ÷ with WA_REPORT_SENTIMENT=off`,
      value: on[i].rps,
      baseline: off[i].rps,
      unit: 'msg/s',
      ratio: m,
      target: '≥ 0.9',
      pass: m >= 0.9,
      p99_ms: on[i].p99,
    });
  }
  const lines = Array.from({ length: 100_000 }, (_, k) => texts[k % texts.length]).join('\n') + '\n';
  const rates = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    const out = spawnSync(process.execPath, [BIN, 'sentiment', 'score'], {
      input: lines,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (out.status !== 0) throw new Error(`sentiment score failed: ${out.stderr}`);
    const n = out.stdout.trim().split('\n').length;
    if (n !== 100_000) throw new Error(`sentiment score printed ${n} lines for 100,000`);
    rates.push(n / ((performance.now() - started) / 1000));
  }
  record({
    name: '`wa-report sentiment score`: 100,000 WhatsApp-style lines (process start included)',
    value: median(rates),
    unit: 'lines/s',
    baseline: null,
    ratio: null,
  });
}

async function benchOutbox() {
  const seconds = quick ? 3 : 10;
  const secret = 'bench-secret';
  const receiver = await startChild([join(root, 'test/bench/receiver.mjs')], {});
  const receiverUrl = `${receiver.url}/hooks`;
  const env = {
    WHATSAPP_APP_SECRET: secret,
    LOG_LEVEL: 'info',
    OPENAI_API_KEY: '',
    WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '1',
  };
  try {
    for (const [name, makeDb] of emptyDatabases('outbox')) {
      // Interleaved runs: none, one, none, one…
      const none = [];
      const one = [];
      for (let r = 0; r < runs; r++) {
        for (const subscribed of [false, true]) {
          const dbUrl = await makeDb();
          if (subscribed) await addBenchEndpoint(dbUrl, receiverUrl);
          const before = await receiverCount(receiverUrl);
          const ingest = await startChild([BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], env);
          const measured = await load(ingest.url, seconds, secret);
          // Let the worker finish what is queued before stopping (counted below).
          const deadline = Date.now() + 60_000;
          while (subscribed && Date.now() < deadline && (await receiverCount(receiverUrl)) - before < measured.ok) {
            await new Promise((res) => setTimeout(res, 100));
          }
          ingest.child.kill('SIGTERM');
          await new Promise((res) => ingest.child.on('exit', res));
          const delivered = (await receiverCount(receiverUrl)) - before;
          if (subscribed && delivered < measured.ok)
            throw new Error(`${name}: ${measured.ok} messages acknowledged, only ${delivered} events delivered`);
          (subscribed ? one : none).push({ rps: measured.rps, p99: measured.p99 });
        }
      }
      const ratios = one.map((o, i) => o.rps / none[i].rps);
      const m = median(ratios);
      const i = ratios.indexOf(m);
      record({
        name: `outbox ${name}: ingest msg/s with an endpoint on message.received ÷ with none`,
        value: one[i].rps,
        baseline: none[i].rps,
        unit: 'msg/s',
        ratio: m,
        target: '≥ 0.9',
        pass: m >= 0.9,
        p99_ms: one[i].p99,
        p50_ms: undefined,
      });

      // Sustained deliveries: N events queued while no daemon runs, then one daemon delivers them.
      const total = quick ? 3_000 : 10_000;
      const { openStore } = await import('../../dist/db/store.js');
      const { resolveDbTarget } = await import('../../dist/db/target.js');
      const { messageEvent } = await import('../../dist/domain/events.js');
      const rates = [];
      const bare = [];
      for (let r = 0; r < runs; r++) {
        const dbUrl = await makeDb();
        await addBenchEndpoint(dbUrl, receiverUrl);
        const store = await openStore(resolveDbTarget(dbUrl));
        for (let b = 0; b < total; b += 500) {
          const events = Array.from({ length: Math.min(500, total - b) }, (_, k) =>
            messageEvent('message.received', {
              id: b + k + 1,
              wamid: `wamid.bench.${b + k}`,
              threadId: 1 + ((b + k) % 200),
              clientId: 1,
              waId: String(34600000000 + ((b + k) % 200)),
              role: 'user',
              type: 'text',
              content: 'hola',
              createdAt: new Date(),
              conversationId: null,
            }),
          );
          await store.deliveries.queueEvents(events);
        }
        await store.close();
        const before = await receiverCount(receiverUrl);
        const daemon = await startChild([BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], env);
        // Timed from the first delivery (the daemon's start is not the outbox's).
        let first = before;
        while ((first = await receiverCount(receiverUrl)) === before) await new Promise((res) => setTimeout(res, 5));
        const started = performance.now();
        while ((await receiverCount(receiverUrl)) - before < total) await new Promise((res) => setTimeout(res, 20));
        rates.push((total - (first - before)) / ((performance.now() - started) / 1000));
        daemon.child.kill('SIGTERM');
        await new Promise((res) => daemon.child.on('exit', res));
        bare.push(await barePosts(receiverUrl, total, 16));
      }
      const dr = rates.map((x, k) => x / bare[k]);
      const md = median(dr);
      const k = dr.indexOf(md);
      record({
        name: `outbox ${name}: deliveries/s (signed, claimed, logged) ÷ bare HTTP POSTs/s, 16 at a time`,
        value: rates[k],
        baseline: bare[k],
        unit: 'deliveries/s',
        ratio: md,
        target: '≥ 0.2',
        pass: md >= 0.2,
      });
    }
  } finally {
    receiver.child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------
// The workbook past Excel's row limit: 1,100,000 messages in one conversation continue on
// "Messages (2)"; peak RSS stays that of a small export. One run (it takes half a minute).
async function benchRollover() {
  if (quick) return;
  const size = 1_100_000;
  const file = await sqliteWith(`rollover-${size}`, (db) =>
    fill(db, { clients: 1, threadsPerClient: 1, messagesPerThread: size }),
  );
  const out = join(tmpdir(), `wa-bench-rollover-${process.pid}.xlsx`);
  const x = runCli(['--db', file, 'export', '--client-id', '1', '--lang', 'en', '--format', 'xlsx', '-o', out], {
    TZ: 'UTC',
  });
  const unzip = (part) => spawnSync('unzip', ['-p', out, part], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout ?? '';
  const names = [...unzip('xl/workbook.xml').matchAll(/<sheet name="([^"]+)"/g)].map((m) => m[1]);
  const rows = (part) => {
    // The sheet is larger than a string may be: counted in the bytes.
    const bytes = spawnSync('unzip', ['-p', out, part], { maxBuffer: 2 ** 31 - 1 }).stdout;
    let n = 0;
    for (let at = bytes.indexOf('<row '); at >= 0; at = bytes.indexOf('<row ', at + 5)) n += 1;
    return n;
  };
  const messageRows = [rows('xl/worksheets/sheet2.xml'), rows('xl/worksheets/sheet3.xml')];
  const ok =
    names.join('|') === 'Conversations|Messages|Messages (2)|Summary' &&
    messageRows[0] === 1_048_576 &&
    messageRows[1] === size - 1_048_575 + 1;
  record({
    name: `export ${size.toLocaleString('en-US')} msgs xlsx (sqlite): sheets ${names.join(', ')}`,
    value: x.ms,
    baseline: null,
    unit: 'ms',
    ratio: null,
    target: 'rolls over at 1,048,576 rows, ≤ 150 MB',
    pass: ok && x.rssMb <= 150,
    peak_rss_mb: x.rssMb,
    rows_per_sheet: messageRows,
    bytes: statSync(out).size,
  });
  rmSync(out, { force: true });
}

async function benchDashboardSection() {
  const { benchDashboard } = await import('./dashboard.mjs');
  const sizes = (args['dashboard-sizes'] ?? (quick ? '100000,1000000' : '1000000,10000000')).split(',').map(Number);
  await benchDashboard({ record, median, pgUrl, dataDir, sqliteWith, cachedPgDatabase, sizes });
}

const benches = {
  start: benchStart,
  ingest: benchIngest,
  reply: benchReply,
  export: benchExport,
  summary: benchSummary,
  batches: benchBatches,
  outbox: benchOutbox,
  sentiment: benchSentiment,
  rollover: benchRollover,
  dashboard: benchDashboardSection,
};
process.stderr.write(
  `wa-report benchmarks: ${runs} runs each (median), data in ${dataDir}` +
    `${pgUrl ? `, PostgreSQL ${new URL(pgUrl).host}` : ', SQLite only (set BENCH_DATABASE_URL for PostgreSQL)'}\n`,
);
for (const [name, fn] of Object.entries(benches)) {
  if (!wanted(name)) continue;
  process.stderr.write(`\n${name}\n`);
  await fn();
}
const msDigits = (ms) => (ms !== null && ms < 10 ? 2 : 0);
const table = [
  '| Benchmark | wa-report | Baseline | Ratio | Target | Result |',
  '|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.value, r.unit === 'ms' ? msDigits(r.value) : 1)} ${r.unit}` +
      `${r.peak_rss_mb ? `, ${fmt(r.peak_rss_mb, 0)} MB RSS` : ''}` +
      `${r.p50_ms !== undefined ? `, p50 ${r.p50_ms} ms` : ''}` +
      `${r.p99_ms !== undefined ? `${r.p50_ms !== undefined ? ' /' : ','} p99 ${r.p99_ms} ms` : ''}` +
      `${r.replies_per_s ? `, ${fmt(r.replies_per_s, 0)} replies/s` : ''}` +
      ` | ${fmt(r.baseline, r.unit === 'ms' ? msDigits(r.baseline) : 1)} | ${fmt(r.ratio)} | ${r.target ?? ''} | ` +
      `${r.pass === undefined ? '' : r.pass ? 'met' : 'missed'} |`,
  ),
];
process.stdout.write(`\n${table.join('\n')}\n`);
writeFileSync(
  join(root, 'bench-results.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, quick, results }, null, 2),
);
process.stderr.write(`\nWrote bench-results.json\n`);
