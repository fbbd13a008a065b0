// CSAT surveys in the store: queued when a conversation ends (in the transaction that ends it),
// claimed and marked by the daemon's surveyor as it sends them, and answered by the ingest writer,
// which recognises answers (and comments) among the messages it stores, in the same transaction.
import type { ConversationState } from '../../domain/conversations.js';
import { recogniseAnswer, replyIdOf, type CsatScale } from '../../domain/csat.js';
import { csatReceived, type NewEvent } from '../../domain/events.js';
import { userLocks } from '../dialect.js';
import { toDate, toDateOrNull } from '../rows.js';
import type { Querier } from '../sql.js';
import { applyEarlierStatuses, statusEventsOf } from './statuses.js';

/** How long after a survey is sent an answer (or a comment) still counts. */
export const ANSWER_WINDOW_MS = 24 * 3_600_000;

export interface SurveyToQueue {
  conversationId: number;
  threadId: number;
  clientId: number;
  scale: CsatScale;
  userMessages: number;
}

export function surveyOf(c: ConversationState, scale: unknown): SurveyToQueue {
  return {
    conversationId: c.id as number,
    threadId: c.threadId,
    clientId: c.clientId,
    scale: Number(scale) === 3 ? 3 : 5,
    userMessages: c.userMessages,
  };
}

/** Queues a survey for each ended conversation a user wrote in (once per conversation). */
export async function queueSurveys(tx: Querier, surveys: SurveyToQueue[], now: Date): Promise<void> {
  for (const s of surveys) {
    if (s.userMessages === 0) continue;
    await tx.run(
      `INSERT INTO csat_surveys (conversation_id, thread_id, client_id, state, scale, created_at)
       VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (conversation_id) DO NOTHING`,
      [s.conversationId, s.threadId, s.clientId, s.scale, now],
    );
  }
}

/** A survey claimed for sending, with what sending it needs. */
export interface SurveyClaim {
  id: number;
  kind: 'survey' | 'comment';
  threadId: number;
  clientId: number;
  conversationId: number;
  scale: CsatScale;
  waId: string;
  phoneNumberId: string;
  clientLanguage: string | null;
  question: string | null;
  template: string | null;
  /** When the conversation surveyed ended. */
  endedAt: Date | null;
  /** The user's last message in the thread: when, and its text (the survey's language). */
  lastUserAt: Date | null;
  lastUserText: string | null;
}

export interface SentSurveyMessage {
  wamid: string;
  type: string;
  content: string;
  raw: string;
  at: Date;
}

export class CsatRepository {
  constructor(private readonly q: Querier) {}

