// `wa-report conversations`: a client's conversations (threads) in a period, newest activity first;
// with --sessions, the conversations inside them, each with its start, end, length and first response.
import type { ConversationPage } from '../../db/store.js';
import { formatWaId } from '../../domain/phone.js';
import type { ClientRecord } from '../../domain/types.js';
import type { SessionRecord } from '../../db/repositories/conversations.js';
import { conversationListDocument, sessionListDocument } from '../../reports/documents.js';
import { formatSeconds } from '../../reports/format.js';
import { parseReportOptions, requireClientId, type RawReportOptions } from '../../reports/query-options.js';
import { bool, defineCommand } from '../command.js';
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
    sessions: bool(
      '--sessions',
      'list the conversations inside the threads instead (started in the period): start, end and why, length, ' +
        'messages, first response, handoff',
    ),
    json: json(
      'JSON: {client, total_conversations, conversations[]} as the HTTP API gives it ' +
        '(with --sessions: {client, total_sessions, sessions[]})',
    ),
  },
  help: `
A thread holds everything with one user; it is made of conversations ("sessions"), each ending after
the client's idle period without a message (clients update --conversation-idle) or when closed
(wa-report conversations close).

Examples:
  wa-report conversations --client-id 1 --start-date 2024-01-01 --end-date 2024-01-31
  wa-report conversations --client-id 1 --sessions --start-date 2024-01-01
`,
  async run({ options }, ctx) {
    if (options.sessions) printSessions(await listSessions(options, ctx), Boolean(options.json), ctx);
    else printConversations(await listConversations(options, ctx), Boolean(options.json), ctx);
  },
});

export interface SessionsResult {
  client: ClientRecord;
  sessions: SessionRecord[];
  timeZone: string;
}

export async function listSessions(raw: RawReportOptions, ctx: CommandContext): Promise<SessionsResult> {
  const o = parseReportOptions(raw, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const client = await store.clients.get(clientId);
  // Conversations idle by now are ended first (what the daemon's sweep does, idempotently).
  await store.conversations.sweep();
  const sessions = await store.conversations.list({ clientId, waId: o.waId, start: o.start, end: o.end }, 1_000_000);
  return { client, sessions, timeZone: o.timeZone };
}

export function printSessions(r: SessionsResult, asJson: boolean, ctx: CommandContext): void {
  if (asJson) {
    writeJson(ctx, sessionListDocument(r.client, r.sessions));
    return;
  }
  const zoned = zonedMinutes(r.timeZone);
  if (ctx.io.stdout.isTTY) {
    const n = r.sessions.length;
    ctx.io.stderr.write(`${r.client.name}: ${n} session${n === 1 ? '' : 's'} (times in ${r.timeZone})\n`);
  }
  const seconds = (from: Date | null, to: Date | null) =>
    from && to ? Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000)) : null;
  writeRows(
    ctx,
    r.sessions,
    [
      { header: 'session', cell: (s) => String(s.id) },
      { header: 'wa_id', cell: (s) => formatWaId(s.waId) },
      { header: 'contact', cell: (s) => s.contactName ?? '' },
      { header: 'started', cell: (s) => zoned(s.startedAt), plain: (s) => s.startedAt.toISOString() },
      {
        header: 'ended',
        cell: (s) => (s.endedAt ? zoned(s.endedAt) : 'open'),
        plain: (s) => s.endedAt?.toISOString() ?? '',
      },
      { header: 'why', cell: (s) => s.endReason ?? '' },
      {
        header: 'length',
        cell: (s) => formatSeconds(seconds(s.startedAt, s.lastMessageAt)),
        plain: (s) => String(seconds(s.startedAt, s.lastMessageAt)),
      },
      { header: 'user', cell: (s) => String(s.userMessages) },
      { header: 'assistant', cell: (s) => String(s.assistantMessages) },
      { header: 'agent', cell: (s) => String(s.agentMessages) },
      {
        header: 'first response',
        cell: (s) => formatSeconds(seconds(s.firstUserAt, s.firstResponseAt)),
        plain: (s) => String(seconds(s.firstUserAt, s.firstResponseAt) ?? ''),
      },
      { header: 'handoff', cell: (s) => (s.handoffAt ? 'yes' : ''), plain: (s) => s.handoffAt?.toISOString() ?? '' },
    ],
    'No sessions.',
  );
}

function zonedMinutes(timeZone: string): (d: Date) => string {
  const format = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  return (d: Date) => format.format(d);
}

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
  const zoned = zonedMinutes(r.timeZone);
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
