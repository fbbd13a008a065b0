import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPostgres, openSqliteFile, prepareDatabase, readMigrationStatus } from '../../src/db/connect.js';
import {
  migratePostgres,
  migrateSqlite,
  migrationChecksum,
  migrationsDir,
  readShippedMigrations,
  type ShippedMigration,
} from '../../src/db/migrator.js';
import { openStore } from '../../src/db/store.js';
import { DatabaseError } from '../../src/errors.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { recordMessages } from '../helpers/store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function extra(name: string, sql: string): ShippedMigration {
  return { name, sql, checksum: migrationChecksum(sql) };
}

/** Runs SQL on the test database with the plain driver, outside the code under test. */
async function sql(db: TestDatabase, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (db.target.kind === 'sqlite') {
    const conn = new Database(db.target.path);
    try {
      const stmt = conn.prepare(text);
      return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
    } finally {
      conn.close();
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (
      await client.query(
        text.replace(
          /\?/g,
          (() => {
            let n = 0;
            return () => `$${++n}`;
          })(),
        ),
        params,
      )
    ).rows;
  } finally {
    await client.end();
  }
}

async function migrateWith(db: TestDatabase, shipped: ShippedMigration[]) {
  if (db.target.kind === 'sqlite') {
    const conn = openSqliteFile(db.target, true);
    try {
      return await migrateSqlite(conn, db.target.path, { shipped });
    } finally {
      conn.close();
    }
  }
  const client = await connectPostgres(db.target);
  try {
    return await migratePostgres(client, db.target.display, { shipped });
  } finally {
    await client.end();
  }
}

describe.each(databaseKinds)('migrator on $name', (kind) => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('keeps _prisma_migrations exactly as prisma migrate deploy does', async () => {
    db = await kind.create();
    const { applied } = await prepareDatabase(db.target);
    const shipped = readShippedMigrations(kind.name);
    expect(applied).toEqual(shipped.map((m) => m.name));
    expect(shipped.length).toBeGreaterThan(0);

    if (kind.name === 'sqlite') {
      const cols = await sql(
        db,
        `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('_prisma_migrations') ORDER BY cid`,
      );
      expect(cols).toEqual([
        { name: 'id', type: 'TEXT', notnull: 1, dflt_value: null, pk: 1 },
        { name: 'checksum', type: 'TEXT', notnull: 1, dflt_value: null, pk: 0 },
        { name: 'finished_at', type: 'DATETIME', notnull: 0, dflt_value: null, pk: 0 },
        { name: 'migration_name', type: 'TEXT', notnull: 1, dflt_value: null, pk: 0 },
        { name: 'logs', type: 'TEXT', notnull: 0, dflt_value: null, pk: 0 },
        { name: 'rolled_back_at', type: 'DATETIME', notnull: 0, dflt_value: null, pk: 0 },
        { name: 'started_at', type: 'DATETIME', notnull: 1, dflt_value: 'current_timestamp', pk: 0 },
        { name: 'applied_steps_count', type: 'INTEGER UNSIGNED', notnull: 1, dflt_value: '0', pk: 0 },
      ]);
    } else {
      const cols = await sql(
        db,
        `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default ` +
          `FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
      expect(cols).toEqual([
        { column_name: 'id', data_type: 'character varying', len: 36, is_nullable: 'NO', column_default: null },
        { column_name: 'checksum', data_type: 'character varying', len: 64, is_nullable: 'NO', column_default: null },
        {
          column_name: 'finished_at',
          data_type: 'timestamp with time zone',
          len: null,
          is_nullable: 'YES',
          column_default: null,
        },
        {
          column_name: 'migration_name',
          data_type: 'character varying',
          len: 255,
          is_nullable: 'NO',
          column_default: null,
        },
        { column_name: 'logs', data_type: 'text', len: null, is_nullable: 'YES', column_default: null },
        {
          column_name: 'rolled_back_at',
          data_type: 'timestamp with time zone',
          len: null,
          is_nullable: 'YES',
          column_default: null,
        },
        {
          column_name: 'started_at',
          data_type: 'timestamp with time zone',
          len: null,
          is_nullable: 'NO',
          column_default: 'now()',
        },
        { column_name: 'applied_steps_count', data_type: 'integer', len: null, is_nullable: 'NO', column_default: '0' },
      ]);
    }
    const rows = await sql(db, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows).toHaveLength(shipped.length);
    for (const [i, row] of rows.entries()) {
      const file = join(migrationsDir(kind.name), shipped[i]!.name, 'migration.sql');
      // Prisma's checksum: lowercase hex SHA-256 of the file's bytes.
      expect(row.checksum).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
      expect(row.migration_name).toBe(shipped[i]!.name);
      expect(row.id).toMatch(UUID);
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      if (kind.name === 'sqlite') {
        // Epoch milliseconds, as Prisma's native SQLite engine writes them.
        expect(typeof row.finished_at).toBe('number');
        expect(typeof row.started_at).toBe('number');
      } else {
        expect(row.finished_at).toBeInstanceOf(Date);
      }
    }
    // The migration lock files name the provider, as Prisma writes them.
    expect(readFileSync(join(migrationsDir(kind.name), 'migration_lock.toml'), 'utf8')).toContain(
      `provider = "${kind.name === 'sqlite' ? 'sqlite' : 'postgresql'}"`,
    );
    // Opening again applies nothing.
    expect((await prepareDatabase(db.target)).applied).toEqual([]);
  });

  it('refuses a database migrated by a newer wa-report, writing nothing', async () => {
    db = await kind.create();
    await prepareDatabase(db.target);
    const future = extra('29990101000000_from_the_future', 'CREATE TABLE future_table (id INTEGER);');
    await migrateWith(db, [...readShippedMigrations(kind.name), future]);
    const before = await sql(db, `SELECT id, migration_name FROM "_prisma_migrations" ORDER BY migration_name`);
    // This build also ships a migration the database lacks: it must still not apply it.
    const pendingHere = extra('20990101000000_pending_here', 'CREATE TABLE should_not_exist (id INTEGER);');
    await expect(migrateWith(db, [...readShippedMigrations(kind.name), pendingHere])).rejects.toThrow(
      /newer wa-report.*29990101000000_from_the_future/s,
    );
    await expect(openStore(db.target)).rejects.toThrow(DatabaseError);
    await expect(openStore(db.target)).rejects.toThrow(/Upgrade wa-report/);
    expect(await sql(db, `SELECT id, migration_name FROM "_prisma_migrations" ORDER BY migration_name`)).toEqual(
      before,
    );
    const tables =
      kind.name === 'sqlite'
        ? await sql(db, `SELECT name FROM sqlite_master WHERE name = 'should_not_exist'`)
        : await sql(db, `SELECT to_regclass('should_not_exist') AS name`).then((r) => r.filter((x) => x.name !== null));
    expect(tables).toEqual([]);
    const status = await readMigrationStatus(db.target);
    expect(status.unknown).toEqual(['29990101000000_from_the_future']);
  });

  it('refuses after a half-applied migration and says how to recover', async () => {
    db = await kind.create();
    await prepareDatabase(db.target);
    const next = extra('20990101000000_next', 'CREATE TABLE next_table (id INTEGER);');
    // A process killed in the middle of a migration leaves a started, unfinished row.
    await sql(
      db,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count, logs) ` +
        `VALUES (?, ?, ?, ?, 0, ?)`,
      [
        '00000000-0000-4000-8000-000000000001',
        next.checksum,
        next.name,
        kind.name === 'sqlite' ? Date.now() : new Date(),
        'killed',
      ],
    );
    const attempt = migrateWith(db, [...readShippedMigrations(kind.name), next]);
    await expect(attempt).rejects.toThrow(/20990101000000_next failed earlier/);
    await expect(migrateWith(db, [...readShippedMigrations(kind.name), next])).rejects.toThrow(
      /migrate resolve --rolled-back 20990101000000_next/,
    );
    // Following the advice works.
    await sql(
      db,
      `UPDATE "_prisma_migrations" SET rolled_back_at = CURRENT_TIMESTAMP ` +
        `WHERE migration_name = '20990101000000_next' AND finished_at IS NULL`,
    );
    const { applied } = await migrateWith(db, [...readShippedMigrations(kind.name), next]);
    expect(applied).toEqual(['20990101000000_next']);
  });

  it('rolls a failing migration back whole and retries it next time', async () => {
    db = await kind.create();
    await prepareDatabase(db.target);
    const bad = extra('20990101000000_bad', 'CREATE TABLE half_done (id INTEGER);\nCREATE TABLE clients (id INTEGER);');
    await expect(migrateWith(db, [...readShippedMigrations(kind.name), bad])).rejects.toThrow(
      /Migration 20990101000000_bad failed/,
    );
    const rows = await sql(
      db,
      `SELECT logs, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE migration_name = '20990101000000_bad'`,
    );
    expect(rows).toHaveLength(1);
    expect(String(rows[0]!.logs)).toMatch(/clients/);
    expect(rows[0]!.finished_at).toBeNull();
    expect(rows[0]!.rolled_back_at).not.toBeNull();
    const leftovers =
      kind.name === 'sqlite'
        ? await sql(db, `SELECT name FROM sqlite_master WHERE name = 'half_done'`)
        : await sql(db, `SELECT to_regclass('half_done') AS name`).then((r) => r.filter((x) => x.name !== null));
    expect(leftovers).toEqual([]);
    const fixed = extra('20990101000000_bad', 'CREATE TABLE half_done (id INTEGER);');
    expect((await migrateWith(db, [...readShippedMigrations(kind.name), fixed])).applied).toEqual([
      '20990101000000_bad',
    ]);
  });

  it('lets concurrent migrators exclude each other: each migration applied once, nothing corrupted', async () => {
    db = await kind.create();
    const slow = extra(
      '20990101000000_slow',
      kind.name === 'sqlite'
        ? 'CREATE TABLE slow_table (id INTEGER);\n' +
            'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) ' +
            'INSERT INTO slow_table SELECT x FROM c;'
        : 'CREATE TABLE slow_table (id INTEGER);\n' +
            'SELECT pg_sleep(0.3);\nINSERT INTO slow_table SELECT generate_series(1, 1000);',
    );
    const shipped = [...readShippedMigrations(kind.name), slow];
    const results = await Promise.all([migrateWith(db, shipped), migrateWith(db, shipped), migrateWith(db, shipped)]);
    const appliedCounts = results.map((r) => r.applied.length).sort();
    expect(appliedCounts).toEqual([0, 0, shipped.length]);
    const rows = await sql(
      db,
      `SELECT migration_name, COUNT(*) AS n FROM "_prisma_migrations" GROUP BY migration_name`,
    );
    expect(rows.map((r) => Number(r.n))).toEqual(shipped.map(() => 1));
    const count = await sql(db, 'SELECT COUNT(*) AS n FROM slow_table');
    expect(Number(count[0]!.n)).toBe(kind.name === 'sqlite' ? 300000 : 1000);
  });
});

describe('migrator on sqlite: table rewrites', () => {
  it('runs scripts that turn foreign keys off outside a transaction, so child rows survive', async () => {
    const { sqliteKind } = await import('../helpers/databases.js');
    const db = await sqliteKind.create();
    try {
      const store = await openStore(db.target);
      const c = await store.clients.create({ name: 'A', phoneNumber: '+34600000001', phoneNumberId: '1' });
      await recordMessages(store, [
        {
          clientId: c.id,
          waId: '3411',
          role: 'user',
          type: 'text',
          content: 'x',
          wamid: 'w1',
          phoneNumberId: '1',
          createdAt: new Date(),
        },
      ]);
      await store.close();
      // Prisma's way of changing a parent table on SQLite: copy, drop, rename, with foreign keys off.
      const rewrite = extra(
        '20990101000000_rewrite_clients',
        `PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_clients" AS SELECT * FROM "clients";
DROP TABLE "clients";
ALTER TABLE "new_clients" RENAME TO "clients";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;`,
      );
      const target = db.target;
      if (target.kind !== 'sqlite') throw new Error('SQLite only');
      const conn = openSqliteFile(target, true);
      try {
        await migrateSqlite(conn, target.path, { shipped: [...readShippedMigrations('sqlite'), rewrite] });
        expect(conn.prepare('SELECT COUNT(*) AS n FROM threads').get()).toEqual({ n: 1 });
        expect(conn.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 1 });
      } finally {
        conn.close();
      }
    } finally {
      await db.drop();
    }
  });
});
