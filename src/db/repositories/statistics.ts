// Aggregates for summaries and statistics: counts by client, conversation, role and status, message
// times in 15-minute buckets (fine enough to regroup into days of any zone, half- and quarter-hour
// offsets included) and response times as a histogram. Percentiles and days are computed from
// these by reports/build.ts.
import { NEGATIVE_FROM, POSITIVE_FROM } from '../../domain/sentiment/index.js';
import { statusRank, type ClientStats, type Role } from '../../domain/types.js';
import { epochBucket, secondsBetween } from '../dialect.js';
import type { Querier } from '../sql.js';
import { conditions } from '../where.js';
import type { ClientsRepository } from './clients.js';
import { OUTBOUND_STATUSES, ROLLUP_BUCKET_MS, type RollupsRepository } from './rollups.js';
import { CONVERSATION_COLUMNS, toConversation } from './conversations.js';
import type { ConversationState } from '../../domain/conversations.js';
import { toDate } from '../rows.js';

/** Histogram of whole seconds: how many had each value. */
export type SecondsHistogram = { seconds: number; n: number }[];

/**
 * What the session figures are computed from: counts, two histograms and starts per time bucket.
 * Built from a list of sessions (countSessions) or from the session rollups (reports/build.ts), which
 * need not load one row per session.
 */
export interface SessionCounts {
  total: number;
  open: number;
  closed: number;
  handoffs: number;
  /** Sessions the assistant took part in (answered, or was taken over from). */
  involved: number;
  endedInvolved: number;
  /** Ended, answered by the assistant, no person took part. */
  botOnly: number;
  /** First user message to the first answer, rounded seconds. */
  firstResponse: SecondsHistogram;
  /** Of ended sessions: first message to last, rounded seconds. */
  duration: SecondsHistogram;
  /** Starts: instants (epoch ms) or bucket starts, with how many started there. */
  starts: { at: number; n: number }[];
  /** Or the starts already counted per day of the report's zone (from the rollups). */
  perDay?: Map<string, number>;
}

/** A session with scored messages, as the worst-sessions list needs it. */
export interface ScoredSession {
  id: number;
  threadId: number;
  waId: string;
  startedAt: Date;
  sentimentSum: number;
  sentimentCount: number;
  closingSentiment: number | null;
}

/**
 * The sessions' side of the sentiment figures: how many sessions have a scored message, the sums of
 * their opening and closing sentiment (a missing one counts 0), and the candidates for the 10 worst
 * (at least every session whose rounded mean could be among them). From a list (sessionSentimentOf)
 * or from the rollups and worstSessions below.
 */
export interface SessionSentiment {
  scored: number;
  openingSum: number;
  closingSum: number;
  worst: ScoredSession[];
}

export interface MessageSentimentCounts {
  clientId: number;
  scored: number;
  negative: number;
  neutral: number;
  positive: number;
  /** Sum of the scores (the mean is sum ÷ scored). */
  sum: number;
  /** User texts without a score. */
  unscored: number;
}

export interface CsatCounts {
  clientId: number;
  /** The conversation (thread) the surveys were sent in. */
  threadId: number;
  state: string;
  scale: number;
  score: number | null;
  reason: string | null;
  n: number;
  comments: number;
}

export interface RatingCounts {
  clientId: number;
  source: 'model' | 'lexicon';
  label: 'negative' | 'neutral' | 'positive';
  n: number;
  scoreSum: number;
  csatSum: number;
}

export class StatisticsRepository {
  constructor(
    private readonly q: Querier,
    private readonly clients: ClientsRepository,
    private readonly rollups: RollupsRepository,
  ) {}

  /** Per-conversation message counts by role, and failures, for a client's summary (client_id, created_at index). */
  async conversationBreakdown(filter: {
    clientId: number;
    start?: Date;
    end?: Date;
  }): Promise<{ threadId: number; role: Role; failed: number; n: number }[]> {
    const { where, params } = conditions([
      ['client_id = ?', filter.clientId],
      ['created_at >= ?', filter.start],
      ['created_at < ?', filter.end],
    ]);
    const rows = await this.q.all<{ thread_id: unknown; role: string; failed: unknown; n: unknown }>(
      `SELECT thread_id, role, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, COUNT(*) AS n
       FROM messages ${where} GROUP BY thread_id, role`,
      params,
    );
    return rows.map((r) => ({
      threadId: Number(r.thread_id),
      role: r.role as Role,
      failed: Number(r.failed),
      n: Number(r.n),
    }));
  }

