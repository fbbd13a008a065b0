// Sentiment of user messages (see analyser.ts) and of the conversations they make.
import { UsageError } from '../../errors.js';
import { analyse } from './analyser.js';
import type { SentimentLanguage } from './language.js';

export { analyse, labelOf, NEGATIVE_FROM, POSITIVE_FROM, type Sentiment, type SentimentLabel } from './analyser.js';
export { detectLanguage, isSentimentLanguage, SENTIMENT_LANGUAGES, type SentimentLanguage } from './language.js';

/** The words a user wrote in a message: a text, or a photo's or video's caption; null for the rest. */
export function sentimentText(type: string, content: string): string | null {
  if (type === 'text') return content === '[text]' ? null : content;
  if (type === 'image' || type === 'video') {
    const caption = content.replace(/^\[(?:image|video)\]\s*/u, '');
    return caption && caption !== content ? caption : null;
  }
  return null;
}

/** A user message's score, or null (not a user's, or no words). `language`: the client's, if set. */
export function messageSentiment(
  m: { role: string; type: string; content: string },
  language?: SentimentLanguage | null,
): number | null {
  if (m.role !== 'user') return null;
  const text = sentimentText(m.type, m.content);
  if (text === null || text.trim() === '') return null;
  return analyse(text, language ?? 'auto').score;
}

/** A conversation's closing sentiment at or below this sends sentiment.negative (WA_REPORT_SENTIMENT_ALERT). */
export const DEFAULT_NEGATIVE_ALERT = -0.5;

export type SentimentMode = 'lexicon' | 'model' | 'off';

/**
 * WA_REPORT_SENTIMENT, checked: 'lexicon' (the default: every user message scored as it is stored),
 * 'model' (the same, and the model rates each ended conversation) or 'off'.
 */
export function sentimentModeFromEnv(env: NodeJS.ProcessEnv): SentimentMode {
  const text = env.WA_REPORT_SENTIMENT?.trim().toLowerCase();
  if (!text || text === 'lexicon') return 'lexicon';
  if (text === 'off' || text === 'model') return text;
  throw new UsageError(`WA_REPORT_SENTIMENT: "${text}" must be lexicon (the default), model or off.`);
}

/** WA_REPORT_SENTIMENT_ALERT, checked: a score from −1 to 0, or off (null). */
export function negativeAlertFromEnv(env: NodeJS.ProcessEnv): number | null {
  const text = env.WA_REPORT_SENTIMENT_ALERT?.trim();
  if (!text) return DEFAULT_NEGATIVE_ALERT;
  if (text === 'off') return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value < -1 || value >= 0) {
    throw new UsageError(`WA_REPORT_SENTIMENT_ALERT: "${text}" must be a score from -1 to 0 (such as -0.5), or off.`);
  }
  return value;
}
