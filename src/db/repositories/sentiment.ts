// Sentiment of stored messages: the backfill of those stored before sentiment existed (resumable:
// it keeps the last message id it scored in settings), and each conversation's sentiment figures
// derived again from its messages' scores, with the same rules as live tracking.
import { noSentiment, recountSentiment, type SentimentFigures } from '../../domain/conversations.js';
import { isSentimentLanguage, messageSentiment } from '../../domain/sentiment/index.js';
import type { Rating, TranscriptLine } from '../../domain/sentiment/rating.js';
import { bind, ingestLock } from '../dialect.js';
import { toDate } from '../rows.js';
import type { Querier } from '../sql.js';

export interface BackfillProgress {
  /** Messages scored in this run, and the last message id seen. */
  scored: number;
  lastId: number;
  /** User messages with text left to look at. */
  remaining: number;
}

const MARKER = 'sentiment_backfill';

/** The messages a backfill looks at: users' texts and captions, not scored yet. */
const CANDIDATES =
  "m.role = 'user' AND m.sentiment IS NULL AND m.type IN ('text', 'image', 'video') AND m.csat_survey_id IS NULL";

/** An ended conversation claimed for a rating, with what the rater needs of it. */
export interface RatingClaim {
  conversationId: number;
  threadId: number;
  clientId: number;
  startedAt: Date;
  lastMessageAt: Date;
  /** The user messages' mean score (the lexicon's fallback), null without any. */
  meanSentiment: number | null;
  /** The client's own model, if it has one. */
  clientModel: string | null;
  /** Until when the claim holds: a rating is saved only under the claim that made it. */
  leaseUntil: Date;
}

export interface SavedRating {
  source: 'model' | 'lexicon';
  rating: Rating | null;
  model: string | null;
  error: string | null;
  transcriptHash: string | null;
}

export class SentimentRepository {
  constructor(private readonly q: Querier) {}

  /**
   * Claims up to `limit` conversations that ended in the last `withinMs` with user messages and no
   * rating yet (or a claim whose lease ran out: its daemon died), for `leaseMs`. Two daemons never
   * claim the same one.
   */
  async claimUnrated(now: Date, options: { leaseMs: number; limit: number; withinMs: number }): Promise<RatingClaim[]> {
    const since = new Date(now.getTime() - options.withinMs);
    const lease = new Date(now.getTime() + options.leaseMs);
    const claimed = await this.q.all<{ conversation_id: unknown }>(
      `WITH due AS (
         SELECT c.id FROM conversations c LEFT JOIN conversation_ratings r ON r.conversation_id = c.id
         WHERE c.ended_at IS NOT NULL AND c.ended_at > ? AND c.ended_at <= ? AND c.user_messages > 0
           AND (r.conversation_id IS NULL OR (r.state = 'rating' AND r.lease_until < ?))
         ORDER BY c.ended_at LIMIT ?
       )
       INSERT INTO conversation_ratings (conversation_id, state, lease_until)
       SELECT id, 'rating', ? FROM due WHERE true
       ON CONFLICT (conversation_id) DO UPDATE SET lease_until = excluded.lease_until
         WHERE conversation_ratings.state = 'rating' AND conversation_ratings.lease_until < ?
       RETURNING conversation_id`,
      [since, now, now, options.limit, lease, now],
    );
    if (claimed.length === 0) return [];
    const ids = claimed.map((r) => Number(r.conversation_id));
    const rows = await this.q.all(
      `SELECT c.id, c.thread_id, c.client_id, c.started_at, c.last_message_at, c.sentiment_count, c.sentiment_sum,
              cl.assistant_model
       FROM conversations c JOIN clients cl ON cl.id = c.client_id
       WHERE c.id IN (${ids.map(() => '?').join(', ')}) ORDER BY c.id`,
      ids,
    );
    return rows.map((r) => ({
      conversationId: Number(r.id),
      threadId: Number(r.thread_id),
      clientId: Number(r.client_id),
      startedAt: toDate(r.started_at),
      lastMessageAt: toDate(r.last_message_at),
      meanSentiment: Number(r.sentiment_count) > 0 ? Number(r.sentiment_sum) / Number(r.sentiment_count) : null,
      clientModel: typeof r.assistant_model === 'string' && r.assistant_model ? r.assistant_model : null,
      leaseUntil: lease,
    }));
  }

