// The tables' columns and how a row becomes the domain's plain data: written once for every
// repository (reads, the ingest writer, archives).
import type {
  ClientRecord,
  ConversationSummary,
  ReportMessage,
  Role,
  StatusUpdate,
  StoredMessage,
  ThreadRecord,
} from '../domain/types.js';
import { DatabaseError } from '../errors.js';
import { isQuoteReplies, type QuoteReplies } from '../domain/client-policy.js';
import type { Row } from './sql.js';

export const CLIENT_FIELDS = [
  'id',
  'name',
  'phone_number',
  'phone_number_id',
  'waba_id',
  'active',
  'assistant_enabled',
  'assistant_model',
  'system_prompt',
  'conversation_idle_seconds',
  'quote_replies',
  'handoff',
  'language',
  'csat_enabled',
  'csat_scale',
  'csat_question',
  'csat_template',
  'csat_comment',
  'created_at',
  'updated_at',
] as const;

export const THREAD_FIELDS = [
  'id',
  'client_id',
  'wa_id',
  'contact_name',
  'created_at',
  'last_message_at',
  'context_reset_at',
] as const;

/** Every column of `messages`, in table order. */
export const MESSAGE_FIELDS = [
  'id',
  'thread_id',
  'client_id',
  'role',
  'type',
  'content',
  'wamid',
  'wa_id',
  'phone_number_id',
  'created_at',
  'status',
  'status_at',
  'error_code',
  'error_message',
  'reply_to_wamid',
  'raw',
  'inserted_at',
  'answers_wamid',
  'sentiment',
] as const;

export const STATUS_EVENT_FIELDS = [
  'id',
  'wamid',
  'status',
  'occurred_at',
  'recipient_id',
  'error_code',
  'error_title',
  'error_details',
  'raw',
  'received_at',
] as const;

export const RAW_EVENT_FIELDS = [
  'id',
  'kind',
  'content_hash',
  'phone_number_id',
  'wa_id',
  'payload',
  'received_at',
] as const;

/** Columns holding times (archives write them as ISO 8601). */
export const TIME_FIELDS: ReadonlySet<string> = new Set([
  'created_at',
  'updated_at',
  'last_message_at',
  'context_reset_at',
  'status_at',
  'inserted_at',
  'occurred_at',
  'received_at',
]);

const list = (fields: readonly string[]): string => fields.join(', ');

export const CLIENT_COLUMNS = list(CLIENT_FIELDS);
export const THREAD_COLUMNS = list(THREAD_FIELDS);
/** A message as the program uses it (StoredMessage): all but inserted_at. */
export const STORED_MESSAGE_COLUMNS = list(MESSAGE_FIELDS.filter((f) => f !== 'inserted_at'));
/** What a report reads of a message: a third fewer values than a StoredMessage (it matters at 100,000). */
/** (toReportMessageFromValues reads them by position: keep the two in step.) */
export const REPORT_MESSAGE_COLUMNS =
  'id, role, type, content, wamid, created_at, status, status_at, error_code, error_message, reply_to_wamid';
/** The columns a new message is inserted with (the id is the database's). */
export const MESSAGE_INSERT_FIELDS = MESSAGE_FIELDS.filter((f) => f !== 'id');

export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string') return /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  throw new DatabaseError(`Unexpected date value in the database: ${String(value)}`);
}

export const toDateOrNull = (value: unknown): Date | null =>
  value === null || value === undefined ? null : toDate(value);

const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const textOrNull = (value: unknown): string | null => (value as string | null | undefined) ?? null;

