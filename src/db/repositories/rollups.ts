// Rollups: what the dashboard and `wa-report stats` count, kept per client and quarter hour (UTC) by
// triggers in the transaction of every write (see the migrations), so a year of figures reads one
// row per client and quarter hour instead of every message and session.
//   message_rollups   one row per client and quarter hour of created_at: messages by role, by status
//                     (of outbound ones), failures, and the users' sentiment counts
//   session_rollups   one row per client and quarter hour of started_at: the session counts
//   session_seconds   per client and UTC day of started_at: histograms of first-response and duration
//                     seconds (percentiles stay exact)
//   thread_rollups    per client and UTC day: threads whose first (created_n) and last (last_n) message
//                     fall in it, so the threads open in a period are two prefix sums
// message_rollups and session_rollups hold each count three times: per quarter hour (level 0), per
// hour (level 1, 4 times fewer rows, read for zones whose offsets and their changes are whole hours)
// and per UTC day (level 2, 24 times fewer again, read for totals and a zone's days). Every read
// regroups in SQL into the hours, days or weekday-hours of a zone (one offset per stretch of the
// period), and counts the partial quarter hours (or days) at a range's edges exactly from the source
// tables, so every answer equals the exact query over messages and conversations.
//
// On SQLite the group-commit writer counts its batch's new messages in one grouped upsert
// (batchMessageRollups) and the row triggers count every other write.
//
// The columns below are the one definition of what each rollup counts: the triggers in the migrations
// 20261202070000_wide_rollups, 20261202180000_batched_rollups and 20261202190000_day_rollups were
// written from them, and rebuild(), check(), the exact edges and the batched upsert use them directly
// (test/db/rollups.test.ts proves triggers, batches and definition agree on random data).
import { NEGATIVE_FROM, POSITIVE_FROM } from '../../domain/sentiment/index.js';
import { epochBucket, ingestLock, roundedSecondsBetween, type Dialect } from '../dialect.js';
import type { Querier } from '../sql.js';
import { conditions } from '../where.js';

/** A rollup bucket's length: a quarter hour. */
export const ROLLUP_BUCKET_MS = 900_000;
const DAY_MS = 86_400_000;

export const OUTBOUND_STATUSES = ['sending', 'sent', 'failed', 'delivered', 'read', 'played'] as const;

interface Column {
  name: string;
  /** When a row counts (r is the row's alias). */
  when: (r: string) => string;
  /** What it adds (default 1): thousandths of a score, so sums stay exact integers. */
  value?: (r: string) => string;
}

const milli = (column: string) => (r: string) => `CAST(ROUND(${r}.${column} * 1000) AS BIGINT)`;
const userText = (r: string) => `${r}.role = 'user' AND ${r}.csat_survey_id IS NULL`;
const scored = (r: string) => `${userText(r)} AND ${r}.sentiment IS NOT NULL`;

const MESSAGE_COLUMNS: Column[] = [
  { name: 'm_user', when: (r) => `${r}.role = 'user'` },
  { name: 'm_assistant', when: (r) => `${r}.role = 'assistant'` },
  { name: 'm_agent', when: (r) => `${r}.role = 'agent'` },
  { name: 'm_failed', when: (r) => `${r}.status = 'failed'` },
  { name: 'o_none', when: (r) => `${r}.role <> 'user' AND ${r}.status IS NULL` },
  ...OUTBOUND_STATUSES.map((s) => ({
    name: `o_${s}`,
    when: (r: string) => `${r}.role <> 'user' AND ${r}.status = '${s}'`,
  })),
  {
    name: 'o_other',
    when: (r) => `${r}.role <> 'user' AND ${r}.status NOT IN (${OUTBOUND_STATUSES.map((s) => `'${s}'`).join(', ')})`,
  },
  { name: 's_scored', when: scored },
  { name: 's_negative', when: (r) => `${scored(r)} AND ${r}.sentiment <= ${NEGATIVE_FROM}` },
  { name: 's_positive', when: (r) => `${scored(r)} AND ${r}.sentiment >= ${POSITIVE_FROM}` },
  { name: 's_milli', when: scored, value: milli('sentiment') },
  { name: 's_unscored', when: (r) => `${userText(r)} AND ${r}.sentiment IS NULL AND ${r}.type = 'text'` },
];

