#!/usr/bin/env node
// Derives prisma/sqlite/schema.prisma from the canonical PostgreSQL schema, so the data model is
// written once. `--check` exits 1 when the committed SQLite schema is out of date.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'prisma/schema.prisma');
const target = join(root, 'prisma/sqlite/schema.prisma');

export function deriveSqliteSchema(text) {
  const out = text
    .replace(/^\/\/ Canonical schema[^\n]*\n(\/\/[^\n]*\n)*/m, '')
    .replace(/provider\s*=\s*"postgresql"/, 'provider = "sqlite"')
    .replace(/output(\s*)=\s*"\.\.\/src\/generated\/pg"/, 'output$1= "../../src/generated/sqlite"')
    // Native PostgreSQL column types have no SQLite meaning.
    .replace(/ @db\.\w+(\([^)]*\))?/g, '');
  if (out.includes('"postgresql"') || !out.includes('src/generated/sqlite')) {
    throw new Error('derive-sqlite-schema: the canonical schema changed shape; update this script');
  }
  return '// GENERATED from prisma/schema.prisma by scripts/derive-sqlite-schema.mjs. Do not edit.\n' + out;
}

const derived = deriveSqliteSchema(readFileSync(source, 'utf8'));
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== derived) {
    console.error('prisma/sqlite/schema.prisma is out of date: run `npm run generate`.');
    process.exit(1);
  }
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, derived);
}
