// `wa-report db migrate`: creates the database if needed and applies pending migrations (every
// command also does this on first use).
import { prepareDatabase } from '../../db/connect.js';
import { defineCommand } from '../command.js';

export const command = defineCommand({
  flags: {},
  async run(_input, ctx) {
    const target = ctx.target();
    const { applied } = await prepareDatabase(target, 'apply');
    ctx.io.stderr.write(
      applied.length ? `Applied ${applied.join(', ')} to ${target.display}.\n` : `${target.display} is up to date.\n`,
    );
  },
});
