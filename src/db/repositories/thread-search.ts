// The dashboard's list of conversations (threads): one client or all, active in a period, found by
// name or phone, narrowed to those with failures, handed to a person, with a CSAT answer or a
// sentiment, sorted and paged by keyset (a page costs the same on page 1 and page 1,000).
import { NEGATIVE_FROM, POSITIVE_FROM } from '../../domain/sentiment/index.js';
import type { ConversationSummary } from '../../domain/types.js';
import { UsageError } from '../../errors.js';
import { containsPattern, likeIgnoringCase } from '../dialect.js';
import { toConversationSummary } from '../rows.js';
import type { Querier } from '../sql.js';
import { conditions } from '../where.js';

export type ThreadSort = 'recent' | 'oldest' | 'name';
export const THREAD_SORTS: readonly ThreadSort[] = ['recent', 'oldest', 'name'];
export type SentimentFilter = 'negative' | 'neutral' | 'positive';

export interface ThreadSearchFilter {
  clientId?: number;
  /** Part of the contact's name (any case) or of the phone number (digits). */
  text?: string;
  /** With a message in [start, end). */
  start?: Date;
  end?: Date;
  failed?: boolean;
  handedOff?: boolean;
  /** 'answered', or an answer on the 1–5 scale (a 3-point answer counts as 1, 3 or 5). */
  csat?: 'answered' | 1 | 2 | 3 | 4 | 5;
  /** The mean sentiment of its conversations in the period. */
  sentiment?: SentimentFilter;
}

export interface ThreadSearchPage {
  /** How many conversations the filter finds (at most COUNT_LIMIT when `more`). */
  total: number;
  /** The filter narrows beyond the period and finds more than COUNT_LIMIT: `total` is a lower bound. */
  more: boolean;
  threads: ConversationSummary[];
  nextCursor: string | null;
}

/** A narrowed list (a search, failures, handoffs, CSAT, sentiment) counts exactly up to this many. */
export const COUNT_LIMIT = 10_000;

/** Threads of a client (or all) with a message in the period: the active users figure, from the rollups. */
export type ActiveThreads = (filter: { clientId?: number; start?: Date; end?: Date }) => Promise<number>;

export class ThreadSearchRepository {
  constructor(
    private readonly q: Querier,
    private readonly activeThreads: ActiveThreads,
  ) {}

  async search(
    filter: ThreadSearchFilter,
    page: { sort?: ThreadSort; limit?: number; cursor?: string | null } = {},
  ): Promise<ThreadSearchPage> {
    const sort = page.sort ?? 'recent';
    const limit = page.limit ?? 50;
    const { where, params } = this.conditions(filter);
    const counted = this.count(filter, where, params);
    // Awaited below; should the page's own reads fail first, its failure must not go unhandled.
    counted.catch(() => undefined);
    const keyed = [...where];
    const keyParams = [...params];
    const after = page.cursor ? decodeCursor(page.cursor, sort) : null;
    if (after) {
      if (sort === 'recent') keyed.push('(t.last_message_at < ? OR (t.last_message_at = ? AND t.id < ?))');
      else if (sort === 'oldest') keyed.push('(t.last_message_at > ? OR (t.last_message_at = ? AND t.id > ?))');
      else keyed.push("(COALESCE(t.contact_name, '') > ? OR (COALESCE(t.contact_name, '') = ? AND t.id > ?))");
      const k = sort === 'name' ? after.k : new Date(after.k as number);
      keyParams.push(k, k, after.id);
    }
    const order =
      sort === 'recent'
        ? 't.last_message_at DESC, t.id DESC'
        : sort === 'oldest'
          ? 't.last_message_at ASC, t.id ASC'
          : "COALESCE(t.contact_name, '') ASC, t.id ASC";
    const rows = await this.q.all(
      `SELECT t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at FROM threads t
       WHERE ${keyed.join(' AND ') || 'TRUE'} ORDER BY ${order} LIMIT ?`,
      [...keyParams, limit + 1],
    );
    const threads = rows.slice(0, limit).map(toConversationSummary);
    if (threads.length) {
      const counts = await this.messageCounts(
        threads.map((t) => t.threadId),
        filter,
      );
      for (const t of threads) t.messageCount = counts.get(t.threadId) ?? 0;
    }
    const last = threads.at(-1);
    return {
      ...(await counted),
      threads,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({
              k: sort === 'name' ? (last.contactName ?? '') : last.lastMessageAt.getTime(),
              id: last.threadId,
              s: sort,
            })
          : null,
    };
  }

