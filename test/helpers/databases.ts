// The store suites run once per database: a fresh SQLite file, and (with TEST_DATABASE_URL) a fresh
// PostgreSQL database created on that server for the test and dropped after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { resolveDbTarget, type DbTarget } from '../../src/db/target.js';

export interface TestDatabase {
  target: DbTarget;
  url: string;
  drop(): Promise<void>;
}

export interface DatabaseKind {
  name: 'sqlite' | 'postgres';
  create(): Promise<TestDatabase>;
}

export const postgresUrl = process.env.TEST_DATABASE_URL;

export const sqliteKind: DatabaseKind = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'wa-report-test-'));
    const url = join(dir, 'test.db');
    return { target: resolveDbTarget(url), url, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

export const postgresKind: DatabaseKind = {
  name: 'postgres',
  async create() {
    if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
    const name = `wa_report_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return {
      target: resolveDbTarget(url.toString()),
      url: url.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: postgresUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  },
};

/** SQLite always; PostgreSQL when TEST_DATABASE_URL is set (CI sets it and checks these ran). */
export const databaseKinds: DatabaseKind[] = postgresUrl ? [sqliteKind, postgresKind] : [sqliteKind];
