// Opens the database a command asked for, creating and migrating it on first use.
import { accessSync, constants as fsConstants, existsSync, mkdirSync, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { AuthError, DatabaseError } from '../errors.js';
import {
  assertMigratable,
  computeStatus,
  migratePostgres,
  migrateSqlite,
  postgresStatus,
  readShippedMigrations,
  sqliteStatus,
  type MigrationStatus,
} from './migrator.js';
import type { DbTarget } from './target.js';

export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

const FULL_ADVICE = 'Free some space and retry; the data already stored is intact.';
export const PG_CONNECT_TIMEOUT_MS = 5_000;

export type MigrateMode = 'apply' | 'verify';

/**
 * Applies pending migrations ('apply', what every command does) or only checks that this build
 * can use the database ('verify'). Returns the resulting status.
 */
export async function prepareDatabase(
  target: DbTarget,
  mode: MigrateMode = 'apply',
): Promise<{ applied: string[]; status: MigrationStatus }> {
  if (target.kind === 'sqlite') {
    const db = openSqliteFile(target, mode === 'apply');
    try {
      if (mode === 'verify') {
        const status = sqliteStatus(db);
        assertMigratable(status, target.display);
        return { applied: [], status };
      }
      return await withSqliteErrors(target, () => migrateSqlite(db, target.path));
    } finally {
      db.close();
    }
  }
  const client = await connectPostgres(target);
  try {
    if (mode === 'verify') {
      const status = await postgresStatus(client);
      assertMigratable(status, target.display);
      return { applied: [], status };
    }
    return await migratePostgres(client, target.display);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The migration status as it is, without creating or changing anything. */
export async function readMigrationStatus(target: DbTarget): Promise<MigrationStatus> {
  if (target.kind === 'sqlite') {
    if (!existsSync(target.path)) return computeStatus(readShippedMigrations('sqlite'), []);
    const db = openSqliteFile(target, false);
    try {
      return sqliteStatus(db);
    } finally {
      db.close();
    }
  }
  const client = await connectPostgres(target);
  try {
    return await postgresStatus(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Opens (and if allowed creates) the SQLite file with WAL, synchronous=NORMAL and a busy timeout. */
export function openSqliteFile(target: Extract<DbTarget, { kind: 'sqlite' }>, create: boolean): Database.Database {
  const dir = dirname(target.path);
  if (!existsSync(target.path)) {
    if (!create) throw new DatabaseError(`No database at ${target.path}. Run \`wa-report db migrate\` to create it.`);
    if (target.isDefault) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } else if (!existsSync(dir)) {
      throw new DatabaseError(
        `Cannot create the database ${target.path}: the directory ${dir} does not exist. Create it, or choose ` +
          'another path with --db.',
      );
    }
  } else if (statSync(target.path).isDirectory()) {
    throw new DatabaseError(
      `${target.path} is a directory, not a database file. Give the path of a file with --db or DATABASE_URL.`,
    );
  }
  return withSqliteErrorsSync(target, () => {
    const db = new Database(target.path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    try {
      // WAL lets the daemon write while the CLI reads; the mode is stored in the file.
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

export function describeSqliteError(target: { display: string; path: string }, error: unknown): DatabaseError | null {
  const code = (error as { code?: string }).code ?? '';
  const where = target.path;
  if (
    code.startsWith('SQLITE_READONLY') ||
    (error as NodeJS.ErrnoException).code === 'EROFS' ||
    (error as NodeJS.ErrnoException).code === 'EACCES'
  ) {
    return new DatabaseError(
      `The database ${where} is read-only (${code || (error as Error).message}). Check the permissions of the file ` +
        'and its directory, or the mount; nothing was changed.',
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_FULL') || (error as NodeJS.ErrnoException).code === 'ENOSPC') {
    return new DatabaseError(`The disk holding ${where} is full (${code || 'ENOSPC'}). ${FULL_ADVICE}`, {
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    // SQLite reports a write that hit ENOSPC on a WAL or shm file as a plain I/O error.
    if (freeBytes(dirname(where)) < 1024 * 1024) {
      return new DatabaseError(`The disk holding ${where} is full (${code}). ${FULL_ADVICE}`, { cause: error });
    }
    return new DatabaseError(
      `Disk I/O error on the database ${where} (${code}). Check the disk and the system log; the last committed ` +
        'data is kept.',
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    // In WAL mode SQLite must create <db>-wal and <db>-shm beside the file: on a read-only mount
    // or directory, opening fails with CANTOPEN although the real cause is the lack of write access.
    const denied = writeDenied(dirname(where)) ?? (existsSync(where) ? writeDenied(where) : null);
    if (denied) {
      return new DatabaseError(
        `The database ${where} is on a read-only filesystem or in a directory that is not writable (${denied}). ` +
          'Check the mount and the permissions of the file and its directory; nothing was changed.',
        { cause: error },
      );
    }
    return new DatabaseError(
      `Cannot open the database ${where} (${code}). Check that its directory exists and is writable.`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new DatabaseError(
      `${where} is not a wa-report database, or it is damaged (${code}). Choose another file with --db.`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DatabaseError(
      `The database ${where} stayed locked by another process for ${SQLITE_BUSY_TIMEOUT_MS / 1000} s (${code}). ` +
        'Retry; if it persists, look for a stuck wa-report process.',
      { cause: error },
    );
  }
  return null;
}

function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The errno code when the current user may not write to path, else null. */
function writeDenied(path: string): string | null {
  try {
    accessSync(path, fsConstants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? code : null;
  }
}

function withSqliteErrorsSync<T>(target: { display: string; path: string }, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw describeSqliteError(target, error) ?? error;
  }
}

async function withSqliteErrors<T>(target: { display: string; path: string }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const cause = error instanceof DatabaseError && error.cause ? error.cause : error;
    const described = describeSqliteError(target, cause);
    throw described ?? error;
  }
}

export function pgClientConfig(target: Extract<DbTarget, { kind: 'postgres' }>): pg.ClientConfig {
  return {
    connectionString: target.url,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    application_name: 'wa-report',
  };
}

export async function connectPostgres(target: Extract<DbTarget, { kind: 'postgres' }>): Promise<pg.Client> {
  const { default: pgDriver } = await import('pg');
  const client = new pgDriver.Client(pgClientConfig(target));
  client.on('error', () => {}); // a dropped connection surfaces on the next query instead
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw describePostgresError(target, error) ?? error;
  }
}

export function describePostgresError(
  target: Extract<DbTarget, { kind: 'postgres' }>,
  error: unknown,
): DatabaseError | AuthError | null {
  const e = error as { code?: string; message?: string };
  const at = `${target.host}:${target.port}`;
  const network = new Set([
    'ECONNREFUSED',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
  ]);
  if ((e.code && network.has(e.code)) || /timeout|terminated|Connection terminated/i.test(e.message ?? '')) {
    return new DatabaseError(
      `Cannot reach PostgreSQL at ${at} (${e.code ?? e.message}). Is the server running, and are DATABASE_URL / ` +
        '--db right?',
      { cause: error },
    );
  }
  if (e.code === '3D000') {
    return new DatabaseError(
      `PostgreSQL at ${at} has no database "${target.database}". Create it (createdb ${target.database}) or fix ` +
        'the URL.',
      { cause: error },
    );
  }
  if (e.code === '28P01' || e.code === '28000') {
    // Authentication failed: exit 4.
    return new AuthError(
      `PostgreSQL at ${at} rejected the credentials in the URL (${e.message}). Check the user and password in ` +
        'DATABASE_URL / --db.',
      { cause: error },
    );
  }
  return null;
}
