// The write queue's failure isolation: a request whose content the database refuses is kept raw and
// does not fail the requests committed with it; transient errors are not mistaken for bad data.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openStore } from '../../src/db/store.js';
import { WriteQueue, isDataError } from '../../src/ingest/write-queue.js';
import { parseWebhook } from '../../src/whatsapp/parse.js';
import { UsageError, DatabaseError } from '../../src/errors.js';
import { databaseKinds } from '../helpers/databases.js';
import { textMessage } from '../helpers/webhooks.js';
import { sql } from '../helpers/store.js';

describe('isDataError', () => {
  it('tells refused content from an unavailable database', () => {
    expect(isDataError(new UsageError('role: "x" is not one of user, assistant, agent'))).toBe(true);
    expect(isDataError(Object.assign(new Error('invalid byte sequence'), { code: '22021' }))).toBe(true);
    expect(
      isDataError(
        new DatabaseError('wrapped', { cause: Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_NOTNULL' }) }),
      ),
    ).toBe(true);
    expect(isDataError(Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }))).toBe(
      false,
    );
    expect(isDataError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe(false);
    expect(isDataError(new DatabaseError('Cannot reach PostgreSQL'))).toBe(false);
  });
});

describe.each(databaseKinds)('write queue isolation on $name', (kind) => {
  it('keeps a poison request raw and commits the others of its group', async () => {
    const db = await kind.create();
    const store = await openStore(db.target);
    try {
      await store.clients.create({ name: 'Released', phoneNumber: '+15550783881', phoneNumberId: '106540352242922' });
      const queue = new WriteQueue({ store, logger: pino({ level: 'silent' }) });
      const good = Array.from({ length: 5 }, (_, i) =>
        parseWebhook(textMessage({ from: `3460000${String(i).padStart(4, '0')}`, text: 'hola', id: `wamid.iso.${i}` })),
      );
      const poison = parseWebhook(textMessage({ from: '34600009999', text: 'x', id: 'wamid.iso.poison' }));
      // A role the store refuses stands in for content the database cannot take.
      (poison.messages[0] as { role: string }).role = 'robot';
      const results = await Promise.allSettled(
        [...good.slice(0, 3), poison, ...good.slice(3)].map((p, i) => queue.submit(p, [], `body-${i}`)),
      );
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      const stored = await sql(store).all<{ wamid: string }>(`SELECT wamid FROM messages ORDER BY wamid`);
      expect(stored.map((r) => r.wamid)).toEqual([
        'wamid.iso.0',
        'wamid.iso.1',
        'wamid.iso.2',
        'wamid.iso.3',
        'wamid.iso.4',
      ]);
      const kept = await sql(store).all<{ payload: string }>(
        `SELECT payload FROM raw_events WHERE kind = 'unstorable'`,
      );
      expect(kept).toHaveLength(1);
      expect(JSON.parse(kept[0]!.payload)).toMatchObject({ body: 'body-3', error: { type: 'UsageError' } });
      await queue.close();
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