  /**
   * Claims surveys to send and comments to ask, up to `limit`. A claim whose daemon died while
   * sending is not sent again (it may have reached the user): it is marked failed with that reason.
   */
  async claim(now: Date, limit = 16): Promise<SurveyClaim[]> {
    await this.q.run(
      `UPDATE csat_surveys SET state = 'failed', lease_until = NULL,
         reason = 'the daemon stopped while sending it; it may have reached the user, so it was not sent again'
       WHERE state = 'sending' AND lease_until < ?`,
      [now],
    );
    await this.q.run(
      `UPDATE csat_surveys SET comment_state = 'unasked', lease_until = NULL
       WHERE comment_state = 'asking' AND lease_until < ?`,
      [now],
    );
    const lease = new Date(now.getTime() + 5 * 60_000);
    const surveys = await this.q.all<{ id: unknown }>(
      `UPDATE csat_surveys SET state = 'sending', lease_until = ?
       WHERE id IN (SELECT id FROM csat_surveys WHERE state = 'pending' ORDER BY id LIMIT ?) AND state = 'pending'
       RETURNING id`,
      [lease, limit],
    );
    const comments = await this.q.all<{ id: unknown }>(
      `UPDATE csat_surveys SET comment_state = 'asking', lease_until = ?
       WHERE id IN (SELECT id FROM csat_surveys WHERE comment_state = 'ask' ORDER BY id LIMIT ?)
         AND comment_state = 'ask'
       RETURNING id`,
      [lease, limit],
    );
    const kinds = new Map<number, 'survey' | 'comment'>([
      ...surveys.map((r) => [Number(r.id), 'survey'] as const),
      ...comments.map((r) => [Number(r.id), 'comment'] as const),
    ]);
    if (kinds.size === 0) return [];
    const ids = [...kinds.keys()];
    const rows = await this.q.all(
      `SELECT s.id, s.thread_id, s.client_id, s.conversation_id, s.scale, t.wa_id, cl.phone_number_id, cl.language,
              (SELECT c.ended_at FROM conversations c WHERE c.id = s.conversation_id) AS ended_at,
              cl.csat_question, cl.csat_template,
              (SELECT MAX(m.created_at) FROM messages m
               WHERE m.thread_id = s.thread_id AND m.role = 'user') AS last_user_at,
              (SELECT m.content FROM messages m WHERE m.thread_id = s.thread_id AND m.role = 'user' AND m.type = 'text'
                 AND m.csat_survey_id IS NULL
               ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_user_text
       FROM csat_surveys s JOIN threads t ON t.id = s.thread_id JOIN clients cl ON cl.id = s.client_id
       WHERE s.id IN (${ids.map(() => '?').join(', ')}) ORDER BY s.id`,
      ids,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      kind: kinds.get(Number(r.id)) ?? 'survey',
      threadId: Number(r.thread_id),
      clientId: Number(r.client_id),
      conversationId: Number(r.conversation_id),
      scale: Number(r.scale) === 3 ? 3 : 5,
      waId: String(r.wa_id),
      phoneNumberId: String(r.phone_number_id),
      clientLanguage: (r.language as string | null) ?? null,
      question: (r.csat_question as string | null) ?? null,
      template: (r.csat_template as string | null) ?? null,
      endedAt: toDateOrNull(r.ended_at),
      lastUserAt: toDateOrNull(r.last_user_at),
      lastUserText:
        r.last_user_text === null || r.last_user_text === undefined
          ? null
          : this.q.keys.open(String(r.last_user_text), () => 'A user message'),
    }));
  }

  /** The survey (or its comment question) went out: stored as a message of the thread, like any other. */
  async sent(claim: SurveyClaim, message: SentSurveyMessage, via: 'interactive' | 'template' | 'text'): Promise<void> {
    // PostgreSQL: with the user's lock (see userLocks), so a status another daemon is storing for
    // this wamid is either seen below or finds the message.
    await this.q.transaction(
      async (tx) => {
        const stored = await tx.run(
          `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at,
           status, status_at, raw, inserted_at, csat_survey_id)
         VALUES (?, ?, 'assistant', ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?) ON CONFLICT (wamid) DO NOTHING`,
          [
            claim.threadId,
            claim.clientId,
            message.type,
            tx.keys.seal(message.content),
            message.wamid,
            claim.waId,
            claim.phoneNumberId,
            message.at,
            message.at,
            tx.keys.seal(message.raw),
            message.at,
            claim.id,
          ],
        );
        // Statuses Meta sent before this commit (the Graph API had answered) move it on now.
        if (stored) await applyEarlierStatuses(tx, await statusEventsOf(tx, [message.wamid]));
        await tx.run(`UPDATE threads SET last_message_at = ? WHERE id = ? AND last_message_at < ?`, [
          message.at,
          claim.threadId,
          message.at,
        ]);
        if (claim.kind === 'survey') {
          await tx.run(
            `UPDATE csat_surveys SET state = 'sent', via = ?, wamid = ?, sent_at = ?, lease_until = NULL WHERE id = ?`,
            [via, message.wamid, message.at, claim.id],
          );
        } else {
          await tx.run(`UPDATE csat_surveys SET comment_state = 'asked', lease_until = NULL WHERE id = ?`, [claim.id]);
        }
      },
      userLocks(this.q.dialect, [claim.waId]),
    );
  }

  /** Not sent: skipped (state skipped) or refused (failed), with the reason. */
  async notSent(claim: SurveyClaim, state: 'skipped' | 'failed', reason: string): Promise<void> {
    if (claim.kind === 'comment') {
      await this.q.run(`UPDATE csat_surveys SET comment_state = 'unasked', lease_until = NULL WHERE id = ?`, [
        claim.id,
      ]);
      return;
    }
    await this.q.run(`UPDATE csat_surveys SET state = ?, reason = ?, lease_until = NULL WHERE id = ?`, [
      state,
      reason,
      claim.id,
    ]);
  }

  /** A conversation's survey, as reports show it. */
  async ofConversation(conversationId: number) {
    const [r] = await this.q.all(`SELECT * FROM csat_surveys WHERE conversation_id = ?`, [conversationId]);
    if (!r) return null;
    return {
      id: Number(r.id),
      state: String(r.state),
      reason: (r.reason as string | null) ?? null,
      scale: Number(r.scale),
      score: r.score === null || r.score === undefined ? null : Number(r.score),
      sentAt: toDateOrNull(r.sent_at),
      answeredAt: toDateOrNull(r.answered_at),
      comment:
        r.comment === null || r.comment === undefined ? null : this.q.keys.open(String(r.comment), () => 'A comment'),
    };
  }
}