  /**
   * Message counts per 15-minute bucket (start in epoch ms), per client (from the rollups unless for one
   * thread). A bucket may come twice (whole and partial at an edge of the range): add them up.
   */
  async timeBuckets(filter: {
    clientId?: number;
    /** One conversation (thread) only. */
    threadId?: number;
    start?: Date;
    end?: Date;
  }): Promise<{ clientId: number; at: number; n: number }[]> {
    if (filter.threadId === undefined) {
      const rows = await this.rollups.sums('messages', filter, { unit: 'quarter' });
      return rows.map((r) => ({
        clientId: r.clientId,
        at: r.key * ROLLUP_BUCKET_MS,
        n: (r.sums.m_user ?? 0) + (r.sums.m_assistant ?? 0) + (r.sums.m_agent ?? 0),
      }));
    }
    const { where, params } = conditions([
      ['client_id = ?', filter.clientId],
      ['thread_id = ?', filter.threadId],
      ['created_at >= ?', filter.start],
      ['created_at < ?', filter.end],
    ]);
    const bucket = epochBucket(this.q.dialect, 'created_at', 900);
    const rows = await this.q.all<{ client_id: unknown; b: unknown; n: unknown }>(
      `SELECT client_id, ${bucket} AS b, COUNT(*) AS n FROM messages ${where} GROUP BY client_id, ${bucket}`,
      params,
    );
    return rows.map((r) => ({ clientId: Number(r.client_id), at: Number(r.b) * 900_000, n: Number(r.n) }));
  }

  /**
   * How long the assistant took to answer: seconds from a user's message to the assistant message
   * that follows it in the same conversation, as a histogram (one row per client and second).
   */
  async responseTimes(filter: {
    clientId?: number;
    since?: Date;
    until?: Date;
  }): Promise<{ clientId: number; seconds: number; n: number }[]> {
    const { where, params } = conditions([
      ['client_id = ?', filter.clientId],
      ['created_at >= ?', filter.since],
      ['created_at < ?', filter.until],
    ]);
    const delta = secondsBetween(this.q.dialect, 'created_at', 'prev_at');
    const rows = await this.q.all<{ client_id: unknown; d: unknown; n: unknown }>(
      `SELECT client_id, ${delta} AS d, COUNT(*) AS n FROM (
         SELECT client_id, role, created_at,
                LAG(role) OVER w AS prev_role, LAG(created_at) OVER w AS prev_at
         FROM messages ${where}
         WINDOW w AS (PARTITION BY thread_id ORDER BY created_at, id)
       ) x WHERE role = 'assistant' AND prev_role = 'user' GROUP BY client_id, ${delta}`,
      params,
    );
    return rows.map((r) => ({ clientId: Number(r.client_id), seconds: Number(r.d), n: Number(r.n) }));
  }

  /**
   * Sentiment of users' messages in the period, per client: how many were scored, by label, their
   * sum, and how many texts have no score (stored before sentiment existed, not yet backfilled).
   */
  async sentiment(filter: {
    clientId?: number;
    waId?: string;
    start?: Date;
    end?: Date;
  }): Promise<MessageSentimentCounts[]> {
    const { where, params } = conditions([
      ["role = 'user' AND csat_survey_id IS NULL", null],
      ['client_id = ?', filter.clientId],
      ['wa_id = ?', filter.waId],
      ['created_at >= ?', filter.start],
      ['created_at < ?', filter.end],
    ]);
    const rows = await this.q.all(
      `SELECT client_id, COUNT(sentiment) AS scored,
              SUM(CASE WHEN sentiment <= ${NEGATIVE_FROM} THEN 1 ELSE 0 END) AS negative,
              SUM(CASE WHEN sentiment >= ${POSITIVE_FROM} THEN 1 ELSE 0 END) AS positive,
              SUM(sentiment) AS total,
              SUM(CASE WHEN sentiment IS NULL AND type = 'text' THEN 1 ELSE 0 END) AS unscored
       FROM messages ${where} GROUP BY client_id`,
      // (The role condition has no parameter.)
      params.filter((p) => p !== null),
    );
    return rows.map((r) => {
      const scored = Number(r.scored ?? 0);
      const negative = Number(r.negative ?? 0);
      const positive = Number(r.positive ?? 0);
      return {
        clientId: Number(r.client_id),
        scored,
        negative,
        positive,
        neutral: scored - negative - positive,
        sum: Number(r.total ?? 0),
        unscored: Number(r.unscored ?? 0),
      };
    });
  }

