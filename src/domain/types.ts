// Plain data shared by the parser, the store and the reports. No Prisma, no Express.
import type { SentimentLanguage } from './sentiment/language.js';
import type { QuoteReplies } from './client-policy.js';

export type Role = 'user' | 'assistant' | 'agent';
export const ROLES: readonly Role[] = ['user', 'assistant', 'agent'];

/** Delivery statuses in the order they can replace each other (never downgraded). */
export const STATUS_RANK: Readonly<Record<string, number>> = {
  sent: 1,
  // A failure replaces `sent`, but evidence of delivery (a later delivered/read) overrides it.
  failed: 2,
  delivered: 3,
  read: 4,
  played: 5,
};

export function statusRank(status: string | null | undefined): number {
  // Own keys only: a status named "constructor" is not ranked.
  return status && Object.hasOwn(STATUS_RANK, status) ? (STATUS_RANK[status] as number) : 0;
}

/** How a failed status's error reads in reports: "131047 Re-engagement message: details". */
export function formatStatusError(s: Pick<StatusUpdate, 'errorCode' | 'errorTitle' | 'errorDetails'>): string {
  const head = [s.errorCode ?? null, s.errorTitle ?? null].filter((x) => x !== null).join(' ');
  return [head, s.errorDetails].filter(Boolean).join(': ') || 'failed (no error details)';
}

export interface ClientInput {
  name: string;
  phoneNumber: string;
  phoneNumberId: string;
  wabaId?: string | null;
  active?: boolean;
  assistantEnabled?: boolean;
  assistantModel?: string | null;
  systemPrompt?: string | null;
  /** Seconds without a message after which a conversation ends; null: the program's default. */
  conversationIdleSeconds?: number | null;
  quoteReplies?: QuoteReplies;
  /** 'off', 'until-end' or whole seconds (see domain/client-policy.ts). */
  handoff?: string;
  /** The language its users write in (es | en), for sentiment; null: detected from each message. */
  language?: string | null;
  /** CSAT surveys when a conversation ends (see domain/csat.ts). */
  csatEnabled?: boolean;
  csatScale?: number;
  csatQuestion?: string | null;
  /** name:language of an approved template, for when the 24-hour window has closed. */
  csatTemplate?: string | null;
  csatComment?: boolean;
}

export interface ClientRecord {
  id: number;
  name: string;
  phoneNumber: string;
  phoneNumberId: string;
  wabaId: string | null;
  active: boolean;
  assistantEnabled: boolean;
  assistantModel: string | null;
  systemPrompt: string | null;
  conversationIdleSeconds: number | null;
  quoteReplies: QuoteReplies;
  handoff: string;
  language: string | null;
  csatEnabled: boolean;
  csatScale: number;
  csatQuestion: string | null;
  csatTemplate: string | null;
  csatComment: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ThreadRecord {
  id: number;
  clientId: number;
  waId: string;
  contactName: string | null;
  createdAt: Date;
  lastMessageAt: Date;
  contextResetAt: Date | null;
}

/** A message to store. `waId` is digits only, as WhatsApp sends it. */
export interface NewMessage {
  clientId: number;
  waId: string;
  contactName?: string | null;
  role: Role;
  type: string;
  content: string;
  wamid: string | null;
  phoneNumberId: string;
  createdAt: Date;
  status?: string | null;
  errorCode?: number | null;
  errorMessage?: string | null;
  replyToWamid?: string | null;
  raw?: string | null;
  /** A user message's sentiment (−1..1); computed when stored if left out. */
  sentiment?: number | null;
  /** The client's language for sentiment, when it has one (else detected from the text). */
  sentimentLanguage?: SentimentLanguage | null;
  /** false: the client sends no CSAT surveys, so this message cannot answer one (saves a lookup). */
  csatSurveys?: boolean;
}

export interface StoredMessage {
  id: number;
  threadId: number;
  clientId: number;
  role: Role;
  type: string;
  content: string;
  wamid: string | null;
  waId: string;
  phoneNumberId: string;
  createdAt: Date;
  status: string | null;
  statusAt: Date | null;
  errorCode: number | null;
  errorMessage: string | null;
  replyToWamid: string | null;
  /** An assistant's answer: the last inbound message it covers. */
  answersWamid: string | null;
  raw: string | null;
}

export interface StatusUpdate {
  wamid: string;
  status: string;
  occurredAt: Date;
  recipientId?: string | null;
  errorCode?: number | null;
  errorTitle?: string | null;
  errorDetails?: string | null;
  raw?: string | null;
}

export interface RawEventInput {
  kind: string;
  phoneNumberId?: string | null;
  waId?: string | null;
  payload: string;
}

export interface ConversationSummary {
  threadId: number;
  clientId: number;
  waId: string;
  contactName: string | null;
  createdAt: Date;
  lastMessageAt: Date;
  /** Messages in the requested date range (all of them without a range). */
  messageCount: number;
}

export interface ClientStats {
  clientId: number;
  clientName: string;
  conversations: number;
  activeLast24h: number;
  messages: number;
  messagesByRole: Record<Role, number>;
  /** Outbound messages (assistant + agent) by their latest status; `none` when no status arrived. */
  outboundByStatus: Record<string, number>;
  failed: number;
  /** delivered-or-better / outbound with a status; null without outbound messages. */
  deliveryRate: number | null;
  /** read-or-better / outbound with a status. */
  readRate: number | null;
}

/**
 * What a report reads of a message: everything but the identifiers its conversation already gives,
 * and the raw object.
 */
export type ReportMessage = Pick<
  StoredMessage,
  | 'id'
  | 'role'
  | 'type'
  | 'content'
  | 'wamid'
  | 'createdAt'
  | 'status'
  | 'statusAt'
  | 'errorCode'
  | 'errorMessage'
  | 'replyToWamid'
>;
