// The database side of archives (privacy/archive.ts writes and verifies the files): rows read as
// stored (an encrypted value stays encrypted), deletions that check each conversation is still what
// the archive holds, and the writes of a restore.
import { randomUUID } from 'node:crypto';
import { waIdHash } from '../../domain/hashing.js';
import { ingestLock } from '../dialect.js';
import {
  MESSAGE_FIELDS,
  MESSAGE_INSERT_FIELDS,
  RAW_EVENT_FIELDS,
  STATUS_EVENT_FIELDS,
  THREAD_FIELDS,
  toDate,
} from '../rows.js';
import type { Querier, Row } from '../sql.js';
import { threadUpsert } from './threads.js';
import { tombstoned } from './tombstones.js';

/** What a conversation is in the database right now, to compare with what an archive holds. */
export interface ThreadSnapshot {
  lastMessageAt: Date;
  /** id, wamid, status, status_at, error_code, error_message of each message, by id. */
  messages: Row[];
  statusEvents: number;
  maxStatusEventId: number;
}

const MESSAGE_INSERT = `INSERT INTO messages (${MESSAGE_INSERT_FIELDS.join(', ')})
  VALUES (${MESSAGE_INSERT_FIELDS.map(() => '?').join(', ')})`;

function before(options: { before: Date; clientId?: number }, column: string): { sql: string; params: unknown[] } {
  return options.clientId === undefined
    ? { sql: `${column} < ?`, params: [options.before] }
    : { sql: `${column} < ? AND client_id = ?`, params: [options.before, options.clientId] };
}

function rawBefore(options: { before: Date; clientId?: number }): { sql: string; params: unknown[] } {
  return options.clientId === undefined
    ? { sql: 'received_at < ?', params: [options.before] }
    : {
        sql: 'received_at < ? AND phone_number_id = (SELECT phone_number_id FROM clients WHERE id = ?)',
        params: [options.before, options.clientId],
      };
}

export class ArchiveRepository {
  constructor(private readonly q: Querier) {}

  /** A random id for this database, created on first use: archives name the database they came from. */
  async databaseId(): Promise<string> {
    const read = async () =>
      (await this.q.all<{ value: string }>(`SELECT value FROM settings WHERE key = 'database_id'`))[0]?.value;
    const known = await read();
    if (known) return known;
    const id = randomUUID();
    await this.q.run(
      `INSERT INTO settings (key, value, updated_at) VALUES ('database_id', ?, ?) ON CONFLICT (key) DO NOTHING`,
      [id, new Date()],
    );
    return (await read()) ?? id;
  }

  /** Conversations last active before the date (of one client, or all), by id. */
  async threadIdsBefore(options: { before: Date; clientId?: number }): Promise<number[]> {
    const where = before(options, 'last_message_at');
    const rows = await this.q.all<{ id: unknown }>(
      `SELECT id FROM threads WHERE ${where.sql} ORDER BY id`,
      where.params,
    );
    return rows.map((r) => Number(r.id));
  }

