// Reports assembled from the store: what the renderers, the CLI and the HTTP API share.
import type { Store } from '../db/store.js';
import type { ClientRecord, ClientStats } from '../domain/types.js';
import { NotFoundError } from '../errors.js';
import { csatByThread, csatFigures, type CsatFigures } from './csat.js';
import { sentimentFigures, type SentimentFigures } from './sentiment.js';
import { percentile, sessionFigures, type SessionFigures } from './sessions.js';
import { addUp, type RollupRow } from '../db/repositories/rollups.js';
import type { ScoredSession, SessionCounts } from '../db/repositories/statistics.js';
import { ZoneClock } from '../domain/zone-clock.js';
import { formatWaId } from '../domain/phone.js';
import type {
  ConversationSource,
  DetailedReport,
  Lang,
  QuotedMessage,
  ReportContext,
  SummaryReport,
  SummaryRow,
} from './types.js';

export interface ReportQuery {
  clientId: number;
  /** Digits only. */
  waId?: string;
  start?: Date;
  end?: Date;
  timeZone: string;
  lang: Lang;
  now?: Date;
}

const PAGE = 500;

function context(store: Store, client: ClientRecord, q: ReportQuery): ReportContext {
  // Replies usually quote a recent message: a small cache saves most lookups.
  const cache = new Map<string, QuotedMessage | null>();
  return {
    client: { id: client.id, name: client.name, phoneNumber: client.phoneNumber },
    timeZone: q.timeZone,
    lang: q.lang,
    generatedAt: q.now ?? new Date(),
    range: { start: q.start, end: q.end },
    async lookup(wamid) {
      if (cache.has(wamid)) return cache.get(wamid) ?? null;
      const m = await store.messages.byWamid(wamid);
      const quoted =
        m && m.clientId === client.id ? { wamid, role: m.role, content: m.content, createdAt: m.createdAt } : null;
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
      cache.set(wamid, quoted);
      return quoted;
    },
  };
}

/** Every conversation of the client in the range (or the one with waId), newest activity first. */
export async function buildDetailedReport(store: Store, q: ReportQuery): Promise<DetailedReport> {
  const client = await store.clients.get(q.clientId);
  const filter = { clientId: q.clientId, waId: q.waId, start: q.start, end: q.end };
  const first = await store.threads.list(filter, { limit: PAGE });
  if (q.waId && first.total === 0) {
    const exists = await store.threads.find(q.clientId, q.waId);
    throw new NotFoundError(
      exists
        ? `The conversation of client ${q.clientId} with ${formatWaId(q.waId)} has no messages in that date range.`
        : `No conversation of client ${q.clientId} with ${formatWaId(q.waId)}. ` +
            `Run \`wa-report conversations --client-id ${q.clientId}\` to see them.`,
    );
  }
  return {
    ...context(store, client, q),
    conversationCount: first.total,
    async *conversations(): AsyncIterable<ConversationSource> {
      let page = first;
      for (;;) {
        for (const c of page.conversations) {
          yield {
            thread: {
              id: c.threadId,
              waId: c.waId,
              contactName: c.contactName,
              createdAt: c.createdAt,
              lastMessageAt: c.lastMessageAt,
              messageCount: c.messageCount,
            },
            batches: () => store.messages.streamForReport(c.threadId, { batchSize: 1000, start: q.start, end: q.end }),
          };
        }
        if (!page.nextCursor) return;
        page = await store.threads.list(filter, { limit: PAGE, cursor: page.nextCursor });
      }
    },
    overview: () => buildSummaryReport(store, q),
  };
}

/** The day (YYYY-MM-DD) an instant falls on in a zone. */
export function dayIn(timeZone: string): (at: Date | number) => string {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (at) => f.format(at);
}

/** Days from first to last inclusive, every one of them (0 where nothing happened). */
export function fillDays(counts: Map<string, number>): { day: string; messages: number }[] {
  const days = [...counts.keys()].sort();
  if (days.length === 0) return [];
  const out: { day: string; messages: number }[] = [];
  const end = days.at(-1) as string;
  for (let d = new Date(`${days[0]}T00:00:00Z`); ; d = new Date(d.getTime() + 86_400_000)) {
    const key = d.toISOString().slice(0, 10);
    out.push({ day: key, messages: counts.get(key) ?? 0 });
    if (key >= end || out.length > 20_000) break;
  }
  return out;
}

