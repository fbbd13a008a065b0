// Conversations the assistant may have to answer, and which daemon answers each. A row is written in
// the transaction that stores a user's message (seq counts those commits); a daemon claims it with
// a lease before answering, renews the lease while it works, and deletes the row when it is done
// unless seq moved meanwhile (then it answers again, still holding the claim). So any number of
// daemons on one PostgreSQL answer, one conversation never by two at once, and what a dead daemon
// claimed is taken over when its lease runs out. Leases are fenced: an answer is only recorded as
// 'sending' while its daemon still holds the claim (RepliesRepository.begin).
import { toDate } from '../rows.js';
import type { Querier, StatementRider } from '../sql.js';

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

export interface ReplyClaim {
  /** The commit count this claim answers up to; `finish` compares it. */
  seq: number;
  /** The claim was taken over from a daemon whose lease ran out (null: it was free). */
  takenOverFrom: string | null;
  /** Answers the previous holder left 'sending', now marked failed (never sent again). */
  abandoned: number;
}

/** Another daemon took the thread over (this one's lease ran out): it must not send anything. */
export class ClaimLostError extends Error {
  constructor(readonly threadId: number) {
    super(`The claim on conversation ${threadId} was lost (its lease ran out and another daemon took it over).`);
    this.name = 'ClaimLostError';
  }
}

/** Why an answer left 'sending' by a daemon that lost its claim is not sent again. */
export const ABANDONED_REASON =
  'The daemon answering this conversation stopped while sending this answer; ' +
  'it was not sent again, to avoid a duplicate.';

/**
 * The statement noting threads for an answer (only those of active clients with the assistant on;
 * once per commit, counted in seq), in thread order so concurrent writers lock rows alike.
 */
function noteStatement(at: string, threadsIn: string): string {
  return `INSERT INTO pending_replies (thread_id, seq, created_at)
     SELECT t.id, 1, ${at} FROM threads t JOIN clients c ON c.id = t.client_id
     WHERE ${threadsIn} AND c.active AND c.assistant_enabled
     ORDER BY t.id
     ON CONFLICT (thread_id) DO UPDATE SET seq = pending_replies.seq + 1`;
}

/** The threads of these messages the assistant would answer, once each, in thread order. */
function answerable(messages: { threadId: number; type: string }[]): number[] {
  return [...new Set(messages.filter((m) => ANSWERABLE_TYPES.includes(m.type)).map((m) => m.threadId))].sort(
    (a, b) => a - b,
  );
}

export class PendingRepliesRepository {
  constructor(private readonly q: Querier) {}

  /**
   * Inside an ingest transaction: the threads of these new user messages may need an answer (those of
   * clients with the assistant on and of a type it answers). Rows in thread order, so concurrent
   * writers lock them in the same order.
   */
  async noteIn(tx: Querier, messages: { threadId: number; type: string }[], at: Date): Promise<void> {
    const threads = answerable(messages);
    if (threads.length === 0) return;
    await tx.run(noteStatement('?', `t.id IN (${threads.map(() => '?').join(', ')})`), [at, ...threads]);
  }

  /**
   * PostgreSQL: `noteIn` as a data-modifying CTE that rides on the statement saving the batch's
   * conversations (one round trip less per ingest commit; the same rows, in the same order). Null
   * when there is nothing to note.
   */
  rider(messages: { threadId: number; type: string }[], at: Date): StatementRider | null {
    const threads = answerable(messages);
    if (threads.length === 0) return null;
    return {
      name: 'pending_v1',
      sql: (k) => noteStatement(`$${k}::timestamptz`, `t.id = ANY($${k + 1}::int[])`),
      params: [at, threads],
    };
  }

  /** A thread that needs an answer found some other way (the start's recovery): noted unless it is. */
  async note(threadId: number, at = new Date()): Promise<void> {
    await this.q.run(
      `INSERT INTO pending_replies (thread_id, seq, created_at) VALUES (?, 1, ?) ON CONFLICT (thread_id) DO NOTHING`,
      [threadId, at],
    );
  }

