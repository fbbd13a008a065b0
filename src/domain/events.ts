// The events wa-report notifies through event webhooks (docs/events.md): their names and the `data`
// of each. Payloads are thin: ids, client, wa_id, times, counts, statuses, errors; message content
// only in the `content` field, which is sent to endpoints created with --include-content and removed
// for every other. Never a token, a secret or an API key.
//
// Adding an event: a name in EVENT_TYPES, a builder below, a paragraph in docs/events.md, and a call
// where the change that causes it is written (in the same transaction).
import { createHash, randomBytes } from 'node:crypto';
import { formatWaId } from './phone.js';
import type { Role } from './types.js';

export const EVENT_TYPES = [
  'conversation.started',
  'conversation.ended',
  'conversation.handoff',
  'sentiment.negative',
  'csat.received',
  'message.received',
  'message.sent',
  'message.failed',
  'contact.erased',
  'webhook.test',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(name: string): name is EventType {
  return (EVENT_TYPES as readonly string[]).includes(name);
}

/** An event to write: its type, what it concerns (for ordering and erasure) and its data. */
export interface NewEvent {
  type: EventType;
  clientId: number | null;
  threadId: number | null;
  occurredAt: Date;
  data: Record<string, unknown>;
  /**
   * What makes this event unique ("message.received:<wamid>"): writing it again changes nothing,
   * so a retried or repeated change never notifies twice. Without one the event is always new.
   */
  key?: string;
  /** Only to this endpoint, whatever it subscribes to (webhook.test). */
  endpointId?: number;
}

/** The webhook-id of an event: `evt_` and 24 characters, derived from its key when it has one. */
export function eventUid(e: Pick<NewEvent, 'key'>): string {
  const bytes = e.key ? createHash('sha256').update('wa-report:event:').update(e.key).digest() : randomBytes(18);
  return `evt_${bytes.subarray(0, 18).toString('base64url')}`;
}

/**
 * The key events are delivered in order by, per endpoint: one conversation thread. Events of no
 * thread (contact.erased, webhook.test) wait for nothing.
 */
export function orderingKey(e: Pick<NewEvent, 'threadId' | 'key'>): string {
  return e.threadId !== null ? `thread:${e.threadId}` : `event:${eventUid(e)}`;
}

/** Fields that carry message content: sent only to endpoints created with --include-content. */
export const CONTENT_FIELDS: readonly string[] = ['content'];

export function withoutContent(data: Record<string, unknown>): Record<string, unknown> {
  const thin: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!CONTENT_FIELDS.includes(k)) thin[k] = v;
  return thin;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const seconds = (from: Date | null, to: Date | null): number | null =>
  from && to ? Math.round((to.getTime() - from.getTime()) / 1000) : null;

export interface ConversationFacts {
  id: number;
  threadId: number;
  clientId: number;
  waId: string;
  startedAt: Date;
  lastMessageAt: Date;
  endedAt: Date | null;
  endReason: string | null;
  userMessages: number;
  assistantMessages: number;
  agentMessages: number;
  firstUserAt: Date | null;
  firstResponseAt: Date | null;
  handoffAt: Date | null;
  sentimentCount?: number;
  sentimentSum?: number;
  openingSentiment?: number | null;
  closingSentiment?: number | null;
  negativeAt?: Date | null;
}

/** A conversation's sentiment figures (scores only: nothing of what was said). */
function sentimentOf(c: ConversationFacts) {
  const n = c.sentimentCount ?? 0;
  return {
    scored_messages: n,
    mean: n ? Math.round(((c.sentimentSum ?? 0) / n) * 1000) / 1000 : null,
    opening: c.openingSentiment ?? null,
    closing: c.closingSentiment ?? null,
  };
}

function conversationRef(c: ConversationFacts) {
  return { conversation_id: c.id, client_id: c.clientId, thread_id: c.threadId, wa_id: formatWaId(c.waId) };
}

export function conversationStarted(c: ConversationFacts): NewEvent {
  return {
    type: 'conversation.started',
    clientId: c.clientId,
    threadId: c.threadId,
    occurredAt: c.startedAt,
    key: `conversation.started:${c.id}`,
    data: { ...conversationRef(c), started_at: iso(c.startedAt) },
  };
}

export function conversationEnded(c: ConversationFacts): NewEvent {
  return {
    type: 'conversation.ended',
    clientId: c.clientId,
    threadId: c.threadId,
    occurredAt: c.endedAt ?? c.lastMessageAt,
    key: `conversation.ended:${c.id}`,
    data: {
      ...conversationRef(c),
      reason: c.endReason,
      started_at: iso(c.startedAt),
      last_message_at: iso(c.lastMessageAt),
      ended_at: iso(c.endedAt),
      duration_seconds: seconds(c.startedAt, c.lastMessageAt),
      messages: { user: c.userMessages, assistant: c.assistantMessages, agent: c.agentMessages },
      first_response_seconds: seconds(c.firstUserAt, c.firstResponseAt),
      handed_off: c.handoffAt !== null,
      sentiment: sentimentOf(c),
    },
  };
}

/** A conversation's user messages turned clearly negative (its closing sentiment fell to the threshold). */
export function sentimentNegative(c: ConversationFacts): NewEvent {
  const at = c.negativeAt ?? c.lastMessageAt;
  return {
    type: 'sentiment.negative',
    clientId: c.clientId,
    threadId: c.threadId,
    occurredAt: at,
    key: `sentiment.negative:${c.id}`,
    data: { ...conversationRef(c), at: iso(at), sentiment: sentimentOf(c) },
  };
}

export function conversationHandoff(c: ConversationFacts): NewEvent {
  return {
    type: 'conversation.handoff',
    clientId: c.clientId,
    threadId: c.threadId,
    occurredAt: c.handoffAt ?? c.lastMessageAt,
    key: `conversation.handoff:${c.id}`,
    data: { ...conversationRef(c), handoff_at: iso(c.handoffAt) },
  };
}

/** A user answered a satisfaction survey (a later answer replaces the score: replaced true). */
export function csatReceived(a: {
  surveyId: number;
  conversationId: number;
  clientId: number;
  threadId: number;
  waId: string;
  score: number;
  scale: number;
  form: string;
  replaced: boolean;
  at: Date;
  messageId: number;
}): NewEvent {
  return {
    type: 'csat.received',
    clientId: a.clientId,
    threadId: a.threadId,
    occurredAt: a.at,
    key: `csat.received:${a.messageId}`,
    data: {
      survey_id: a.surveyId,
      conversation_id: a.conversationId,
      client_id: a.clientId,
      thread_id: a.threadId,
      wa_id: formatWaId(a.waId),
      score: a.score,
      scale: a.scale,
      form: a.form,
      replaced: a.replaced,
      answered_at: iso(a.at),
    },
  };
}

export interface MessageFacts {
  id: number;
  wamid: string | null;
  threadId: number;
  clientId: number;
  waId: string;
  role: Role;
  type: string;
  content: string;
  createdAt: Date;
  conversationId: number | null;
}

function messageRef(m: MessageFacts) {
  return {
    message_id: m.id,
    wamid: m.wamid,
    client_id: m.clientId,
    thread_id: m.threadId,
    conversation_id: m.conversationId,
    wa_id: formatWaId(m.waId),
    role: m.role,
    type: m.type,
    created_at: iso(m.createdAt),
  };
}

/** An inbound message was stored (message.received), or an outbound one was sent (message.sent). */
export function messageEvent(type: 'message.received' | 'message.sent', m: MessageFacts, at = m.createdAt): NewEvent {
  return {
    type,
    clientId: m.clientId,
    threadId: m.threadId,
    occurredAt: at,
    key: `${type}:${m.id}`,
    data: { ...messageRef(m), content: m.content },
  };
}

export interface FailureFacts {
  /** Which service refused: whatsapp (a failed status or send), openai (no answer could be produced). */
  service: 'whatsapp' | 'openai' | 'wa-report';
  code: number | string | null;
  title: string | null;
  details?: string | null;
  at: Date;
}

export function messageFailed(m: Omit<MessageFacts, 'content'>, failure: FailureFacts): NewEvent {
  return {
    type: 'message.failed',
    clientId: m.clientId,
    threadId: m.threadId,
    occurredAt: failure.at,
    // A failed status redelivered by WhatsApp is the same failure.
    key: `message.failed:${m.id}:${failure.at.getTime()}:${failure.code ?? ''}`,
    data: {
      ...messageRef({ ...m, content: '' }),
      service: failure.service,
      error: { code: failure.code, title: failure.title, details: failure.details ?? null },
      failed_at: iso(failure.at),
    },
  };
}

export function contactErased(e: {
  waIdHash: string;
  clientId: number | null;
  counts: { threads: number; messages: number; statusEvents: number; rawEvents: number };
  at: Date;
}): NewEvent {
  return {
    type: 'contact.erased',
    clientId: e.clientId,
    threadId: null,
    occurredAt: e.at,
    data: {
      wa_id_hash: e.waIdHash,
      client_id: e.clientId,
      erased: {
        threads: e.counts.threads,
        messages: e.counts.messages,
        status_events: e.counts.statusEvents,
        raw_events: e.counts.rawEvents,
      },
      erased_at: iso(e.at),
    },
  };
}

export function webhookTest(endpointId: number, at: Date): NewEvent {
  return {
    type: 'webhook.test',
    clientId: null,
    threadId: null,
    occurredAt: at,
    endpointId,
    key: `webhook.test:${endpointId}:${randomBytes(12).toString('hex')}`,
    data: { endpoint_id: endpointId, message: 'A test event from wa-report: this endpoint receives events.' },
  };
}
