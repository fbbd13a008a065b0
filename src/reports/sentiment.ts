// Sentiment in reports: how users' messages felt in the period (by label, mean), how conversations
// opened and closed (the means of their first and last three user messages, and the change), and
// the conversations that felt worst (ids and scores only, never content).
import type { ConversationState } from '../domain/conversations.js';
import { formatWaId } from '../domain/phone.js';
import type { MessageSentimentCounts, RatingCounts, SessionSentiment } from '../db/repositories/statistics.js';

export interface SentimentFigures {
  /** User messages with a score, and texts without one (stored before sentiment, not backfilled). */
  scored: number;
  unscored: number;
  distribution: { negative: number; neutral: number; positive: number };
  /** Mean score of the scored messages (−1..1). */
  mean: number | null;
  /** Of sessions with a scored message: mean opening and closing sentiment, and the mean change. */
  sessions: { scored: number; opening: number | null; closing: number | null; change: number | null };
  /** WA_REPORT_SENTIMENT=model: sessions rated, by the model or (when it failed) the lexicon. */
  ratings: {
    rated: number;
    bySource: { model: number; lexicon: number };
    distribution: { negative: number; neutral: number; positive: number };
    meanScore: number | null;
    meanPredictedCsat: number | null;
  };
  /** Up to 10 sessions with the lowest mean sentiment, lowest first. */
  worst: {
    conversationId: number;
    threadId: number;
    waId: string;
    startedAt: Date;
    mean: number;
    scoredMessages: number;
    closing: number | null;
  }[];
}

const round = (v: number) => Math.round(v * 1000) / 1000 || 0;

export function sessionSentimentOf(sessions: ConversationState[]): SessionSentiment {
  const scored = sessions.filter((s) => s.sentimentCount > 0);
  return {
    scored: scored.length,
    openingSum: scored.reduce((a, s) => a + (s.openingSentiment ?? 0), 0),
    closingSum: scored.reduce((a, s) => a + (s.closingSentiment ?? 0), 0),
    worst: scored.map((s) => ({
      id: s.id as number,
      threadId: s.threadId,
      waId: s.waId,
      startedAt: s.startedAt,
      sentimentSum: s.sentimentSum,
      sentimentCount: s.sentimentCount,
      closingSentiment: s.closingSentiment,
    })),
  };
}

export function sentimentFigures(
  counts: MessageSentimentCounts | undefined,
  sessions: SessionSentiment | ConversationState[],
  ratings: RatingCounts[] = [],
): SentimentFigures {
  const rated = ratings.reduce((a, r) => a + r.n, 0);
  const byLabel = (label: RatingCounts['label']) =>
    ratings.filter((r) => r.label === label).reduce((a, r) => a + r.n, 0);
  const bySource = (source: RatingCounts['source']) =>
    ratings.filter((r) => r.source === source).reduce((a, r) => a + r.n, 0);
  const c = counts ?? { scored: 0, unscored: 0, negative: 0, neutral: 0, positive: 0, sum: 0 };
  const ss = Array.isArray(sessions) ? sessionSentimentOf(sessions) : sessions;
  const meanOfSum = (sum: number) => (ss.scored ? round(sum / ss.scored) : null);
  const worst = ss.worst
    .map((s) => ({
      conversationId: s.id,
      threadId: s.threadId,
      waId: s.waId,
      startedAt: s.startedAt,
      mean: round(s.sentimentSum / s.sentimentCount),
      scoredMessages: s.sentimentCount,
      closing: s.closingSentiment,
    }))
    .sort((a, b) => a.mean - b.mean || a.conversationId - b.conversationId)
    .slice(0, 10);
  return {
    scored: c.scored,
    unscored: c.unscored,
    distribution: { negative: c.negative, neutral: c.neutral, positive: c.positive },
    mean: c.scored ? round(c.sum / c.scored) : null,
    sessions: {
      scored: ss.scored,
      opening: meanOfSum(ss.openingSum),
      closing: meanOfSum(ss.closingSum),
      change: meanOfSum(ss.closingSum - ss.openingSum),
    },
    ratings: {
      rated,
      bySource: { model: bySource('model'), lexicon: bySource('lexicon') },
      distribution: { negative: byLabel('negative'), neutral: byLabel('neutral'), positive: byLabel('positive') },
      meanScore: rated ? round(ratings.reduce((a, r) => a + r.scoreSum, 0) / rated) : null,
      meanPredictedCsat: rated ? round(ratings.reduce((a, r) => a + r.csatSum, 0) / rated) : null,
    },
    worst,
  };
}

/** The JSON of sentiment figures (docs/report-json.md). */
export function sentimentFiguresDocument(f: SentimentFigures, iso: (d: Date) => string) {
  return {
    scored_messages: f.scored,
    unscored_messages: f.unscored,
    distribution: { ...f.distribution },
    mean: f.mean,
    sessions: { ...f.sessions },
    ratings: {
      rated: f.ratings.rated,
      by_source: { ...f.ratings.bySource },
      distribution: { ...f.ratings.distribution },
      mean_score: f.ratings.meanScore,
      mean_predicted_csat: f.ratings.meanPredictedCsat,
    },
    worst_sessions: f.worst.map((w) => ({
      conversation_id: w.conversationId,
      thread_id: w.threadId,
      wa_id: formatWaId(w.waId),
      started_at: iso(w.startedAt),
      mean: w.mean,
      closing: w.closing,
      scored_messages: w.scoredMessages,
    })),
  };
}

/** The words of sentiment lines, in the report's language (reports/i18n.ts). */
export interface SentimentLabels {
  title: string;
  positive: string;
  neutral: string;
  negative: string;
  mean: string;
  messages: string;
  notScored: string;
  openingClosing: string;
  sessions: string;
  positiveShare: string;
  meanSentiment: string;
}

/** "62 % positive · 25 % neutral · 13 % negative (mean 0.21, 340 messages)". */
export function sentimentLine(f: SentimentFigures, l: SentimentLabels, pct: (rate: number | null) => string): string {
  if (f.scored === 0) return f.unscored ? `${f.unscored} ${l.messages} ${l.notScored}` : '–';
  const share = (n: number) => pct(n / f.scored);
  const line =
    `${share(f.distribution.positive)} ${l.positive} · ${share(f.distribution.neutral)} ${l.neutral} · ` +
    `${share(f.distribution.negative)} ${l.negative} (${l.mean} ${signed(f.mean)}, ${f.scored} ${l.messages})`;
  return f.unscored ? `${line}; ${f.unscored} ${l.notScored}` : line;
}

/** "0.10 → 0.25 (+0.15), 12 sessions". */
export function openingClosingLine(f: SentimentFigures, l: SentimentLabels): string {
  const s = f.sessions;
  if (s.scored === 0) return '–';
  return `${signed(s.opening)} → ${signed(s.closing)} (${signed(s.change, true)}), ${s.scored} ${l.sessions}`;
}

export function signed(v: number | null, plus = false): string {
  if (v === null) return '–';
  const text = v.toFixed(2);
  return plus && v > 0 ? `+${text}` : text;
}
