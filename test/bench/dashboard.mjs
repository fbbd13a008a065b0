// The dashboard at scale (`npm run bench -- --only dashboard [--dashboard-sizes 1000000,10000000]`):
// 12 months of messages generated in bulk (the rollup triggers run as they would in production),
// then the server time of the overview (one client, all clients) and of the conversation list, p50 of
// 10 requests, against the same message figures computed by exact SQL in the same run. Also the cost
// of keeping rollups: the real group-commit writer with and without the triggers.
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const DAY = 86_400_000;
const PER_THREAD = 40;
const PER_SESSION = 10;

/** The SQL that fills a database with `n` messages over the 365 days before `now` (3 clients). */
function fillStatements(dialect, n, now) {
  const threads = Math.ceil(n / PER_THREAD);
  const span = 357 * DAY;
  const start = now - 365 * DAY;
  const sqlite = dialect === 'sqlite';
  const series = (count) =>
    sqlite
      ? `WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < ${count - 1}) SELECT i FROM g`
      : `SELECT i FROM generate_series(0, ${count - 1}) i`;
  const ms = (expr) => (sqlite ? `(${expr})` : `to_timestamp((${expr}) / 1000.0)`);
  const base = (t) => `(${start} + ${sqlite ? `(${t})` : `(${t})::bigint`} * ${Math.floor(span / threads)})`;
  const roleOf = (m) => `CASE WHEN (${m}) % 20 = 19 THEN 'agent' WHEN (${m}) % 2 = 1 THEN 'assistant' ELSE 'user' END`;
  const statusOf = (m) =>
    `CASE WHEN (${m}) % 2 = 1 THEN (CASE (${m}) % 7 WHEN 1 THEN 'read' WHEN 3 THEN 'delivered' WHEN 5 THEN 'failed' ` +
    `ELSE 'read' END) END`;
  const now0 = sqlite ? String(now) : `to_timestamp(${now} / 1000.0)`;
  const statements = [
    `INSERT INTO clients (name, phone_number, phone_number_id, active, assistant_enabled, created_at, updated_at)
     SELECT 'Client ' || (i + 1), '+3491100000' || (i + 1), CAST(100000000000000 + i + 1 AS TEXT),
            ${sqlite ? 1 : 'true'}, ${sqlite ? 1 : 'true'}, ${now0}, ${now0} FROM (${series(3)}) s`,
    `INSERT INTO threads (id, client_id, wa_id, contact_name, created_at, last_message_at)
     SELECT i + 1, i % 3 + 1, CAST(34600000000 + i AS TEXT), 'User ' || i, ${ms(base('i'))},
            ${ms(`${base('i')} + 3 * ${2 * DAY} + ${(PER_SESSION - 1) * 30_000}`)} FROM (${series(threads)}) s`,
    // Sessions: 4 per thread, 2 days apart, 10 messages 30 s apart; a tenth handed to a person.
    `INSERT INTO conversations (thread_id, client_id, started_at, last_message_at, ended_at, end_reason,
       user_messages, assistant_messages, agent_messages, first_user_at, first_response_at, handoff_at)
     SELECT t + 1, t % 3 + 1, ${ms(`${base('t')} + s * ${2 * DAY}`)},
            ${ms(`${base('t')} + s * ${2 * DAY} + ${(PER_SESSION - 1) * 30_000}`)},
            ${ms(`${base('t')} + s * ${2 * DAY} + ${(PER_SESSION - 1) * 30_000 + 3_600_000}`)}, 'idle', 5, 4, 1,
            ${ms(`${base('t')} + s * ${2 * DAY}`)}, ${ms(`${base('t')} + s * ${2 * DAY} + 30000 * (1 + (t + s) % 5)`)},
            CASE WHEN t % 10 = 0 THEN ${ms(`${base('t')} + s * ${2 * DAY} + 270000`)} END
     FROM (SELECT i / 4 AS t, i % 4 AS s FROM (${series(threads * 4)}) q) x`,
  ];
  // Messages in chunks of a million (one transaction each).
  const chunk = 1_000_000;
  for (let from = 0; from < n; from += chunk) {
    const count = Math.min(chunk, n - from);
    const k = `(i % ${PER_THREAD})`;
    const at = `${base(`i / ${PER_THREAD}`)} + (${k} / ${PER_SESSION}) * ${2 * DAY} + (${k} % ${PER_SESSION}) * 30000`;
    statements.push(
      `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at,
         status, status_at, inserted_at)
       SELECT i / ${PER_THREAD} + 1, (i / ${PER_THREAD}) % 3 + 1, ${roleOf(k)}, 'text', 'Hola, ¿abrís el domingo?',
              'wamid.d.' || i, CAST(34600000000 + i / ${PER_THREAD} AS TEXT),
              CAST(100000000000000 + (i / ${PER_THREAD}) % 3 + 1 AS TEXT), ${ms(at)}, ${statusOf(k)},
              CASE WHEN ${k} % 2 = 1 THEN ${ms(at)} END, ${now0}
       FROM (SELECT i + ${from} AS i FROM (${series(count)}) s) q`,
    );
  }
  return statements;
}

