// The assistant's answers are tracked in the messages table itself, so a restart knows what was
// answered. An answer covers every inbound message up to the one named by its answers_wamid (its
// reply_to_wamid is the message WhatsApp shows it quoting, when it quotes one); an answer being
// sent has status 'sending' until the Graph API returns its wamid. Once sent it counts in its
// conversation (message.sent); a failure is a message.failed event, in the same transaction.
import { messageFailed, type FailureFacts } from '../../domain/events.js';
import type { StoredMessage } from '../../domain/types.js';
import { NotFoundError } from '../../errors.js';
import { secondOf, userLockSql } from '../dialect.js';
import type { EncryptionMarker } from '../encryption-marker.js';
import { STORED_MESSAGE_COLUMNS, toDate, toStatusUpdate } from '../rows.js';
import type { Querier } from '../sql.js';
import type { ClientsRepository } from './clients.js';
import { trackConversations, type ConversationDefaults } from './conversations.js';
import type { Outbox } from './outbox.js';
import { ANSWERABLE_TYPES, ClaimLostError, type PendingRepliesRepository } from './pending-replies.js';
import { openMessage } from './messages.js';
import { applyEarlierStatuses, statusEventsOf } from './statuses.js';
import { ThreadsRepository } from './threads.js';

/** Prefix of the error_message of an inbound message the assistant will not answer (the reason follows). */
export const NOT_ANSWERED_PREFIX = 'Not answered: ';

export class RepliesRepository {
  constructor(
    private readonly q: Querier,
    private readonly marker: EncryptionMarker,
    private readonly clients: ClientsRepository,
    private readonly outbox: Outbox,
    private readonly conversations: ConversationDefaults,
    private readonly pending: PendingRepliesRepository,
  ) {}

  /** Inbound messages of a thread not covered by any answer yet (oldest first), received since `since`. */
  async pendingInbound(threadId: number, since: Date): Promise<StoredMessage[]> {
    const rows = await this.q.all(
      `SELECT ${STORED_MESSAGE_COLUMNS} FROM messages m
       WHERE m.thread_id = ? AND m.role = 'user' AND m.created_at >= ?
         AND m.type IN (${ANSWERABLE_TYPES.map(() => '?').join(', ')})
         AND (m.error_message IS NULL OR m.error_message NOT LIKE '${NOT_ANSWERED_PREFIX}%')
         AND m.csat_survey_id IS NULL
         AND m.id > COALESCE((SELECT MAX(u.id) FROM messages a JOIN messages u ON u.wamid = a.answers_wamid
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
         -- Satisfaction surveys, their answers and comments are not part of what the model reads.
         AND csat_survey_id IS NULL
       ORDER BY ${secondOf(this.q.dialect, 'created_at')} DESC, id DESC LIMIT ?`,
      [threadId, threadId, new Date(0), threadId, new Date(0), limit],
    );
    return rows.map((r) => openMessage(this.q, r)).reverse();
  }

  /** The id of a thread's latest message (any role), or null. */
  async latestMessageId(threadId: number): Promise<number | null> {
    const [row] = await this.q.all<{ id: unknown }>(
      `SELECT id FROM messages WHERE thread_id = ? ORDER BY ${secondOf(this.q.dialect, 'created_at')} DESC, id DESC
       LIMIT 1`,
      [threadId],
    );
    return row ? Number(row.id) : null;
  }

  /** When a person last wrote in a thread (an agent message), or null. */
  async lastAgentMessageAt(threadId: number): Promise<Date | null> {
    const [row] = await this.q.all<{ at: unknown }>(
      `SELECT MAX(created_at) AS at FROM messages WHERE thread_id = ? AND role = 'agent'`,
      [threadId],
    );
    return row?.at === null || row?.at === undefined ? null : toDate(row.at);
  }

  /**
   * Records an answer about to be sent ('sending'), before the Graph API is called. It covers the
   * inbound messages up to `answersWamid`; `replyToWamid` is the message it quotes, or null.
   * `claim`: the daemon's claim on the thread, checked and extended in the same transaction
   * (ClaimLostError when another daemon took it over: then nothing may be sent).
   */
  async begin(reply: {
    threadId: number;
    content: string;
    answersWamid: string;
    replyToWamid: string | null;
    createdAt?: Date;
    claim?: { owner: string; leaseMs: number };
  }): Promise<number> {
    const thread = await new ThreadsRepository(this.q).get(reply.threadId);
    if (!thread) throw new NotFoundError(`No conversation with id ${reply.threadId}.`);
    const client = await this.clients.get(thread.clientId);
    const at = reply.createdAt ?? new Date();
    this.marker.assertKeyForWrites();
    // One transaction: the answer row (which covers the user's messages) never exists without
    // the rest, so a failure here leaves the messages pending and they are answered on retry.
    const id = await this.q.transaction(async (tx) => {
      if (reply.claim && !(await this.pending.holds(tx, reply.threadId, reply.claim.owner, reply.claim.leaseMs)))
        throw new ClaimLostError(reply.threadId);
      await this.marker.noteIn(tx);
      const [row] = await tx.all<{ id: unknown }>(
        `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at,
                               status, status_at, reply_to_wamid, answers_wamid, inserted_at)
         VALUES (?, ?, 'assistant', 'text', ?, NULL, ?, ?, ?, 'sending', ?, ?, ?, ?) RETURNING id`,
        [
          thread.id,
          thread.clientId,
          tx.keys.seal(reply.content),
          thread.waId,
          client.phoneNumberId,
          at,
          at,
          reply.replyToWamid,
          reply.answersWamid,
          at,
        ],
      );
      await new ThreadsRepository(tx).touch(thread.id, at);
      return Number(row?.id);
    });
    this.marker.committed();
    return id;
  }

