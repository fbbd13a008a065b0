// The conversation list's count: the list as it opens (a period only) takes the active users figure
// from the rollups, exact at any size; a narrowed list counts exactly up to COUNT_LIMIT and then says
// "at least". On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNT_LIMIT } from '../../src/db/repositories/thread-search.js';
import { openStore, type Store } from '../../src/db/store.js';
import type { NewMessage } from '../../src/domain/types.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';

const T0 = Date.parse('2025-06-01T10:00:00Z');

describe.each(databaseKinds)('conversation list count on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let clientId: number;
  const users = COUNT_LIMIT + 2;

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    clientId = (await store.clients.create({ name: 'C', phoneNumber: '+15550000001', phoneNumberId: 'PN1' })).id;
    // One failed reply to each of COUNT_LIMIT + 2 users, one user per hour of the days after T0.
    const messages: NewMessage[] = [];
    for (let i = 0; i < users; i++) {
      messages.push({
        clientId,
        waId: String(34600000000 + i),
        role: 'assistant',
        type: 'text',
        content: 'Hola',
        wamid: `wamid.count.${i}`,
        phoneNumberId: 'PN1',
        createdAt: new Date(T0 + i * 60_000),
        status: 'failed',
      });
    }
    for (let i = 0; i < messages.length; i += 2000) await store.ingest.write({ messages: messages.slice(i, i + 2000) });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('counts the list as it opens exactly, and a narrowed one up to the limit', async () => {
    const all = { clientId, start: new Date(T0 - 3_600_000), end: new Date(T0 + users * 60_000) };
    expect(await store.threadSearch.search(all, { limit: 2 })).toMatchObject({ total: users, more: false });
    // A period that cuts the users off part-way through a day: the edges are counted exactly.
    const part = { clientId, start: new Date(T0 + 90 * 60_000 + 1), end: new Date(T0 + 5000 * 60_000 + 1) };
    expect((await store.threadSearch.search(part, { limit: 2 })).total).toBe(5000 - 91 + 1);
    const failed = await store.threadSearch.search({ ...all, failed: true }, { limit: 2 });
    expect(failed).toMatchObject({ total: COUNT_LIMIT, more: true });
    expect(failed.threads).toHaveLength(2);
    expect((await store.threadSearch.search({ ...part, failed: true }, { limit: 2 })).total).toBe(5000 - 91 + 1);
    expect((await store.threadSearch.search({ ...all, text: '3460000000' }, { limit: 2 })).total).toBe(10);
  });
});
