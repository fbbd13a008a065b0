// The query layer: plain SQL straight through each database's driver (better-sqlite3, pg), with
// one spelling for both ('?' placeholders, values bound per database, see dialect.ts), prepared
// statements cached per connection, transactions, and driver failures turned into errors that say
// what to do. Repositories (repositories/) are written against `Querier`; so a caller can compose
// several of them in one transaction, a Querier inside a transaction joins it.
//
// Why SQL and not Prisma Client here: these are the hot paths (ingest group commits, reply
// bookkeeping, streamed reports of 100,000 messages, statistics at millions of rows). Through
// Prisma's adapter every ingest batch re-prepared its statements, which halved throughput; a row
// read by id costs 3.4 µs through better-sqlite3 against 91 µs through $queryRaw and 189 µs through
// findUnique (measured on these machines). Prisma's role is in prisma.ts.
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { KeyRing } from '../domain/key-ring.js';
import { WaReportError } from '../errors.js';
import { describePostgresError, describeSqliteError, openSqliteFile, PG_CONNECT_TIMEOUT_MS } from './connect.js';
import { bind, placeholders, type Dialect } from './dialect.js';
import type { DbTarget } from './target.js';

export type Row = Record<string, unknown>;

/**
 * PostgreSQL: a data-modifying CTE another statement carries (`WITH …, name AS (sql)`), so two
 * writes of one transaction cost one round trip. `sql(k)` numbers its parameters from $k.
 */
export interface StatementRider {
  /** Part of the carrying statement's prepared name (the text differs with each rider). */
  name: string;
  sql(firstParam: number): string;
  params: unknown[];
}

export interface Querier {
  readonly dialect: Dialect;
  /** The keys content is sealed with in this database (repositories seal and open with them). */
  readonly keys: KeyRing;
  /**
   * Rows of a statement ('?' placeholders). `name`: PostgreSQL prepares it once per connection under
   * that name, so its text must never change (and may use $n placeholders itself).
   */
  all<T = Row>(sql: string, params?: readonly unknown[], name?: string): Promise<T[]>;
  /**
   * Rows as arrays of values in the order of the select list (better-sqlite3 raw mode, pg rowMode
   * 'array'): no object per row, for the reads that stream 100,000s of rows (exports).
   */
  values(sql: string, params?: readonly unknown[]): Promise<unknown[][]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs `fn` in one transaction. Inside a transaction it joins that one. `begin`: a statement
   * without parameters run first (PostgreSQL: sent with BEGIN, in the same round trip).
   */
  transaction<T>(fn: (tx: Querier) => Promise<T>, begin?: string | null): Promise<T>;
  /**
   * Runs `fn` once the current transaction has committed (never if it rolls back); outside a
   * transaction, right away. For work that must only see committed data (waking the delivery worker).
   */
  afterCommit(fn: () => void): void;
}

export interface Database extends Querier {
  readonly target: DbTarget;
  /** The PostgreSQL connection pool (Prisma shares it), or null on SQLite. */
  readonly pool: pg.Pool | null;
  /** SQLite: moves the write-ahead log into the file and empties it (old page images gone). */
  checkpoint(): Promise<boolean>;
  close(): Promise<void>;
}

/** Low-level statements on one connection (values already bound, placeholders already numbered). */
interface Connection {
  all<T>(sql: string, params: unknown[], name?: string): Promise<T[]>;
  values(sql: string, params: unknown[]): Promise<unknown[][]>;
  run(sql: string, params: unknown[]): Promise<number>;
}

export function openDatabase(target: DbTarget, keys: KeyRing): Promise<Database> {
  return target.kind === 'sqlite' ? Promise.resolve(openSqlite(target, keys)) : openPostgres(target, keys);
}

/**
 * A Querier over a connection: placeholders and binding applied; with `target`, driver failures
 * described (inside a transaction the transaction itself describes them, once).
 */
function querier(
  dialect: Dialect,
  keys: KeyRing,
  target: DbTarget | null,
  c: Connection,
  transaction: Querier['transaction'],
  afterCommit: Querier['afterCommit'] = runNow,
): Querier {
  const values = (params: readonly unknown[]) => params.map((p) => bind(dialect, p));
  const all = <T>(sql: string, params: readonly unknown[] = [], name?: string) =>
    c.all<T>(name ? sql : placeholders(dialect, sql), values(params), name);
  const run = (sql: string, params: readonly unknown[] = []) => c.run(placeholders(dialect, sql), values(params));
  const arrays = (sql: string, params: readonly unknown[] = []) => c.values(placeholders(dialect, sql), values(params));
  if (!target) return { dialect, keys, all, values: arrays, run, transaction, afterCommit };
  return {
    dialect,
    keys,
    all: <T>(sql: string, params: readonly unknown[] = [], name?: string) =>
      guard(target, () => all<T>(sql, params, name)),
    values: (sql: string, params: readonly unknown[] = []) => guard(target, () => arrays(sql, params)),
    run: (sql: string, params: readonly unknown[] = []) => guard(target, () => run(sql, params)),
    transaction,
    afterCommit,
  };
}