  /**
   * The list's size. Only a period (the list as it opens): the active users figure, from the rollups;
   * counting the threads with a message in the period one by one took 200–300 ms at 10,000,000
   * messages. Narrowed further: counted exactly up to COUNT_LIMIT.
   */
  private async count(
    filter: ThreadSearchFilter,
    where: string[],
    params: unknown[],
  ): Promise<{ total: number; more: boolean }> {
    const narrowed =
      Boolean(filter.text?.trim()) ||
      Boolean(filter.failed) ||
      Boolean(filter.handedOff) ||
      filter.csat !== undefined ||
      filter.sentiment !== undefined;
    if (!narrowed) {
      return {
        total: await this.activeThreads({ clientId: filter.clientId, start: filter.start, end: filter.end }),
        more: false,
      };
    }
    const [r] = await this.q.all<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM threads t WHERE ${where.join(' AND ') || 'TRUE'} LIMIT ?) found`,
      [...params, COUNT_LIMIT + 1],
    );
    const n = Number(r?.n ?? 0);
    return n > COUNT_LIMIT ? { total: COUNT_LIMIT, more: true } : { total: n, more: false };
  }

  private async messageCounts(ids: number[], filter: ThreadSearchFilter): Promise<Map<number, number>> {
    const { where, params } = conditions([
      ['created_at >= ?', filter.start],
      ['created_at < ?', filter.end],
    ]);
    const rows = await this.q.all(
      `SELECT thread_id, COUNT(*) AS n FROM messages
       ${where ? `${where} AND` : 'WHERE'} thread_id IN (${ids.map(() => '?').join(', ')}) GROUP BY thread_id`,
      [...params, ...ids],
    );
    return new Map(rows.map((r) => [Number(r.thread_id), Number(r.n)]));
  }

  private conditions(f: ThreadSearchFilter): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      where.push(sql);
      params.push(...values);
    };
    if (f.clientId !== undefined) add('t.client_id = ?', f.clientId);
    // Cheap bounds first (threads' own columns), then the exact test on messages.
    if (f.start) add('t.last_message_at >= ?', f.start);
    if (f.end) add('t.created_at < ?', f.end);
    const inPeriod = (column: string) => {
      const parts: string[] = [];
      const values: unknown[] = [];
      if (f.start) {
        parts.push(`${column} >= ?`);
        values.push(f.start);
      }
      if (f.end) {
        parts.push(`${column} < ?`);
        values.push(f.end);
      }
      return { sql: parts.map((p) => ` AND ${p}`).join(''), values };
    };
    const messages = inPeriod('m.created_at');
    if (f.start || f.end) {
      add(`EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id${messages.sql})`, ...messages.values);
    }
    const text = f.text?.trim();
    if (text) {
      const digits = text.replace(/[\s+()-]/g, '');
      const like = likeIgnoringCase(this.q.dialect);
      if (/^\d+$/.test(digits)) {
        add(
          `(t.wa_id LIKE ? ESCAPE '\\' OR t.contact_name ${like} ? ESCAPE '\\')`,
          containsPattern(digits),
          containsPattern(text),
        );
      } else {
        add(`t.contact_name ${like} ? ESCAPE '\\'`, containsPattern(text));
      }
    }
    if (f.failed) {
      add(
        `EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.status = 'failed'${messages.sql})`,
        ...messages.values,
      );
    }
    // Conversations (sessions) overlapping the period.
    const overlap: string[] = [];
    const overlapValues: unknown[] = [];
    if (f.end) {
      overlap.push('c.started_at < ?');
      overlapValues.push(f.end);
    }
    if (f.start) {
      overlap.push('c.last_message_at >= ?');
      overlapValues.push(f.start);
    }
    const overlapSql = overlap.map((p) => ` AND ${p}`).join('');
    if (f.handedOff) {
      add(
        `EXISTS (SELECT 1 FROM conversations c WHERE c.thread_id = t.id AND c.handoff_at IS NOT NULL${overlapSql})`,
        ...overlapValues,
      );
    }
    if (f.sentiment) {
      const mean = `(SELECT SUM(c.sentiment_sum) / SUM(c.sentiment_count) FROM conversations c
        WHERE c.thread_id = t.id AND c.sentiment_count > 0${overlapSql})`;
      const test =
        f.sentiment === 'negative'
          ? `${mean} <= ${NEGATIVE_FROM}`
          : f.sentiment === 'positive'
            ? `${mean} >= ${POSITIVE_FROM}`
            : `${mean} > ${NEGATIVE_FROM} AND ${mean} < ${POSITIVE_FROM}`;
      // (The neutral test uses the mean twice.)
      add(`(${test})`, ...overlapValues, ...(f.sentiment === 'neutral' ? overlapValues : []));
    }
    if (f.csat !== undefined) {
      const surveys = inPeriod('s.created_at');
      const onFive = 'CASE WHEN s.scale = 3 THEN s.score * 2 - 1 ELSE s.score END';
      if (f.csat === 'answered') {
        add(
          `EXISTS (SELECT 1 FROM csat_surveys s WHERE s.thread_id = t.id AND s.score IS NOT NULL${surveys.sql})`,
          ...surveys.values,
        );
      } else {
        add(
          `EXISTS (SELECT 1 FROM csat_surveys s WHERE s.thread_id = t.id AND ${onFive} = ?${surveys.sql})`,
          f.csat,
          ...surveys.values,
        );
      }
    }
    return { where, params };
  }
}

function encodeCursor(c: { k: string | number; id: number; s: ThreadSort }): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string, sort: ThreadSort): { k: string | number; id: number } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k: unknown; id: unknown; s: unknown };
    const keyOk = sort === 'name' ? typeof c.k === 'string' : typeof c.k === 'number';
    if (c.s === sort && keyOk && Number.isInteger(c.id)) return { k: c.k as string | number, id: c.id as number };
  } catch {}
  throw new UsageError('cursor: not a page of this list (the sort changed?); start again from the first page.');
}
