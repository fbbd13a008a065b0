// `wa-report clients disable|enable <client-id>`. A disabled client is hidden from lists and its
// assistant stays silent; its webhooks are still stored (nothing WhatsApp sends is ever dropped).
import { arg, defineCommand } from '../command.js';
import { json } from '../flags.js';
import { clientIdSchema, printClient } from './clients-shared.js';

function setActive(active: boolean) {
  return defineCommand({
    args: { id: arg('<client-id>', clientIdSchema) },
    flags: { json: json('print the client as JSON') },
    async run({ args, options }, ctx) {
      const store = await ctx.store();
      const client = await store.clients.update(args.id, { active });
      const verb = active ? 'Enabled' : 'Disabled';
      printClient(ctx, client, options.json, `${verb} client ${client.id} (${client.name}).`);
    },
  });
}

export const disable = setActive(false);
export const enable = setActive(true);
