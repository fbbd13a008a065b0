// `wa-report conversations close --client-id N --wa-id …`: ends a user's open conversation now
// (end reason closed, with its conversation.ended event); the next message starts a new one.
import { normalizeContactId } from '../../domain/phone.js';
import { NotFoundError } from '../../errors.js';
import { sessionDocument } from '../../reports/documents.js';
import { defineCommand, required } from '../command.js';
import { json, waId } from '../flags.js';
import { clientIdFlag } from '../number-flags.js';
import { writeJson } from '../output.js';

export const command = defineCommand({
  flags: {
    clientId: required(clientIdFlag('the client (see `wa-report --list`)')),
    waId: required(waId()),
    json: json('print the closed conversation as JSON'),
  },
  async run({ options }, ctx) {
    const waIdDigits = normalizeContactId(options.waId, '--wa-id');
    const store = await ctx.store();
    const client = await store.clients.get(options.clientId);
    const thread = await store.conversations.threadOf(client.id, waIdDigits);
    const closed = thread === null ? null : await store.conversations.close(thread);
    if (!closed) {
      throw new NotFoundError(
        `No open conversation with ${options.waId} for client ${client.id} (${client.name}); ` +
          'it may have ended already (see `wa-report conversations --sessions`).',
      );
    }
    const doc = sessionDocument({ ...closed, id: closed.id as number, contactName: null });
    if (options.json) writeJson(ctx, doc);
    else
      ctx.io.stderr.write(
        `Closed conversation ${doc.id} with ${doc.wa_id} (${client.name}): ${doc.messages.user} user, ` +
          `${doc.messages.assistant} assistant, ${doc.messages.agent} agent messages.\n`,
      );
  },
});
