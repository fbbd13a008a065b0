// `wa-report tokens list`: name, scope, created, last used (and revoked, with --all).
import { bool, defineCommand } from '../command.js';
import { json } from '../flags.js';
import { terminalTable, writeJson } from '../output.js';

export const command = defineCommand({
  flags: { all: bool('--all', 'include revoked tokens'), json: json() },
  async run({ options }, ctx) {
    const store = await ctx.store();
    const { listTokens } = await import('../../privacy/tokens.js');
    const tokens = await listTokens(store, options);
    if (options.json) {
      writeJson(ctx, {
        tokens: tokens.map((t) => ({
          id: t.id,
          name: t.name,
          scope: t.scope,
          prefix: t.prefix,
          created_at: t.createdAt.toISOString(),
          last_used_at: t.lastUsedAt?.toISOString() ?? null,
          revoked_at: t.revokedAt?.toISOString() ?? null,
        })),
      });
      return;
    }
    if (tokens.length === 0) {
      ctx.io.stderr.write('No API tokens. Create one with `wa-report tokens create --name grafana --scope read`.\n');
      return;
    }
    const when = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '–');
    const rows = tokens.map((t) => [
      String(t.id),
      t.name,
      t.scope,
      `${t.prefix}…`,
      when(t.createdAt),
      when(t.lastUsedAt),
      ...(options.all ? [when(t.revokedAt)] : []),
    ]);
    if (!ctx.io.stdout.isTTY) {
      // Piped: the rows only, tab-separated.
      for (const row of rows) ctx.io.stdout.write(`${row.join('\t')}\n`);
      return;
    }
    const Table = terminalTable();
    const head = ['id', 'name', 'scope', 'token', 'created', 'last used', ...(options.all ? ['revoked'] : [])];
    const table = new Table({ head: head.map((h) => ctx.out.bold(h)), style: { head: [], border: [] } });
    table.push(...rows);
    ctx.io.stdout.write(`${table.toString()}\n`);
  },
});