  /** A claimed conversation's messages as the model reads them (answers that never left are not part of it). */
  async transcript(c: RatingClaim, limit = 1000): Promise<TranscriptLine[]> {
    const rows = await this.q.all(
      `SELECT id, role, content FROM messages
       WHERE thread_id = ? AND created_at >= ? AND created_at <= ? AND NOT (role = 'assistant' AND wamid IS NULL)
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      [c.threadId, c.startedAt, c.lastMessageAt, limit],
    );
    return rows.reverse().map((r) => ({
      role: r.role as TranscriptLine['role'],
      content: this.q.keys.open(String(r.content), () => `The content of message ${String(r.id)}`),
    }));
  }

  /** A model's rating of the same transcript, if one was made already. */
  async cachedRating(hash: string): Promise<(Rating & { model: string | null }) | null> {
    const [r] = await this.q.all(
      `SELECT label, score, predicted_csat, reason, model FROM conversation_ratings
       WHERE transcript_hash = ? AND state = 'done' AND source = 'model' LIMIT 1`,
      [hash],
    );
    if (!r) return null;
    return {
      label: r.label as Rating['label'],
      score: Number(r.score),
      predictedCsat: Number(r.predicted_csat),
      reason: r.reason === null ? null : this.q.keys.open(String(r.reason), () => 'A conversation rating'),
      model: (r.model as string | null) ?? null,
    };
  }

  /**
   * Stores a claimed conversation's rating (its reason sealed like content) and ends the claim;
   * false when the claim was lost (its lease ran out and another daemon took it): nothing is written.
   */
  async saveRating(claim: Pick<RatingClaim, 'conversationId' | 'leaseUntil'>, saved: SavedRating, now = new Date()) {
    const r = saved.rating;
    const changed = await this.q.run(
      `UPDATE conversation_ratings SET state = 'done', lease_until = NULL, transcript_hash = ?, source = ?, label = ?,
         score = ?, predicted_csat = ?, reason = ?, model = ?, error = ?, rated_at = ?
       WHERE conversation_id = ? AND state = 'rating' AND lease_until = ?`,
      [
        saved.transcriptHash,
        saved.source,
        r?.label ?? null,
        r?.score ?? null,
        r?.predictedCsat ?? null,
        this.q.keys.seal(r?.reason ?? null),
        saved.model,
        saved.error,
        now,
        claim.conversationId,
        claim.leaseUntil,
      ],
    );
    return changed > 0;
  }

  /** Recounts the sentiment figures of these threads' conversations from their messages' scores. */
  async recount(threadIds: number[]): Promise<void> {
    await this.q.transaction((tx) => recountConversations(tx, threadIds));
  }

  /** Where an interrupted backfill goes on from (0: from the start). */
  async backfillPosition(): Promise<number> {
    const [row] = await this.q.all<{ value: string }>(`SELECT value FROM settings WHERE key = '${MARKER}'`);
    return row ? Number(row.value) || 0 : 0;
  }

  /** How many messages a backfill would still look at after `afterId`. */
  async remaining(afterId: number): Promise<number> {
    const [row] = await this.q.all<{ n: unknown }>(
      `SELECT count(*) AS n FROM messages m WHERE m.id > ? AND ${CANDIDATES}`,
      [afterId],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Scores the next `batch` unscored user messages after the saved position, recounts their
   * conversations and moves the position, in one transaction; a killed backfill loses at most one
   * batch of work and repeats nothing that was committed.
   */
  async backfillBatch(batch = 500): Promise<BackfillProgress> {
    return this.q.transaction(
      async (tx) => {
        const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
        const [marker] = await tx.all<{ value: string }>(`SELECT value FROM settings WHERE key = '${MARKER}'${lock}`);
        const after = marker ? Number(marker.value) || 0 : 0;
        const rows = await tx.all(
          `SELECT m.id, m.thread_id, m.role, m.type, m.content, cl.language FROM messages m
           JOIN clients cl ON cl.id = m.client_id
           WHERE m.id > ? AND ${CANDIDATES} ORDER BY m.id LIMIT ?`,
          [after, batch],
        );
        const scores: [number, number][] = [];
        const threads = new Set<number>();
        for (const r of rows) {
          const content = tx.keys.open(String(r.content), () => `The content of message ${String(r.id)}`);
          const language = typeof r.language === 'string' && isSentimentLanguage(r.language) ? r.language : null;
          const score = messageSentiment({ role: String(r.role), type: String(r.type), content }, language);
          if (score === null) continue;
          scores.push([Number(r.id), score]);
          threads.add(Number(r.thread_id));
        }
        await writeScores(tx, scores);
        await recountConversations(tx, [...threads]);
        const lastId = rows.length ? Number(rows.at(-1)?.id) : after;
        const now = new Date();
        if (marker)
          await tx.run(`UPDATE settings SET value = ?, updated_at = ? WHERE key = '${MARKER}'`, [String(lastId), now]);
        else
          await tx.run(`INSERT INTO settings (key, value, updated_at) VALUES ('${MARKER}', ?, ?)`, [
            String(lastId),
            now,
          ]);
        const [left] = await tx.all<{ n: unknown }>(
          `SELECT count(*) AS n FROM messages m WHERE m.id > ? AND ${CANDIDATES}`,
          [lastId],
        );
        return { scored: scores.length, lastId, remaining: Number(left?.n ?? 0) };
      },
      // Alone (PostgreSQL: ingest waits for the batch): a recount must not interleave with a writer
      // that reads a conversation's figures before the recount commits and writes them after.
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }
}

async function writeScores(tx: Querier, scores: [number, number][]): Promise<void> {
  if (scores.length === 0) return;
  if (tx.dialect === 'postgres') {
    await tx.run(
      `UPDATE messages m SET sentiment = v.score FROM unnest($1::int[], $2::float8[]) AS v(id, score)
       WHERE m.id = v.id AND m.sentiment IS NULL`,
      [
        bind(
          'postgres',
          scores.map(([id]) => id),
        ),
        bind(
          'postgres',
          scores.map(([, s]) => s),
        ),
      ],
    );
    return;
  }
  for (const [id, score] of scores) {
    await tx.run('UPDATE messages SET sentiment = ? WHERE id = ? AND sentiment IS NULL', [score, id]);
  }
}

/**
 * The sentiment figures of every conversation of these threads, from their user messages' scores
 * (each message counts in the latest conversation started by its time). negative_at is kept.
 */
export async function recountConversations(tx: Querier, threadIds: number[]): Promise<void> {
  for (let i = 0; i < threadIds.length; i += 200) {
    const ids = threadIds.slice(i, i + 200);
    const list = ids.map(() => '?').join(', ');
    const conversations = await tx.all(
      `SELECT id, thread_id, started_at FROM conversations WHERE thread_id IN (${list})
       ORDER BY thread_id, started_at, id`,
      ids,
    );
    const scores = await tx.all(
      `SELECT thread_id, created_at, sentiment FROM messages
       WHERE thread_id IN (${list}) AND role = 'user' AND sentiment IS NOT NULL AND csat_survey_id IS NULL
       ORDER BY thread_id, created_at, id`,
      ids,
    );
    const byThread = new Map<number, { id: number; startedAt: number; state: SentimentFigures }[]>();
    for (const c of conversations) {
      const t = Number(c.thread_id);
      const entry = { id: Number(c.id), startedAt: toDate(c.started_at).getTime(), state: noSentiment() };
      byThread.set(t, [...(byThread.get(t) ?? []), entry]);
    }
    for (const s of scores) {
      const list = byThread.get(Number(s.thread_id)) ?? [];
      const at = toDate(s.created_at).getTime();
      const target = [...list].reverse().find((c) => c.startedAt <= at) ?? list[0];
      if (target) recountSentiment(target.state, Number(s.sentiment));
    }
    for (const list of byThread.values()) {
      for (const c of list) {
        const s = c.state;
        await tx.run(
          `UPDATE conversations SET sentiment_count = ?, sentiment_sum = ?, opening_sentiment = ?,
             closing_sentiment = ?, recent_sentiments = ? WHERE id = ?`,
          [
            s.sentimentCount,
            s.sentimentSum,
            s.openingSentiment,
            s.closingSentiment,
            s.recentSentiments.length ? s.recentSentiments.join(',') : null,
            c.id,
          ],
        );
      }
    }
  }
}