const bot = (r: string) => `(${r}.assistant_messages > 0 OR ${r}.handoff_at IS NOT NULL)`;
const SESSION_COLUMNS: Column[] = [
  { name: 'c_total', when: () => '1 = 1' },
  { name: 'c_open', when: (r) => `${r}.ended_at IS NULL` },
  { name: 'c_closed', when: (r) => `${r}.ended_at IS NOT NULL AND ${r}.end_reason = 'closed'` },
  { name: 'c_handoffs', when: (r) => `${r}.handoff_at IS NOT NULL` },
  { name: 'c_involved', when: bot },
  { name: 'c_ended_involved', when: (r) => `${r}.ended_at IS NOT NULL AND ${bot(r)}` },
  {
    name: 'c_bot_only',
    when: (r) =>
      `${r}.ended_at IS NOT NULL AND ${r}.assistant_messages > 0 AND ${r}.handoff_at IS NULL ` +
      `AND ${r}.agent_messages = 0`,
  },
  { name: 'c_scored', when: (r) => `${r}.sentiment_count > 0` },
  {
    name: 'c_opening_milli',
    when: (r) => `${r}.sentiment_count > 0 AND ${r}.opening_sentiment IS NOT NULL`,
    value: milli('opening_sentiment'),
  },
  {
    name: 'c_closing_milli',
    when: (r) => `${r}.sentiment_count > 0 AND ${r}.closing_sentiment IS NOT NULL`,
    value: milli('closing_sentiment'),
  },
];

export type RollupTable = 'messages' | 'sessions';

interface TableSpec {
  kind: RollupTable;
  table: string;
  source: string;
  time: string;
  columns: Column[];
}

const TABLES: Record<RollupTable, TableSpec> = {
  messages: {
    kind: 'messages',
    table: 'message_rollups',
    source: 'messages',
    time: 'created_at',
    columns: MESSAGE_COLUMNS,
  },
  sessions: {
    kind: 'sessions',
    table: 'session_rollups',
    source: 'conversations',
    time: 'started_at',
    columns: SESSION_COLUMNS,
  },
};

/** The column names of a rollup, in order. */
export function rollupColumns(table: RollupTable): string[] {
  return TABLES[table].columns.map((c) => c.name);
}

/** A column's contribution for one row (r), signed by d (1 or −1): for the migration's triggers. */
export function contribution(table: RollupTable, column: string, r: string, d: string = '1'): string {
  const c = TABLES[table].columns.find((x) => x.name === column);
  if (!c) throw new Error(`no rollup column ${column}`);
  return `CASE WHEN ${c.when(r)} THEN ${c.value ? `${d} * ${c.value(r)}` : d} ELSE 0 END`;
}

/** The two session_seconds histograms: when a session has a value, and the value (rounded seconds). */
export function secondsKinds(
  dialect: Dialect,
  r: string,
): { kind: 'first' | 'duration'; when: string; seconds: string }[] {
  return [
    {
      kind: 'first',
      when: `${r}.first_user_at IS NOT NULL AND ${r}.first_response_at IS NOT NULL`,
      seconds: roundedSecondsBetween(dialect, `${r}.first_response_at`, `${r}.first_user_at`),
    },
    {
      kind: 'duration',
      when: `${r}.ended_at IS NOT NULL`,
      seconds: roundedSecondsBetween(dialect, `${r}.last_message_at`, `${r}.started_at`),
    },
  ];
}

export interface RollupFilter {
  clientId?: number;
  /** Inclusive. */
  start?: Date;
  /** Exclusive. */
  end?: Date;
}

/**
 * How rows are grouped: by quarter hour (UTC), or by the local hour, day or weekday-hour (Monday 0 …
 * Sunday 6, × 24 + hour) of a zone, or not at all. The zone is given as its offsets: from instant
 * `from` (epoch ms) on, `minutes` east of UTC; a quarter hour takes the offset of its start.
 */
export interface Grouping {
  unit: 'quarter' | 'hour' | 'day' | 'weekhour' | 'all';
  offsets?: { from: number; minutes: number }[];
}