function runNow(fn: () => void): void {
  fn();
}

/** What a transaction runs once it committed. */
class Committed {
  private pending: (() => void)[] = [];
  add = (fn: () => void): void => {
    this.pending.push(fn);
  };
  /** After COMMIT; a failing callback cannot undo the commit nor stop the others. */
  run(): void {
    const all = this.pending;
    this.pending = [];
    for (const fn of all) {
      try {
        fn();
      } catch {
        /* callbacks only wake things up; they must not throw */
      }
    }
  }
  discard(): void {
    this.pending = [];
  }
}

/** The Querier a transaction's work sees: nested transactions join it. */
function inTransaction(dialect: Dialect, keys: KeyRing, c: Connection, committed: Committed): Querier {
  const tx: Querier = querier(
    dialect,
    keys,
    null,
    c,
    async (fn, begin) => {
      if (begin) await tx.all(begin);
      return fn(tx);
    },
    committed.add,
  );
  return tx;
}

/**
 * Serializes async work (one transaction at a time per process and database). Inside a
 * transaction's callback, use the querier it was given: asking the database itself for another
 * transaction (or, on SQLite, a write) would wait for the first to end, which waits for it.
 */
function mutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

// ---------------------------------------------------------------------------------------------
// SQLite

function sqliteConnection(db: BetterSqlite3.Database): Connection {
  const statements = new Map<string, BetterSqlite3.Statement>();
  // Raw-mode statements are kept apart: raw(true) changes the statement itself.
  const rawStatements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string, raw = false) => {
    const cache = raw ? rawStatements : statements;
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (raw) stmt.raw(true);
      if (cache.size > 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
  return {
    async all<T>(sql: string, params: unknown[]): Promise<T[]> {
      const stmt = prepare(sql);
      return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[];
    },
    async values(sql: string, params: unknown[]): Promise<unknown[][]> {
      return prepare(sql, true).all(...params) as unknown[][];
    },
    async run(sql: string, params: unknown[]): Promise<number> {
      const stmt = prepare(sql);
      return stmt.reader ? stmt.all(...params).length : stmt.run(...params).changes;
    },
  };
}

function openSqlite(target: Extract<DbTarget, { kind: 'sqlite' }>, keys: KeyRing): Database {
  const db = openSqliteFile(target, false);
  const reads = sqliteConnection(db);
  // Transactions get their own connection: a read issued by another request while a transaction
  // awaits must not land inside it.
  let writer: { db: BetterSqlite3.Database; tx: Querier; committed: Committed } | null = null;
  const serial = mutex();
  const transaction = <T>(fn: (tx: Querier) => Promise<T>): Promise<T> =>
    serial(async () => {
      if (!writer) {
        const w = openSqliteFile(target, false);
        // Deleted and rewritten content is overwritten with zeros, not left in free pages: an
        // erased contact or a plaintext row replaced by its encrypted form is gone from the file.
        w.pragma('secure_delete = ON');
        const committed = new Committed();
        writer = { db: w, tx: inTransaction('sqlite', keys, sqliteConnection(w), committed), committed };
      }
      const { db: w, tx, committed } = writer;
      w.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        w.exec('COMMIT');
        committed.run();
        return result;
      } catch (error) {
        committed.discard();
        if (w.inTransaction) w.exec('ROLLBACK');
        throw error;
      }
    });
  const base = querier('sqlite', keys, target, reads, (fn) => guard(target, () => transaction(fn)));
  return {
    ...base,
    // Writes outside a transaction go through the writer too, one at a time: the reader waiting
    // for the write lock while this process's own transaction holds it would block the event loop
    // (the driver is synchronous) until the busy timeout.
    run: (sql, params) => base.transaction((tx) => tx.run(sql, params)),
    target,
    pool: null,
    async checkpoint() {
      // Busy while another connection reads: try a few times, then report it (the next one completes it).
      for (let attempt = 0; attempt < 10; attempt++) {
        const [r] = await base.all<{ busy: number }>('PRAGMA wal_checkpoint(TRUNCATE)');
        if (!r || Number(r.busy) === 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    },
    async close() {
      writer?.db.close();
      db.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** Connections per process and database, shared by the SQL layer and Prisma. */
export const POOL_SIZE = 10;

function isStalePlan(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
}

function pgConnection(c: { query: pg.Pool['query'] }): Connection {
  return {
    async all<T>(sql: string, params: unknown[], name?: string): Promise<T[]> {
      return (await (name ? c.query({ name, text: sql, values: params }) : c.query(sql, params))).rows as T[];
    },
    async values(sql: string, params: unknown[]): Promise<unknown[][]> {
      return (await c.query({ text: sql, values: params, rowMode: 'array' })).rows as unknown[][];
    },
    async run(sql: string, params: unknown[]): Promise<number> {
      return (await c.query(sql, params)).rowCount ?? 0;
    },
  };
}

async function openPostgres(target: Extract<DbTarget, { kind: 'postgres' }>, keys: KeyRing): Promise<Database> {
  const { default: pgDriver } = await import('pg');
  const pool = new pgDriver.Pool({
    connectionString: target.url,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    max: POOL_SIZE,
    application_name: 'wa-report',
  });
  pool.on('error', () => {
    /* a broken idle connection is replaced on the next query */
  });
  const serial = mutex();
  const once = async <T>(fn: (tx: Querier) => Promise<T>, begin?: string | null): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    const committed = new Committed();
    // A connection that dies between two statements of the transaction emits 'error' on the
    // client; without a listener that would crash the process. The failing query reports it.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      // Simple protocol: several statements in one round trip.
      await client.query(begin ? `BEGIN; ${begin}` : 'BEGIN');
      const tx = inTransaction(
        'postgres',
        keys,
        pgConnection(client as unknown as { query: pg.Pool['query'] }),
        committed,
      );
      const result = await fn(tx);
      await client.query('COMMIT');
      committed.run();
      return result;
    } catch (error) {
      committed.discard();
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (isStalePlan(error)) broken = true;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  };
  const transaction = <T>(fn: (tx: Querier) => Promise<T>, begin?: string | null): Promise<T> =>
    guard(target, () =>
      serial(async () => {
        // A migration that changes a table under a statement a connection prepared (the ingest
        // statements are named) fails it with "cached plan must not change result type": that
        // connection is dropped and the transaction, rolled back, runs again on another one.
        for (let attempt = 0; ; attempt++) {
          try {
            return await once(fn, begin);
          } catch (error) {
            if (!isStalePlan(error) || attempt >= POOL_SIZE) throw error;
          }
        }
      }),
    );
  return {
    ...querier('postgres', keys, target, pgConnection(pool), transaction),
    target,
    pool,
    checkpoint: async () => true,
    close: () => pool.end(),
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Turns driver failures into errors that say what to do. */
async function guard<T>(target: DbTarget, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw describeDatabaseError(target, error);
  }
}

/** A driver (or Prisma) failure as an error that says what to do; our own errors pass through. */
export function describeDatabaseError(target: DbTarget, error: unknown): unknown {
  if (error instanceof WaReportError) return error;
  const cause = (error as { cause?: unknown }).cause ?? error;
  const described =
    target.kind === 'sqlite'
      ? describeSqliteError(target, findSqliteCode(error) ?? cause)
      : describePostgresError(target, findPgCause(error));
  return described ?? error;
}

function findSqliteCode(error: unknown): { code: string } | null {
  const text = `${(error as Error)?.message ?? ''} ${JSON.stringify((error as { meta?: unknown })?.meta ?? '')}`;
  const m = /SQLITE_[A-Z_]+/.exec(text);
  if (m) return { code: m[0] };
  if (/readonly|read-only/i.test(text)) return { code: 'SQLITE_READONLY' };
  if (/database or disk is full/i.test(text)) return { code: 'SQLITE_FULL' };
  return null;
}

function findPgCause(error: unknown): unknown {
  const e = error as {
    cause?: unknown;
    code?: string;
    message?: string;
    meta?: { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } };
  };
  const code = (e.cause as { code?: string } | undefined)?.code ?? e.meta?.driverAdapterError?.cause?.originalCode;
  if (code) return { code, message: e.message };
  if (/ECONNREFUSED|timeout|terminated|DatabaseNotReachable/i.test(e.message ?? '')) {
    return { code: 'ECONNREFUSED', message: e.message };
  }
  return error;
}
