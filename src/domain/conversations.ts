// Conversations inside a thread (a client and one WhatsApp user): a conversation starts with the
// first message after none was open and ends once no message has come for the client's idle period
// (or when it is closed). A pure function folds new messages into what is known of the thread's
// conversations; the repository (db/repositories/conversations.ts) loads that state and writes the
// result with its events, in the transaction that stores the messages.
//
// Messages are placed by their own time, so arrival order does not matter for messages that come
// in time order; a message that arrives late (older than the thread's latest conversation) joins the
// conversation it falls in, or the one before it; conversations are never created in the past.
import { UsageError } from '../errors.js';
import { parseDuration } from './durations.js';
import type { Role } from './types.js';

export interface ConversationState {
  /** null until inserted. */
  id: number | null;
  threadId: number;
  clientId: number;
  waId: string;
  startedAt: Date;
  lastMessageAt: Date;
  endedAt: Date | null;
  endReason: 'idle' | 'closed' | null;
  userMessages: number;
  assistantMessages: number;
  agentMessages: number;
  firstUserAt: Date | null;
  firstResponseAt: Date | null;
  handoffAt: Date | null;
  /** Scored user messages, and the sum of their scores. */
  sentimentCount: number;
  sentimentSum: number;
  /** Mean of the first three scored user messages, and of the last three (null before any). */
  openingSentiment: number | null;
  closingSentiment: number | null;
  /** The last three scores, oldest first (what the closing mean moves with). */
  recentSentiments: number[];
  /** When the closing sentiment first fell to the policy's alert threshold. */
  negativeAt: Date | null;
}

export interface PlacedMessage {
  id: number;
  role: Role;
  createdAt: Date;
  /** A user message's sentiment score, when it has one. */
  sentiment?: number | null;
}

export interface ThreadPolicy {
  /** The client's idle period. */
  idleMs: number;
  /** An agent message is a handoff only when the assistant is on for the client. */
  assistantEnabled: boolean;
  /** A closing sentiment at or below this is an alert (sentiment.negative); null: no alerts. */
  negativeAlert?: number | null;
}

/** What happened, in order: what the events will say. */
export type Happening =
  | { kind: 'ended'; conversation: ConversationState }
  | { kind: 'started'; conversation: ConversationState }
  | { kind: 'message'; conversation: ConversationState; message: PlacedMessage }
  | { kind: 'handoff'; conversation: ConversationState }
  | { kind: 'negative'; conversation: ConversationState };

export interface Folded {
  /** Every conversation that changed or is new (new ones have id null). */
  changed: ConversationState[];
  happenings: Happening[];
  /**
   * A scored user message came older than what its conversation holds: its sentiment figures must
   * be recounted from the messages in time order (the fold only appends), and it raises no alert.
   */
  recountSentiment: boolean;
}

const t = (d: Date) => d.getTime();

/**
 * Folds `messages` (of one thread, any order) into its `known` conversations (the latest, plus
 * any older ones late messages fall into; sorted by start). Mutates and returns the states.
 */
export function foldMessages(
  known: ConversationState[],
  messages: PlacedMessage[],
  thread: { threadId: number; clientId: number; waId: string },
  policy: ThreadPolicy,
): Folded {
  const conversations = [...known].sort((a, b) => t(a.startedAt) - t(b.startedAt));
  const changed = new Set<ConversationState>();
  const happenings: Happening[] = [];
  const sorted = [...messages].sort((a, b) => t(a.createdAt) - t(b.createdAt) || a.id - b.id);
  let recount = false;
  const start = (m: PlacedMessage): ConversationState => {
    const c: ConversationState = {
      id: null,
      ...thread,
      startedAt: m.createdAt,
      lastMessageAt: m.createdAt,
      endedAt: null,
      endReason: null,
      userMessages: 0,
      assistantMessages: 0,
      agentMessages: 0,
      firstUserAt: null,
      firstResponseAt: null,
      handoffAt: null,
      ...noSentiment(),
    };
    conversations.push(c);
    happenings.push({ kind: 'started', conversation: c });
    return c;
  };
  for (const m of sorted) {
    const latest = conversations.at(-1);
    let target: ConversationState;
    if (!latest) {
      target = start(m);
    } else if (t(m.createdAt) >= t(latest.startedAt)) {
      if (latest.endedAt === null && t(m.createdAt) - t(latest.lastMessageAt) <= policy.idleMs) {
        target = latest;
      } else if (latest.endedAt === null) {
        endIdle(latest, policy.idleMs);
        changed.add(latest);
        happenings.push({ kind: 'ended', conversation: latest });
        target = start(m);
      } else if (t(m.createdAt) <= t(latest.endedAt)) {
        target = latest; // a late message from before the end
      } else {
        target = start(m);
      }
    } else {
      // Older than the latest conversation: the one it falls in, or the earliest known.
      target =
        [...conversations].reverse().find((c) => t(c.startedAt) <= t(m.createdAt)) ??
        (conversations[0] as ConversationState);
      if (t(m.createdAt) < t(target.startedAt)) target.startedAt = m.createdAt;
    }
    const lastBefore = t(target.lastMessageAt);
    const handedOff = add(target, m, policy);
    changed.add(target);
    happenings.push({ kind: 'message', conversation: target, message: m });
    if (handedOff && target.endedAt === null) happenings.push({ kind: 'handoff', conversation: target });
    const scored = m.role === 'user' && m.sentiment !== null && m.sentiment !== undefined;
    if (scored && target.sentimentCount > 0 && t(m.createdAt) < lastBefore) recount = true;
    else if (scoreSentiment(target, m, policy)) happenings.push({ kind: 'negative', conversation: target });
  }
  return { changed: [...changed], happenings, recountSentiment: recount };
}

