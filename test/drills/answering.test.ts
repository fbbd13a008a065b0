// Drills: several `wa-report ingest` processes answering on one PostgreSQL, webhooks spread over
// them by a round-robin sender (a load balancer: a refused connection or a 503 goes to the next
// one). Every inbound message is answered exactly once (the Graph stand-in sees every send; the
// model stand-in echoes the last message, so each send names what it covers), answers of one
// conversation arrive in order; a daemon killed with SIGKILL is taken over; a rolling restart
// answers nothing but 200, or 503 with Retry-After. SQLite: a second daemon refuses to answer
// while the first lives, and takes over when it dies.
// CI runs 2,000 users (WA_REPORT_DRILL_USERS for more); every tenth user writes three messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { postgresKind, postgresUrl, sqliteKind, type TestDatabase } from '../helpers/databases.js';
import { startGraphStandIn, startModelStandIn, type GraphStandIn, type ModelStandIn } from '../helpers/standins.js';
import { PHONE_NUMBER_ID, postWebhook, textMessage } from '../helpers/webhooks.js';
import { sql } from '../helpers/store.js';

const USERS = Number(process.env.WA_REPORT_DRILL_USERS ?? 2000);
const LEASE_MS = 3_000;
const DAEMON_ENV = { WA_REPORT_REPLY_LEASE_MS: String(LEASE_MS), LOG_LEVEL: 'info' };

interface Inbound {
  user: number;
  k: number;
  waId: string;
  wamid: string;
  text: string;
}

/** User i writes once; every tenth user writes three times in a row. */
function plan(users: number): Inbound[][] {
  return Array.from({ length: users }, (_, user) =>
    Array.from({ length: user % 10 === 0 ? 3 : 1 }, (_, k) => ({
      user,
      k,
      waId: `3470${String(user).padStart(7, '0')}`,
      wamid: `wamid.drill.${user}.${k}`,
      text: `pedido ${user}.${k}`,
    })),
  );
}

interface Sent {
  statuses: Map<string, number>;
  /** Answers other than 200 and 503-with-Retry-After (must stay empty). */
  unexpected: string[];
  refused: number;
}

/**
 * Sends every user's messages in order (the next once the previous was acknowledged), users in
 * parallel, request j to daemon j mod n; refused connections and 503s go to the next daemon.
 * `urls()` is read for every request, so a test can swap daemons while it runs.
 */
