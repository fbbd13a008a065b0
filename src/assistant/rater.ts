// WA_REPORT_SENTIMENT=model: the configured model rates each ended conversation (label, score,
// predicted CSAT 1–5, one-line reason) as JSON. A transcript rated before is not sent again (cached
// by its hash); an answer that fails (timeout, error, garbage) falls back to the lexicon's rating,
// with what went wrong kept beside it. Claims are leased, so several daemons share the work and a
// killed one's conversations are rated by another once its lease runs out.
import type { Logger } from 'pino';
import type { RatingClaim } from '../db/repositories/sentiment.js';
import type { Store } from '../db/store.js';
import {
  lexiconRating,
  parseRating,
  RATING_INSTRUCTIONS,
  transcriptHash,
  transcriptText,
} from '../domain/sentiment/rating.js';
import { describeModelError, ModelError, type ModelClient } from './model.js';

export interface RaterOptions {
  store: Store;
  model: ModelClient;
  /** OPENAI_MODEL, for clients without their own. */
  defaultModel: string;
  logger: Logger;
  /** How long a claim holds (default 5 min: longer than a model call with its retries). */
  leaseMs?: number;
  /** Conversations looked at per run (default 8). */
  batch?: number;
  /** Only conversations that ended this recently are rated (default 7 days). */
  withinMs?: number;
}

export class Rater {
  constructor(private readonly o: RaterOptions) {}

  /** Claims and rates what ended since the last run, one at a time; returns how many were looked at. */
  async runOnce(now = new Date()): Promise<number> {
    const { store } = this.o;
    let n = 0;
    for (; n < (this.o.batch ?? 8); n++) {
      // One claim per conversation, for longer than a model call may take (timeouts and retries).
      const [claim] = await store.sentiment.claimUnrated(now, {
        leaseMs: this.o.leaseMs ?? 5 * 60_000,
        limit: 1,
        withinMs: this.o.withinMs ?? 7 * 86_400_000,
      });
      if (!claim) break;
      try {
        await this.rate(claim);
      } catch (error) {
        // Whatever else fails (content sealed with a key no longer held, the database): this one is
        // kept with the reason, and the others are rated.
        const reason = error instanceof Error ? error.message : String(error);
        this.o.logger.warn({ conversation: claim.conversationId, error: reason }, 'conversation not rated');
        await store.sentiment.saveRating(claim, {
          source: 'lexicon',
          rating: lexiconRating(claim.meanSentiment),
          model: null,
          error: reason,
          transcriptHash: null,
        });
      }
    }
    return n;
  }

  private async rate(c: RatingClaim): Promise<void> {
    const { store } = this.o;
    const model = c.clientModel ?? this.o.defaultModel;
    const text = transcriptText(await store.sentiment.transcript(c));
    const hash = transcriptHash(text, model);
    const cached = await store.sentiment.cachedRating(hash);
    if (cached) {
      await store.sentiment.saveRating(c, {
        source: 'model',
        rating: cached,
        model: cached.model,
        error: null,
        transcriptHash: hash,
      });
      return;
    }
    let error: string;
    try {
      const answer = await this.o.model.complete(
        [
          { role: 'system', content: RATING_INSTRUCTIONS },
          { role: 'user', content: text },
        ],
        { model },
      );
      const rating = parseRating(answer.text);
      if (!(rating instanceof Error)) {
        await store.sentiment.saveRating(c, {
          source: 'model',
          rating,
          model: answer.model || model,
          error: null,
          transcriptHash: hash,
        });
        return;
      }
      error = `the model's answer was unusable: ${rating.message}`;
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      error = describeModelError(e);
    }
    // Never the transcript or the answer in the log: ids and what failed.
    this.o.logger.warn({ conversation: c.conversationId, error }, 'conversation rated by the lexicon instead');
    await store.sentiment.saveRating(c, {
      source: 'lexicon',
      rating: lexiconRating(c.meanSentiment),
      model: null,
      error,
      transcriptHash: null,
    });
  }
}
