// The dashboard's overview: for one client or all, over a period, grouped by hour, day, week or month
// of a zone. The headline figures are `wa-report stats`' own (collectStatistics, same period and zone),
// so the page and `stats --json` cannot disagree; the series come from the same rollup reads (by the
// zone's hours or days, regrouped in SQL), and the busiest-hours heatmap from one more by weekday-hour.
import type { RollupRow } from '../db/repositories/rollups.js';
import type { Store } from '../db/store.js';
import { ZoneClock, type Grain, type LocalBucket } from '../domain/zone-clock.js';
import { UsageError } from '../errors.js';
import { collectStatistics, type ClientStatistics } from './build.js';

export interface OverviewQuery {
  /** One client, or every client. */
  clientId?: number;
  start: Date;
  end: Date;
  timeZone: string;
  grain: Grain;
  now?: Date;
}

export interface SeriesPoint extends LocalBucket {
  user: number;
  assistant: number;
  agent: number;
  failed: number;
  /** Conversations (sessions) started, and of those handed to a person. */
  sessions: number;
  handoffs: number;
}

export interface ClientOverview {
  statistics: ClientStatistics;
  /** Users with a conversation overlapping the period. */
  activeUsers: number;
}

export interface Overview {
  query: OverviewQuery;
  /** The grain used: an hourly view of a long period is shown by day (hourGrainLimitDays). */
  grain: Grain;
  clients: ClientOverview[];
  /** Additive figures summed over the clients shown (percentiles and rates are per client only). */
  totals: {
    conversations: number;
    activeUsers: number;
    messages: number;
    byRole: { user: number; assistant: number; agent: number };
    failed: number;
    sessions: number;
    handoffs: number;
  };
  series: SeriesPoint[];
  /** Messages per weekday (Monday first) and hour of the zone. */
  heatmap: number[][];
  /** False for a zone whose offset is not whole quarter hours (local mean times of the 19th century). */
  exactZone: boolean;
  generatedAt: Date;
}

const ROLE_COLUMNS = ['m_user', 'm_assistant', 'm_agent'];

/** Hourly series are drawn for periods up to this long; longer ones by day. */
export const HOUR_GRAIN_LIMIT_DAYS = 31;
/** The longest period the overview groups (a longer one is refused with a hint). */
export const MAX_PERIOD_DAYS = 3 * 366;

/** Messages per local weekday (Monday first) and hour. */
function busiestHours(weekHours: RollupRow[]): number[][] {
  const heatmap = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  for (const r of weekHours) {
    const row = heatmap[Math.floor(r.key / 24)] as number[];
    row[r.key % 24] = (row[r.key % 24] as number) + ROLE_COLUMNS.reduce((n, c) => n + (r.sums[c] ?? 0), 0);
  }
  return heatmap;
}

export interface OverviewHooks {
  /** Called with the heatmap as soon as it is known, before the other figures are read. */
  heatmap?(grid: number[][]): void;
}

export async function buildOverview(store: Store, q: OverviewQuery, hooks: OverviewHooks = {}): Promise<Overview> {
  const span = q.end.getTime() - q.start.getTime();
  if (!(span > 0)) throw new UsageError('The period is empty: its end must be later than its start.');
  if (span > MAX_PERIOD_DAYS * 86_400_000) {
    throw new UsageError(`The period is longer than ${MAX_PERIOD_DAYS} days; choose a shorter one.`);
  }
  const grain: Grain = q.grain === 'hour' && span > HOUR_GRAIN_LIMIT_DAYS * 86_400_000 ? 'day' : q.grain;
  const range = { clientId: q.clientId, start: q.start, end: q.end };
  const clock = new ZoneClock(q.timeZone, q.start, q.end);
  const unit = grain === 'hour' ? 'hour' : 'day';
  // The heatmap's read comes first, and is handed over at once: its chart can be drawn (on another
  // thread) while the other reads run.
  const heatmap = busiestHours(
    await store.rollups.sums('messages', range, { unit: 'weekhour', offsets: clock.offsets() }, ROLE_COLUMNS),
  );
  hooks.heatmap?.(heatmap);
  const [collected, active] = await Promise.all([
    collectStatistics(
      store,
      {
        clientId: q.clientId,
        since: q.start,
        until: q.end,
        timeZone: q.timeZone,
        now: q.now,
        responseTimes: false,
        worst: false,
      },
      unit,
      clock,
    ),
    store.statistics.activeUsers(range),
  ]);
  const { statistics } = collected;
  const series = clock
    .buckets(q.start, q.end, grain)
    .map((b): SeriesPoint => ({ ...b, user: 0, assistant: 0, agent: 0, failed: 0, sessions: 0, handoffs: 0 }));
  const byKey = new Map(series.map((p) => [p.key, p]));
  // Rows come per client and local hour or day: name each key once.
  const unitMs = unit === 'hour' ? 3_600_000 : 86_400_000;
  const names = new Map<number, SeriesPoint | undefined>();
  const pointOf = (key: number) => {
    if (!names.has(key)) names.set(key, byKey.get(clock.keyOfLocal(key * unitMs, grain)));
    return names.get(key);
  };
  for (const r of collected.messages) {
    const point = pointOf(r.key);
    if (!point) continue;
    point.user += r.sums.m_user ?? 0;
    point.assistant += r.sums.m_assistant ?? 0;
    point.agent += r.sums.m_agent ?? 0;
    point.failed += r.sums.m_failed ?? 0;
  }
  for (const r of collected.sessions) {
    const point = pointOf(r.key);
    if (!point) continue;
    point.sessions += r.sums.c_total ?? 0;
    point.handoffs += r.sums.c_handoffs ?? 0;
  }
  const clients = statistics.map((s) => ({ statistics: s, activeUsers: active.get(s.clientId) ?? 0 }));
  const sum = (f: (c: ClientOverview) => number) => clients.reduce((a, c) => a + f(c), 0);
  return {
    query: q,
    grain,
    clients,
    totals: {
      conversations: sum((c) => c.statistics.conversations),
      activeUsers: sum((c) => c.activeUsers),
      messages: sum((c) => c.statistics.messages),
      byRole: {
        user: sum((c) => c.statistics.messagesByRole.user),
        assistant: sum((c) => c.statistics.messagesByRole.assistant),
        agent: sum((c) => c.statistics.messagesByRole.agent),
      },
      failed: sum((c) => c.statistics.failed),
      sessions: sum((c) => c.statistics.sessions.total),
      handoffs: sum((c) => c.statistics.sessions.handoffs),
    },
    series,
    heatmap,
    exactZone: clock.quarterHourAligned,
    generatedAt: q.now ?? new Date(),
  };
}