async function send(users: Inbound[][], urls: () => string[], onProgress?: (done: number) => void): Promise<Sent> {
  const sent: Sent = { statuses: new Map(), unexpected: [], refused: 0 };
  let j = 0;
  let done = 0;
  let next = 0;
  const post = async (m: Inbound) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const all = urls();
      const url = all[j++ % all.length]!;
      try {
        const res = await postWebhook(url, textMessage({ from: m.waId, text: m.text, id: m.wamid }));
        const key = String(res.status);
        sent.statuses.set(key, (sent.statuses.get(key) ?? 0) + 1);
        if (res.status === 200) return;
        if (res.status !== 503 || !res.headers.get('retry-after'))
          sent.unexpected.push(`${res.status} ${res.body.slice(0, 200)}`);
      } catch {
        sent.refused++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${m.wamid} was never acknowledged`);
  };
  const worker = async () => {
    while (next < users.length) {
      const messages = users[next++]!;
      for (const m of messages) await post(m);
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return sent;
}

interface Outcome {
  answered: number;
  failed: number;
  notAnswered: number;
  sends: number;
}

/**
 * Waits until every inbound message is settled, then checks: stored once; per user the Graph sends
 * cover strictly later messages each time (never one twice, in order), each stored answer that was
 * sent is one of them; every message is covered by a send, or by an answer marked failed with a
 * reason. Returns the figures.
 */
async function settle(db: TestDatabase, graph: GraphStandIn, users: Inbound[][]): Promise<Outcome> {
  const store = await openStore(db.target, { migrate: 'verify' });
  try {
    const q = sql(store);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [left] = await q.all<{ n: unknown }>(
        `SELECT (SELECT COUNT(*) FROM pending_replies) + (SELECT COUNT(*) FROM messages
           WHERE role = 'assistant' AND status = 'sending') AS n`,
      );
      if (Number(left!.n) === 0) break;
      if (Date.now() > deadline) throw new Error(`${Number(left!.n)} conversations still unanswered after 2 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const stored = await q.all<{ wamid: string; n: unknown; error_message: string | null }>(
      `SELECT wamid, COUNT(*) AS n, MAX(error_message) AS error_message FROM messages
       WHERE role = 'user' GROUP BY wamid`,
    );
    const all = users.flat();
    expect(stored.length).toBe(all.length);
    expect(stored.every((r) => Number(r.n) === 1)).toBe(true);
    const notAnsweredWamids = new Set(stored.filter((r) => r.error_message).map((r) => r.wamid));
    const answers = await q.all<{ wamid: string | null; answers_wamid: string; status: string; error_message: string }>(
      `SELECT wamid, answers_wamid, status, error_message FROM messages WHERE role = 'assistant'`,
    );
    const storedSent = new Set(answers.filter((a) => a.status === 'sent').map((a) => a.wamid));
    const failedCover = new Set(answers.filter((a) => a.status === 'failed').map((a) => a.answers_wamid));
    expect(answers.filter((a) => a.status === 'failed').every((a) => a.error_message.length > 0)).toBe(true);

    const byText = new Map(all.map((m) => [m.text, m]));
    const sendsTo = new Map<string, Inbound[]>();
    for (const r of graph.sent()) {
      const body = r.body as { to: string; text: { body: string } };
      const covered = byText.get(body.text.body.replace(/^Echo: /, ''));
      expect(covered, `a send answering something never sent: ${body.text.body}`).toBeDefined();
      expect(body.to).toBe(`+${covered!.waId}`);
      const list = sendsTo.get(covered!.waId) ?? [];
      list.push(covered!);
      sendsTo.set(covered!.waId, list);
      // A send the daemon recorded is stored as sent; one it could not record was marked failed.
      if (!storedSent.has(r.wamid ?? '')) expect(failedCover.has(covered!.wamid)).toBe(true);
    }
    expect(graph.sent().length).toBeGreaterThanOrEqual(storedSent.size);
    let answered = 0;
    let failed = 0;
    let notAnswered = 0;
    for (const messages of users) {
      const sends = sendsTo.get(messages[0]!.waId) ?? [];
      // In order, none twice: each send covers a later message than the one before.
      for (let i = 1; i < sends.length; i++) expect(sends[i]!.k).toBeGreaterThan(sends[i - 1]!.k);
      for (const m of messages) {
        // The first send covering this message or a later one answered it (sends only move forward).
        if (sends.some((s) => s.k >= m.k)) answered++;
        else if (notAnsweredWamids.has(m.wamid)) notAnswered++;
        else {
          // Not covered by a send: a failed answer covers it or a later message of the user.
          const later = messages.filter((x) => x.k >= m.k).some((x) => failedCover.has(x.wamid));
          expect(later, `${m.wamid} was neither answered nor marked failed`).toBe(true);
          failed++;
        }
      }
    }
    return { answered, failed, notAnswered, sends: graph.sent().length };
  } finally {
    await store.close();
  }
}

async function withClient(db: TestDatabase): Promise<void> {
  const setup = await openStore(db.target);
  await setup.clients.create({
    name: 'Released',
    phoneNumber: '+15550783881',
    phoneNumberId: PHONE_NUMBER_ID,
    assistantEnabled: true,
  });
  await setup.close();
}

const stop = async (d: DaemonProcess) => {
  d.child.kill('SIGTERM');
  return d.exited;
};