export async function buildSummaryReport(store: Store, q: ReportQuery): Promise<SummaryReport> {
  const client = await store.clients.get(q.clientId);
  const now = q.now ?? new Date();
  await store.conversations.sweep(now);
  const filter = { clientId: q.clientId, waId: q.waId, start: q.start, end: q.end };
  const conversations: SummaryRow[] = (await store.threads.all(filter)).map((c) => ({
    id: c.threadId,
    waId: c.waId,
    contactName: c.contactName,
    createdAt: c.createdAt,
    lastMessageAt: c.lastMessageAt,
    messageCount: c.messageCount,
    byRole: { user: 0, assistant: 0, agent: 0 },
    failed: 0,
    sessions: 0,
    sentimentMean: null,
    csatMean: null,
  }));
  const byId = new Map(conversations.map((c) => [c.id, c]));
  const totals = {
    conversations: conversations.length,
    messages: 0,
    byRole: { user: 0, assistant: 0, agent: 0 },
    failed: 0,
    activeLast24h: 0,
  };
  for (const r of await store.statistics.conversationBreakdown({ clientId: q.clientId, start: q.start, end: q.end })) {
    const row = byId.get(r.threadId);
    if (!row) continue;
    row.byRole[r.role] += r.n;
    row.failed += r.failed;
    totals.byRole[r.role] += r.n;
    totals.messages += r.n;
    totals.failed += r.failed;
  }
  const dayAgo = now.getTime() - 86_400_000;
  totals.activeLast24h = conversations.filter((c) => c.lastMessageAt.getTime() > dayAgo).length;
  const day = dayIn(q.timeZone);
  const perDay = new Map<string, number>();
  // One conversation (--wa-id): its own buckets; otherwise the client's.
  const scopes = q.waId ? conversations.map((c) => c.id) : [undefined];
  for (const threadId of scopes) {
    const range = { clientId: q.clientId, threadId, start: q.start, end: q.end };
    for (const b of await store.statistics.timeBuckets(range)) {
      const key = day(b.at);
      perDay.set(key, (perDay.get(key) ?? 0) + b.n);
    }
  }
  const sessionList = await store.statistics.sessions({
    clientId: q.clientId,
    waId: q.waId,
    start: q.start,
    end: q.end,
  });
  const sessions = sessionFigures(sessionList, day, fillDays);
  const scored = new Map<number, { n: number; sum: number }>();
  for (const s of sessionList) {
    const row = byId.get(s.threadId);
    if (!row) continue;
    row.sessions += 1;
    const acc = scored.get(s.threadId) ?? { n: 0, sum: 0 };
    acc.n += s.sentimentCount;
    acc.sum += s.sentimentSum;
    scored.set(s.threadId, acc);
  }
  for (const [threadId, acc] of scored) {
    const row = byId.get(threadId);
    if (row && acc.n > 0) row.sentimentMean = Math.round((acc.sum / acc.n) * 1000) / 1000;
  }
  const range = { clientId: q.clientId, waId: q.waId, start: q.start, end: q.end };
  const [counts] = await store.statistics.sentiment(range);
  const sentiment = sentimentFigures(counts, sessionList, await store.statistics.ratings(range));
  const csatRows = await store.statistics.csat(range);
  const csat = csatFigures(csatRows);
  for (const [threadId, c] of csatByThread(csatRows)) {
    const row = byId.get(threadId);
    if (row) row.csatMean = c.mean;
  }
  return { ...context(store, client, q), totals, conversations, perDay: fillDays(perDay), sessions, sentiment, csat };
}

export interface ClientStatistics extends ClientStats {
  /** Seconds from a user's message to the assistant's answer; null without answers. */
  responseSeconds: { median: number | null; p90: number | null; answers: number };
  perDay: { day: string; messages: number }[];
  sessions: SessionFigures;
  sentiment: SentimentFigures;
  csat: CsatFigures;
}

/** `wa-report stats` as a document: every client's figures, for the PDF and workbook renderers. */
export interface StatisticsReport {
  stats: ClientStatistics[];
  timeZone: string;
  since: Date | null;
  lang: Lang;
  generatedAt: Date;
}

export { percentile } from './sessions.js';

export interface StatisticsQuery {
  clientId?: number;
  since?: Date;
  until?: Date;
  timeZone: string;
  now?: Date;
  /**
   * false: leave out the assistant's per-message response times (a window over every message of
   * the period; the dashboard shows the sessions' first response instead).
   */
  responseTimes?: boolean;
  /** false: leave out the 10 worst sessions by sentiment (the dashboard does not show them). */
  worst?: boolean;
}

/** The rollup columns of the series (per local hour or day): messages by role, failures, sessions and handoffs. */
export const SERIES_COLUMNS = {
  messages: ['m_user', 'm_assistant', 'm_agent', 'm_failed'],
  sessions: ['c_total', 'c_handoffs'],
} as const;

/** The figures, and the series' rollup sums (SERIES_COLUMNS) per local hour or day of the zone. */
export interface CollectedStatistics {
  statistics: ClientStatistics[];
  clock: ZoneClock;
  unit: 'hour' | 'day';
  messages: RollupRow[];
  sessions: RollupRow[];
}

export async function buildStatistics(store: Store, q: StatisticsQuery): Promise<ClientStatistics[]> {
  return (await collectStatistics(store, q)).statistics;
}

const DAY_MS = 86_400_000;
/** Messages of every role in a rollup row's sums. */
const messagesOf = (sums: Record<string, number>) => (sums.m_user ?? 0) + (sums.m_assistant ?? 0) + (sums.m_agent ?? 0);

/**
 * Every figure of `wa-report stats` from the rollups, grouped in SQL into the zone's hours or days
 * (the dashboard asks for hours over short periods, to draw them).
 */