  async rawEventCountBefore(options: { before: Date; clientId?: number }): Promise<number> {
    const where = rawBefore(options);
    const [row] = await this.q.all<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM raw_events WHERE ${where.sql}`,
      where.params,
    );
    return Number(row?.n ?? 0);
  }

  /** A thread as stored, with its client's phone_number_id, name and number (client_…). */
  async threadRow(threadId: number): Promise<Row | null> {
    const [row] = await this.q.all(
      `SELECT t.${THREAD_FIELDS.join(', t.')}, c.phone_number_id AS client_phone_number_id, c.name AS client_name,
              c.phone_number AS client_phone_number
       FROM threads t JOIN clients c ON c.id = t.client_id WHERE t.id = ?`,
      [threadId],
    );
    return row ?? null;
  }

  /** A page of a thread's messages as stored, by id. */
  messageRows(threadId: number, afterId: number, limit: number): Promise<Row[]> {
    return this.q.all(
      `SELECT ${MESSAGE_FIELDS.join(', ')} FROM messages WHERE thread_id = ? AND id > ? ORDER BY id LIMIT ?`,
      [threadId, afterId, limit],
    );
  }

  /** The status events of these messages as stored, by id. */
  statusEventRows(wamids: string[]): Promise<Row[]> {
    if (wamids.length === 0) return Promise.resolve([]);
    return this.q.all(
      `SELECT ${STATUS_EVENT_FIELDS.join(', ')} FROM message_status_events
       WHERE wamid IN (${wamids.map(() => '?').join(', ')}) ORDER BY id`,
      wamids,
    );
  }

  /** A page of the raw events received before the date, as stored, by id. */
  rawEventRows(options: { before: Date; clientId?: number }, afterId: number, limit: number): Promise<Row[]> {
    const where = rawBefore(options);
    return this.q.all(
      `SELECT ${RAW_EVENT_FIELDS.join(', ')} FROM raw_events WHERE ${where.sql} AND id > ? ORDER BY id LIMIT ?`,
      [...where.params, afterId, limit],
    );
  }

  /**
   * Deletes these conversations in one transaction, each only if `unchanged` says the database
   * still holds what the archive does (a conversation whose last activity is now at or after
   * `activeBefore` is kept). On PostgreSQL no ingest batch runs meanwhile (the ingest lock,
   * exclusively) and the conversations are locked, so what is checked is what is deleted.
   */
  deleteUnchanged(
    threadIds: number[],
    activeBefore: Date,
    unchanged: (threadId: number, now: ThreadSnapshot) => boolean,
  ): Promise<{ deleted: number; kept: number }> {
    return this.q.transaction(
      async (tx) => {
        if (tx.dialect === 'postgres') {
          await tx.all(
            `SELECT id FROM threads WHERE id IN (${threadIds.map(() => '?').join(', ')}) FOR UPDATE`,
            threadIds,
          );
        }
        let deleted = 0;
        let kept = 0;
        for (const threadId of threadIds) {
          const [t] = await tx.all<{ last_message_at: unknown }>('SELECT last_message_at FROM threads WHERE id = ?', [
            threadId,
          ]);
          if (!t) continue; // deleted by an earlier run (or erased)
          const lastMessageAt = toDate(t.last_message_at);
          if (lastMessageAt >= activeBefore) {
            kept += 1;
            continue;
          }
          const messages = await tx.all(
            `SELECT id, wamid, status, status_at, error_code, error_message FROM messages
             WHERE thread_id = ? ORDER BY id`,
            [threadId],
          );
          const [e] = await tx.all<{ n: unknown; max_id: unknown }>(
            `SELECT COUNT(*) AS n, MAX(id) AS max_id FROM message_status_events
           WHERE wamid IN (SELECT wamid FROM messages WHERE thread_id = ? AND wamid IS NOT NULL)`,
            [threadId],
          );
          const snapshot = {
            lastMessageAt,
            messages,
            statusEvents: Number(e?.n ?? 0),
            maxStatusEventId: Number(e?.max_id ?? 0),
          };
          if (!unchanged(threadId, snapshot)) {
            kept += 1;
            continue;
          }
          await tx.run(
            `DELETE FROM message_status_events
             WHERE wamid IN (SELECT wamid FROM messages WHERE thread_id = ? AND wamid IS NOT NULL)`,
            [threadId],
          );
          await tx.run('DELETE FROM messages WHERE thread_id = ?', [threadId]);
          await tx.run('DELETE FROM threads WHERE id = ?', [threadId]);
          deleted += 1;
        }
        return { deleted, kept };
      },
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }

  async deleteRawEvents(contentHashes: string[]): Promise<void> {
    for (let i = 0; i < contentHashes.length; i += 500) {
      const chunk = contentHashes.slice(i, i + 500);
      await this.q.run(`DELETE FROM raw_events WHERE content_hash IN (${chunk.map(() => '?').join(', ')})`, chunk);
    }
  }

  /** The restore's writes, in one transaction. */
  restoring<T>(fn: (restore: ArchiveRestorer) => Promise<T>): Promise<T> {
    return this.q.transaction((tx) => fn(new ArchiveRestorer(tx)));
  }
}

/** What restoring an archive writes, inside its transaction. Values come already sealed as needed. */
export class ArchiveRestorer {
  constructor(private readonly tx: Querier) {}

  tombstoned(hashes: string[]): Promise<Set<string>> {
    return tombstoned(this.tx, hashes);
  }

  /** When the contact's data was last erased (of this client or of all), in epoch ms; -Infinity if never. */
  async erasedUntil(waId: string, clientId: number): Promise<number> {
    const [r] = await this.tx.all<{ at: unknown }>(
      'SELECT MAX(erased_at) AS at FROM erasures WHERE wa_id_hash = ? AND (client_id IS NULL OR client_id = ?)',
      [waIdHash(waId), clientId],
    );
    return r?.at === null || r?.at === undefined ? -Infinity : toDate(r.at).getTime();
  }

  async clientIdOf(phoneNumberId: string): Promise<number | null> {
    const [c] = await this.tx.all<{ id: unknown }>('SELECT id FROM clients WHERE phone_number_id = ?', [phoneNumberId]);
    return c ? Number(c.id) : null;
  }

  /** The conversation, created or brought up to date (a name already there is kept). */
  async upsertThread(t: {
    clientId: number;
    waId: string;
    contactName: string | null;
    createdAt: Date | null;
    lastMessageAt: Date | null;
    contextResetAt: Date | null;
  }): Promise<number> {
    const [row] = await this.tx.all<{ id: unknown }>(
      `INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at, context_reset_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ${threadUpsert(this.tx.dialect, { keepName: true })}
       RETURNING id`,
      [t.clientId, t.waId, t.contactName, t.createdAt, t.lastMessageAt, t.contextResetAt],
    );
    return Number(row?.id);
  }

  /**
   * A message (values in MESSAGE_INSERT_FIELDS order, thread_id and client_id of this database);
   * false when it is already there (same wamid, or without one: same conversation, instant and role).
   */
  async insertMessage(values: unknown[]): Promise<boolean> {
    const at = (name: string) => values[MESSAGE_INSERT_FIELDS.indexOf(name as (typeof MESSAGE_INSERT_FIELDS)[number])];
    if (at('wamid')) return (await this.tx.run(`${MESSAGE_INSERT} ON CONFLICT (wamid) DO NOTHING`, values)) > 0;
    // No wamid (an answer that was never sent).
    const [exists] = await this.tx.all(
      'SELECT 1 AS x FROM messages WHERE thread_id = ? AND created_at = ? AND role = ? AND wamid IS NULL',
      [at('thread_id'), at('created_at'), at('role')],
    );
    if (exists) return false;
    await this.tx.run(MESSAGE_INSERT, values);
    return true;
  }

  /** A status event (values in STATUS_EVENT_FIELDS order without id); 0 when already there. */
  insertStatusEvent(values: unknown[]): Promise<number> {
    const fields = STATUS_EVENT_FIELDS.filter((f) => f !== 'id');
    return this.tx.run(
      `INSERT INTO message_status_events (${fields.join(', ')}) VALUES (${fields.map(() => '?').join(', ')})
       ON CONFLICT (wamid, status, occurred_at) DO NOTHING`,
      values,
    );
  }

  /** A raw event (values in RAW_EVENT_FIELDS order without id); 0 when already there. */
  insertRawEvent(values: unknown[]): Promise<number> {
    const fields = RAW_EVENT_FIELDS.filter((f) => f !== 'id');
    return this.tx.run(
      `INSERT INTO raw_events (${fields.join(', ')}) VALUES (${fields.map(() => '?').join(', ')})
       ON CONFLICT (content_hash) DO NOTHING`,
      values,
    );
  }
}