describe.skipIf(!postgresUrl)('several daemons answering on one PostgreSQL', () => {
  let graph: GraphStandIn;
  let model: ModelStandIn;
  beforeAll(async () => {
    graph = await startGraphStandIn({ token: 'graph-token' });
    model = await startModelStandIn({ apiKey: 'sk-test' });
    model.behave(() => ({ kind: 'delay', ms: 20, then: { kind: 'ok' } }));
  });
  afterAll(async () => {
    await graph?.close();
    await model?.close();
  });

  it(`answers ${USERS} users spread over two daemons exactly once, in order`, async () => {
    graph.requests.length = 0;
    const db = await postgresKind.create();
    try {
      await withClient(db);
      const a = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
      const b = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
      const users = plan(USERS);
      const started = performance.now();
      try {
        const sent = await send(users, () => [a.url, b.url]);
        expect(sent.unexpected).toEqual([]);
        const outcome = await settle(db, graph, users);
        const seconds = (performance.now() - started) / 1000;
        expect(outcome).toMatchObject({ failed: 0, notAnswered: 0, answered: users.flat().length });
        // Both answered: conversations are spread over the daemons.
        const by = (d: DaemonProcess) => d.logs.filter((l) => l.msg === 'answer sent').length;
        expect(by(a)).toBeGreaterThan(0);
        expect(by(b)).toBeGreaterThan(0);
        console.log(
          `two-daemon drill: ${USERS} users, ${users.flat().length} messages, ${outcome.sends} sends ` +
            `(${by(a)} by one daemon, ${by(b)} by the other), 0 answered twice, in ${seconds.toFixed(1)} s`,
        );
      } finally {
        expect(await stop(a)).toBe(0);
        expect(await stop(b)).toBe(0);
      }
    } finally {
      await db.drop();
    }
  }, 300_000);

  it('takes over from a daemon killed with SIGKILL: none answered twice, each message answered or failed', async () => {
    graph.requests.length = 0;
    const db = await postgresKind.create();
    try {
      await withClient(db);
      const a = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
      const b = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
      const users = plan(USERS);
      let daemons = [a.url, b.url];
      let killedAt = 0;
      try {
        const sent = await send(
          users,
          () => daemons,
          (done) => {
            if (!killedAt && done >= USERS / 3) {
              killedAt = Date.now();
              a.child.kill('SIGKILL');
              daemons = [b.url];
            }
          },
        );
        expect(await a.exited).toBeNull();
        expect(sent.unexpected).toEqual([]);
        const outcome = await settle(db, graph, users);
        const takeovers = b.logs.filter((l) => l.msg === 'took over a conversation whose daemon stopped answering');
        const firstTakeover = takeovers.length ? Math.min(...takeovers.map((l) => Number(l.time))) - killedAt : null;
        expect(outcome.notAnswered).toBe(0);
        expect(outcome.answered + outcome.failed).toBe(users.flat().length);
        if (takeovers.length) expect(firstTakeover!).toBeLessThanOrEqual(LEASE_MS + 2_000);
        console.log(
          `SIGKILL drill: ${users.flat().length} messages, ${outcome.answered} answered, ${outcome.failed} failed ` +
            `with a reason, ${takeovers.length} conversations taken over ` +
            `(first ${firstTakeover === null ? '–' : `${firstTakeover} ms`} after the kill; lease ${LEASE_MS} ms), ` +
            `${sent.refused} requests refused by the dead daemon and sent to the other, 0 answered twice`,
        );
      } finally {
        expect(await stop(b)).toBe(0);
      }
    } finally {
      await db.drop();
    }
  }, 300_000);

  it('restarts both daemons one after the other under load: only 200 or 503 + Retry-After, nothing lost', async () => {
    graph.requests.length = 0;
    const db = await postgresKind.create();
    try {
      await withClient(db);
      const running = [
        await startDaemonProcess(db.url, graph, model, DAEMON_ENV),
        await startDaemonProcess(db.url, graph, model, DAEMON_ENV),
      ];
      const users = plan(USERS);
      const exits: (number | null)[] = [];
      let restarting: Promise<void> | undefined;
      const restart = async () => {
        for (let i = 0; i < running.length; i++) {
          exits.push(await stop(running[i]!));
          running[i] = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
        }
      };
      try {
        const sent = await send(
          users,
          () => running.map((d) => d.url),
          (done) => {
            if (!restarting && done >= USERS / 4) restarting = restart();
          },
        );
        await (restarting as Promise<void> | undefined);
        expect(exits).toEqual([0, 0]);
        expect(sent.unexpected).toEqual([]);
        const outcome = await settle(db, graph, users);
        expect(outcome).toMatchObject({ failed: 0, notAnswered: 0, answered: users.flat().length });
        console.log(
          `rolling restart drill: ${users.flat().length} messages; answers to the sender: ` +
            `${[...sent.statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}, ${sent.refused} connections refused ` +
            `(sent to the other daemon); all answered once`,
        );
      } finally {
        for (const d of running) expect(await stop(d)).toBe(0);
      }
    } finally {
      await db.drop();
    }
  }, 300_000);
});

