#!/usr/bin/env node
// After `tsc`: dist/vendor/zod.js becomes zod bundled into one ES module by esbuild. Node 20 has no
// compile cache, and resolving, reading and linking zod's 95 modules cost each command ~45 ms at
// start; one file costs ~25 (measured with `node -e "await import(…)"`). src/vendor/zod.ts stays the
// plain re-export that the compiler, the linter and the tests read.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/vendor/zod.js');
await build({
  stdin: { contents: "export { z } from 'zod';", resolveDir: root, sourcefile: 'zod-entry.js' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: out,
  legalComments: 'inline',
  logLevel: 'warning',
});
// tsc's map describes the re-export this file no longer is.
rmSync(`${out}.map`, { force: true });
