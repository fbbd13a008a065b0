// The assistant's answers are tracked in the messages table itself, so a restart knows what was
// answered. An answer covers every inbound message up to the one named by its reply_to_wamid; an
// answer being sent has status 'sending' until the Graph API returns its wamid. Every step of an
// answer goes through the SQL layer, on the same connections.
import type { StoredMessage } from '../../domain/types.js';
import { NotFoundError } from '../../errors.js';
import { secondOf } from '../dialect.js';
import type { EncryptionMarker } from '../encryption-marker.js';
import { STORED_MESSAGE_COLUMNS } from '../rows.js';
import type { Querier } from '../sql.js';
import type { ClientsRepository } from './clients.js';
import { openMessage } from './messages.js';
import { applyEarlierStatuses, statusEventsOf } from './statuses.js';
import { ThreadsRepository } from './threads.js';

/** Inbound types the assistant answers; reactions, system notices and errors are not questions. */
export const ANSWERABLE_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'order',
];

/** Prefix of the error_message of an inbound message the assistant will not answer (the reason follows). */
export const NOT_ANSWERED_PREFIX = 'Not answered: ';

export class RepliesRepository {
  constructor(
    private readonly q: Querier,
    private readonly marker: EncryptionMarker,
    private readonly clients: ClientsRepository,
  ) {}

  /** Inbound messages of a thread not covered by any answer yet (oldest first), received since `since`. */
  async pendingInbound(threadId: number, since: Date): Promise<StoredMessage[]> {
    const rows = await this.q.all(
      `SELECT ${STORED_MESSAGE_COLUMNS} FROM messages m
       WHERE m.thread_id = ? AND m.role = 'user' AND m.created_at >= ?
         AND m.type IN (${ANSWERABLE_TYPES.map(() => '?').join(', ')})
         AND (m.error_message IS NULL OR m.error_message NOT LIKE '${NOT_ANSWERED_PREFIX}%')
         AND m.id > COALESCE((SELECT MAX(u.id) FROM messages a JOIN messages u ON u.wamid = a.reply_to_wamid
                              WHERE a.thread_id = ? AND a.role = 'assistant'), 0)
       ORDER BY m.id`,
      [threadId, since, ...ANSWERABLE_TYPES, threadId],
    );
    return rows.map((r) => openMessage(this.q, r));
  }

  /**
   * The model's context: the last `limit` messages since the thread's context reset, oldest first.
   * Answers that never reached the user (failed, or lost in a crash) are left out.
   */
  async context(threadId: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.q.all(
      `SELECT ${STORED_MESSAGE_COLUMNS} FROM messages
       WHERE thread_id = ?
         -- WhatsApp timestamps have whole seconds: a message written right after a clear may carry
         -- an earlier time, so what arrived after the clear counts too.
         AND (created_at >= COALESCE((SELECT context_reset_at FROM threads WHERE id = ?), ?)
              OR inserted_at > COALESCE((SELECT context_reset_at FROM threads WHERE id = ?), ?))
         AND NOT (role = 'assistant' AND (status IS NULL OR status IN ('failed', 'sending')))
         AND type <> 'reaction'
       ORDER BY ${secondOf(this.q.dialect, 'created_at')} DESC, id DESC LIMIT ?`,
      [threadId, threadId, new Date(0), threadId, new Date(0), limit],
    );
    return rows.map((r) => openMessage(this.q, r)).reverse();
  }

  /** Records an answer about to be sent ('sending'), before the Graph API is called. */
  async begin(reply: { threadId: number; content: string; replyToWamid: string; createdAt?: Date }): Promise<number> {
    const thread = await new ThreadsRepository(this.q).get(reply.threadId);
    if (!thread) throw new NotFoundError(`No conversation with id ${reply.threadId}.`);
    const client = await this.clients.get(thread.clientId);
    const at = reply.createdAt ?? new Date();
    this.marker.assertKeyForWrites();
    // One transaction: the answer row (which covers the user's messages) never exists without
    // the rest, so a failure here leaves the messages pending and they are answered on retry.
    const id = await this.q.transaction(async (tx) => {
      await this.marker.noteIn(tx);
      const [row] = await tx.all<{ id: unknown }>(
        `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at,
                               status, status_at, reply_to_wamid, inserted_at)
         VALUES (?, ?, 'assistant', 'text', ?, NULL, ?, ?, ?, 'sending', ?, ?, ?) RETURNING id`,
        [
          thread.id,
          thread.clientId,
          tx.keys.seal(reply.content),
          thread.waId,
          client.phoneNumberId,
          at,
          at,
          reply.replyToWamid,
          at,
        ],
      );
      await new ThreadsRepository(tx).touch(thread.id, at);
      return Number(row?.id);
    });
    this.marker.committed();
    return id;
  }

  /** The Graph API accepted the answer: store its wamid, then apply statuses that raced ahead of it. */
  async complete(id: number, result: { wamid: string; sentAt?: Date }): Promise<void> {
    await this.q.transaction(async (tx) => {
      await tx.run(
        `UPDATE messages SET wamid = ?, status = 'sent', status_at = ? WHERE id = ? AND status = 'sending'`,
        [result.wamid, result.sentAt ?? new Date(), id],
      );
      await applyEarlierStatuses(tx, await statusEventsOf(tx, [result.wamid]));
    });
  }

  /** The answer could not be sent (or not even produced): keep it, failed, with the reason. */
  async fail(id: number, failure: { errorCode?: number | null; errorMessage: string }): Promise<void> {
    await this.q.run(
      `UPDATE messages SET status = 'failed', status_at = ?, error_code = ?, error_message = ? WHERE id = ?`,
      [new Date(), failure.errorCode ?? null, failure.errorMessage, id],
    );
  }

  /** Inbound messages that will not be answered, with why (e.g. outside the 24-hour window). */
  async markNotAnswered(ids: number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.q.run(
      `UPDATE messages SET error_message = ? WHERE id IN (${ids.map(() => '?').join(', ')}) AND role = 'user'`,
      [`${NOT_ANSWERED_PREFIX}${reason}`, ...ids],
    );
  }

  /**
   * After a crash: answers left 'sending' may or may not have reached the user. They are marked
   * failed rather than sent again, because WhatsApp has no idempotency key (a resend could duplicate).
   */
  abandonInFlight(reason: string): Promise<number> {
    return this.q.run(
      `UPDATE messages SET status = 'failed', status_at = ?, error_message = ?
       WHERE role = 'assistant' AND status = 'sending'`,
      [new Date(), reason],
    );
  }

  /** Threads of assistant-enabled clients with inbound messages since `since` (candidates for answers). */
  async threadsWithRecentInbound(since: Date): Promise<{ threadId: number; clientId: number }[]> {
    const rows = await this.q.all(
      `SELECT t.id, t.client_id FROM threads t JOIN clients c ON c.id = t.client_id
       WHERE c.active = ? AND c.assistant_enabled = ? AND t.last_message_at >= ? ORDER BY t.last_message_at`,
      [true, true, since],
    );
    return rows.map((r) => ({ threadId: Number(r.id), clientId: Number(r.client_id) }));
  }
}