export interface RollupRow {
  clientId: number;
  /** Quarter hours, local hours or local days since 1970-01-01 (local), weekday × 24 + hour, or 0. */
  key: number;
  sums: Record<string, number>;
}

/** Each client's sums over all its groups. */
export function addUp(rows: readonly RollupRow[]): Map<number, Record<string, number>> {
  const totals = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const into = totals.get(r.clientId) ?? {};
    for (const [column, n] of Object.entries(r.sums)) into[column] = (into[column] ?? 0) + n;
    totals.set(r.clientId, into);
  }
  return totals;
}

export interface SecondsRow {
  clientId: number;
  kind: 'first' | 'duration';
  seconds: number;
  n: number;
}

export interface RollupCheck {
  /** Rollup rows that agree with the source tables. */
  matching: number;
  /** Where a rollup and the exact count differ. */
  differences: {
    table: string;
    clientId: number;
    /** The quarter hour's (or day's) start, epoch ms. */
    at: number;
    column: string;
    rollup: number;
    exact: number;
  }[];
}

export class RollupsRepository {
  constructor(private readonly q: Querier) {}

  /**
   * Sums of a rollup's columns per client and group over the filter's range: whole hours from the
   * hourly rows (when the zone's offsets and their changes are whole hours, as for most zones), whole
   * quarter hours from the quarter-hour rows, the partial quarter hours at the edges counted exactly
   * from the source table.
   */
  async sums(
    table: RollupTable,
    filter: RollupFilter,
    grouping: Grouping,
    /** Only these columns (default all). */
    only?: readonly string[],
  ): Promise<RollupRow[]> {
    const all = TABLES[table];
    const columns = only ? all.columns.filter((c) => only.includes(c.name)) : all.columns;
    if (only && columns.length !== only.length) throw new Error(`unknown ${table} rollup column in ${only.join(', ')}`);
    const spec = { ...all, columns };
    const hourly =
      grouping.unit !== 'quarter' &&
      (grouping.offsets ?? []).every(
        (o) => o.minutes % 60 === 0 && (!Number.isFinite(o.from) || o.from % LEVELS.hour.ms === 0),
      );
    // The finest level a group's key is exact for; UTC days when the groups are days or there are none.
    const fine = hourly ? LEVELS.hour : LEVELS.quarter;
    const daily = grouping.unit === 'day' || grouping.unit === 'all';
    const levels = [...(daily ? [LEVELS.day] : []), ...(hourly ? [LEVELS.hour] : []), LEVELS.quarter];
    const sums = spec.columns.map((c) => `SUM(${c.name}) AS ${c.name}`).join(', ');
    // Every client's rows are a range of the key (client, level, bucket): one range per client, not a
    // scan of the whole table, when all clients are asked.
    const ids = filter.clientId === undefined ? await this.clientIds() : [filter.clientId];
    if (!ids.length) return [];
    const clients = `client_id IN (${ids.map(() => '?').join(', ')})`;
    const parts = split(filter.start?.getTime(), filter.end?.getTime(), levels).map((piece) => {
      if (piece.level === null) {
        return this.exactSums(spec, { ...filter, start: date(piece.start), end: date(piece.end) }, grouping, ids);
      }
      const range = (level: Level) =>
        conditions([
          ['level = ?', level.level],
          ['bucket >= ?', piece.start === undefined ? undefined : piece.start / level.ms],
          ['bucket < ?', piece.end === undefined ? undefined : piece.end / level.ms],
        ]);
      const read = (level: Level, key: string, extra = '') => {
        const { where, params } = range(level);
        return this.q.all(
          `SELECT client_id, ${key} AS k, ${sums} FROM ${spec.table}
           WHERE ${clients} ${where ? `AND ${where.slice('WHERE '.length)}` : ''} ${extra} GROUP BY 1, 2`,
          [...ids, ...params],
        );
      };
      if (piece.level !== LEVELS.day || grouping.unit === 'all') {
        return read(piece.level, keyOf('bucket', piece.level.ms, grouping));
      }
      // Local days from UTC days: each counts for the local day of its noon; the finer rows of it that
      // fall in another local day are moved there (added to theirs, taken from the noon's).
      const per = DAY_MS / fine.ms;
      const own = keyOf('bucket', fine.ms, grouping);
      const noon = keyOf(`(bucket / ${per} * ${per} + ${per / 2})`, fine.ms, grouping);
      const { where, params } = range(fine);
      // Which rows of a UTC day can fall in another local day than its noon, under any of the zone's
      // offsets: a cheap test that spares the others the key's arithmetic.
      const positions = misfitPositions(per, fine.ms, grouping);
      const days = read(LEVELS.day, keyOf(`(bucket * ${per} + ${per / 2})`, fine.ms, grouping));
      if (!positions.length) return days;
      return Promise.all([
        days,
        this.q.all(
          `SELECT client_id, ${own} AS k, ${noon} AS moved_from, ${sums} FROM ${spec.table}
           WHERE ${clients} AND ${where.slice('WHERE '.length)} AND bucket % ${per} IN (${positions.join(', ')})
             AND ${own} <> ${noon} GROUP BY 1, 2, 3`,
          [...ids, ...params],
        ),
      ]).then((rows) => rows.flat());
    });
    const merged = new Map<string, RollupRow>();
    const add = (clientId: unknown, key: unknown, r: Record<string, unknown>, sign: number) => {
      const id = `${clientId}|${key}`;
      let row = merged.get(id);
      if (!row) {
        row = {
          clientId: Number(clientId),
          key: Number(key),
          sums: Object.fromEntries(spec.columns.map((c) => [c.name, 0])),
        };
        merged.set(id, row);
      }
      for (const c of spec.columns) row.sums[c.name] = (row.sums[c.name] as number) + sign * Number(r[c.name] ?? 0);
    };
    for (const r of (await Promise.all(parts)).flat()) {
      add(r.client_id, r.k, r, 1);
      if (r.moved_from !== undefined) add(r.client_id, r.moved_from, r, -1);
    }
    // Groups whose moved rows left nothing are left out, as when nothing was counted in them.
    return [...merged.values()].filter((r) => Object.values(r.sums).some((n) => n !== 0));
  }

