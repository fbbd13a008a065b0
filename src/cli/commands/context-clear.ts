// `wa-report context clear`: the assistant starts afresh with a user. Only the point from which its
// context starts moves; the history stays for reports.
import { defineCommand, required } from '../command.js';
import { optionalClientId, phoneWaId } from './contact-flags.js';
import { threadsOfContact } from './contact-threads.js';

export const command = defineCommand({
  flags: {
    waId: required(phoneWaId()),
    clientId: optionalClientId('only the conversation with this client (default: all of them)'),
  },
  async run({ options }, ctx) {
    const threads = await threadsOfContact(options.waId, options.clientId, ctx);
    const store = await ctx.store();
    const at = new Date();
    for (const t of threads) await store.threads.resetContext(t.id, at);
    const ids = threads.map((t) => t.id);
    const conversations = `${ids.length} conversation${ids.length === 1 ? '' : 's'}`;
    ctx.io.stderr.write(
      `Cleared the assistant's context for +${options.waId} in ${conversations} (${ids.join(', ')}).\n`,
    );
  },
});
