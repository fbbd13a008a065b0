// A model's rating of an ended conversation (WA_REPORT_SENTIMENT=model): what it is asked, how its
// answer is checked, the transcript hash that caches it, and the lexicon's rating used when the
// model fails. Pure: the rater (assistant/rater.ts) calls the model and the store.
import { createHash } from 'node:crypto';
import { labelOf, type SentimentLabel } from './analyser.js';

export interface Rating {
  label: SentimentLabel;
  /** −1..1 */
  score: number;
  /** 1..5: the satisfaction score the user would likely give. */
  predictedCsat: number;
  /** One line, at most 200 characters; null for the lexicon's rating. */
  reason: string | null;
}

/** A stored rating of a conversation, as reports show it. */
export interface SessionRating {
  source: 'model' | 'lexicon';
  label: string | null;
  score: number | null;
  predictedCsat: number | null;
  reason: string | null;
  /** Why the model's rating is missing (the lexicon's was used). */
  error: string | null;
}

export interface TranscriptLine {
  role: 'user' | 'assistant' | 'agent';
  content: string;
}

/** Longest transcript sent (characters): the end of a long conversation is what decides how it felt. */
export const MAX_TRANSCRIPT_CHARS = 12_000;

export const RATING_INSTRUCTIONS =
  'You rate customer-service conversations on WhatsApp between a business and a user (any language). ' +
  'Answer with one JSON object and nothing else: {"label": "negative" | "neutral" | "positive", ' +
  '"score": a number from -1 (very negative) to 1 (very positive) for how the user felt by the end, ' +
  '"predicted_csat": an integer from 1 to 5 (the satisfaction score the user would likely give), ' +
  '"reason": one short sentence in English saying why, without quoting personal data}.';

/** The transcript as the model reads it: one line per message, the user's and the business's, oldest first. */
export function transcriptText(lines: TranscriptLine[]): string {
  const text = lines
    .map(
      (l) =>
        `${l.role === 'user' ? 'User' : l.role === 'agent' ? 'Agent' : 'Assistant'}: ${l.content.replace(/\s+/g, ' ')}`,
    )
    .join('\n');
  return text.length > MAX_TRANSCRIPT_CHARS ? text.slice(text.length - MAX_TRANSCRIPT_CHARS) : text;
}

export function transcriptHash(transcript: string, model: string): string {
  return createHash('sha256')
    .update('wa-report:rating:v1\n')
    .update(model)
    .update('\n')
    .update(transcript)
    .digest('hex');
}

/** The model's answer checked, or an error saying what is wrong with it. */
export function parseRating(text: string): Rating | Error {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return new Error('the answer holds no JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch {
    return new Error('the answer is not valid JSON');
  }
  if (typeof value !== 'object' || value === null) return new Error('the answer is not a JSON object');
  const o = value as Record<string, unknown>;
  const score = typeof o.score === 'number' ? o.score : Number.NaN;
  if (!Number.isFinite(score) || score < -1 || score > 1) return new Error('score is not a number from -1 to 1');
  const csat = o.predicted_csat;
  if (typeof csat !== 'number' || !Number.isInteger(csat) || csat < 1 || csat > 5) {
    return new Error('predicted_csat is not a whole number from 1 to 5');
  }
  const label = o.label;
  if (label !== 'negative' && label !== 'neutral' && label !== 'positive') {
    return new Error('label is not negative, neutral or positive');
  }
  const reason = typeof o.reason === 'string' ? o.reason.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  return { label, score: Math.round(score * 1000) / 1000 || 0, predictedCsat: csat, reason: reason || null };
}

/** The lexicon's rating of a conversation: its user messages' mean score (null without any). */
export function lexiconRating(mean: number | null): Rating | null {
  if (mean === null) return null;
  const score = Math.round(mean * 1000) / 1000 || 0;
  return {
    label: labelOf(score),
    score,
    predictedCsat: Math.min(5, Math.max(1, Math.round(3 + 2 * score))),
    reason: null,
  };
}
