// `wa-report conversations`: the seed's conversation list.
import type { ConversationPage } from '../../db/store.js';
import { formatWaId } from '../../domain/phone.js';
import type { ClientRecord } from '../../domain/types.js';
import type { CommandContext } from '../context.js';
import { writeJson, writeRows } from '../output.js';
import { parseReportOptions, requireClientId, type RawReportOptions } from '../../reports/query-options.js';

export interface ConversationsResult {
  client: ClientRecord;
  total: number;
  conversations: ConversationPage['conversations'];
  timeZone: string;
}

export async function runConversations(
  raw: RawReportOptions & { limit?: string },
  ctx: CommandContext,
): Promise<ConversationsResult> {
  const o = parseReportOptions(raw, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const client = await store.clients.get(clientId);
  const conversations: ConversationPage['conversations'] = [];
  let page = await store.threads.list({ clientId, waId: o.waId, start: o.start, end: o.end }, { limit: 1000 });
  const total = page.total;
  for (;;) {
    conversations.push(...page.conversations);
    if (!page.nextCursor) break;
    page = await store.threads.list(
      { clientId, waId: o.waId, start: o.start, end: o.end },
      { limit: 1000, cursor: page.nextCursor },
    );
  }
  return { client, total, conversations, timeZone: o.timeZone };
}

export function printConversations(r: ConversationsResult, json: boolean, ctx: CommandContext): void {
  if (json) {
    writeJson(ctx, {
      client: { id: r.client.id, name: r.client.name, phone_number: r.client.phoneNumber },
      total_conversations: r.total,
      conversations: r.conversations.map((c) => ({
        thread_id: c.threadId,
        wa_id: formatWaId(c.waId),
        contact_name: c.contactName,
        created_at: c.createdAt.toISOString(),
        last_message_at: c.lastMessageAt.toISOString(),
        message_count: c.messageCount,
      })),
    });
    return;
  }
  const zoned = (d: Date) =>
    new Intl.DateTimeFormat('sv-SE', {
      timeZone: r.timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    }).format(d);
  if (ctx.io.stdout.isTTY)
    ctx.io.stderr.write(
      `${r.client.name}: ${r.total} conversation${r.total === 1 ? '' : 's'} (times in ${r.timeZone})\n`,
    );
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