export async function benchDashboard(ctx) {
  const { record, median, pgUrl, dataDir, sqliteWith, cachedPgDatabase, sizes } = ctx;
  const now = Date.now() - (Date.now() % DAY);
  const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
  const { openStore } = await import(dist('db/store.js'));
  const { resolveDbTarget } = await import(dist('db/target.js'));
  const { createToken } = await import(dist('privacy/tokens.js'));
  const { startDashboardServer } = await import(dist('server/dashboard-server.js'));
  const { openDatabase } = await import(dist('db/sql.js'));
  const { KeyRing } = await import(dist('domain/key-ring.js'));

  const kinds = [
    { name: 'SQLite', dialect: 'sqlite' },
    ...(pgUrl ? [{ name: 'PostgreSQL', dialect: 'postgres' }] : []),
  ];
  for (const kind of kinds) {
    const overviewMs = {};
    for (const n of sizes) {
      const url = await prepare(kind.dialect, n);
      const target = resolveDbTarget(url);
      const store = await openStore(target);
      const raw = await openDatabase(target, KeyRing.none());
      const name = `dash-${Date.now()}`;
      const { token } = await createToken(store, { name, scope: 'read' });
      const server = await startDashboardServer({ store, port: 0, host: '127.0.0.1', env: { TZ: 'UTC' } });
      try {
        const cookie = await signIn(server.origin, token);
        const p50 = async (path) => {
          const times = [];
          for (let i = 0; i < 11; i++) {
            const started = performance.now();
            // The untimed first request may find the keep-alive connection closed by the server while
            // the exact SQL ran (over 30 s at 10,000,000 messages): it is tried once more.
            const res = await fetch(`${server.origin}${path}`, { headers: { cookie } }).catch((e) => {
              if (i > 0) throw e;
              return fetch(`${server.origin}${path}`, { headers: { cookie } });
            });
            const body = await res.text();
            if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 300)}`);
            if (i > 0) times.push(performance.now() - started);
          }
          return median(times);
        };
        const start = new Date(now - 365 * DAY);
        const end = new Date(now);
        // What the rollups replace: the message figures and the per-day series by exact SQL.
        const exact = async (clientId) => {
          const times = [];
          const where = `created_at >= ? AND created_at < ?${clientId ? ' AND client_id = ?' : ''}`;
          const params = clientId ? [start, end, clientId] : [start, end];
          const day = kind.dialect === 'sqlite' ? 'created_at / 86400000' : "date_trunc('day', created_at)";
          for (let i = 0; i < 11; i++) {
            const started = performance.now();
            await raw.all(
              `SELECT client_id, role, status, COUNT(*) AS n FROM messages WHERE ${where} GROUP BY 1, 2, 3`,
              params,
            );
            await raw.all(
              `SELECT client_id, ${day} AS d, COUNT(*) AS n FROM messages WHERE ${where} GROUP BY 1, 2`,
              params,
            );
            if (i > 0) times.push(performance.now() - started);
          }
          return median(times);
        };
        const period = 'period=12m&grain=month&tz=Europe/Madrid';
        for (const [label, path, clientId] of [
          ['one client', `/dashboard/?client=1&${period}`, 1],
          ['all clients', `/dashboard/?${period}`, undefined],
        ]) {
          const ms = await p50(path);
          const base = await exact(clientId);
          overviewMs[`${label}|${n}`] = ms;
          record({
            name: `dashboard ${kind.name} ${n.toLocaleString('en-US')} msgs: overview, ${label}, 12 months (p50)`,
            value: ms,
            unit: 'ms',
            baseline: base,
            ratio: ms / base,
            target: '≤ 150 ms at 10M',
            pass: n >= 10_000_000 ? ms <= 150 : undefined,
          });
        }
        const list = await p50(`/dashboard/conversations?${period}`);
        const listBase = await exact(undefined);
        record({
          name: `dashboard ${kind.name} ${n.toLocaleString('en-US')} msgs: conversation list, 12 months (p50)`,
          value: list,
          unit: 'ms',
          baseline: listBase,
          ratio: list / listBase,
        });
      } finally {
        await server.close();
        await raw.close();
        await store.close();
      }
    }
    if (sizes.length > 1) {
      const [small, big] = [sizes[0], sizes.at(-1)];
      for (const label of ['one client', 'all clients']) {
        const growth = overviewMs[`${label}|${big}`] / overviewMs[`${label}|${small}`];
        record({
          name: `dashboard ${kind.name}: overview (${label}) time ×${big / small} data`,
          value: growth,
          unit: '×',
          baseline: big / small,
          ratio: growth / (big / small),
          target: '< 1 (less than linear)',
          pass: growth < big / small,
        });
      }
    }
    await rollupCost(kind);
  }

  async function prepare(dialect, n) {
    if (dialect === 'sqlite') {
      return sqliteWith(`dashboard-${n}`, (db) => {
        for (const s of fillStatements('sqlite', n, now)) db.exec(s);
        db.exec('ANALYZE');
      });
    }
    return cachedPgDatabase(`wa_report_bench_dashboard_${n}`, async (c) => {
      const toPg = (s) => {
        let i = 0;
        return s.replace(/\?/g, () => `$${++i}`);
      };
      for (const s of fillStatements('postgres', n, now)) await c.query(toPg(s));
      await c.query(`SELECT setval(pg_get_serial_sequence('threads', 'id'), (SELECT MAX(id) FROM threads))`);
    });
  }

  /**
   * The group-commit writer storing batches of 500 messages (with their conversations and threads),
   * with every rollup trigger and without any.
   */
  async function rollupCost(kind) {
    const rates = { with: [], without: [] };
    for (let run = 0; run < 3; run++) {
      for (const mode of ['with', 'without']) {
        const url = await emptyDatabase(kind.dialect, `rollup-cost-${mode}`);
        const store = await openStore(resolveDbTarget(url));
        const raw = await openDatabase(resolveDbTarget(url), KeyRing.none());
        if (mode === 'without') {
          // Every rollup trigger: of messages, conversations (sessions and their seconds) and threads.
          for (const [table, rollup] of [
            ['messages', 'message_rollups'],
            ['conversations', 'session_rollups'],
            ['threads', 'thread_rollups'],
          ]) {
            for (const t of ['insert', 'delete', 'update'])
              await raw.run(`DROP TRIGGER ${rollup}_${t}${kind.dialect === 'sqlite' ? '' : ` ON ${table}`}`);
          }
          if (kind.dialect === 'sqlite') {
            await raw.run('DROP TRIGGER message_rollups_move');
            await raw.run('DROP TRIGGER session_rollups_move');
            // The writer's grouped upsert of its batch then finds no note and counts nothing.
            await raw.run(
              'CREATE TRIGGER no_rollups BEFORE INSERT ON rollup_deferrals BEGIN SELECT RAISE(IGNORE); END',
            );
          }
        }
        const client = await store.clients.create({
          name: 'Bench',
          phoneNumber: '+15550000001',
          phoneNumberId: '9001',
        });
        const total = 60_000;
        const started = performance.now();
        for (let b = 0; b < total / 500; b++) {
          const messages = [];
          for (let i = 0; i < 500; i++) {
            const k = b * 500 + i;
            messages.push({
              clientId: client.id,
              waId: String(34600000000 + (k % 2000)),
              role: k % 2 ? 'assistant' : 'user',
              type: 'text',
              content: 'Hola, ¿abrís el domingo?',
              wamid: `wamid.cost.${k}`,
              phoneNumberId: '9001',
              createdAt: new Date(now - DAY + k * 1000),
              ...(k % 2 ? { status: 'sent' } : {}),
            });
          }
          await store.ingest.write({ messages });
        }
        rates[mode].push(total / ((performance.now() - started) / 1000));
        await raw.close();
        await store.close();
      }
    }
    const ratios = rates.with.map((w, i) => w / rates.without[i]);
    const m = median(ratios);
    record({
      name: `rollups ${kind.name}: messages stored per second with the rollup triggers ÷ without`,
      value: median(rates.with),
      unit: 'msg/s',
      baseline: median(rates.without),
      ratio: m,
      target: '≥ 0.9',
      pass: m >= 0.9,
    });
  }

  async function emptyDatabase(dialect, name) {
    if (dialect === 'sqlite') {
      const file = join(dataDir, `${name}.db`);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
      return file;
    }
    const pg = (await import('pg')).default;
    const dbName = `wa_report_bench_${name.replace(/-/g, '_')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const base = new URL(pgUrl);
    base.pathname = `/${dbName}`;
    return base.toString();
  }
}

async function signIn(origin, token) {
  const form = await fetch(`${origin}/dashboard/login`);
  const html = await form.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  const loginCookie = form.headers
    .getSetCookie()
    .find((c) => c.startsWith('wa_report_login='))
    ?.split(';')[0];
  const res = await fetch(`${origin}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, token }),
  });
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('wa_report_session='))
    ?.split(';')[0];
  if (!cookie) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}