  /** Ratings of the conversations that started in the period (WA_REPORT_SENTIMENT=model), per client. */
  async ratings(filter: { clientId?: number; waId?: string; start?: Date; end?: Date }): Promise<RatingCounts[]> {
    const { where, params } = conditions([
      ["r.state = 'done' AND r.label IS NOT NULL", null],
      ['c.client_id = ?', filter.clientId],
      ['t.wa_id = ?', filter.waId],
      ['c.started_at >= ?', filter.start],
      ['c.started_at < ?', filter.end],
    ]);
    const rows = await this.q.all(
      // From the ratings to their conversations (SQLite's CROSS JOIN keeps that order), so the cost
      // follows the rated sessions, not every session of the period.
      `SELECT c.client_id, r.source, r.label, COUNT(*) AS n, SUM(r.score) AS score, SUM(r.predicted_csat) AS csat
       FROM conversation_ratings r ${this.q.dialect === 'sqlite' ? 'CROSS JOIN' : 'JOIN'} conversations c
         ON c.id = r.conversation_id
       ${filter.waId === undefined ? '' : 'JOIN threads t ON t.id = c.thread_id'} ${where}
       GROUP BY c.client_id, r.source, r.label`,
      params.filter((p) => p !== null),
    );
    return rows.map((r) => ({
      clientId: Number(r.client_id),
      source: r.source as RatingCounts['source'],
      label: r.label as RatingCounts['label'],
      n: Number(r.n),
      scoreSum: Number(r.score ?? 0),
      csatSum: Number(r.csat ?? 0),
    }));
  }

  /** Satisfaction surveys queued in the period (as their conversations ended), per client, by outcome. */
  async csat(filter: { clientId?: number; waId?: string; start?: Date; end?: Date }): Promise<CsatCounts[]> {
    const { where, params } = conditions([
      ['s.client_id = ?', filter.clientId],
      ['t.wa_id = ?', filter.waId],
      ['s.created_at >= ?', filter.start],
      ['s.created_at < ?', filter.end],
    ]);
    const rows = await this.q.all(
      `SELECT s.client_id, s.thread_id, s.state, s.scale, s.score, s.reason, COUNT(*) AS n,
              SUM(CASE WHEN s.comment IS NOT NULL THEN 1 ELSE 0 END) AS comments
       FROM csat_surveys s JOIN threads t ON t.id = s.thread_id ${where}
       GROUP BY s.client_id, s.thread_id, s.state, s.scale, s.score, s.reason`,
      params,
    );
    return rows.map((r) => ({
      clientId: Number(r.client_id),
      threadId: Number(r.thread_id),
      state: String(r.state),
      scale: Number(r.scale),
      score: r.score === null || r.score === undefined ? null : Number(r.score),
      reason: (r.reason as string | null) ?? null,
      n: Number(r.n),
      comments: Number(r.comments ?? 0),
    }));
  }

  /** Conversations (sessions) that started in the period, of one client or all, oldest first. */
  async sessions(filter: { clientId?: number; waId?: string; start?: Date; end?: Date }): Promise<ConversationState[]> {
    const { where, params } = conditions([
      ['c.client_id = ?', filter.clientId],
      ['t.wa_id = ?', filter.waId],
      ['c.started_at >= ?', filter.start],
      ['c.started_at < ?', filter.end],
    ]);
    const rows = await this.q.all(
      `SELECT ${CONVERSATION_COLUMNS}, t.wa_id FROM conversations c JOIN threads t ON t.id = c.thread_id ${where}
       ORDER BY c.started_at, c.id`,
      params,
    );
    return rows.map((r) => toConversation(r, String(r.wa_id)));
  }

  /**
   * The candidates for each client's 10 worst sessions (by mean sentiment) among those that started in
   * the period: the 10th lowest mean, then every session within 0.001 of it (rounding to three
   * decimals moves a mean by at most 0.0005, so none that could sort before it is left out).
   */
  async worstSessions(filter: { clientId?: number; start?: Date; end?: Date }): Promise<Map<number, ScoredSession[]>> {
    const { where, params } = conditions([
      ['c.sentiment_count > 0', null],
      ['c.client_id = ?', filter.clientId],
      ['c.started_at >= ?', filter.start],
      ['c.started_at < ?', filter.end],
    ]);
    const rows = await this.q.all(
      `WITH scored AS (
         SELECT c.id, c.client_id, c.thread_id, c.started_at, c.sentiment_sum, c.sentiment_count,
                c.closing_sentiment, c.sentiment_sum / c.sentiment_count AS mean
         FROM conversations c ${where}),
       ranked AS (
         SELECT client_id, mean, ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY mean, id) AS r FROM scored),
       cut AS (SELECT client_id, MAX(mean) AS m FROM ranked WHERE r <= 10 GROUP BY client_id)
       SELECT s.*, t.wa_id FROM scored s JOIN cut ON cut.client_id = s.client_id JOIN threads t ON t.id = s.thread_id
       WHERE s.mean <= cut.m + 0.001`,
      params.filter((p) => p !== null),
    );
    const out = new Map<number, ScoredSession[]>();
    for (const r of rows) {
      const list = out.get(Number(r.client_id)) ?? [];
      list.push({
        id: Number(r.id),
        threadId: Number(r.thread_id),
        waId: String(r.wa_id),
        startedAt: toDate(r.started_at),
        sentimentSum: Number(r.sentiment_sum),
        sentimentCount: Number(r.sentiment_count),
        closingSentiment:
          r.closing_sentiment === null || r.closing_sentiment === undefined ? null : Number(r.closing_sentiment),
      });
      out.set(Number(r.client_id), list);
    }
    return out;
  }