  /**
   * The Graph API accepted the answer: store its wamid, count it in its conversation (with
   * message.sent), then apply statuses that raced ahead of it (a failed one is a message.failed).
   */
  async complete(id: number, result: { wamid: string; sentAt?: Date }): Promise<void> {
    const sentAt = result.sentAt ?? new Date();
    await this.q.transaction(async (tx) => {
      // PostgreSQL: the user's lock first (later statements see a status another daemon stored
      // for this wamid), then the thread's row lock keeps its conversation changes serial.
      const lock = tx.dialect === 'postgres' ? `, ${userLockSql('m.wa_id')} AS locked` : '';
      const [m] = await tx.all(
        `SELECT m.id, m.thread_id, m.client_id, m.wa_id, m.type, m.content, m.created_at${lock} FROM messages m
         WHERE m.id = ? AND m.status = 'sending'`,
        [id],
      );
      if (!m) return;
      await new ThreadsRepository(tx).touch(Number(m.thread_id), toDate(m.created_at));
      await tx.run(
        `UPDATE messages SET wamid = ?, status = 'sent', status_at = ? WHERE id = ? AND status = 'sending'`,
        [result.wamid, sentAt, id],
      );
      const facts = {
        id,
        threadId: Number(m.thread_id),
        clientId: Number(m.client_id),
        waId: String(m.wa_id),
        role: 'assistant' as const,
        type: String(m.type),
        content: tx.keys.open(String(m.content), () => `The content of message ${id}`),
        wamid: result.wamid,
        createdAt: toDate(m.created_at),
      };
      const tracked = await trackConversations(tx, [facts], this.conversations);
      const conversationId = tracked.conversationOf.get(id) ?? null;
      const earlier = await statusEventsOf(tx, [result.wamid]);
      await applyEarlierStatuses(tx, earlier);
      const events = tracked.events();
      for (const e of earlier.map(toStatusUpdate).filter((s) => s.status === 'failed')) {
        events.push(
          messageFailed(
            { ...facts, conversationId },
            {
              service: 'whatsapp',
              code: e.errorCode ?? null,
              title: e.errorTitle ?? null,
              details: e.errorDetails ?? null,
              at: e.occurredAt,
            },
          ),
        );
      }
      await this.outbox.emit(tx, events);
    });
  }

  /** The answer could not be sent (or not even produced): keep it, failed, with the reason (message.failed). */
  async fail(
    id: number,
    failure: { errorCode?: number | null; errorMessage: string; service: FailureFacts['service']; title?: string },
  ): Promise<void> {
    const at = new Date();
    await this.q.transaction(async (tx) => {
      const [m] = await tx.all(
        `SELECT id, thread_id, client_id, wa_id, type, wamid, created_at FROM messages WHERE id = ?`,
        [id],
      );
      await tx.run(
        `UPDATE messages SET status = 'failed', status_at = ?, error_code = ?, error_message = ? WHERE id = ?`,
        [at, failure.errorCode ?? null, failure.errorMessage, id],
      );
      if (!m) return;
      const conversation = await tx.all<{ id: unknown }>(
        'SELECT id FROM conversations WHERE thread_id = ? AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1',
        [m.thread_id],
      );
      await this.outbox.emit(tx, [
        messageFailed(
          {
            id,
            threadId: Number(m.thread_id),
            clientId: Number(m.client_id),
            waId: String(m.wa_id),
            role: 'assistant',
            type: String(m.type),
            wamid: (m.wamid as string | null) ?? null,
            createdAt: toDate(m.created_at),
            conversationId: conversation[0] ? Number(conversation[0].id) : null,
          },
          {
            service: failure.service,
            code: failure.errorCode ?? null,
            title: failure.title ?? null,
            details: failure.errorMessage,
            at,
          },
        ),
      ]);
    });
  }

  /** Inbound messages that will not be answered, with why (e.g. outside the 24-hour window). */
  async markNotAnswered(ids: number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.q.run(
      `UPDATE messages SET error_message = ? WHERE id IN (${ids.map(() => '?').join(', ')}) AND role = 'user'`,
      [`${NOT_ANSWERED_PREFIX}${reason}`, ...ids],
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
