// Reading messages: pages and streams of a conversation (keyset on the (thread_id, created_at, id)
// index, so any depth is fast), single messages, status histories and failures. Content comes back
// decrypted.
import type { ReportMessage, StatusUpdate, StoredMessage } from '../../domain/types.js';
import {
  REPORT_MESSAGE_COLUMNS,
  STORED_MESSAGE_COLUMNS,
  toReportMessageFromValues,
  toStatusUpdate,
  toStoredMessage,
} from '../rows.js';
import type { Querier, Row } from '../sql.js';
import { conditions } from '../where.js';

export interface MessageRange {
  /** Inclusive lower bound on message time. */
  start?: Date;
  /** Exclusive upper bound on message time. */
  end?: Date;
}

export interface PageOptions extends MessageRange {
  /** The last message of the previous page. */
  after?: { createdAt: Date; id: number } | null;
  limit?: number;
}

/** A stored message row (STORED_MESSAGE_COLUMNS) with its content and raw object decrypted. */
export function openMessage(q: Querier, row: Row): StoredMessage {
  const m = toStoredMessage(row);
  m.content = q.keys.open(m.content, () => `The content of message ${m.id}`);
  m.raw = q.keys.open(m.raw, () => `The raw object of message ${m.id}`);
  return m;
}

function openReportMessage(q: Querier, row: unknown[]): ReportMessage {
  const m = toReportMessageFromValues(row);
  m.content = q.keys.open(m.content, () => `The content of message ${m.id}`);
  return m;
}

export class MessagesRepository {
  constructor(private readonly q: Querier) {}

  /** One page of a conversation in time order, after the keyset `after`. */
  page(threadId: number, options: PageOptions = {}): Promise<StoredMessage[]> {
    return this.read(threadId, options, STORED_MESSAGE_COLUMNS, (r) => openMessage(this.q, r));
  }

  /** The whole conversation, batch by batch, never holding more than one batch. */
  stream(threadId: number, options: MessageRange & { batchSize?: number } = {}): AsyncGenerator<StoredMessage[]> {
    return walk(options, (after, limit) => this.page(threadId, { ...options, after, limit }));
  }

  /**
   * A conversation for a report, batch by batch: only the columns renderers read, as array rows
   * (a third fewer values than `stream`, and no driver object per row: it matters at 100,000).
   */
  streamForReport(
    threadId: number,
    options: MessageRange & { batchSize?: number } = {},
  ): AsyncGenerator<ReportMessage[]> {
    return walk(options, (after, limit) =>
      this.read(
        threadId,
        { ...options, after, limit },
        REPORT_MESSAGE_COLUMNS,
        (r) => openReportMessage(this.q, r),
        true,
      ),
    );
  }

  async byWamid(wamid: string): Promise<StoredMessage | null> {
    const [row] = await this.q.all(`SELECT ${STORED_MESSAGE_COLUMNS} FROM messages WHERE wamid = ?`, [wamid]);
    return row ? openMessage(this.q, row) : null;
  }

  /**
   * The newest message and status event ids ("m.s"): it changes whenever either is stored (the
   * dashboard's live refresh). Two reads of a primary key's end.
   */
  async watermark(): Promise<string> {
    const [r] = await this.q.all<{ m: unknown; s: unknown }>(
      `SELECT (SELECT MAX(id) FROM messages) AS m, (SELECT MAX(id) FROM message_status_events) AS s`,
    );
    return `${Number(r?.m ?? 0)}.${Number(r?.s ?? 0)}`;
  }

  /** Every status event of a message, in the order they happened. */
  async statusHistory(wamid: string): Promise<StatusUpdate[]> {
    const rows = await this.q.all(
      `SELECT id, wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw
       FROM message_status_events WHERE wamid = ? ORDER BY occurred_at, id`,
      [wamid],
    );
    return rows.map((r) => {
      const e = toStatusUpdate(r);
      e.raw = this.q.keys.open(e.raw ?? null, () => `The raw object of status event ${r.id}`);
      return e;
    });
  }

  /** Failed messages, newest first (messages(status, created_at) index); of a client, a thread, a period. */
  async failed(
    options: { clientId?: number; threadId?: number; start?: Date; end?: Date; limit?: number } = {},
  ): Promise<StoredMessage[]> {
    const { where, params } = conditions([
      ['client_id = ?', options.clientId],
      ['thread_id = ?', options.threadId],
      ['created_at >= ?', options.start],
      ['created_at < ?', options.end],
    ]);
    const rows = await this.q.all(
      `SELECT ${STORED_MESSAGE_COLUMNS} FROM messages ${where ? `${where} AND` : 'WHERE'} status = 'failed'
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, options.limit ?? 1000],
    );
    return rows.map((r) => openMessage(this.q, r));
  }

  /** The last `limit` messages of a conversation, oldest first (a user's conversation history). */
  async recent(threadId: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.q.all(
      `SELECT ${STORED_MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
      [threadId, limit],
    );
    return rows.map((r) => openMessage(this.q, r)).reverse();
  }

  private read<T>(threadId: number, options: PageOptions, columns: string, map: (r: Row) => T): Promise<T[]>;
  private read<T>(
    threadId: number,
    options: PageOptions,
    columns: string,
    map: (r: unknown[]) => T,
    arrays: true,
  ): Promise<T[]>;
  private async read<T>(
    threadId: number,
    options: PageOptions,
    columns: string,
    map: ((r: Row) => T) | ((r: unknown[]) => T),
    arrays = false,
  ): Promise<T[]> {
    const where = ['thread_id = ?'];
    const params: unknown[] = [threadId];
    if (options.start) {
      where.push('created_at >= ?');
      params.push(options.start);
    }
    if (options.end) {
      where.push('created_at < ?');
      params.push(options.end);
    }
    if (options.after) {
      // A row-value comparison: both databases seek the (thread_id, created_at, id) index to the
      // position instead of scanning from the start of the conversation (an OR does not).
      where.push('(created_at, id) > (?, ?)');
      params.push(options.after.createdAt, options.after.id);
    }
    const text = `SELECT ${columns} FROM messages WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ?`;
    const values = [...params, options.limit ?? 1000];
    if (arrays) return (await this.q.values(text, values)).map(map as (r: unknown[]) => T);
    return (await this.q.all(text, values)).map(map as (r: Row) => T);
  }
}

/** Keyset pages, one after another, until a short one. */
async function* walk<T extends { createdAt: Date; id: number }>(
  options: { batchSize?: number },
  next: (after: { createdAt: Date; id: number } | null, limit: number) => Promise<T[]>,
): AsyncGenerator<T[]> {
  let after: { createdAt: Date; id: number } | null = null;
  const limit = options.batchSize ?? 1000;
  for (;;) {
    const batch = await next(after, limit);
    if (batch.length === 0) return;
    yield batch;
    if (batch.length < limit) return;
    const last = batch[batch.length - 1] as T;
    after = { createdAt: last.createdAt, id: last.id };
  }
}
