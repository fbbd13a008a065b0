// `wa-report tokens revoke <name-or-id>`: the token is refused from now on.
import { z } from 'zod';
import { arg, defineCommand } from '../command.js';

export const command = defineCommand({
  args: { nameOrId: arg('<name-or-id>', z.string()) },
  flags: {},
  async run({ args }, ctx) {
    const store = await ctx.store();
    const { revokeToken } = await import('../../privacy/tokens.js');
    const { record, changed } = await revokeToken(store, args.nameOrId);
    ctx.io.stderr.write(
      changed
        ? `Revoked API token ${record.id} "${record.name}": it is refused from now on.\n`
        : `API token ${record.id} "${record.name}" was already revoked.\n`,
    );
  },
});
