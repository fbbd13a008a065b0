// `wa-report history`: a user's conversation history, the last messages, oldest first.
import { z } from 'zod';
import { formatWaId } from '../../domain/phone.js';
import type { StoredMessage, ThreadRecord } from '../../domain/types.js';
import { defineCommand, flag, required } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';
import { optionalClientId, phoneWaId } from './contact-flags.js';
import { threadsOfContact } from './contact-threads.js';

interface HistoryResult {
  waId: string;
  conversations: { thread: ThreadRecord; messages: StoredMessage[] }[];
}

export const command = defineCommand({
  flags: {
    waId: required(phoneWaId()),
    clientId: optionalClientId('only the conversation with this client'),
    limit: flag(
      '--limit <n>',
      'messages per conversation (default 50)',
      z.coerce.number().int().min(1).max(100_000).default(50),
    ),
    json: json(),
  },
  async run({ options }, ctx) {
    const threads = await threadsOfContact(options.waId, options.clientId, ctx);
    const store = await ctx.store();
    const conversations = [];
    for (const thread of threads) {
      conversations.push({ thread, messages: await store.messages.recent(thread.id, options.limit) });
    }
    printHistory({ waId: options.waId, conversations }, Boolean(options.json), ctx);
  },
});

const ROLE_NAMES = { user: 'User', assistant: 'Assistant', agent: 'Agent' } as const;

function printHistory(result: HistoryResult, asJson: boolean, ctx: CommandContext): void {
  if (asJson) {
    writeJson(ctx, {
      wa_id: formatWaId(result.waId),
      conversations: result.conversations.map(({ thread, messages }) => ({
        thread_id: thread.id,
        client_id: thread.clientId,
        contact_name: thread.contactName,
        context_reset_at: thread.contextResetAt?.toISOString() ?? null,
        messages: messages.map((m) => ({
          id: m.id,
          wamid: m.wamid,
          role: m.role,
          type: m.type,
          content: m.content,
          created_at: m.createdAt.toISOString(),
          status: m.status,
          error_message: m.errorMessage,
        })),
      })),
    });
    return;
  }
  const out = ctx.io.stdout;
  for (const { thread, messages } of result.conversations) {
    const contact = thread.contactName ? ` (${thread.contactName})` : '';
    out.write(
      ctx.out.bold(`Conversation ${thread.id} · client ${thread.clientId} · ${formatWaId(thread.waId)}${contact}\n`),
    );
    if (thread.contextResetAt) out.write(ctx.out.dim(`context cleared at ${thread.contextResetAt.toISOString()}\n`));
    for (const m of messages) {
      const error = m.errorMessage ? `: ${m.errorMessage}` : '';
      const status = m.status && m.role !== 'user' ? ` [${m.status}${error}]` : '';
      const at = m.createdAt.toISOString().replace('T', ' ').slice(0, 19);
      out.write(`[${at}] ${ROLE_NAMES[m.role]}: ${m.content}${ctx.out.dim(status)}\n`);
    }
    out.write('\n');
  }
}
