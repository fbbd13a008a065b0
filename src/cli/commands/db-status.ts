// `wa-report db status`: applied and pending migrations, changing nothing. Exits 1 when this build
// cannot use the database (a failed migration, or one from a newer wa-report).
import { readMigrationStatus } from '../../db/connect.js';
import { readShippedMigrations, type MigrationStatus } from '../../db/migrator.js';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

interface DbStatusResult {
  database: string;
  kind: 'sqlite' | 'postgres';
  status: MigrationStatus;
  shipped: string[];
}

export const command = defineCommand({
  flags: { json: json() },
  async run({ options }, ctx) {
    const target = ctx.target();
    const shipped = readShippedMigrations(target.kind).map((m) => m.name);
    const status = await readMigrationStatus(target);
    printDbStatus({ database: target.display, kind: target.kind, shipped, status }, Boolean(options.json), ctx);
    return status.unknown.length || status.failed.length ? 1 : 0;
  },
});

function printDbStatus(result: DbStatusResult, asJson: boolean, ctx: CommandContext): void {
  const { status } = result;
  if (asJson) {
    writeJson(ctx, {
      database: result.database,
      kind: result.kind,
      applied: status.applied.map((a) => ({
        name: a.name,
        finished_at: a.finishedAt.toISOString(),
        checksum_matches: a.checksumMatches,
      })),
      pending: status.pending,
      unknown: status.unknown,
      failed: status.failed.map((f) => ({ name: f.name, logs: f.logs })),
      up_to_date: status.pending.length === 0 && status.unknown.length === 0 && status.failed.length === 0,
    });
    return;
  }
  const o = ctx.out;
  const lines = [`Database: ${result.database} (${result.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`];
  for (const a of status.applied) {
    lines.push(
      `  ${o.green('applied')}  ${a.name}  ${a.finishedAt.toISOString()}` +
        (a.checksumMatches ? '' : o.yellow('  (modified after it was applied: checksum differs)')),
    );
  }
  for (const f of status.failed)
    lines.push(`  ${o.red('FAILED')}   ${f.name}${f.logs ? `: ${f.logs.split('\n')[0]}` : ''}`);
  for (const p of status.pending) lines.push(`  ${o.yellow('pending')}  ${p}`);
  for (const u of status.unknown) lines.push(`  ${o.red('unknown')}  ${u}  (written by a newer wa-report)`);
  if (status.unknown.length)
    lines.push('This database was migrated by a newer wa-report: upgrade wa-report to use it.');
  else if (status.failed.length) lines.push('A migration failed: see `wa-report db migrate` for how to recover.');
  else if (status.pending.length)
    lines.push(
      'Run `wa-report db migrate` to apply the pending migrations (every command also applies them on first use).',
    );
  else lines.push('Up to date.');
  ctx.io.stdout.write(`${lines.join('\n')}\n`);
}
