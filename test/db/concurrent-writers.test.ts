// Two daemons (two stores) writing the same user's messages at the same moment on one PostgreSQL:
// the second transaction's statement starts before the first commits and waits for the thread the
// first holds. What the first committed meanwhile (a new conversation) must be seen, not the
// picture the second statement started with: one conversation holding both messages.
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
});
