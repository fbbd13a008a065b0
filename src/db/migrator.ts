// Applies the shipped Prisma migrations itself and keeps `_prisma_migrations` exactly as
// `prisma migrate deploy` does (same DDL, SHA-256 checksums, advisory lock key), so the Prisma CLI
// on a machine that has its engines agrees with us (Prisma's migration history table:
// https://www.prisma.io/docs/orm/prisma-migrate/understanding-prisma-migrate/migration-histories).
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { DatabaseError } from '../errors.js';
import type { Dialect } from './dialect.js';

export interface ShippedMigration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationRow {
  id: string;
  checksum: string;
  finishedAt: Date | null;
  migrationName: string;
  logs: string | null;
  rolledBackAt: Date | null;
  startedAt: Date;
  appliedStepsCount: number;
}

export interface MigrationStatus {
  applied: { name: string; finishedAt: Date; checksumMatches: boolean }[];
  pending: string[];
  /** Finished migrations this build does not ship: a newer wa-report wrote the database. */
  unknown: string[];
  /** Started and neither finished nor rolled back. */
  failed: { name: string; logs: string | null }[];
}

/** Prisma's advisory lock key for migrations (schema-engine `ADVISORY_LOCK_TIMEOUT` / lock id). */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export const SQLITE_MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export const POSTGRES_MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function migrationsDir(dialect: Dialect): string {
  return join(packageRoot, 'prisma', dialect === 'sqlite' ? 'sqlite/migrations' : 'migrations');
}

/** Prisma's checksum: lowercase hex SHA-256 of the migration.sql bytes. */
export function migrationChecksum(sql: string | Buffer): string {
  return createHash('sha256').update(sql).digest('hex');
}

export function readShippedMigrations(dialect: Dialect, dir = migrationsDir(dialect)): ShippedMigration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort()
    .map((name) => shippedMigration(name, join(dir, name, 'migration.sql')));
}

/**
 * A shipped migration whose script is read (and hashed) only when asked for: every command checks
 * that nothing is pending, which needs the names alone (reading and hashing them all cost ~9 ms).
 */
function shippedMigration(name: string, file: string): ShippedMigration {
  let bytes: Buffer | undefined;
  let checksum: string | undefined;
  const read = () => (bytes ??= readFileSync(file));
  return {
    name,
    get sql() {
      return read().toString('utf8');
    },
    get checksum() {
      return (checksum ??= migrationChecksum(read()));
    },
  };
}

export function computeStatus(shipped: ShippedMigration[], rows: MigrationRow[]): MigrationStatus {
  const byName = new Map(shipped.map((m) => [m.name, m]));
  const live = rows.filter((r) => r.rolledBackAt === null);
  const finished = live.filter((r) => r.finishedAt !== null);
  const finishedNames = new Set(finished.map((r) => r.migrationName));
  return {
    applied: finished
      .filter((r) => byName.has(r.migrationName))
      .sort((a, b) => a.migrationName.localeCompare(b.migrationName))
      .map((r) => ({
        name: r.migrationName,
        finishedAt: r.finishedAt as Date,
        get checksumMatches() {
          return byName.get(r.migrationName)?.checksum === r.checksum;
        },
      })),
    pending: shipped.filter((m) => !finishedNames.has(m.name)).map((m) => m.name),
    unknown: [...new Set(finished.filter((r) => !byName.has(r.migrationName)).map((r) => r.migrationName))].sort(),
    failed: live.filter((r) => r.finishedAt === null).map((r) => ({ name: r.migrationName, logs: r.logs })),
  };
}

