// What report renderers receive: plain data and async iterables (so a conversation of any size
// streams through in batches). No Prisma, no Express, no commander.
import type { ReportMessage, StoredMessage } from '../domain/types.js';
import type { CsatFigures } from './csat.js';
import type { SentimentFigures } from './sentiment.js';
import type { SessionFigures } from './sessions.js';

export type { ReportMessage };

export type Lang = 'es' | 'en';
export type DetailedFormat = 'json' | 'text' | 'html' | 'csv' | 'pdf' | 'xlsx';

export interface ReportClient {
  id: number;
  name: string;
  phoneNumber: string;
}

export interface ReportThread {
  id: number;
  /** Digits only, as stored; renderers show it as +<digits>. */
  waId: string;
  contactName: string | null;
  createdAt: Date;
  lastMessageAt: Date;
  /** Messages of this conversation inside the report's range. */
  messageCount: number;
}

export interface QuotedMessage {
  wamid: string;
  role: StoredMessage['role'];
  content: string;
  createdAt: Date;
}

export interface ConversationSource {
  thread: ReportThread;
  /** The messages in time order, a batch at a time. */
  batches(): AsyncIterable<ReportMessage[]>;
}

export interface ReportContext {
  client: ReportClient;
  /** IANA zone every time is shown in (reports name it). */
  timeZone: string;
  lang: Lang;
  generatedAt: Date;
  /** The requested range: start inclusive, end exclusive. */
  range: { start?: Date; end?: Date };
  /** Finds the message a reply quotes (a reaction or a reply's context), or null. */
  lookup(wamid: string): Promise<QuotedMessage | null>;
}

/** A detailed report: one or many conversations of one client. */
export interface DetailedReport extends ReportContext {
  /** Number of conversations (known in advance, for the HTML table of contents). */
  conversationCount: number;
  /**
   * Conversations, newest activity first (or the one asked for). Each call starts a new walk: the
   * HTML renderer calls it twice when there are several conversations (table of contents, then the
   * messages), and reads `batches()` only on the second walk.
   */
  conversations(): AsyncIterable<ConversationSource>;
  /**
   * The same conversations' totals and per-conversation figures, from aggregate queries (the PDF's
   * header and the workbook's Conversations and Summary sheets need them before the messages).
   */
  overview(): Promise<SummaryReport>;
}

export interface SummaryRow extends ReportThread {
  byRole: { user: number; assistant: number; agent: number };
  failed: number;
  /** Conversations inside this thread that started in the range (sessions). */
  sessions: number;
  /** Mean sentiment of the scored user messages of those sessions (−1 to 1), null when none. */
  sentimentMean: number | null;
  /** Mean CSAT answer of those sessions on 1–5, null when no survey was answered. */
  csatMean: number | null;
}

/** The summary report of a client: a per-conversation table and messages per day. */
export interface SummaryReport extends ReportContext {
  totals: {
    conversations: number;
    messages: number;
    byRole: { user: number; assistant: number; agent: number };
    failed: number;
    activeLast24h: number;
  };
  conversations: SummaryRow[];
  /** Messages per day in the report's zone, oldest first, days without messages included (0). */
  perDay: { day: string; messages: number }[];
  /** Conversations inside the threads that started in the range. */
  sessions: SessionFigures;
  sentiment: SentimentFigures;
  csat: CsatFigures;
}

export interface RenderResult {
  conversations: number;
  messages: number;
}
