// Threads: one per client and WhatsApp user, holding all their messages (the "conversations" of the
// reports and the API). Lists of them come newest activity first, with their message counts.
import type { ConversationSummary, ThreadRecord } from '../../domain/types.js';
import { UsageError } from '../../errors.js';
import { greatest, least, type Dialect } from '../dialect.js';
import { THREAD_COLUMNS, toConversationSummary, toThreadRecord } from '../rows.js';
import type { Querier } from '../sql.js';

export interface ConversationFilter {
  clientId: number;
  waId?: string;
  /** Inclusive lower bound on message time. */
  start?: Date;
  /** Exclusive upper bound on message time. */
  end?: Date;
}

export interface ConversationPage {
  total: number;
  conversations: ConversationSummary[];
  nextCursor: string | null;
}

/**
 * How a thread is created or, if it exists, brought up to date: first message earliest, last
 * activity latest. The contact name given wins (a user renamed themselves), unless `keepName`
 * (restoring an archive must not bring back an older name). Append it to
 * `INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at…) VALUES … | SELECT …`.
 */
export function threadUpsert(dialect: Dialect, options: { keepName?: boolean } = {}): string {
  const name = options.keepName
    ? 'COALESCE(threads.contact_name, excluded.contact_name)'
    : 'COALESCE(excluded.contact_name, threads.contact_name)';
  return `ON CONFLICT (client_id, wa_id) DO UPDATE SET
    contact_name = ${name},
    created_at = ${least(dialect)}(threads.created_at, excluded.created_at),
    last_message_at = ${greatest(dialect)}(threads.last_message_at, excluded.last_message_at)`;
}

export class ThreadsRepository {
  constructor(private readonly q: Querier) {}

  async get(threadId: number): Promise<ThreadRecord | null> {
    const [row] = await this.q.all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE id = ?`, [threadId]);
    return row ? toThreadRecord(row) : null;
  }

  async find(clientId: number, waId: string): Promise<ThreadRecord | null> {
    const [row] = await this.q.all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE client_id = ? AND wa_id = ?`, [
      clientId,
      waId,
    ]);
    return row ? toThreadRecord(row) : null;
  }

  /** Conversations of one WhatsApp user, with any client or one. */
  async ofContact(waId: string, clientId?: number): Promise<ThreadRecord[]> {
    const rows =
      clientId === undefined
        ? await this.q.all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE wa_id = ? ORDER BY id`, [waId])
        : await this.q.all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE wa_id = ? AND client_id = ? ORDER BY id`, [
            waId,
            clientId,
          ]);
    return rows.map(toThreadRecord);
  }

  /** Marks the point after which history is sent to the model again (history stays for reports). */
  async resetContext(threadId: number, at = new Date()): Promise<void> {
    await this.q.run('UPDATE threads SET context_reset_at = ? WHERE id = ?', [at, threadId]);
  }

  /** Moves the thread's last activity forward to `at` (never back). */
  async touch(threadId: number, at: Date): Promise<void> {
    await this.q.run(
      `UPDATE threads SET last_message_at = ${greatest(this.q.dialect)}(last_message_at, ?) WHERE id = ?`,
      [at, threadId],
    );
  }

  /** Conversations of a client, newest activity first, with the number of messages in the range. */
  async list(
    filter: ConversationFilter,
    page: { limit?: number; cursor?: string | null } = {},
  ): Promise<ConversationPage> {
    const limit = page.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new UsageError(`limit: ${limit} is out of range; use 1 to 10000.`);
    }
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const { from, where, params } = conversationQuery(filter);
    const [total] = await this.q.all<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM (SELECT t.id ${from} WHERE ${where.join(' AND ')} GROUP BY t.id) x`,
      params,
    );
    const rows = await this.rows(filter, after, limit + 1);
    const conversations = rows.slice(0, limit);
    const last = conversations.at(-1);
    return {
      total: Number(total?.n ?? 0),
      conversations,
      nextCursor:
        rows.length > limit && last ? encodeCursor({ t: last.lastMessageAt.getTime(), id: last.threadId }) : null,
    };
  }

  /**
   * Every conversation of the filter, newest activity first, in one query: for summaries, which
   * need them all (each page of `list` counts the client's messages again).
   */
  all(filter: ConversationFilter): Promise<ConversationSummary[]> {
    return this.rows(filter, null, null);
  }

  /** Conversations active since a time, newest first (threads.last_message_at index); no counts. */
  async active(since: Date, clientId?: number): Promise<ConversationSummary[]> {
    const where = ['t.last_message_at > ?'];
    const params: unknown[] = [since];
    if (clientId !== undefined) {
      where.push('t.client_id = ?');
      params.push(clientId);
    }
    const rows = await this.q.all(
      `SELECT t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at FROM threads t
       WHERE ${where.join(' AND ')} ORDER BY t.last_message_at DESC`,
      params,
    );
    return rows.map(toConversationSummary);
  }

  private async rows(
    filter: ConversationFilter,
    after: { t: number; id: number } | null,
    limit: number | null,
  ): Promise<ConversationSummary[]> {
    const { from, where, params } = conversationQuery(filter);
    if (after) {
      where.push('(t.last_message_at < ? OR (t.last_message_at = ? AND t.id < ?))');
      params.push(new Date(after.t), new Date(after.t), after.id);
    }
    const rows = await this.q.all(
      `SELECT t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at, COUNT(m.id) AS message_count
       ${from} WHERE ${where.join(' AND ')}
       GROUP BY t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at
       ORDER BY t.last_message_at DESC, t.id DESC${limit === null ? '' : ' LIMIT ?'}`,
      limit === null ? params : [...params, limit],
    );
    return rows.map(toConversationSummary);
  }
}

/** FROM and WHERE of a client's conversations with their messages in the range (join conditions first in `params`). */
function conversationQuery(filter: ConversationFilter): { from: string; where: string[]; params: unknown[] } {
  const ranged = filter.start !== undefined || filter.end !== undefined;
  const join: string[] = [];
  const params: unknown[] = [];
  if (filter.start) {
    join.push('m.created_at >= ?');
    params.push(filter.start);
  }
  if (filter.end) {
    join.push('m.created_at < ?');
    params.push(filter.end);
  }
  const where = ['t.client_id = ?'];
  params.push(filter.clientId);
  if (filter.waId) {
    where.push('t.wa_id = ?');
    params.push(filter.waId);
  }
  const on = ['m.thread_id = t.id', ...join].join(' AND ');
  return { from: `FROM threads t ${ranged ? 'JOIN' : 'LEFT JOIN'} messages m ON ${on}`, where, params };
}

function encodeCursor(c: { t: number; id: number }): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string): { t: number; id: number } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t: unknown; id: unknown };
    if (typeof c.t === 'number' && Number.isInteger(c.id)) return { t: c.t, id: c.id as number };
  } catch {}
  throw new UsageError('cursor: not a cursor returned by this API; start again without it.');
}
