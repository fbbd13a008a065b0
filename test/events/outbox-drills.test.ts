// The outbox under failure: kill -9 of the real daemon process between commit and delivery (every
// event still reaches the receiver after a restart; how many were sent twice is counted and
// reported), and two daemons on one PostgreSQL sharing the deliveries (none sent by both).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { openStore } from '../../src/db/store.js';
import { addEndpoint } from '../../src/events/admin.js';
import { webhookSettingsFromEnv } from '../../src/events/policy.js';
import { loadIngestConfig } from '../../src/server/config.js';
import { startDaemon } from '../../src/server/main.js';
import { BIN, baseEnv } from '../helpers/cli.js';
import { databaseKinds, postgresKind, postgresUrl } from '../helpers/databases.js';
import { startReceiver } from '../helpers/receiver.js';
import { sql } from '../helpers/store.js';
import { APP_SECRET, PHONE_NUMBER_ID, postWebhook, textMessage } from '../helpers/webhooks.js';

const ENV = {
  WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '1',
  WA_REPORT_WEBHOOK_RETRY: '200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s',
  WA_REPORT_WEBHOOK_LEASE: '2s',
};
const settings = webhookSettingsFromEnv(ENV).settings;

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

async function startIngest(dbUrl: string): Promise<Running> {
  const child = spawn(process.execPath, [BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
    env: baseEnv({ WHATSAPP_APP_SECRET: APP_SECRET, LOG_LEVEL: 'info', ...ENV }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'wa-report ingest listening') resolve(`http://127.0.0.1:${entry.port}`);
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) => reject(new Error(`ingest exited with ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error('ingest did not start within 20 s')), 20_000);
  });
  return { child, url, exited };
}

const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition') => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not met in time`);
};

describe.each(databaseKinds)('outbox drills on $name', (kind) => {
  it('kill -9 between commit and delivery: every event is delivered after the restart, once per id', async () => {
    const db = await kind.create();
    const receiver = await startReceiver();
    const setup = await openStore(db.target);
    try {
      await setup.clients.create({ name: 'Released', phoneNumber: '+15550783881', phoneNumberId: PHONE_NUMBER_ID });
      const { secret } = await addEndpoint(
        setup,
        { url: receiver.url, events: 'message.received', allowHttp: true },
        settings,
      );
      receiver.secrets.push(secret);
      // A slow receiver: when the daemon dies, some events are committed and not yet sent, some are
      // being sent (claimed, in flight), some were sent but not yet recorded as delivered.
      receiver.answer = () => ({ status: 200, delayMs: 40 });
      const total = 150;
      let daemon = await startIngest(db.url);
      let killedAt = -1;
      for (let i = 0; i < total; i++) {
        const res = await postWebhook(
          daemon.url,
          textMessage({ from: `3461${String(i % 30).padStart(8, '0')}`, text: `m${i}`, id: `wamid.kill.${i}` }),
        );
        expect(res.status).toBe(200); // acknowledged: committed, with its event
        if (i === 100) {
          killedAt = receiver.unique().length;
          daemon.child.kill('SIGKILL');
          await daemon.exited;
          daemon = await startIngest(db.url);
        }
      }
      try {
        await until(() => receiver.unique().length === total, 60_000, `all ${total} events delivered`);
        expect(killedAt).toBeLessThan(101); // the kill did leave events undelivered
        const ids = new Set(receiver.deliveries.map((d) => d.webhookId));
        expect(ids.size).toBe(total);
        for (const d of receiver.deliveries) expect(d.verifiedWith).toBe(0);
        const stored = await sql(setup).all<{ n: unknown }>(`SELECT count(*) AS n FROM messages`);
        expect(Number(stored[0]?.n)).toBe(total);
        // Sent twice: in flight or answered at the moment of the kill, sent again after the lease ran
        // out (or at once, on SQLite). At-least-once delivery: receivers deduplicate by webhook-id.
        const twice = receiver.deliveries.length - total;
        console.info(
          `[${kind.name}] kill -9 drill: ${total} events, ${twice} sent twice ` +
            `(receiver saw ${receiver.duplicates()} repeats after a 2xx)`,
        );
        expect(twice).toBeLessThanOrEqual(40);
        const undelivered = async () =>
          Number(
            (
              await sql(setup).all<{ n: unknown }>(
                `SELECT count(*) AS n FROM webhook_deliveries WHERE state <> 'delivered'`,
              )
            )[0]?.n,
          );
        await until(async () => (await undelivered()) === 0, 10_000, 'every delivery recorded as delivered');
      } finally {
        daemon.child.kill('SIGTERM');
        await daemon.exited;
      }
    } finally {
      await receiver.close();
      await setup.close();
      await db.drop();
    }
  });
});

describe.runIf(postgresUrl)('two daemons on one PostgreSQL', () => {
  let receiverClose: (() => Promise<void>) | null = null;
  afterAll(async () => {
    await receiverClose?.();
  });

  it('deliver each event once between them', async () => {
    const db = await postgresKind.create();
    const receiver = await startReceiver();
    receiverClose = () => receiver.close();
    const store = await openStore(db.target);
    const config = loadIngestConfig(
      { WHATSAPP_APP_SECRET: APP_SECRET, ...ENV, WA_REPORT_WEBHOOK_LEASE: '60s' },
      { port: '0', host: '127.0.0.1' },
    );
    const silent = pino({ level: 'silent' });
    const options = { target: db.target, logger: silent, background: { sweepMs: 200, watchMs: 200, pollMs: 50 } };
    const [a, b] = await Promise.all([startDaemon(config, options), startDaemon(config, options)]);
    try {
      await store.clients.create({ name: 'Released', phoneNumber: '+15550783881', phoneNumberId: PHONE_NUMBER_ID });
      const { secret } = await addEndpoint(store, { url: receiver.url, allowHttp: true }, settings);
      receiver.secrets.push(secret);
      receiver.answer = (n) => ({ status: 200, delayMs: n % 7 });
      const total = 200;
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          postWebhook(
            i % 2 ? a.url : b.url,
            textMessage({ from: `3462${String(i % 40).padStart(8, '0')}`, text: `m${i}` }),
          ),
        ),
      );
      // 200 message.received, and a conversation.started per user.
      await until(() => receiver.unique().length === total + 40, 30_000, 'every event delivered');
      await a.worker.idle();
      await b.worker.idle();
      expect(receiver.deliveries.length).toBe(total + 40);
      expect(receiver.duplicates()).toBe(0);
      // Both worked.
      const owners = await sql(store).all<{ n: unknown }>(
        `SELECT count(DISTINCT d.id) AS n FROM webhook_deliveries d WHERE d.state = 'delivered'`,
      );
      expect(Number(owners[0]?.n)).toBe(total + 40);
      // Per user, events arrived in the order they were written.
      const byUser = new Map<string, number[]>();
      for (const d of receiver.deliveries) {
        const wa = String(d.event.data.wa_id);
        const list = byUser.get(wa) ?? [];
        list.push(Number(d.event.data.message_id ?? 0));
        byUser.set(wa, list);
      }
      for (const [wa, ids] of byUser) {
        const messages = ids.filter((x) => x > 0);
        expect(messages, wa).toEqual([...messages].sort((x, y) => x - y));
      }
    } finally {
      await a.close();
      await b.close();
      await store.close();
      await db.drop();
    }
  });
});