/** An inserted user message the ingest writer hands to the recogniser. */
export interface StoredUserMessage {
  id: number;
  threadId: number;
  clientId: number;
  waId: string;
  type: string;
  content: string;
  raw: string | null;
  wamid: string | null;
  createdAt: Date;
}

/**
 * Finds the answers to open surveys (and the comments asked for) among newly stored user messages
 * of these threads, in time order: marks those messages (so no conversation counts them and the
 * assistant never answers them), records each answer (a later one replaces the score; all are
 * kept) and returns the messages marked and the csat.received events.
 */
export async function recogniseAnswers(
  tx: Querier,
  messages: StoredUserMessage[],
  now: Date,
): Promise<{ marked: Set<number>; events: NewEvent[] }> {
  const marked = new Set<number>();
  const events: NewEvent[] = [];
  if (messages.length === 0) return { marked, events };
  const threads = [...new Set(messages.map((m) => m.threadId))];
  const rows = await tx.all(
    `SELECT s.id, s.thread_id, s.client_id, s.conversation_id, s.scale, s.sent_at, s.comment_state, s.score,
            cl.csat_comment
     FROM csat_surveys s JOIN clients cl ON cl.id = s.client_id
     WHERE s.thread_id IN (${threads.map(() => '?').join(', ')}) AND s.state IN ('sent', 'answered') AND s.sent_at > ?
     ORDER BY s.sent_at DESC`,
    [...threads, new Date(now.getTime() - ANSWER_WINDOW_MS - 3_600_000)],
  );
  if (rows.length === 0) return { marked, events };
  // The latest survey of each thread is the one answered.
  const latest = new Map<number, (typeof rows)[number]>();
  for (const r of rows) if (!latest.has(Number(r.thread_id))) latest.set(Number(r.thread_id), r);
  const sorted = [...messages].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id);
  for (const m of sorted) {
    const s = latest.get(m.threadId);
    if (!s) continue;
    const sentAt = toDate(s.sent_at);
    const age = m.createdAt.getTime() - sentAt.getTime();
    if (age < -60_000 || age > ANSWER_WINDOW_MS) continue;
    const surveyId = Number(s.id);
    const scale = Number(s.scale) === 3 ? 3 : 5;
    const answer = recogniseAnswer(
      { type: m.type, text: m.type === 'text' ? m.content : null, replyId: replyIdOf(m.raw) },
      { id: surveyId, scale },
    );
    if (answer) {
      await tx.run(`INSERT INTO csat_answers (survey_id, score, form, wamid, answered_at) VALUES (?, ?, ?, ?, ?)`, [
        surveyId,
        answer.score,
        answer.form,
        m.wamid,
        m.createdAt,
      ]);
      const askComment = Boolean(s.csat_comment) && (s.comment_state === null || s.comment_state === undefined);
      await tx.run(
        `UPDATE csat_surveys SET state = 'answered', score = ?, answered_at = ?
           ${askComment ? ", comment_state = 'ask'" : ''} WHERE id = ?`,
        [answer.score, m.createdAt, surveyId],
      );
      if (askComment) s.comment_state = 'ask';
      await tx.run('UPDATE messages SET csat_survey_id = ?, sentiment = NULL WHERE id = ?', [surveyId, m.id]);
      marked.add(m.id);
      events.push(
        csatReceived({
          surveyId,
          conversationId: Number(s.conversation_id),
          clientId: m.clientId,
          threadId: m.threadId,
          waId: m.waId,
          score: answer.score,
          scale,
          form: answer.form,
          replaced: s.score !== null && s.score !== undefined,
          at: m.createdAt,
          messageId: m.id,
        }),
      );
      s.score = answer.score;
      continue;
    }
    if (s.comment_state === 'asked' && m.type === 'text' && m.content.trim()) {
      await tx.run(`UPDATE csat_surveys SET comment = ?, comment_at = ?, comment_state = 'received' WHERE id = ?`, [
        tx.keys.seal(m.content.trim()),
        m.createdAt,
        surveyId,
      ]);
      await tx.run('UPDATE messages SET csat_survey_id = ?, sentiment = NULL WHERE id = ?', [surveyId, m.id]);
      s.comment_state = 'received';
      marked.add(m.id);
    }
  }
  return { marked, events };
}