/** A conversation before any scored message. */
export type SentimentFigures = Pick<
  ConversationState,
  'sentimentCount' | 'sentimentSum' | 'openingSentiment' | 'closingSentiment' | 'recentSentiments' | 'negativeAt'
>;

export function noSentiment(): SentimentFigures {
  return {
    sentimentCount: 0,
    sentimentSum: 0,
    openingSentiment: null,
    closingSentiment: null,
    recentSentiments: [],
    negativeAt: null,
  };
}

/** How many first and last user messages make the opening and closing sentiment. */
const OPENING_CLOSING = 3;

const mean = (values: number[]): number =>
  Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000 || 0;

/**
 * Counts a user message's score into its conversation's sentiment; true when that makes the
 * closing sentiment fall to the alert threshold for the first time (the conversation's alert).
 */
function scoreSentiment(c: ConversationState, m: PlacedMessage, policy: ThreadPolicy): boolean {
  if (m.role !== 'user' || m.sentiment === null || m.sentiment === undefined) return false;
  recountSentiment(c, m.sentiment);
  const alert = policy.negativeAlert;
  if (alert === null || alert === undefined || c.endedAt !== null || c.negativeAt !== null) return false;
  if ((c.closingSentiment ?? 0) > alert) return false;
  c.negativeAt = m.createdAt;
  return true;
}

/** Counts one more user message's score (in time order) into a conversation's figures. */
export function recountSentiment(c: SentimentFigures, score: number): void {
  c.sentimentCount += 1;
  c.sentimentSum = Math.round((c.sentimentSum + score) * 1000) / 1000 || 0;
  c.recentSentiments = [...c.recentSentiments, score].slice(-OPENING_CLOSING);
  c.closingSentiment = mean(c.recentSentiments);
  // Until the third, every score so far is among the last three.
  if (c.sentimentCount <= OPENING_CLOSING) c.openingSentiment = c.closingSentiment;
}

/** Ends an open conversation for being idle: at its last message plus the idle period. */
export function endIdle(c: ConversationState, idleMs: number): void {
  c.endedAt = new Date(t(c.lastMessageAt) + idleMs);
  c.endReason = 'idle';
}

/** Counts a message into a conversation; true when it is the conversation's handoff. */
function add(c: ConversationState, m: PlacedMessage, policy: ThreadPolicy): boolean {
  if (t(m.createdAt) > t(c.lastMessageAt)) c.lastMessageAt = m.createdAt;
  if (m.role === 'user') {
    c.userMessages += 1;
    if (c.firstUserAt === null || t(m.createdAt) < t(c.firstUserAt)) c.firstUserAt = m.createdAt;
    return false;
  }
  if (m.role === 'assistant') c.assistantMessages += 1;
  else c.agentMessages += 1;
  if (c.firstUserAt !== null && t(m.createdAt) >= t(c.firstUserAt)) {
    if (c.firstResponseAt === null || t(m.createdAt) < t(c.firstResponseAt)) c.firstResponseAt = m.createdAt;
  }
  if (m.role === 'agent' && policy.assistantEnabled && c.handoffAt === null) {
    c.handoffAt = m.createdAt;
    return true;
  }
  return false;
}

/** The idle period of clients without their own: WA_REPORT_CONVERSATION_IDLE, default 1 h. */
export const DEFAULT_IDLE_MS = 3_600_000;

/** Shortest and longest idle period accepted (a conversation of a second is no conversation). */
export const MIN_IDLE_MS = 1_000;
export const MAX_IDLE_MS = 30 * 86_400_000;

/** "30s", "30m", "2h", "1d" → ms within the limits, or null. */
export function parseIdle(text: string): number | null {
  const ms = parseDuration(text, ['s', 'm', 'h', 'd']);
  return ms !== null && ms >= MIN_IDLE_MS && ms <= MAX_IDLE_MS ? ms : null;
}

/** WA_REPORT_CONVERSATION_IDLE, checked. */
export function idleFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env.WA_REPORT_CONVERSATION_IDLE?.trim();
  if (!text) return DEFAULT_IDLE_MS;
  const ms = parseIdle(text);
  if (ms === null) {
    throw new UsageError(
      `WA_REPORT_CONVERSATION_IDLE: "${text}" is not an idle period; use 30s, 30m, 2h or 1d (1 second to 30 days).`,
    );
  }
  return ms;
}