  /**
   * Users who wrote or were written to in the period: threads with a message in it, per client. A
   * thread's first and last message times bound its messages, so of the threads open in the period
   * (rollups.threadCounts) only one that began before it and went on after it can have none inside;
   * only those are looked up in messages (none for a period that ends now).
   */
  async activeUsers(filter: { clientId?: number; start?: Date; end?: Date }): Promise<Map<number, number>> {
    const open = await this.rollups.threadCounts(filter);
    if (!filter.start || !filter.end) return open;
    const { where, params } = conditions([
      ['t.client_id = ?', filter.clientId],
      ['t.last_message_at >= ?', filter.end],
      ['t.created_at < ?', filter.start],
    ]);
    const idle = await this.q.all(
      `SELECT t.client_id, COUNT(*) AS n FROM threads t ${where} AND NOT EXISTS (
         SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.created_at >= ? AND m.created_at < ?)
       GROUP BY t.client_id`,
      [...params, filter.start, filter.end],
    );
    for (const r of idle) {
      const clientId = Number(r.client_id);
      const n = (open.get(clientId) ?? 0) - Number(r.n);
      if (n > 0) open.set(clientId, n);
      else open.delete(clientId);
    }
    return open;
  }

  /**
   * Per-client counts: messages by role and status, conversations, activity, failures, delivery rates.
   * The message counts are the period's message rollup sums per client (read here unless given).
   */
  async perClient(
    options: { clientId?: number; since?: Date; until?: Date; now?: Date } = {},
    messageSums?: Map<number, Record<string, number>>,
  ): Promise<ClientStats[]> {
    const now = options.now ?? new Date();
    const clients =
      options.clientId !== undefined
        ? [await this.clients.get(options.clientId)]
        : await this.clients.list({ includeInactive: true });
    const sums =
      messageSums ??
      new Map(
        (
          await this.rollups.sums(
            'messages',
            { clientId: options.clientId, start: options.since, end: options.until },
            { unit: 'all' },
          )
        ).map((r) => [r.clientId, r.sums]),
      );
    const period = { clientId: options.clientId, start: options.since, end: options.until };
    const dayAgo = new Date(now.getTime() - 24 * 3600_000);
    const recent = conditions([
      ['client_id = ?', options.clientId],
      ['last_message_at > ?', dayAgo],
      ['last_message_at >= ?', options.since],
      ['created_at < ?', options.until],
    ]);
    const [open, recentRows] = await Promise.all([
      this.rollups.threadCounts(period),
      // Threads of the period with a message in the last 24 hours (an index range of recent threads).
      this.q.all(`SELECT client_id, COUNT(*) AS n FROM threads ${recent.where} GROUP BY client_id`, recent.params),
    ]);
    const active24h = new Map(recentRows.map((r) => [Number(r.client_id), Number(r.n)]));
    return clients.map((c) => {
      const m = sums.get(c.id) ?? {};
      const n = (column: string) => m[column] ?? 0;
      const byRole = { user: n('m_user'), assistant: n('m_assistant'), agent: n('m_agent') } as Record<Role, number>;
      const outbound: Record<string, number> = {};
      for (const status of ['none', ...OUTBOUND_STATUSES, 'other']) {
        if (n(`o_${status}`)) outbound[status] = n(`o_${status}`);
      }
      const sum = (keep: (status: string) => boolean) =>
        Object.entries(outbound)
          .filter(([s]) => keep(s))
          .reduce((a, [, k]) => a + k, 0);
      const withStatus = sum((s) => s !== 'none');
      return {
        clientId: c.id,
        clientName: c.name,
        conversations: open.get(c.id) ?? 0,
        activeLast24h: active24h.get(c.id) ?? 0,
        messages: byRole.user + byRole.assistant + byRole.agent,
        messagesByRole: byRole,
        outboundByStatus: outbound,
        failed: n('m_failed'),
        deliveryRate: withStatus ? sum((s) => statusRank(s) >= statusRank('delivered')) / withStatus : null,
        readRate: withStatus ? sum((s) => statusRank(s) >= statusRank('read')) / withStatus : null,
      };
    });
  }
}
