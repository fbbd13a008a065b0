#!/usr/bin/env node
// Generates both Prisma clients offline. `prisma generate` insists on locating the native schema
// engine first (it never runs it); on machines without Prisma's download host we point it at an
// existing file. The variable is set only for this child process: globally it would break
// `prisma migrate` on machines that do have the engine.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args, env = {}) => {
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run([join(root, 'scripts/derive-sqlite-schema.mjs')]);
const prisma = join(root, 'node_modules/prisma/build/index.js');
const env = {
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
for (const schema of ['prisma/schema.prisma', 'prisma/sqlite/schema.prisma']) {
  run([prisma, 'generate', '--schema', schema], env);
}