export function toClientRecord(r: Row): ClientRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    phoneNumber: String(r.phone_number),
    phoneNumberId: String(r.phone_number_id),
    wabaId: textOrNull(r.waba_id),
    active: Boolean(r.active),
    assistantEnabled: Boolean(r.assistant_enabled),
    assistantModel: textOrNull(r.assistant_model),
    systemPrompt: textOrNull(r.system_prompt),
    conversationIdleSeconds:
      r.conversation_idle_seconds === null || r.conversation_idle_seconds === undefined
        ? null
        : Number(r.conversation_idle_seconds),
    quoteReplies: isQuoteReplies(String(r.quote_replies)) ? (String(r.quote_replies) as QuoteReplies) : 'auto',
    handoff: String(r.handoff ?? 'until-end'),
    language: textOrNull(r.language),
    csatEnabled: Boolean(r.csat_enabled),
    csatScale: Number(r.csat_scale ?? 5),
    csatQuestion: textOrNull(r.csat_question),
    csatTemplate: textOrNull(r.csat_template),
    csatComment: Boolean(r.csat_comment),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

export function toThreadRecord(r: Row): ThreadRecord {
  return {
    id: Number(r.id),
    clientId: Number(r.client_id),
    waId: String(r.wa_id),
    contactName: textOrNull(r.contact_name),
    createdAt: toDate(r.created_at),
    lastMessageAt: toDate(r.last_message_at),
    contextResetAt: toDateOrNull(r.context_reset_at),
  };
}

/** A thread row (id, client_id, wa_id, contact_name, created_at, last_message_at) with a message count. */
export function toConversationSummary(r: Row): ConversationSummary {
  return {
    threadId: Number(r.id),
    clientId: Number(r.client_id),
    waId: String(r.wa_id),
    contactName: textOrNull(r.contact_name),
    createdAt: toDate(r.created_at),
    lastMessageAt: toDate(r.last_message_at),
    messageCount: Number(r.message_count ?? 0),
  };
}

/** A report message; `content` as stored (the caller opens it). */
export function toReportMessage(r: Row): ReportMessage {
  return {
    id: Number(r.id),
    role: r.role as Role,
    type: String(r.type),
    content: String(r.content),
    wamid: textOrNull(r.wamid),
    createdAt: toDate(r.created_at),
    status: textOrNull(r.status),
    statusAt: toDateOrNull(r.status_at),
    errorCode: numberOrNull(r.error_code),
    errorMessage: textOrNull(r.error_message),
    replyToWamid: textOrNull(r.reply_to_wamid),
  };
}

/** The same from an array row of REPORT_MESSAGE_COLUMNS, in that order (Querier.values). */
export function toReportMessageFromValues(v: unknown[]): ReportMessage {
  return {
    id: Number(v[0]),
    role: v[1] as Role,
    type: String(v[2]),
    content: String(v[3]),
    wamid: textOrNull(v[4]),
    createdAt: toDate(v[5]),
    status: textOrNull(v[6]),
    statusAt: toDateOrNull(v[7]),
    errorCode: numberOrNull(v[8]),
    errorMessage: textOrNull(v[9]),
    replyToWamid: textOrNull(v[10]),
  };
}

/** A stored message; `content` and `raw` as stored (the caller opens them). */
export function toStoredMessage(r: Row): StoredMessage {
  return {
    ...toReportMessage(r),
    threadId: Number(r.thread_id),
    clientId: Number(r.client_id),
    waId: String(r.wa_id),
    phoneNumberId: String(r.phone_number_id),
    raw: textOrNull(r.raw),
    answersWamid: textOrNull(r.answers_wamid),
  };
}

/** A status event row (as stored) as the update it recorded. */
export function toStatusUpdate(r: Row): StatusUpdate {
  return {
    wamid: String(r.wamid),
    status: String(r.status),
    occurredAt: toDate(r.occurred_at),
    recipientId: textOrNull(r.recipient_id),
    errorCode: numberOrNull(r.error_code),
    errorTitle: textOrNull(r.error_title),
    errorDetails: textOrNull(r.error_details),
    raw: textOrNull(r.raw),
  };
}

/** Error codes are 32-bit integers in the schema; anything else stays only in the raw object. */
export function int32OrNull(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isInteger(n) && Math.abs(n) <= 2_147_483_647 ? n : null;
}
