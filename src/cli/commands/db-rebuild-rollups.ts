// `wa-report db rebuild-rollups`: recounts the rollups (per client and quarter hour, kept by triggers as
// messages and conversations are stored) from those tables themselves; `--check` only compares them.
import { WaReportError } from '../../errors.js';
import { bool, defineCommand } from '../command.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

export const command = defineCommand({
  flags: {
    check: bool('--check', 'compare the rollups with an exact count and change nothing (exit 1 on a difference)'),
    json: json(),
  },
  help: `
The dashboard and \`wa-report stats\` read message and session counts from rollups that every write keeps up to
date in the same transaction. They only drift if someone edits the messages table by hand (or restores
a backup of one table alone); this recounts them. On PostgreSQL ingest waits while it runs.

Examples:
  wa-report db rebuild-rollups --check
  wa-report db rebuild-rollups
`,
  async run({ options }, ctx) {
    const store = await ctx.store();
    const started = Date.now();
    if (options.check) {
      const { matching, differences } = await store.rollups.check();
      if (options.json) {
        writeJson(ctx, {
          matching,
          differences: differences.map((d) => ({ ...d, at: new Date(d.at).toISOString() })),
        });
      }
      if (differences.length) {
        for (const d of differences.slice(0, 10)) {
          ctx.io.stderr.write(
            `  ${d.table}: client ${d.clientId} ${new Date(d.at).toISOString()} ${d.column}: ` +
              `rollup ${d.rollup}, exact ${d.exact}\n`,
          );
        }
        throw new WaReportError(
          `${differences.length} rollup counts differ from the messages and conversations: ` +
            'run `wa-report db rebuild-rollups`.',
        );
      }
      ctx.io.stderr.write(
        `The rollups match the messages and conversations (${matching} rows checked in ${Date.now() - started} ms).\n`,
      );
      return;
    }
    const rows = await store.rollups.rebuild();
    if (options.json) writeJson(ctx, { rows, milliseconds: Date.now() - started });
    ctx.io.stderr.write(
      `Rebuilt ${rows} rollup rows from the messages and conversations in ${Date.now() - started} ms.\n`,
    );
  },
});
