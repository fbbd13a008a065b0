// The conversations of one WhatsApp user, with all clients or one: what `context clear` and
// `history` act on.
import type { ThreadRecord } from '../../domain/types.js';
import { formatWaId } from '../../domain/phone.js';
import { NotFoundError } from '../../errors.js';
import type { CommandContext } from '../context.js';

export async function threadsOfContact(
  waId: string,
  clientId: number | undefined,
  ctx: CommandContext,
): Promise<ThreadRecord[]> {
  const store = await ctx.store();
  if (clientId !== undefined) await store.clients.get(clientId);
  const threads = await store.threads.ofContact(waId, clientId);
  if (threads.length === 0) {
    throw new NotFoundError(
      `No conversation with ${formatWaId(waId)}${clientId === undefined ? '' : ` for client ${clientId}`}. ` +
        'Run `wa-report conversations --client-id …` to see them.',
    );
  }
  return threads;
}
