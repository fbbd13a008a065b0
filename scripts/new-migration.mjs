#!/usr/bin/env node
// Dev-time helper: writes a new migration for BOTH databases from the change to prisma/schema.prisma.
//   node scripts/new-migration.mjs <name> [--from <git-rev>]   (default: diff against an empty database
//   when no migration exists yet, else against prisma/schema.prisma at HEAD)
// Prisma 7's CLI needs the native schema engine, which these machines cannot download; prisma@6.19.3
// with `engine: "js"` runs the WASM schema engine and diffs two datamodels offline. It is fetched by npx
// into a scratch folder, used only here, and never a dependency of wa-report.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveSqliteSchema } from './derive-sqlite-schema.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: node scripts/new-migration.mjs <snake_case_name> [--from <git-rev>]');
  process.exit(2);
}
const fromIdx = process.argv.indexOf('--from');
const fromRev = fromIdx > 0 ? process.argv[fromIdx + 1] : 'HEAD';

const scratch = mkdtempSync(join(tmpdir(), 'wa-report-migration-'));
execFileSync('npm', ['init', '-y'], { cwd: scratch, stdio: 'ignore' });
execFileSync(
  'npm',
  [
    'install',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    'prisma@6.19.3',
    '@prisma/adapter-pg@6.19.3',
    '@prisma/adapter-better-sqlite3@6.19.3',
  ],
  { cwd: scratch, stdio: 'inherit' },
);
// Reuse this project's compiled better-sqlite3 rather than building another one.
execFileSync('rm', ['-rf', join(scratch, 'node_modules/better-sqlite3')]);
execFileSync('ln', ['-s', join(root, 'node_modules/better-sqlite3'), join(scratch, 'node_modules/better-sqlite3')]);
// The js engine wants an adapter of the schema's provider. The PostgreSQL diff of two datamodels
// does not read the database, but the adapter connects: point it at a real server.
const pgUrl = process.env.MIGRATION_DIFF_DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
const adapterOf = (provider) =>
  provider === 'sqlite'
    ? "new PrismaBetterSQLite3({ url: ':memory:' })"
    : `new PrismaPg({ connectionString: ${JSON.stringify(pgUrl)} })`;
const config = (provider) => `import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
export default defineConfig({ experimental: { adapter: true }, engine: 'js',
  async adapter() { return ${adapterOf(provider)}; } } as any);
`;

// Prisma 6 wants the URL in the schema and a generator it knows; neither matters for a diff.
const forV6 = (schema, provider) =>
  schema.replace(
    /provider(\s*)=\s*"(postgresql|sqlite)"/,
    `provider$1= "${provider}"\n  url = "${provider === 'sqlite' ? 'file:unused.db' : 'postgresql://unused@127.0.0.1:1/unused'}"`,
  );

const canonical = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8');
let previous = null;
const hasMigrations =
  existsSync(join(root, 'prisma/migrations')) &&
  readdirSync(join(root, 'prisma/migrations')).some((d) => /^\d{14}_/.test(d));
if (hasMigrations)
  previous = execFileSync('git', ['show', `${fromRev}:prisma/schema.prisma`], { cwd: root, encoding: 'utf8' });

const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
for (const [provider, dir, toSchema, fromSchema] of [
  ['postgresql', 'prisma/migrations', canonical, previous],
  ['sqlite', 'prisma/sqlite/migrations', deriveSqliteSchema(canonical), previous && deriveSqliteSchema(previous)],
]) {
  writeFileSync(join(scratch, 'prisma.config.ts'), config(provider));
  writeFileSync(join(scratch, 'to.prisma'), forV6(toSchema, provider));
  const from = fromSchema ? ['--from-schema-datamodel', 'from.prisma'] : ['--from-empty'];
  if (fromSchema) writeFileSync(join(scratch, 'from.prisma'), forV6(fromSchema, provider));
  const r = spawnSync(
    join(scratch, 'node_modules/.bin/prisma'),
    ['migrate', 'diff', ...from, '--to-schema-datamodel', 'to.prisma', '--script'],
    {
      cwd: scratch,
      encoding: 'utf8',
      env: {
        ...process.env,
        PRISMA_QUERY_ENGINE_LIBRARY: process.execPath,
        PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
      },
    },
  );
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  // Prisma 6 adds CREATE SCHEMA "public" in front of a diff from empty; Prisma 7 migrations do not need it.
  const sql = r.stdout.replace(/^-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/, '');
  const target = join(root, dir, `${stamp}_${name}`);
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'migration.sql'), sql);
  const lock = join(root, dir, 'migration_lock.toml');
  if (!existsSync(lock)) {
    writeFileSync(
      lock,
      '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\n' +
        `provider = "${provider}"\n`,
    );
  }
  console.error(`wrote ${join(dir, `${stamp}_${name}`, 'migration.sql')}`);
}