  /**
   * The first-response and duration histograms of the sessions that started in the range, per client:
   * whole UTC days from session_seconds, the partial days at the edges exactly from conversations.
   */
  async seconds(filter: RollupFilter): Promise<SecondsRow[]> {
    // The exact edges read each client's sessions by (client, started_at).
    const ids = filter.clientId === undefined ? await this.clientIds() : [filter.clientId];
    const start = filter.start?.getTime();
    const end = filter.end?.getTime();
    const first = start === undefined ? undefined : Math.ceil(start / DAY_MS);
    const last = end === undefined ? undefined : Math.floor(end / DAY_MS);
    const parts: Promise<Record<string, unknown>[]>[] = [];
    if (first !== undefined && last !== undefined && first >= last) {
      parts.push(this.exactSeconds(filter, ids));
    } else {
      const { where, params } = conditions([
        ['client_id = ?', filter.clientId],
        ['day >= ?', first],
        ['day < ?', last],
      ]);
      parts.push(
        this.q.all(
          `SELECT client_id, kind, seconds, SUM(n) AS n FROM session_seconds ${where} GROUP BY 1, 2, 3`,
          params,
        ),
      );
      if (start !== undefined && start % DAY_MS !== 0) {
        parts.push(this.exactSeconds({ ...filter, end: new Date((first as number) * DAY_MS) }, ids));
      }
      if (end !== undefined && end % DAY_MS !== 0) {
        parts.push(this.exactSeconds({ ...filter, start: new Date((last as number) * DAY_MS) }, ids));
      }
    }
    const merged = new Map<string, SecondsRow>();
    for (const r of (await Promise.all(parts)).flat()) {
      const id = `${r.client_id}|${r.kind}|${r.seconds}`;
      const row = merged.get(id);
      if (row) row.n += Number(r.n);
      else {
        merged.set(id, {
          clientId: Number(r.client_id),
          kind: r.kind as SecondsRow['kind'],
          seconds: Number(r.seconds),
          n: Number(r.n),
        });
      }
    }
    return [...merged.values()].filter((r) => r.n !== 0);
  }