describe('a second daemon on one SQLite file', () => {
  it('refuses to answer and says why, stores webhooks, and answers once the first dies', async () => {
    const graph = await startGraphStandIn({ token: 'graph-token' });
    const model = await startModelStandIn({ apiKey: 'sk-test' });
    const db = await sqliteKind.create();
    try {
      await withClient(db);
      const first = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
      const second = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
      try {
        const refusal = second.logs.find((l) => String(l.msg).startsWith('assistant off'));
        expect(refusal?.reason).toMatch(/another daemon \(pid \d+ on host .+\) answers users on this SQLite database/);
        expect(refusal?.reason).toMatch(/use PostgreSQL to answer from several/);
        expect(await (await fetch(`${second.url}/healthz`)).json()).toMatchObject({
          assistant: 'off',
          assistant_off: refusal?.reason,
        });
        expect(await (await fetch(`${first.url}/healthz`)).json()).toMatchObject({ assistant: 'on' });
        const users = plan(40);
        const sent = await send(users, () => [second.url]);
        expect(sent.unexpected).toEqual([]);
        const outcome = await settle(db, graph, users);
        expect(outcome).toMatchObject({ failed: 0, answered: users.flat().length });
        expect(second.logs.filter((l) => l.msg === 'answer sent')).toHaveLength(0);

        // The answering daemon dies: the one standing by answers from then on (its process is gone,
        // so the role is free at once; the standby looks every third of a lease).
        first.child.kill('SIGKILL');
        await first.exited;
        const killed = Date.now();
        // (Its log line comes through a pipe: it may be read after /healthz already says 'on'.)
        const said = () => second.logs.some((l) => String(l.msg).includes('this one answers now'));
        for (;;) {
          const health = (await (await fetch(`${second.url}/healthz`)).json()) as { assistant: string };
          if (health.assistant === 'on' && said()) break;
          expect(Date.now() - killed, 'the standby daemon took over within a lease').toBeLessThan(LEASE_MS + 2_000);
          await new Promise((r) => setTimeout(r, 100));
        }
        const everyone = plan(80);
        const later = await send(everyone.slice(40), () => [second.url]);
        expect(later.unexpected).toEqual([]);
        expect(await settle(db, graph, everyone)).toMatchObject({ failed: 0, answered: everyone.flat().length });

        // A daemon started now stands by in its turn.
        const third = await startDaemonProcess(db.url, graph, model, DAEMON_ENV);
        try {
          expect(await (await fetch(`${third.url}/healthz`)).json()).toMatchObject({ assistant: 'off' });
        } finally {
          expect(await stop(third)).toBe(0);
        }
      } finally {
        expect(await stop(second)).toBe(0);
        first.child.kill('SIGKILL');
      }
    } finally {
      await db.drop();
      await graph.close();
      await model.close();
    }
  }, 120_000);
});
