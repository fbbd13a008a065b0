// What tests need of a store beyond its repositories: one-call writes of messages, statuses and raw
// events (through the real ingest writer), and plain SQL for assertions and for arranging data the
// product never writes by itself, on a connection of the test's own to the same database.
import type { Store } from '../../src/db/store.js';
import { openDatabase, type Database, type Row } from '../../src/db/sql.js';
import type { NewMessage, RawEventInput, StatusUpdate, ThreadRecord } from '../../src/domain/types.js';

/** Stores messages once per wamid (a redelivery changes nothing); creates threads as needed. */
export async function recordMessages(store: Store, messages: NewMessage[]) {
  const { inserted, duplicates } = await store.ingest.write({ messages });
  return { inserted, duplicates };
}

/** Keeps every status event and moves each message's status forward only. */
export async function applyStatuses(store: Store, statuses: StatusUpdate[]): Promise<number> {
  return (await store.ingest.write({ statuses })).statusesApplied;
}

export async function recordRawEvents(store: Store, events: RawEventInput[]): Promise<void> {
  await store.ingest.write({ rawEvents: events });
}

export interface TestSql {
  all<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<number>;
}

const connections = new WeakMap<Store, TestSql>();

/**
 * Plain SQL ('?' placeholders, dates bound per database) on the store's database, through a
 * connection of the test's own that closes with the store.
 */
export function sql(store: Store): TestSql {
  const known = connections.get(store);
  if (known) return known;
  let opened: Promise<Database> | null = null;
  const db = () => (opened ??= openDatabase(store.target, store.keys));
  const close = store.close.bind(store);
  store.close = async () => {
    if (opened) await (await opened).close().catch(() => {});
    await close();
  };
  const q: TestSql = {
    all: async <T>(text: string, params: unknown[] = []) => (await db()).all<T>(text, params),
    run: async (text: string, params: unknown[] = []) => (await db()).run(text, params),
  };
  connections.set(store, q);
  return q;
}

/** A conversation without messages (the product creates threads only with their first message). */
export async function emptyThread(
  store: Store,
  clientId: number,
  waId: string,
  contactName: string,
): Promise<ThreadRecord> {
  const now = new Date();
  const [row] = await sql(store).all<{ id: unknown }>(
    'INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at) ' +
      'VALUES (?, ?, ?, ?, ?) RETURNING id',
    [clientId, waId, contactName, now, now],
  );
  return (await store.threads.get(Number(row?.id))) as ThreadRecord;
}