  /**
   * Threads open in the range (first message before its end, last message at or after its start), per
   * client: (first message before the end) − (last message before the start), each a sum of whole UTC
   * days from thread_rollups plus the partial day counted exactly from threads.
   */
  async threadCounts(filter: RollupFilter): Promise<Map<number, number>> {
    const prefix = async (column: 'created_at' | 'last_message_at', sum: string, before: Date | undefined) => {
      const day = before === undefined ? undefined : Math.floor(before.getTime() / DAY_MS);
      const whole = conditions([
        ['client_id = ?', filter.clientId],
        ['day < ?', day],
      ]);
      const parts = [
        this.q.all(`SELECT client_id, SUM(${sum}) AS n FROM thread_rollups ${whole.where} GROUP BY 1`, whole.params),
      ];
      if (before !== undefined && before.getTime() % DAY_MS !== 0) {
        const edge = conditions([
          ['client_id = ?', filter.clientId],
          [`${column} >= ?`, new Date((day as number) * DAY_MS)],
          [`${column} < ?`, before],
        ]);
        parts.push(this.q.all(`SELECT client_id, COUNT(*) AS n FROM threads ${edge.where} GROUP BY 1`, edge.params));
      }
      const out = new Map<number, number>();
      for (const r of (await Promise.all(parts)).flat()) {
        out.set(Number(r.client_id), (out.get(Number(r.client_id)) ?? 0) + Number(r.n ?? 0));
      }
      return out;
    };
    const [opened, closed] = await Promise.all([
      prefix('created_at', 'created_n', filter.end),
      filter.start === undefined
        ? Promise.resolve(new Map<number, number>())
        : prefix('last_message_at', 'last_n', filter.start),
    ]);
    const out = new Map<number, number>();
    for (const [clientId, n] of opened) {
      const open = n - (closed.get(clientId) ?? 0);
      if (open > 0) out.set(clientId, open);
    }
    return out;
  }

  private async clientIds(): Promise<number[]> {
    return (await this.q.all('SELECT id FROM clients ORDER BY id')).map((r) => Number(r.id));
  }

  /** The first and last instants (epoch ms) with messages, or null when there are none. */
  async span(clientId?: number): Promise<{ first: number; last: number } | null> {
    const { where, params } = conditions([['client_id = ?', clientId]]);
    const [r] = await this.q.all(
      `SELECT MIN(bucket) AS a, MAX(bucket) AS b FROM message_rollups ${where ? `${where} AND` : 'WHERE'} level = 1`,
      params,
    );
    if (r?.a === null || r?.a === undefined) return null;
    return { first: Number(r.a) * LEVELS.hour.ms, last: (Number(r.b) + 1) * LEVELS.hour.ms };
  }

