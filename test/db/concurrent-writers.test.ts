// Two daemons (two stores) writing the same user at the same moment on one PostgreSQL. Messages:
// the second transaction's statement starts before the first commits and waits for the thread the
// first holds; what the first committed meanwhile (a new conversation) must be seen, not the
// picture the second statement started with: one conversation holding both messages. A status
// that races ahead of its message (the answer one daemon is completing while another stores the
// status Meta sent for it) is applied by one of them, never lost between the two.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import type { NewMessage } from '../../src/domain/types.js';
import { postgresKind, postgresUrl, type TestDatabase } from '../helpers/databases.js';
import { recordMessages, sql } from '../helpers/store.js';

describe.skipIf(!postgresUrl)('two writers of one thread at once (on postgres)', () => {
  let db: TestDatabase;
  let a: Store;
  let b: Store;
  let clientId: number;
  let n = 0;
  const message = (waId: string, at: Date): NewMessage => ({
    clientId,
    waId,
    role: 'user',
    type: 'text',
    content: `mensaje ${++n}`,
    wamid: `wamid.concurrent.${n}`,
    phoneNumberId: 'PN-CONCURRENT',
    createdAt: at,
  });

  beforeAll(async () => {
    db = await postgresKind.create();
    a = await openStore(db.target);
    b = await openStore(db.target);
    clientId = (
      await a.clients.create({ name: 'Concurrent', phoneNumber: '+15550000009', phoneNumberId: 'PN-CONCURRENT' })
    ).id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** Backends of this database waiting for a lock. */
  const waiting = async (admin: pg.Client) =>
    Number(
      (
        await admin.query(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      ).rows[0].n,
    );
  const until = async (admin: pg.Client, count: number) => {
    for (let i = 0; i < 200 && (await waiting(admin)) < count; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await waiting(admin)).toBe(count);
  };

  it.each([
    ['a new thread', false],
    ['a thread with an open conversation', true],
  ])('%s: the second writer extends the conversation the first wrote', async (_, known) => {
    const waId = `3460020000${known ? 2 : 1}`;
    const start = new Date(Date.now() - 60_000);
    if (known) await recordMessages(a, [message(waId, new Date(start.getTime() - 1_000))]);
    // A third session holds the client and its rollups: the first writer's statement stops at its
    // foreign-key check (a new thread) or its rollup trigger (a known one), after locking the
    // thread; the second stops on the thread itself.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM clients WHERE id = $1 FOR UPDATE', [clientId]);
      await blocker.query('SELECT 1 FROM message_rollups WHERE client_id = $1 FOR UPDATE', [clientId]);
      const first = recordMessages(a, [message(waId, start)]);
      await until(blocker, 1);
      const second = recordMessages(b, [message(waId, new Date(start.getTime() + 1_000))]);
      await until(blocker, 2);
      await blocker.query('COMMIT');
      await Promise.all([first, second]);
    } finally {
      await blocker.end();
    }
    const conversations = await sql(a).all<{ user_messages: unknown }>(
      `SELECT c.user_messages FROM conversations c JOIN threads t ON t.id = c.thread_id WHERE t.wa_id = ?`,
      [waId],
    );
    expect(conversations.map((c) => Number(c.user_messages))).toEqual([known ? 3 : 2]);
  });

  /** Polls until `count` backends wait for a lock, or `settled` settles first; true if they did. */
  const waitingOr = async (admin: pg.Client, count: number, settled: Promise<unknown>) => {
    let done = false;
    void settled.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; i < 200 && !done; i++) {
      if ((await waiting(admin)) >= count) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  };

  it.each([
    ['the answer of the assistant', 'answer'],
    ['a message typed in the WhatsApp Business app', 'echo'],
  ])('a status stored by another daemon while %s is stored is applied to it', async (_, kind) => {
    const waId = `3460020001${kind === 'answer' ? 1 : 2}`;
    const wamid = `wamid.concurrent.raced.${kind}`;
    const sentAt = new Date(Date.now() - 5_000);
    await recordMessages(a, [message(waId, new Date(sentAt.getTime() - 5_000))]);
    const threadId = (await a.threads.ofContact(waId))[0]!.id;
    const answer =
      kind === 'answer'
        ? await a.replies.begin({
            threadId,
            content: 'Hola',
            answersWamid: `wamid.concurrent.${n}`,
            replyToWamid: null,
          })
        : 0;
    // A third session holds the status's key, so daemon b's statement, once started, waits.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO message_status_events (wamid, status, occurred_at) VALUES ($1, 'delivered', $2)`,
        [wamid, sentAt],
      );
      const status = b.ingest.write({
        statuses: [{ wamid, status: 'delivered', occurredAt: sentAt, recipientId: waId }],
      });
      await until(blocker, 1);
      // Daemon a stores the message meanwhile: it waits for b's user lock.
      const stored =
        kind === 'answer'
          ? a.replies.complete(answer, { wamid, sentAt })
          : recordMessages(a, [{ ...message(waId, sentAt), role: 'agent', wamid }]);
      expect(await waitingOr(blocker, 2, stored)).toBe(true);
      await blocker.query('ROLLBACK');
      await Promise.all([status, stored]);
    } finally {
      await blocker.end();
    }
    const [row] = await sql(a).all<{ status: string }>('SELECT status FROM messages WHERE wamid = ?', [wamid]);
    expect(row?.status).toBe('delivered');
  });
});
