// The JSON shapes of clients, conversation lists and statistics: one place, so `wa-report … --json`
// and the HTTP API can never drift apart. Stable and documented (docs/report-json.md): fields are
// added, never renamed.
import { formatHandoff } from '../domain/client-policy.js';
import { formatWaId } from '../domain/phone.js';
import type { ClientRecord, ConversationSummary } from '../domain/types.js';
import type { ClientStatistics } from './build.js';
import type { ConversationState } from '../domain/conversations.js';
import type { SessionRating } from '../domain/sentiment/rating.js';
import { csatFiguresDocument } from './csat.js';
import { sentimentFiguresDocument } from './sentiment.js';
import { sessionFiguresDocument } from './sessions.js';

export function clientDocument(c: ClientRecord) {
  return {
    id: c.id,
    name: c.name,
    phone_number: c.phoneNumber,
    phone_number_id: c.phoneNumberId,
    waba_id: c.wabaId,
    active: c.active,
    assistant_enabled: c.assistantEnabled,
    assistant_model: c.assistantModel,
    system_prompt: c.systemPrompt,
    /** null: the program's default (WA_REPORT_CONVERSATION_IDLE). */
    conversation_idle_seconds: c.conversationIdleSeconds,
    quote_replies: c.quoteReplies,
    handoff: formatHandoff(c.handoff),
    language: c.language,
    csat: {
      enabled: c.csatEnabled,
      scale: c.csatScale,
      question: c.csatQuestion,
      template: c.csatTemplate,
      comment: c.csatComment,
    },
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** A client as a conversation list or report names it. */
export function clientReference(c: Pick<ClientRecord, 'id' | 'name' | 'phoneNumber'>) {
  return { id: c.id, name: c.name, phone_number: c.phoneNumber };
}

export function conversationDocument(c: ConversationSummary) {
  return {
    thread_id: c.threadId,
    wa_id: formatWaId(c.waId),
    contact_name: c.contactName,
    created_at: c.createdAt.toISOString(),
    last_message_at: c.lastMessageAt.toISOString(),
    message_count: c.messageCount,
  };
}

/** A client's conversations in a period, newest activity first. */
export function conversationListDocument(client: ClientRecord, total: number, conversations: ConversationSummary[]) {
  return {
    client: clientReference(client),
    total_conversations: total,
    conversations: conversations.map(conversationDocument),
  };
}

export function statisticsDocument(s: ClientStatistics) {
  return {
    client_id: s.clientId,
    client_name: s.clientName,
    conversations: s.conversations,
    active_last_24h: s.activeLast24h,
    messages: s.messages,
    messages_by_role: s.messagesByRole,
    outbound_by_status: s.outboundByStatus,
    failed: s.failed,
    delivery_rate: s.deliveryRate,
    read_rate: s.readRate,
    response_time_seconds: {
      median: s.responseSeconds.median,
      p90: s.responseSeconds.p90,
      answers: s.responseSeconds.answers,
    },
    messages_per_day: s.perDay,
    sessions: sessionFiguresDocument(s.sessions),
    sentiment: sentimentFiguresDocument(s.sentiment, (d) => d.toISOString()),
    csat: csatFiguresDocument(s.csat),
  };
}

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
const secondsBetween = (from: Date | null, to: Date | null) =>
  from && to ? Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000)) : null;

/** A conversation inside a thread (a session): when it started and ended, why, its messages. */
export function sessionDocument(
  s: ConversationState & { id: number; contactName: string | null; rating?: SessionRating | null },
) {
  return {
    id: s.id,
    thread_id: s.threadId,
    wa_id: formatWaId(s.waId),
    contact_name: s.contactName,
    started_at: s.startedAt.toISOString(),
    last_message_at: s.lastMessageAt.toISOString(),
    ended_at: isoOrNull(s.endedAt),
    end_reason: s.endReason,
    duration_seconds: secondsBetween(s.startedAt, s.lastMessageAt),
    messages: { user: s.userMessages, assistant: s.assistantMessages, agent: s.agentMessages },
    first_response_seconds: secondsBetween(s.firstUserAt, s.firstResponseAt),
    handoff_at: isoOrNull(s.handoffAt),
    sentiment: {
      scored_messages: s.sentimentCount,
      mean: s.sentimentCount ? Math.round((s.sentimentSum / s.sentimentCount) * 1000) / 1000 : null,
      opening: s.openingSentiment,
      closing: s.closingSentiment,
      negative_at: isoOrNull(s.negativeAt),
    },
    ...(s.rating
      ? {
          rating: {
            source: s.rating.source,
            label: s.rating.label,
            score: s.rating.score,
            predicted_csat: s.rating.predictedCsat,
            reason: s.rating.reason,
            error: s.rating.error,
          },
        }
      : {}),
  };
}

/** A client's sessions in a period, newest first. */
export function sessionListDocument(
  client: ClientRecord,
  sessions: (ConversationState & { id: number; contactName: string | null })[],
) {
  return { client: clientReference(client), total_sessions: sessions.length, sessions: sessions.map(sessionDocument) };
}