  /**
   * Recounts every rollup from messages and conversations, in one transaction (PostgreSQL: with
   * ingest paused by the exclusive ingest lock, so no batch commits in between). Returns the rows written.
   */
  async rebuild(): Promise<number> {
    return this.q.transaction(
      async (tx) => {
        let rows = 0;
        for (const spec of Object.values(TABLES)) {
          await tx.run(`DELETE FROM ${spec.table}`);
          rows += await tx.run(
            `INSERT INTO ${spec.table} (client_id, level, bucket, ${spec.columns.map((c) => c.name).join(', ')})
             ${this.exactQuery(spec)}`,
          );
        }
        await tx.run('DELETE FROM session_seconds');
        rows += await tx.run(
          `INSERT INTO session_seconds (client_id, day, kind, seconds, n) ${this.exactSecondsQuery()}`,
        );
        await tx.run('DELETE FROM thread_rollups');
        rows += await tx.run(
          `INSERT INTO thread_rollups (client_id, day, created_n, last_n) ${this.exactThreadsQuery()}`,
        );
        return rows;
      },
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }

  /** Compares every rollup with an exact count (reads everything: for checks and tests). */
  async check(): Promise<RollupCheck> {
    return this.q.transaction(
      async (tx) => {
        const differences: RollupCheck['differences'] = [];
        let matching = 0;
        const compare = (
          table: string,
          rollups: Record<string, unknown>[],
          exact: Record<string, unknown>[],
          key: (r: Record<string, unknown>) => string,
          at: (r: Record<string, unknown>) => number,
          columns: { name: string; label: (r: Record<string, unknown>) => string }[],
        ) => {
          const want = new Map(exact.map((r) => [key(r), r]));
          const seen = new Set<string>();
          const diff = (
            r: Record<string, unknown>,
            got: Record<string, unknown> | undefined,
            e: Record<string, unknown> | undefined,
          ) => {
            let same = true;
            for (const c of columns) {
              const rollup = Number(got?.[c.name] ?? 0);
              const exactN = Number(e?.[c.name] ?? 0);
              if (rollup !== exactN) {
                same = false;
                differences.push({
                  table,
                  clientId: Number(r.client_id),
                  at: at(r),
                  column: c.label(r),
                  rollup,
                  exact: exactN,
                });
              }
            }
            return same;
          };
          for (const r of rollups) {
            seen.add(key(r));
            if (diff(r, r, want.get(key(r)))) matching++;
          }
          for (const [k, e] of want) if (!seen.has(k)) diff(e, undefined, e);
        };
        for (const spec of Object.values(TABLES)) {
          const names = spec.columns.map((c) => c.name);
          compare(
            spec.table,
            await tx.all(`SELECT client_id, level, bucket, ${names.join(', ')} FROM ${spec.table}`),
            await tx.all(`SELECT * FROM (${this.exactQuery(spec)}) x`),
            (r) => `${r.client_id}|${r.level}|${r.bucket}`,
            (r) => Number(r.bucket) * levelOf(Number(r.level)).ms,
            names.map((name) => ({ name, label: () => name })),
          );
        }
        compare(
          'session_seconds',
          await tx.all('SELECT client_id, day, kind, seconds, n FROM session_seconds WHERE n <> 0'),
          await tx.all(`SELECT * FROM (${this.exactSecondsQuery()}) x`),
          (r) => `${r.client_id}|${r.day}|${r.kind}|${r.seconds}`,
          (r) => Number(r.day) * DAY_MS,
          [{ name: 'n', label: (r) => `${r.kind} ${r.seconds} s` }],
        );
        compare(
          'thread_rollups',
          await tx.all('SELECT client_id, day, created_n, last_n FROM thread_rollups'),
          await tx.all(`SELECT * FROM (${this.exactThreadsQuery()}) x`),
          (r) => `${r.client_id}|${r.day}`,
          (r) => Number(r.day) * DAY_MS,
          ['created_n', 'last_n'].map((name) => ({ name, label: () => name })),
        );
        return { matching, differences };
      },
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }

  /** A time column's bucket number (quarter hours, hours, days since the epoch). */
  private bucketOf(column: string, ms: number = LEVELS.quarter.ms): string {
    return this.q.dialect === 'sqlite'
      ? epochBucket('sqlite', column, ms / 1000)
      : `${epochBucket('postgres', column, ms / 1000)}::bigint`;
  }

  private dayOf(column: string): string {
    return this.bucketOf(column, DAY_MS);
  }

  /** Every rollup row of a table (both levels), counted from its source (the rebuild's SELECT). */
  private exactQuery(spec: TableSpec): string {
    const sums = spec.columns.map((c) => `SUM(${contribution(spec.kind, c.name, 'r')}) AS ${c.name}`).join(', ');
    return Object.values(LEVELS)
      .map(
        ({ level, ms }) => `SELECT r.client_id, ${level} AS level, ${this.bucketOf(`r.${spec.time}`, ms)} AS bucket,
              ${sums} FROM ${spec.source} r GROUP BY 1, 2, 3`,
      )
      .join(' UNION ALL ');
  }

  private exactThreadsQuery(): string {
    return `SELECT client_id, day, SUM(c) AS created_n, SUM(l) AS last_n FROM (
              SELECT client_id, ${this.dayOf('created_at')} AS day, 1 AS c, 0 AS l FROM threads
              UNION ALL SELECT client_id, ${this.dayOf('last_message_at')}, 0, 1 FROM threads) x GROUP BY 1, 2`;
  }

  private exactSecondsQuery(filter: RollupFilter = {}, byDay = true): string {
    const range = [
      filter.clientId === undefined ? null : 'r.client_id = ?',
      filter.start === undefined ? null : 'r.started_at >= ?',
      filter.end === undefined ? null : 'r.started_at < ?',
    ].filter(Boolean);
    return secondsKinds(this.q.dialect, 'r')
      .map(
        (k) => `SELECT r.client_id, ${byDay ? `${this.dayOf('r.started_at')} AS day, ` : ''}'${k.kind}' AS kind,
                  ${k.seconds} AS seconds, COUNT(*) AS n
                FROM conversations r WHERE ${[k.when, ...range].join(' AND ')}
                GROUP BY ${byDay ? '1, 2, 3, 4' : '1, 2, 3'}`,
      )
      .join(' UNION ALL ');
  }

  /** Counts over a (short) range from the source table, by the (client, time) index of each client. */
  private async exactSums(
    spec: TableSpec,
    filter: RollupFilter,
    grouping: Grouping,
    ids: number[],
  ): Promise<Record<string, unknown>[]> {
    const { where, params } = conditions([
      [`r.${spec.time} >= ?`, filter.start],
      [`r.${spec.time} < ?`, filter.end],
    ]);
    return this.q.all(
      `SELECT r.client_id, ${keyOf(this.bucketOf(`r.${spec.time}`), LEVELS.quarter.ms, grouping)} AS k,
         ${spec.columns.map((c) => `SUM(${contribution(spec.kind, c.name, 'r')}) AS ${c.name}`).join(', ')}
       FROM ${spec.source} r WHERE r.client_id IN (${ids.map(() => '?').join(', ')})
       ${where ? `AND ${where.slice('WHERE '.length)}` : ''} GROUP BY 1, 2`,
      [...ids, ...params],
    );
  }

  private async exactSeconds(filter: RollupFilter, ids: number[]): Promise<Record<string, unknown>[]> {
    const results = await Promise.all(
      ids.map((clientId) => {
        const f = { ...filter, clientId };
        const params = [f.clientId, f.start, f.end].filter((v) => v !== undefined);
        // One set of parameters per histogram (the query is a UNION of two).
        return this.q.all(this.exactSecondsQuery(f, false), [...params, ...params]);
      }),
    );
    return results.flat();
  }
}

/** The levels of the rollup tables: quarter hours (level 0), hours (level 1) and UTC days (level 2). */
const LEVELS = {
  quarter: { level: 0, ms: ROLLUP_BUCKET_MS },
  hour: { level: 1, ms: 3_600_000 },
  day: { level: 2, ms: DAY_MS },
} as const;
type Level = (typeof LEVELS)[keyof typeof LEVELS];

function levelOf(n: number): Level {
  const level = Object.values(LEVELS).find((l) => l.level === n);
  if (!level) throw new Error(`no rollup level ${n}`);
  return level;
}

/**
 * SQLite: the rollups of a group commit's new messages, counted by one grouped upsert instead of two
 * row upserts per message (SQLite has no statement triggers). The last message id before the batch is
 * noted in rollup_deferrals, inside the writer's transaction; the message triggers skip the rows after
 * it (their inserts, and their updates and deletes within the batch), and before `write`'s result is
 * returned the rows after it are counted in their final state and the note is deleted, all before the
 * transaction commits: no other connection sees the note, and a failed batch rolls back with it.
 * PostgreSQL's statement triggers already count a batch at once: `write` runs as it is.
 */
export async function batchMessageRollups<T>(tx: Querier, write: () => Promise<T>): Promise<T> {
  if (tx.dialect !== 'sqlite') return write();
  await tx.run('INSERT INTO rollup_deferrals (id, messages_after) SELECT 1, COALESCE(MAX(id), 0) FROM messages');
  const result = await write();
  await tx.run(BATCHED_MESSAGES_SQL);
  await tx.run('DELETE FROM rollup_deferrals');
  return result;
}

// The quarter hours first (NOT INDEXED: the batch's rows by their ids, a rowid range, never a scan
// of an index in group order), then the hours and days summed from them.
const BATCHED_MESSAGES_SQL = (() => {
  const columns = MESSAGE_COLUMNS.map((c) => c.name);
  const { quarter, hour, day } = LEVELS;
  return `WITH q AS (
      SELECT r.client_id, r.created_at / ${quarter.ms} AS bucket,
        ${columns.map((c) => `SUM(${contribution('messages', c, 'r')}) AS ${c}`).join(', ')}
      FROM messages r NOT INDEXED WHERE r.id > (SELECT messages_after FROM rollup_deferrals) GROUP BY 1, 2)
    INSERT INTO message_rollups (client_id, level, bucket, ${columns.join(', ')})
    SELECT client_id, ${quarter.level}, bucket, ${columns.join(', ')} FROM q WHERE true
    UNION ALL
    ${[hour, day]
      .map(
        (
          l,
        ) => `SELECT client_id, ${l.level}, bucket / ${l.ms / quarter.ms}, ${columns.map((c) => `SUM(${c})`).join(', ')}
    FROM q GROUP BY 1, 3`,
      )
      .join('\n    UNION ALL\n    ')}
    ON CONFLICT (client_id, level, bucket) DO UPDATE SET
      ${columns.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
})();

const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

/**
 * A range cut into what each level can answer: whole buckets of the first level, then of the next for
 * what is left at the edges, and what no level covers (level null: counted exactly).
 */
function split(
  start: number | undefined,
  end: number | undefined,
  levels: Level[],
): { level: Level | null; start?: number; end?: number }[] {
  const [level, ...rest] = levels;
  if (!level) return [{ level: null, start, end }];
  const first = start === undefined ? undefined : Math.ceil(start / level.ms) * level.ms;
  const last = end === undefined ? undefined : Math.floor(end / level.ms) * level.ms;
  if (first !== undefined && last !== undefined && first >= last) return split(start, end, rest);
  const out: { level: Level | null; start?: number; end?: number }[] = [{ level, start: first, end: last }];
  if (start !== undefined && first !== start) out.push(...split(start, first, rest));
  if (end !== undefined && last !== end) out.push(...split(last, end, rest));
  return out;
}

/**
 * The positions (0 … per − 1) of a UTC day's rows `ms` long whose local day differs from that of the
 * day's noon under one of the grouping's offsets.
 */
function misfitPositions(per: number, ms: number, g: Grouping): number[] {
  const minutes = [...new Set((g.offsets?.length ? g.offsets : [{ minutes: 0 }]).map((o) => o.minutes))];
  const step = ms / 60_000;
  const dayOf = (p: number, offset: number) => Math.floor((p * step + offset) / 1440);
  const out: number[] = [];
  // The row and the noon may have different offsets when the zone's offset changes that day.
  for (let p = 0; p < per; p++) {
    if (minutes.some((m) => minutes.some((n) => dayOf(p, m) !== dayOf(per / 2, n)))) out.push(p);
  }
  return out;
}

/** The SQL of a group's key from a bucket number `ms` long (an integer expression). */
function keyOf(bucket: string, ms: number, g: Grouping): string {
  if (g.unit === 'all') return '0';
  if (g.unit === 'quarter') return bucket;
  const offsets = g.offsets?.length ? g.offsets : [{ from: Number.NEGATIVE_INFINITY, minutes: 0 }];
  const whole = (x: number) => {
    if (!Number.isInteger(x)) throw new Error(`offset ${x} is not whole minutes`);
    return x;
  };
  // Minutes of local time since 1970-01-01T00:00 (local): the bucket's start plus its offset.
  let offset = String(whole((offsets[offsets.length - 1] as { minutes: number }).minutes));
  if (offsets.length > 1) {
    const branches = offsets.slice(1).map((o, i) => {
      const before = whole((offsets[i] as { minutes: number }).minutes);
      return `WHEN ${bucket} < ${Math.ceil(o.from / ms)} THEN ${before}`;
    });
    offset = `CASE ${branches.join(' ')} ELSE ${offset} END`;
  }
  const local = `(${bucket} * ${ms / 60_000} + ${offset})`;
  switch (g.unit) {
    case 'hour':
      return `(${local} / 60)`;
    case 'day':
      return `(${local} / 1440)`;
    case 'weekhour':
      // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
      return `(((${local} / 1440 + 3) % 7) * 24 + (${local} / 60) % 24)`;
  }
}
