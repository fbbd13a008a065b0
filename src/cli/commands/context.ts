// `wa-report context clear` and `wa-report history`: the seed's clear_conversation and
// get_conversation_history. Clearing only moves the point from which the assistant's context
// starts; the history stays for reports.
import { z } from 'zod';
import type { StoredMessage, ThreadRecord } from '../../domain/types.js';
import { normalizeWaId, formatWaId } from '../../domain/phone.js';
import { NotFoundError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { parseOptions } from '../validate.js';
import { writeJson } from '../output.js';

const FLAGS = { waId: '--wa-id', clientId: '--client-id', limit: '--limit' };

const contactSchema = z.object({
  waId: z.string({ error: 'required: the WhatsApp number, e.g. --wa-id +34612345678' }).transform((s, ctx) => {
    try {
      return normalizeWaId(s, '--wa-id');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^--wa-id: /, '') });
      return z.NEVER;
    }
  }),
  clientId: z.coerce
    .number({ error: 'must be a client id (a number)' })
    .int('must be a client id (a number)')
    .positive('must be a client id (a number)')
    .optional(),
});

async function threadsFor(
  options: { waId?: string; clientId?: string },
  ctx: CommandContext,
): Promise<{ threads: ThreadRecord[]; waId: string }> {
  const { waId, clientId } = parseOptions(contactSchema, options, FLAGS);
  const store = await ctx.store();
  if (clientId !== undefined) await store.clients.get(clientId);
  const threads = await store.threads.ofContact(waId, clientId);
  if (threads.length === 0) {
    throw new NotFoundError(
      `No conversation with ${formatWaId(waId)}${clientId === undefined ? '' : ` for client ${clientId}`}. Run \`wa-report conversations --client-id …\` to see them.`,
    );
  }
  return { threads, waId };
}

export async function runContextClear(
  options: { waId?: string; clientId?: string },
  ctx: CommandContext,
): Promise<{ waId: string; threads: number[]; at: Date }> {
  const { threads, waId } = await threadsFor(options, ctx);
  const store = await ctx.store();
  const at = new Date();
  for (const t of threads) await store.threads.resetContext(t.id, at);
  return { waId, threads: threads.map((t) => t.id), at };
}

export interface HistoryResult {
  waId: string;
  conversations: { thread: ThreadRecord; messages: StoredMessage[] }[];
}

export async function runHistory(
  options: { waId?: string; clientId?: string; limit?: string },
  ctx: CommandContext,
): Promise<HistoryResult> {
  const { limit } = parseOptions(
    z.object({ limit: z.coerce.number().int().min(1).max(100_000).default(50) }),
    { limit: options.limit },
    FLAGS,
  );
  const { threads, waId } = await threadsFor(options, ctx);
  const store = await ctx.store();
  const conversations = [];
  for (const thread of threads) conversations.push({ thread, messages: await store.messages.recent(thread.id, limit) });
  return { waId, conversations };
}

const ROLE_NAMES = { user: 'User', assistant: 'Assistant', agent: 'Agent' } as const;

export function printHistory(result: HistoryResult, json: boolean, ctx: CommandContext): void {
  if (json) {
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
    out.write(
      ctx.out.bold(
        `Conversation ${thread.id} · client ${thread.clientId} · ${formatWaId(thread.waId)}${thread.contactName ? ` (${thread.contactName})` : ''}\n`,
      ),
    );
    if (thread.contextResetAt) out.write(ctx.out.dim(`context cleared at ${thread.contextResetAt.toISOString()}\n`));
    for (const m of messages) {
      const who = ROLE_NAMES[m.role];
      const status =
        m.status && m.role !== 'user' ? ` [${m.status}${m.errorMessage ? `: ${m.errorMessage}` : ''}]` : '';
      out.write(
        `[${m.createdAt.toISOString().replace('T', ' ').slice(0, 19)}] ${who}: ${m.content}${ctx.out.dim(status)}\n`,
      );
    }
    out.write('\n');
  }
}
