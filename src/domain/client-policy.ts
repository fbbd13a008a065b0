// How a client's assistant behaves inside a conversation: when its answers quote the message they
// answer, and how long it stays silent after a person answered (the handoff). Stored on the client
// (clients.quote_replies, clients.handoff); set with `clients add|update --quote-replies --handoff`.
import { formatDuration, parseDuration } from './durations.js';

export const QUOTE_REPLIES = ['auto', 'always', 'never'] as const;
export type QuoteReplies = (typeof QUOTE_REPLIES)[number];

export function isQuoteReplies(text: string): text is QuoteReplies {
  return (QUOTE_REPLIES as readonly string[]).includes(text);
}

/**
 * Whether an answer quotes (WhatsApp `context`) the message it answers. `auto`: only when that
 * helps the reader, because the answer covers several messages or the one it answers is no longer
 * the latest of the conversation; a plain back-and-forth reads better without quoted bubbles.
 */
export function shouldQuote(policy: QuoteReplies, answer: { covers: number; answersLatest: boolean }): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  return answer.covers > 1 || !answer.answersLatest;
}

/** off: the assistant keeps answering; until-end: silent until the conversation ends; or silent for a while. */
export type Handoff = { mode: 'off' } | { mode: 'until-end' } | { mode: 'pause'; ms: number };

/** `--handoff off|until-end|<duration>` as stored: 'off', 'until-end' or whole seconds ("7200"); null if invalid. */
export function parseHandoffFlag(text: string): string | null {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'until-end') return t;
  const ms = parseDuration(t, ['s', 'm', 'h', 'd']);
  return ms !== null && ms >= 1000 ? String(ms / 1000) : null;
}

export function handoffOf(stored: string): Handoff {
  if (stored === 'off') return { mode: 'off' };
  if (/^\d+$/.test(stored)) return { mode: 'pause', ms: Number(stored) * 1000 };
  return { mode: 'until-end' };
}

/** How a stored handoff reads: off, until-end, 2h. */
export function formatHandoff(stored: string): string {
  const h = handoffOf(stored);
  return h.mode === 'pause' ? formatDuration(h.ms) : h.mode;
}

/**
 * Whether the assistant must stay silent now: a person answered in the open conversation (its
 * handoff), and the client's policy says the assistant waits.
 */
export function silencedByHandoff(
  policy: Handoff,
  conversation: { handoffAt: Date | null; endedAt: Date | null } | null,
  lastAgentAt: Date | null,
  now: Date,
): boolean {
  if (policy.mode === 'off' || !conversation || conversation.endedAt !== null || !conversation.handoffAt) return false;
  if (policy.mode === 'until-end') return true;
  const since = lastAgentAt ?? conversation.handoffAt;
  return now.getTime() < since.getTime() + policy.ms;
}
