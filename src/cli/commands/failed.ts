// `wa-report failed`: failed messages, newest first, with their error.
import { formatWaId } from '../../domain/phone.js';
import type { StoredMessage } from '../../domain/types.js';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { clientIdFlag, wholeNumber } from '../number-flags.js';
import { writeJson, writeRows } from '../output.js';

export const command = defineCommand({
  flags: {
    clientId: clientIdFlag('only this client'),
    limit: wholeNumber('--limit <n>', 'at most this many (default 100)', { min: 1, max: 100_000, default: 100 }),
    json: json(),
  },
  async run({ options }, ctx) {
    const store = await ctx.store();
    if (options.clientId !== undefined) await store.clients.get(options.clientId);
    printFailed(
      await store.messages.failed({ clientId: options.clientId, limit: options.limit }),
      Boolean(options.json),
      ctx,
    );
  },
});

function printFailed(rows: StoredMessage[], asJson: boolean, ctx: CommandContext): void {
  if (asJson) {
    writeJson(ctx, {
      messages: rows.map((m) => ({
        id: m.id,
        client_id: m.clientId,
        thread_id: m.threadId,
        wa_id: formatWaId(m.waId),
        wamid: m.wamid,
        role: m.role,
        type: m.type,
        content: m.content,
        created_at: m.createdAt.toISOString(),
        error_code: m.errorCode,
        error_message: m.errorMessage,
      })),
    });
    return;
  }
  writeRows(
    ctx,
    rows,
    [
      { header: 'id', cell: (m) => String(m.id) },
      { header: 'client', cell: (m) => String(m.clientId) },
      { header: 'wa_id', cell: (m) => formatWaId(m.waId) },
      {
        header: 'created',
        cell: (m) => m.createdAt.toISOString().slice(0, 16).replace('T', ' '),
        plain: (m) => m.createdAt.toISOString(),
      },
      { header: 'error', cell: (m) => (m.errorMessage ?? '').slice(0, 60), plain: (m) => m.errorMessage ?? '' },
      { header: 'content', cell: (m) => m.content.slice(0, 40), plain: (m) => m.content },
    ],
    'No failed messages.',
  );
}
