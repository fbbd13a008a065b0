// `wa-report conversations`: a client's conversations in a period, newest activity first.
import type { ConversationPage } from '../../db/store.js';
import { formatWaId } from '../../domain/phone.js';
import type { ClientRecord } from '../../domain/types.js';
import { conversationListDocument } from '../../reports/documents.js';
import { parseReportOptions, requireClientId, type RawReportOptions } from '../../reports/query-options.js';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { json, reportFlags } from '../flags.js';
import { writeJson, writeRows } from '../output.js';

export interface ConversationsResult {
  client: ClientRecord;
  total: number;
  conversations: ConversationPage['conversations'];
  timeZone: string;
}

export const command = defineCommand({
  flags: {
    ...reportFlags(),
    json: json('JSON: {client, total_conversations, conversations[]} as the HTTP API gives it'),
  },
  help: '\nExample:\n  wa-report conversations --client-id 1 --start-date 2024-01-01 --end-date 2024-01-31\n',
  async run({ options }, ctx) {
    printConversations(await listConversations(options, ctx), Boolean(options.json), ctx);
  },
});

export async function listConversations(raw: RawReportOptions, ctx: CommandContext): Promise<ConversationsResult> {
  const o = parseReportOptions(raw, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const client = await store.clients.get(clientId);
  const filter = { clientId, waId: o.waId, start: o.start, end: o.end };
  const conversations: ConversationPage['conversations'] = [];
  let page = await store.threads.list(filter, { limit: 1000 });
  const total = page.total;
  for (;;) {
    conversations.push(...page.conversations);
    if (!page.nextCursor) break;
    page = await store.threads.list(filter, { limit: 1000, cursor: page.nextCursor });
  }
  return { client, total, conversations, timeZone: o.timeZone };
}

export function printConversations(r: ConversationsResult, asJson: boolean, ctx: CommandContext): void {
  if (asJson) {
    writeJson(ctx, conversationListDocument(r.client, r.total, r.conversations));
    return;
  }
  const format = new Intl.DateTimeFormat('sv-SE', {
    timeZone: r.timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const zoned = (d: Date) => format.format(d);
  if (ctx.io.stdout.isTTY) {
    ctx.io.stderr.write(
      `${r.client.name}: ${r.total} conversation${r.total === 1 ? '' : 's'} (times in ${r.timeZone})\n`,
    );
  }
  writeRows(
    ctx,
    r.conversations,
    [
      { header: 'thread', cell: (c) => String(c.threadId) },
      { header: 'wa_id', cell: (c) => formatWaId(c.waId) },
      { header: 'contact', cell: (c) => c.contactName ?? '' },
      { header: 'created', cell: (c) => zoned(c.createdAt), plain: (c) => c.createdAt.toISOString() },
      { header: 'last message', cell: (c) => zoned(c.lastMessageAt), plain: (c) => c.lastMessageAt.toISOString() },
      { header: 'messages', cell: (c) => String(c.messageCount) },
    ],
    'No conversations.',
  );
}