/** Throws when the database must not be used or migrated by this build. */
export function assertMigratable(status: MigrationStatus, where: string): void {
  if (status.unknown.length > 0) {
    throw new DatabaseError(
      `${where} was migrated by a newer wa-report: it has migration(s) this version does not know ` +
        `(${status.unknown.join(', ')}).\n` +
        'Upgrade wa-report to use this database; nothing was changed.',
    );
  }
  const failed = status.failed[0];
  if (failed) {
    throw new DatabaseError(
      `Migration ${failed.name} failed earlier on ${where} and was left half-applied.\n` +
        (failed.logs ? `Its error: ${failed.logs.split('\n')[0]}\n` : '') +
        'To recover: restore the database from a backup, or check the schema by hand, then mark the migration as\n' +
        `rolled back (npx prisma migrate resolve --rolled-back ${failed.name}, or\n` +
        'UPDATE "_prisma_migrations" SET rolled_back_at = CURRENT_TIMESTAMP ' +
        `WHERE migration_name = '${failed.name}' AND finished_at IS NULL)\n` +
        'and run `wa-report db migrate` again.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite

export function sqliteStatus(db: BetterSqlite3.Database, shipped = readShippedMigrations('sqlite')): MigrationStatus {
  return computeStatus(shipped, sqliteRows(db));
}

function sqliteRows(db: BetterSqlite3.Database): MigrationRow[] {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`).get();
  if (!exists) return [];
  return (db.prepare(`SELECT * FROM "_prisma_migrations"`).all() as Record<string, unknown>[]).map((r) => ({
    id: String(r.id),
    checksum: String(r.checksum),
    finishedAt: sqliteDate(r.finished_at),
    migrationName: String(r.migration_name),
    logs: r.logs === null ? null : String(r.logs),
    rolledBackAt: sqliteDate(r.rolled_back_at),
    startedAt: sqliteDate(r.started_at) ?? new Date(0),
    appliedStepsCount: Number(r.applied_steps_count),
  }));
}

/**
 * SQLite has no advisory locks, and Prisma's migration scripts must not run inside a transaction
 * (their `PRAGMA foreign_keys=OFF` is ignored there and a table rewrite would cascade-delete child
 * rows). So processes exclude each other with a lock file beside the database; a lock left by a
 * dead process is taken over.
 */
/**
 * Before the lock is held, an unfinished migration may be another process applying it right now:
 * only after taking the lock does an unfinished row mean a failed one.
 */
function withoutInProgress(status: MigrationStatus): MigrationStatus {
  return { ...status, failed: [] };
}

export async function migrateSqlite(
  db: BetterSqlite3.Database,
  dbPath: string,
  options: { shipped?: ShippedMigration[]; lockTimeoutMs?: number; onApply?: (name: string) => void } = {},
): Promise<{ applied: string[]; status: MigrationStatus }> {
  const shipped = options.shipped ?? readShippedMigrations('sqlite');
  const before = sqliteStatus(db, shipped);
  assertMigratable(withoutInProgress(before), dbPath);
  if (before.pending.length === 0 && before.failed.length === 0) return { applied: [], status: before };

  const release = await acquireLockFile(`${dbPath}.migrate-lock`, options.lockTimeoutMs ?? 60_000);
  try {
    const status = sqliteStatus(db, shipped);
    assertMigratable(status, dbPath);
    db.exec(SQLITE_MIGRATIONS_TABLE_DDL);
    const applied: string[] = [];
    for (const name of status.pending) {
      const migration = shipped.find((m) => m.name === name) as ShippedMigration;
      const id = randomUUID();
      db.prepare(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES (?, ?, ?, ?, 0)`,
      ).run(id, migration.checksum, name, Date.now());
      // Scripts that switch foreign keys off (Prisma's table rewrites) must run bare: inside a
      // transaction the PRAGMA is ignored and the rewrite cascade-deletes child rows. Every other
      // script runs in a transaction, so a failure (a full disk, say) leaves nothing half-applied
      // and is recorded as rolled back: the next run simply tries again.
      const atomic = !/PRAGMA\s+foreign_keys/i.test(migration.sql);
      try {
        options.onApply?.(name);
        if (atomic) db.exec('BEGIN IMMEDIATE');
        db.exec(migration.sql);
        if (atomic) db.exec('COMMIT');
      } catch (error) {
        if (atomic && db.inTransaction) db.exec('ROLLBACK');
        const message = error instanceof Error ? error.message : String(error);
        try {
          db.prepare(
            `UPDATE "_prisma_migrations" SET logs = ?${atomic ? ', rolled_back_at = ?' : ''} WHERE id = ?`,
          ).run(...(atomic ? [message, Date.now(), id] : [message, id]));
        } catch {
          // The bookkeeping write can fail for the same reason (disk full); the row then shows the
          // migration as started and unfinished, which is refused with a recovery hint.
        }
        throw new DatabaseError(`Migration ${name} failed on ${dbPath}: ${message}`, { cause: error });
      }
      db.prepare(`UPDATE "_prisma_migrations" SET finished_at = ?, applied_steps_count = 1 WHERE id = ?`).run(
        Date.now(),
        id,
      );
      applied.push(name);
    }
    return { applied, status: sqliteStatus(db, shipped) };
  } finally {
    release();
  }
}

