// Everything that is spelt differently in SQLite and PostgreSQL, in one place. Repositories write
// one SQL text with '?' placeholders and take the few differing pieces from here.
//
// Storage conventions the two share: times are UTC instants (SQLite: integer epoch milliseconds,
// as Prisma's SQLite engine writes them; PostgreSQL: timestamptz), booleans are 0/1 in SQLite.

export type Dialect = 'sqlite' | 'postgres';

/**
 * PostgreSQL advisory lock key: taken shared by every ingest batch and exclusively by what deletes
 * conversations (erasing a contact, archive deletions), so those never interleave with a batch.
 * SQLite needs no such lock: it has one writer at a time.
 */
export const INGEST_LOCK_KEY = 7_141_985_001;

/** The statement that takes the ingest lock for the rest of the transaction, or null (SQLite). */
export function ingestLock(dialect: Dialect, mode: 'shared' | 'exclusive'): string | null {
  if (dialect === 'sqlite') return null;
  return `SELECT pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(${INGEST_LOCK_KEY})`;
}

/**
 * PostgreSQL advisory locks of users, by stripe of their wa_id: two-int keys (USER_LOCK_SPACE,
 * stripe), a key space the one-int INGEST_LOCK_KEY never meets. A transaction that writes a user's
 * messages or statuses takes them before its first statement, so its snapshots see whatever
 * another daemon's transaction on the same user committed (a status that raced ahead of the
 * answer it belongs to is applied by one of the two, never lost between them). Stripes bound the
 * locks a big batch holds; two users sharing one only wait for each other.
 */
const USER_LOCK_SPACE = 71_419;
const USER_STRIPES = 1024;

/** SQL: the stripe of the user whose wa_id is `waId` (an SQL expression). */
const stripeSql = (waId: string): string => `(hashtext(${waId})::bigint & ${USER_STRIPES - 1})::int`;

/** SQL: the stripe lock of the user whose wa_id is `waId` (an SQL expression), for the transaction. */
export const userLockSql = (waId: string): string => `pg_advisory_xact_lock(${USER_LOCK_SPACE}, ${stripeSql(waId)})`;

/** The statement taking the stripe locks of these users in ascending order (no deadlock), or null. */
export function userLocks(dialect: Dialect, waIds: Iterable<string>): string | null {
  if (dialect === 'sqlite') return null;
  const ids = [...new Set(waIds)];
  if (ids.length === 0) return null;
  const list = ids.map((w) => `'${w.replace(/'/g, "''")}'`).join(', ');
  return `SELECT pg_advisory_xact_lock(${USER_LOCK_SPACE}, s) FROM (
    SELECT DISTINCT ${stripeSql('w')} AS s FROM unnest(ARRAY[${list}]::text[]) w
    ORDER BY s) stripes`;
}

/** Two-argument maximum / minimum (SQLite's scalar MAX and MIN). */
export const greatest = (dialect: Dialect): string => (dialect === 'sqlite' ? 'MAX' : 'GREATEST');
export const least = (dialect: Dialect): string => (dialect === 'sqlite' ? 'MIN' : 'LEAST');

/** Null-safe equality (`a IS b` in SQLite). */
export const sameAs = (dialect: Dialect): string => (dialect === 'sqlite' ? 'IS' : 'IS NOT DISTINCT FROM');

/**
 * A time truncated to the second. WhatsApp stamps messages in whole seconds while answers carry
 * milliseconds: within one second, the order of arrival (id) is the true order.
 */
export function secondOf(dialect: Dialect, column: string): string {
  return dialect === 'sqlite' ? `(${column} / 1000)` : `date_trunc('second', ${column})`;
}

/** The number of whole `seconds`-long buckets since the epoch in which a time falls. */
export function epochBucket(dialect: Dialect, column: string, seconds: number): string {
  return dialect === 'sqlite' ? `(${column} / ${seconds * 1000})` : `floor(extract(epoch from ${column}) / ${seconds})`;
}

/** Whole seconds from `earlier` to `later` (both times). */
export function secondsBetween(dialect: Dialect, later: string, earlier: string): string {
  return dialect === 'sqlite' ? `(${later} - ${earlier}) / 1000` : `floor(extract(epoch from (${later} - ${earlier})))`;
}

/** '?' placeholders become $1, $2, … for PostgreSQL. */
export function placeholders(dialect: Dialect, sql: string): string {
  if (dialect === 'sqlite') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A value as the driver must receive it for this database. */
export function bind(dialect: Dialect, value: unknown): unknown {
  if (dialect === 'sqlite') {
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value;
  }
  // PostgreSQL text cannot hold NUL: one such character would fail a whole group commit.
  if (typeof value === 'string' && value.includes('\u0000')) return value.replaceAll('\u0000', '\uFFFD');
  return value;
}

/** A time plus a number of seconds (an SQL expression). */
export function plusSeconds(dialect: Dialect, column: string, seconds: string): string {
  return dialect === 'sqlite' ? `(${column} + (${seconds}) * 1000)` : `(${column} + make_interval(secs => ${seconds}))`;
}

/** LIKE that ignores case (SQLite's LIKE already does, for ASCII). */
export const likeIgnoringCase = (dialect: Dialect): string => (dialect === 'sqlite' ? 'LIKE' : 'ILIKE');

/** A LIKE pattern matching `text` anywhere, its wildcards escaped (use with ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Seconds from `earlier` to `later`, rounded to the nearest whole second (half up), never below 0. */
export function roundedSecondsBetween(dialect: Dialect, later: string, earlier: string): string {
  return dialect === 'sqlite'
    ? `MAX(0, CAST(ROUND((${later} - ${earlier}) / 1000.0) AS INTEGER))`
    : `GREATEST(0, round(extract(epoch from (${later} - ${earlier})))::bigint)`;
}