  /**
   * Claims a thread for `owner` until now + `leaseMs` when it is free, its lease ran out, or `owner`
   * holds it already. Taking over from a daemon whose lease ran out marks the answers it left
   * 'sending' failed, in the same transaction. Null: nothing to answer, or another daemon holds it.
   */
  async claim(threadId: number, owner: string, leaseMs: number, now = new Date()): Promise<ReplyClaim | null> {
    return this.q.transaction(async (tx) => {
      const lock = tx.dialect === 'postgres' ? 'FOR UPDATE' : '';
      const [row] = await tx.all<{ seq: unknown; lease_owner: string | null; lease_until: unknown }>(
        `SELECT seq, lease_owner, lease_until FROM pending_replies WHERE thread_id = ? ${lock}`,
        [threadId],
      );
      if (!row) return null;
      const held = row.lease_owner !== null && row.lease_until !== null && toDate(row.lease_until) > now;
      if (held && row.lease_owner !== owner) return null;
      await tx.run(
        `UPDATE pending_replies SET lease_owner = ?, lease_until = ?, claimed_seq = seq WHERE thread_id = ?`,
        [owner, new Date(now.getTime() + leaseMs), threadId],
      );
      const takenOverFrom = row.lease_owner !== null && row.lease_owner !== owner ? row.lease_owner : null;
      // Whoever claims a thread is the only one sending in it: an answer still 'sending' is a previous
      // holder's (its lease ran out, or this daemon's own, from before a crash).
      const abandoned = await tx.run(
        `UPDATE messages SET status = 'failed', status_at = ?, error_message = ?
         WHERE thread_id = ? AND role = 'assistant' AND status = 'sending'`,
        [now, ABANDONED_REASON, threadId],
      );
      return { seq: Number(row.seq), takenOverFrom, abandoned };
    });
  }

  /**
   * The holder answered what was pending when it claimed (`seq`): the row goes, unless messages
   * arrived meanwhile; then the claim moves to the new seq, which is returned (answer again).
   */
  async finish(threadId: number, owner: string, seq: number): Promise<number | null> {
    const deleted = await this.q.run(
      `DELETE FROM pending_replies WHERE thread_id = ? AND lease_owner = ? AND seq = ?`,
      [threadId, owner, seq],
    );
    if (deleted) return null;
    const [row] = await this.q.all<{ seq: unknown }>(
      `UPDATE pending_replies SET claimed_seq = seq WHERE thread_id = ? AND lease_owner = ? RETURNING seq`,
      [threadId, owner],
    );
    return row ? Number(row.seq) : null;
  }

  /** Gives a claim back (stopping): another daemon, or this one's next start, answers it. */
  async release(threadId: number, owner: string): Promise<void> {
    await this.q.run(
      `UPDATE pending_replies SET lease_owner = NULL, lease_until = NULL WHERE thread_id = ? AND lease_owner = ?`,
      [threadId, owner],
    );
  }

  /**
   * Renews the leases of the threads `owner` is working on; returns how many it still holds (a
   * thread another daemon took over is no longer among them).
   */
  renew(owner: string, threadIds: number[], leaseMs: number, now = new Date()): Promise<number> {
    if (threadIds.length === 0) return Promise.resolve(0);
    return this.q.run(
      `UPDATE pending_replies SET lease_until = ?
       WHERE lease_owner = ? AND thread_id IN (${threadIds.map(() => '?').join(', ')})`,
      [new Date(now.getTime() + leaseMs), owner, ...threadIds],
    );
  }

  /**
   * Inside the transaction that records an answer as 'sending': extends `owner`'s lease on the
   * thread; false when it no longer holds it (another daemon took over: nothing may be sent).
   */
  async holds(tx: Querier, threadId: number, owner: string, leaseMs: number, now = new Date()): Promise<boolean> {
    const n = await tx.run(
      `UPDATE pending_replies SET lease_until = ? WHERE thread_id = ? AND lease_owner = ? AND lease_until > ?`,
      [new Date(now.getTime() + leaseMs), threadId, owner, now],
    );
    return n > 0;
  }

  /** Threads waiting for a daemon (unclaimed, or their lease ran out), oldest first. */
  async claimable(limit: number, now = new Date()): Promise<number[]> {
    const rows = await this.q.all<{ thread_id: unknown }>(
      `SELECT thread_id FROM pending_replies WHERE lease_until IS NULL OR lease_until <= ?
       ORDER BY created_at, thread_id LIMIT ?`,
      [now, limit],
    );
    return rows.map((r) => Number(r.thread_id));
  }

  /** The owners holding live leases (a daemon checks which of them died on its own machine). */
  async owners(now = new Date()): Promise<string[]> {
    const rows = await this.q.all<{ lease_owner: string }>(
      `SELECT DISTINCT lease_owner FROM pending_replies WHERE lease_owner IS NOT NULL AND lease_until > ?`,
      [now],
    );
    return rows.map((r) => r.lease_owner);
  }

  /** Ends the leases of a daemon known to be dead (its process is gone): its threads are free now. */
  expire(owner: string): Promise<number> {
    return this.q.run(`UPDATE pending_replies SET lease_until = ? WHERE lease_owner = ?`, [new Date(0), owner]);
  }

  /** How many threads wait for an answer, and how many of them are claimed. */
  async backlog(now = new Date()): Promise<{ waiting: number; claimed: number }> {
    const [row] = await this.q.all<{ waiting: unknown; claimed: unknown }>(
      `SELECT COUNT(*) AS waiting, COALESCE(SUM(CASE WHEN lease_until > ? THEN 1 ELSE 0 END), 0) AS claimed
       FROM pending_replies`,
      [now],
    );
    return { waiting: Number(row?.waiting ?? 0), claimed: Number(row?.claimed ?? 0) };
  }
}