/** Prisma writes epoch milliseconds; `current_timestamp` defaults are 'YYYY-MM-DD HH:MM:SS' UTC text. */
function sqliteDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'bigint') return new Date(Number(v));
  const s = String(v);
  return new Date(/Z$|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

async function acquireLockFile(path: string, timeoutMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch {
      continue; // released between our attempts
    }
    if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new DatabaseError(
        `Another process (pid ${holder}) has been migrating the database for over ${Math.round(timeoutMs / 1000)} s. ` +
          `If no wa-report is running, delete ${path}.`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export async function postgresStatus(
  client: pg.ClientBase,
  shipped = readShippedMigrations('postgres'),
): Promise<MigrationStatus> {
  return computeStatus(shipped, await postgresRows(client));
}

async function postgresRows(client: pg.ClientBase): Promise<MigrationRow[]> {
  const exists = await client.query(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`);
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query(`SELECT * FROM "_prisma_migrations"`);
  return rows.map((r) => ({
    id: r.id,
    checksum: r.checksum,
    finishedAt: r.finished_at,
    migrationName: r.migration_name,
    logs: r.logs,
    rolledBackAt: r.rolled_back_at,
    startedAt: r.started_at,
    appliedStepsCount: r.applied_steps_count,
  }));
}

/** Under Prisma's advisory lock, so concurrent instances and `prisma migrate deploy` wait for each other. */
export async function migratePostgres(
  client: pg.ClientBase,
  where: string,
  options: { shipped?: ShippedMigration[]; onApply?: (name: string) => void } = {},
): Promise<{ applied: string[]; status: MigrationStatus }> {
  const shipped = options.shipped ?? readShippedMigrations('postgres');
  const before = await postgresStatus(client, shipped);
  assertMigratable(withoutInProgress(before), where);
  if (before.pending.length === 0 && before.failed.length === 0) return { applied: [], status: before };

  await client.query(`SELECT pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})`);
  try {
    const status = await postgresStatus(client, shipped);
    assertMigratable(status, where);
    await client.query(POSTGRES_MIGRATIONS_TABLE_DDL);
    const applied: string[] = [];
    for (const name of status.pending) {
      const migration = shipped.find((m) => m.name === name) as ShippedMigration;
      const id = randomUUID();
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, migration.checksum, name],
      );
      try {
        options.onApply?.(name);
        // One simple query (no parameters): PostgreSQL runs the whole script atomically, so a
        // failure leaves nothing behind and is recorded as rolled back.
        await client.query(migration.sql);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await client
          .query(`UPDATE "_prisma_migrations" SET logs = $1, rolled_back_at = now() WHERE id = $2`, [message, id])
          .catch(() => {});
        throw new DatabaseError(`Migration ${name} failed on ${where}: ${message}`, { cause: error });
      }
      await client.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [
        id,
      ]);
      applied.push(name);
    }
    return { applied, status: await postgresStatus(client, shipped) };
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK_KEY})`).catch(() => {});
  }
}