export async function collectStatistics(
  store: Store,
  q: StatisticsQuery,
  unit: 'hour' | 'day' = 'day',
  /** The zone's clock over the period, when the caller has one already. */
  given?: ZoneClock,
): Promise<CollectedStatistics> {
  const now = q.now ?? new Date();
  // Conversations idle by now are ended before they are counted (idempotent; the daemon does it too).
  await store.conversations.sweep(now);
  const range = { clientId: q.clientId, start: q.since, end: q.until };
  const span = q.since && q.until ? null : await store.rollups.span(q.clientId);
  const from = q.since ?? new Date(Math.min(span?.first ?? now.getTime(), now.getTime()));
  const to = q.until ?? new Date(Math.max(span?.last ?? now.getTime(), now.getTime()));
  const clock = given ?? new ZoneClock(q.timeZone, from, to);
  const grouping = { unit, offsets: clock.offsets() };
  // Totals per client (whole UTC days of the period read from the day rows) and the series' few columns
  // per local hour or day: the rows a driver turns into JavaScript values are what such reads cost.
  const [messageTotals, sessionTotalRows, messages, sessionRows, seconds, worst, histogram, ratings, csat] =
    await Promise.all([
      store.rollups.sums('messages', range, { unit: 'all' }),
      store.rollups.sums('sessions', range, { unit: 'all' }),
      store.rollups.sums('messages', range, grouping, SERIES_COLUMNS.messages),
      store.rollups.sums('sessions', range, grouping, SERIES_COLUMNS.sessions),
      store.rollups.seconds(range),
      q.worst === false ? Promise.resolve(new Map<number, ScoredSession[]>()) : store.statistics.worstSessions(range),
      q.responseTimes === false
        ? Promise.resolve([])
        : store.statistics.responseTimes({ clientId: q.clientId, since: q.since, until: q.until }),
      store.statistics.ratings(range),
      store.statistics.csat(range),
    ]);
  const dayOf = (key: number) =>
    new Date((unit === 'hour' ? Math.floor(key / 24) : key) * DAY_MS).toISOString().slice(0, 10);
  const totals = addUp(messageTotals);
  const sessionTotals = addUp(sessionTotalRows);
  const perDay = new Map<number, Map<string, number>>();
  const count = (into: Map<number, Map<string, number>>, r: RollupRow, n: number) => {
    if (n === 0) return;
    const days = into.get(r.clientId) ?? new Map<string, number>();
    days.set(dayOf(r.key), (days.get(dayOf(r.key)) ?? 0) + n);
    into.set(r.clientId, days);
  };
  for (const r of messages) count(perDay, r, messagesOf(r.sums));
  const sessionDays = new Map<number, Map<string, number>>();
  for (const r of sessionRows) count(sessionDays, r, r.sums.c_total ?? 0);
  const stats = await store.statistics.perClient({ clientId: q.clientId, since: q.since, until: q.until, now }, totals);
  const statistics = stats.map((s): ClientStatistics => {
    const mine = histogram.filter((h) => h.clientId === s.clientId);
    const m = totals.get(s.clientId) ?? {};
    const c = sessionTotals.get(s.clientId) ?? {};
    const n = (t: Record<string, number>, k: string) => t[k] ?? 0;
    const histogramOf = (kind: 'first' | 'duration') =>
      seconds.filter((h) => h.clientId === s.clientId && h.kind === kind).map((h) => ({ seconds: h.seconds, n: h.n }));
    const counts: SessionCounts = {
      total: n(c, 'c_total'),
      open: n(c, 'c_open'),
      closed: n(c, 'c_closed'),
      handoffs: n(c, 'c_handoffs'),
      involved: n(c, 'c_involved'),
      endedInvolved: n(c, 'c_ended_involved'),
      botOnly: n(c, 'c_bot_only'),
      firstResponse: histogramOf('first'),
      duration: histogramOf('duration'),
      starts: [],
      perDay: sessionDays.get(s.clientId) ?? new Map(),
    };
    const scored = n(m, 's_scored');
    return {
      ...s,
      responseSeconds: {
        median: percentile(mine, 0.5),
        p90: percentile(mine, 0.9),
        answers: mine.reduce((a, h) => a + h.n, 0),
      },
      perDay: fillDays(perDay.get(s.clientId) ?? new Map()),
      sessions: sessionFigures(counts, dayIn(q.timeZone), fillDays),
      sentiment: sentimentFigures(
        {
          clientId: s.clientId,
          scored,
          negative: n(m, 's_negative'),
          positive: n(m, 's_positive'),
          neutral: scored - n(m, 's_negative') - n(m, 's_positive'),
          sum: n(m, 's_milli') / 1000,
          unscored: n(m, 's_unscored'),
        },
        {
          scored: n(c, 'c_scored'),
          openingSum: n(c, 'c_opening_milli') / 1000,
          closingSum: n(c, 'c_closing_milli') / 1000,
          worst: worst.get(s.clientId) ?? [],
        },
        ratings.filter((x) => x.clientId === s.clientId),
      ),
      csat: csatFigures(csat.filter((x) => x.clientId === s.clientId)),
    };
  });
  return { statistics, clock, unit, messages, sessions: sessionRows };
}
