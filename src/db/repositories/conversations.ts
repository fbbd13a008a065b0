// Conversations (sessions) inside threads: kept up to date in the transaction that stores their
// messages (see domain/conversations.ts for the rules), ended by a sweep once idle or by a close,
// derived for data stored before they existed, and listed for reports.
import {
  endIdle,
  foldMessages,
  type Folded,
  type ConversationState,
  type PlacedMessage,
} from '../../domain/conversations.js';
import {
  conversationEnded,
  conversationHandoff,
  conversationStarted,
  messageEvent,
  sentimentNegative,
  type NewEvent,
} from '../../domain/events.js';
import { DEFAULT_NEGATIVE_ALERT } from '../../domain/sentiment/index.js';
import type { SessionRating } from '../../domain/sentiment/rating.js';
import type { Role } from '../../domain/types.js';
import { bind, plusSeconds } from '../dialect.js';
import { toDate, toDateOrNull } from '../rows.js';
import type { Querier, Row, StatementRider } from '../sql.js';
import type { Outbox } from './outbox.js';
import { queueSurveys, surveyOf, type SurveyToQueue } from './csat.js';
import { recountConversations } from './sentiment.js';

/** A message just stored, as conversations and events need it. */
export interface TrackedMessage {
  id: number;
  threadId: number;
  clientId: number;
  waId: string;
  role: Role;
  type: string;
  content: string;
  wamid: string | null;
  createdAt: Date;
  sentiment?: number | null;
}

export interface ConversationDefaults {
  /** WA_REPORT_CONVERSATION_IDLE, for clients without their own. */
  idleMs: number;
  /** WA_REPORT_SENTIMENT_ALERT (default −0.5); null: no sentiment.negative events. */
  negativeAlert?: number | null;
}

export const CONVERSATION_COLUMNS =
  'c.id, c.thread_id, c.client_id, c.started_at, c.last_message_at, c.ended_at, c.end_reason, c.user_messages, ' +
  'c.assistant_messages, c.agent_messages, c.first_user_at, c.first_response_at, c.handoff_at, ' +
  'c.sentiment_count, c.sentiment_sum, c.opening_sentiment, c.closing_sentiment, c.recent_sentiments, c.negative_at';

export function toConversation(r: Row, waId: string): ConversationState {
  return {
    id: Number(r.id),
    threadId: Number(r.thread_id),
    clientId: Number(r.client_id),
    waId,
    startedAt: toDate(r.started_at),
    lastMessageAt: toDate(r.last_message_at),
    endedAt: toDateOrNull(r.ended_at),
    endReason: (r.end_reason as ConversationState['endReason']) ?? null,
    userMessages: Number(r.user_messages),
    assistantMessages: Number(r.assistant_messages),
    agentMessages: Number(r.agent_messages),
    firstUserAt: toDateOrNull(r.first_user_at),
    firstResponseAt: toDateOrNull(r.first_response_at),
    handoffAt: toDateOrNull(r.handoff_at),
    sentimentCount: Number(r.sentiment_count ?? 0),
    sentimentSum: Number(r.sentiment_sum ?? 0),
    openingSentiment: numberOrNull(r.opening_sentiment),
    closingSentiment: numberOrNull(r.closing_sentiment),
    recentSentiments: r.recent_sentiments ? String(r.recent_sentiments).split(',').map(Number) : [],
    negativeAt: toDateOrNull(r.negative_at),
  };
}

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * PostgreSQL: a thread's latest conversation with its client's policy, as one JSON value (the
 * ingest statement returns it for every thread it wrote, saving trackConversations a round trip).
 * The function (migration 20261203170000_fresh_latest_conversation) reads the fields of the query
 * in trackConversations with a snapshot of its own, taken once the statement holds the thread: a
 * concurrent writer of the same thread (another daemon) that it waited for is seen.
 */
export const LATEST_CONVERSATION_JSON = (threadId: string, clientId: string) =>
  `wa_latest_conversation(${threadId}, ${clientId})`;

/** Milliseconds of `idle` (clients.conversation_idle_seconds) or the default. */
function idleOf(seconds: unknown, defaults: ConversationDefaults): number {
  return seconds === null || seconds === undefined ? defaults.idleMs : Number(seconds) * 1000;
}

/**
 * Places newly stored messages in their conversations (creating, extending and ending them) and
 * returns the events that says, in order: conversation.ended, conversation.started,
 * message.received (a user's message), message.sent (the assistant's, or a person's from the
 * WhatsApp Business app), conversation.handoff. Call inside the transaction that stored the
 * messages, after their threads were written (which locks them on PostgreSQL: conversation changes
 * of a thread are serial). PostgreSQL: `rider` is another write of the transaction that the
 * conversations' statement carries (it runs even when no conversation changes).
 */
export async function trackConversations(
  tx: Querier,
  messages: TrackedMessage[],
  defaults: ConversationDefaults,
  preloaded?: Map<number, Row>,
  rider?: StatementRider,
): Promise<{ events: () => NewEvent[]; conversationOf: Map<number, number> }> {
  if (messages.length === 0) {
    if (rider) await save(tx, [], new Map(), rider);
    return { events: () => [], conversationOf: new Map() };
  }
  const byThread = new Map<number, TrackedMessage[]>();
  for (const m of messages) {
    const list = byThread.get(m.threadId);
    if (list) list.push(m);
    else byThread.set(m.threadId, [m]);
  }
  const threadIds = [...byThread.keys()];
  const ids = threadIds.map(() => '?').join(', ');
  // The latest conversation of each thread, with the client's policy (read already, or now).
  const latest: Row[] =
    preloaded && threadIds.every((id) => preloaded.has(id))
      ? threadIds.map((id) => ({ ...(preloaded.get(id) as Row), tid: id }))
      : await tx.all(
          `SELECT t.id AS tid, cl.conversation_idle_seconds, cl.assistant_enabled, cl.csat_enabled, cl.csat_scale,
                  ${CONVERSATION_COLUMNS}
           FROM threads t JOIN clients cl ON cl.id = t.client_id
           LEFT JOIN conversations c ON c.thread_id = t.id
             AND c.id = (SELECT c2.id FROM conversations c2 WHERE c2.thread_id = t.id
                         ORDER BY c2.started_at DESC, c2.id DESC LIMIT 1)
           WHERE t.id IN (${ids})`,
          threadIds,
        );
  const folded: Folded[] = [];
  const before = new Map<number, string>();
  const csatScale = new Map<number, unknown>();
  for (const row of latest) {
    if (row.csat_enabled) csatScale.set(Number(row.tid), row.csat_scale);
    const threadId = Number(row.tid);
    const list = byThread.get(threadId) as TrackedMessage[];
    const first = list[0] as TrackedMessage;
    const known = row.id === null || row.id === undefined ? [] : [toConversation(row, first.waId)];
    const newest = known[0];
    const late = newest ? list.filter((m) => m.createdAt < newest.startedAt) : [];
    if (late.length && newest) known.push(...(await olderConversations(tx, threadId, late, first.waId, newest)));
    for (const c of known) before.set(c.id as number, shapeOf(c));
    const policy = {
      idleMs: idleOf(row.conversation_idle_seconds, defaults),
      assistantEnabled: Boolean(row.assistant_enabled),
      negativeAlert: defaults.negativeAlert === undefined ? DEFAULT_NEGATIVE_ALERT : defaults.negativeAlert,
    };
    folded.push(foldMessages(known, list, { threadId, clientId: first.clientId, waId: first.waId }, policy));
  }
  await save(
    tx,
    folded.flatMap((f) => f.changed),
    before,
    rider,
  );
  // A conversation a new message ended (it came after the idle period) gets its survey too; the
  // surveyor does not send it if the user has written again since.
  const surveys = folded.flatMap((f) =>
    f.happenings.flatMap((h) =>
      h.kind === 'ended' && csatScale.has(h.conversation.threadId)
        ? [surveyOf(h.conversation, csatScale.get(h.conversation.threadId))]
        : [],
    ),
  );
  if (surveys.length) await queueSurveys(tx, surveys, new Date());
  // Scores that came late are counted in time order, as a recount from the messages does.
  const recount = folded.filter((f) => f.recountSentiment).map((f) => (f.changed[0] as ConversationState).threadId);
  if (recount.length) await recountConversations(tx, recount);
  const happenings = folded.flatMap((f) => f.happenings);
  const conversationOf = new Map<number, number>();
  for (const h of happenings) if (h.kind === 'message') conversationOf.set(h.message.id, h.conversation.id as number);
  // Built only if an endpoint wants them (most transactions notify no one).
  const events = () => {
    const byId = new Map(messages.map((m) => [m.id, m]));
    const list: NewEvent[] = [];
    for (const h of happenings) {
      const c = { ...h.conversation, id: h.conversation.id as number };
      if (h.kind === 'ended') list.push(conversationEnded(c));
      else if (h.kind === 'started') list.push(conversationStarted(c));
      else if (h.kind === 'handoff') list.push(conversationHandoff(c));
      else if (h.kind === 'negative') list.push(sentimentNegative(c));
      else {
        const m = byId.get(h.message.id) as TrackedMessage;
        const facts = { ...m, conversationId: c.id };
        list.push(messageEvent(m.role === 'user' ? 'message.received' : 'message.sent', facts));
      }
    }
    return list;
  };
  return { events, conversationOf };
}

/** What decides a conversation's index entries: its start and whether (when) it ended. */
function shapeOf(c: ConversationState): string {
  return `${c.startedAt.getTime()}:${c.endedAt?.getTime() ?? ''}`;
}

/** For messages older than the thread's latest conversation: the conversations they fall in. */
async function olderConversations(
  tx: Querier,
  threadId: number,
  late: PlacedMessage[],
  waId: string,
  newest: ConversationState,
): Promise<ConversationState[]> {
  const found = new Map<number, ConversationState>([[newest.id as number, newest]]);
  for (const m of late) {
    const [row] = (
      await tx.all(
        `SELECT ${CONVERSATION_COLUMNS} FROM conversations c WHERE c.thread_id = ? AND c.started_at <= ?
         ORDER BY c.started_at DESC, c.id DESC LIMIT 1`,
        [threadId, m.createdAt],
      )
    ).concat(
      await tx.all(
        `SELECT ${CONVERSATION_COLUMNS} FROM conversations c WHERE c.thread_id = ? ORDER BY c.started_at, c.id LIMIT 1`,
        [threadId],
      ),
    );
    if (row && !found.has(Number(row.id))) found.set(Number(row.id), toConversation(row, waId));
  }
  found.delete(newest.id as number);
  return [...found.values()];
}

const FIELDS = [
  'thread_id',
  'client_id',
  'started_at',
  'last_message_at',
  'ended_at',
  'end_reason',
  'user_messages',
  'assistant_messages',
  'agent_messages',
  'first_user_at',
  'first_response_at',
  'handoff_at',
  'sentiment_count',
  'sentiment_sum',
  'opening_sentiment',
  'closing_sentiment',
  'recent_sentiments',
  'negative_at',
] as const;

const valuesOf = (c: ConversationState): unknown[] => [
  c.threadId,
  c.clientId,
  c.startedAt,
  c.lastMessageAt,
  c.endedAt,
  c.endReason,
  c.userMessages,
  c.assistantMessages,
  c.agentMessages,
  c.firstUserAt,
  c.firstResponseAt,
  c.handoffAt,
  c.sentimentCount,
  c.sentimentSum,
  c.openingSentiment,
  c.closingSentiment,
  c.recentSentiments.length ? c.recentSentiments.join(',') : null,
  c.negativeAt,
];

/**
 * Writes changed conversations; new ones get their ids. `before`: the start and end they were read
 * with, so that SQLite rewrites only what changed (a message moves only counts and times, not the
 * columns the start and open indexes hold).
 */
export async function save(
  tx: Querier,
  conversations: ConversationState[],
  before: Map<number, string> = new Map(),
  rider?: StatementRider,
): Promise<void> {
  const fresh = conversations.filter((c) => c.id === null);
  const known = conversations.filter((c) => c.id !== null);
  if (tx.dialect === 'postgres') return savePostgres(tx, fresh, known, rider);
  if (rider) throw new Error('A statement rider is PostgreSQL SQL; SQLite runs the write itself.');
  for (let i = 0; i < fresh.length; i += 50) {
    const chunk = fresh.slice(i, i + 50);
    const rows = await tx.all<{ id: unknown; thread_id: unknown; started_at: unknown }>(
      `INSERT INTO conversations (${FIELDS.join(', ')})
       VALUES ${chunk.map(() => `(${FIELDS.map(() => '?').join(', ')})`).join(', ')}
       RETURNING id, thread_id, started_at`,
      chunk.flatMap(valuesOf),
    );
    assignIds(chunk, rows);
  }
  for (const c of known) {
    if (before.get(c.id as number) === shapeOf(c)) {
      await tx.run(
        `UPDATE conversations SET last_message_at = ?, user_messages = ?, assistant_messages = ?, agent_messages = ?,
           first_user_at = ?, first_response_at = ?, handoff_at = ?, sentiment_count = ?, sentiment_sum = ?,
           opening_sentiment = ?, closing_sentiment = ?, recent_sentiments = ?, negative_at = ? WHERE id = ?`,
        [
          c.lastMessageAt,
          c.userMessages,
          c.assistantMessages,
          c.agentMessages,
          c.firstUserAt,
          c.firstResponseAt,
          c.handoffAt,
          ...valuesOf(c).slice(12),
          c.id,
        ],
      );
    } else {
      await tx.run(`UPDATE conversations SET ${FIELDS.map((f) => `${f} = ?`).join(', ')} WHERE id = ?`, [
        ...valuesOf(c),
        c.id,
      ]);
    }
  }
}

/** New conversations get the ids the database gave them (a thread starts at most one per instant). */
function assignIds(fresh: ConversationState[], rows: { id: unknown; thread_id: unknown; started_at: unknown }[]): void {
  const key = (threadId: number, at: number) => `${threadId}:${at}`;
  const ids = new Map(rows.map((r) => [key(Number(r.thread_id), toDate(r.started_at).getTime()), Number(r.id)]));
  for (const c of fresh) c.id = ids.get(key(c.threadId, c.startedAt.getTime())) ?? null;
}

const PG_TYPES = [
  'int',
  'int',
  'timestamptz',
  'timestamptz',
  'timestamptz',
  'text',
  'int',
  'int',
  'int',
  'timestamptz',
  'timestamptz',
  'timestamptz',
  'int',
  'float8',
  'float8',
  'float8',
  'text',
  'timestamptz',
];

/** PostgreSQL: every new and changed conversation of a batch in one statement. */
async function savePostgres(
  tx: Querier,
  fresh: ConversationState[],
  known: ConversationState[],
  rider?: StatementRider,
): Promise<void> {
  if (fresh.length === 0 && known.length === 0 && !rider) return;
  const columns = (list: ConversationState[]) =>
    FIELDS.map((_, i) => list.map((c) => bind('postgres', valuesOf(c)[i])));
  const n = FIELDS.length;
  const arrays = (offset: number) => FIELDS.map((_, i) => `$${offset + i + 1}::${PG_TYPES[i]}[]`).join(', ');
  const rows = await tx.all<{ id: unknown; thread_id: unknown; started_at: unknown }>(
    `WITH upd AS (
       UPDATE conversations c SET ${FIELDS.map((f) => `${f} = v.${f}`).join(', ')}
       FROM unnest($${2 * n + 1}::int[], ${arrays(0)}) AS v(id, ${FIELDS.join(', ')})
       WHERE c.id = v.id RETURNING c.id
     ), ins AS (
       INSERT INTO conversations (${FIELDS.join(', ')})
       SELECT * FROM unnest(${arrays(n)}) RETURNING id, thread_id, started_at
     )${rider ? `, rider AS (${rider.sql(2 * n + 2)})` : ''}
     SELECT id, thread_id, started_at FROM ins`,
    [...columns(known), ...columns(fresh), known.map((c) => c.id), ...(rider?.params ?? [])],
    `wa_report_save_conversations_v2${rider ? `_${rider.name}` : ''}`,
  );
  assignIds(fresh, rows);
}

export interface SessionFilter {
  clientId: number;
  waId?: string;
  /** Conversations that started in [start, end). */
  start?: Date;
  end?: Date;
}

export interface SessionRecord extends ConversationState {
  id: number;
  contactName: string | null;
  /** WA_REPORT_SENTIMENT=model: how the model (or, when it failed, the lexicon) rated it. */
  rating?: SessionRating | null;
}

export class ConversationsRepository {
  constructor(
    private readonly q: Querier,
    private readonly defaults: ConversationDefaults,
    private readonly outbox: Outbox,
  ) {}

  /** The open conversation of a thread, if any. */
  async open(threadId: number): Promise<ConversationState | null> {
    const [row] = await this.q.all(
      `SELECT ${CONVERSATION_COLUMNS}, t.wa_id FROM conversations c JOIN threads t ON t.id = c.thread_id
       WHERE c.thread_id = ? AND c.ended_at IS NULL ORDER BY c.started_at DESC LIMIT 1`,
      [threadId],
    );
    return row ? toConversation(row, String(row.wa_id)) : null;
  }

  /** The latest conversation of a thread (open or not), if any. */
  async latest(threadId: number): Promise<ConversationState | null> {
    const [row] = await this.q.all(
      `SELECT ${CONVERSATION_COLUMNS}, t.wa_id FROM conversations c JOIN threads t ON t.id = c.thread_id
       WHERE c.thread_id = ? ORDER BY c.started_at DESC, c.id DESC LIMIT 1`,
      [threadId],
    );
    return row ? toConversation(row, String(row.wa_id)) : null;
  }

  /** A client's conversations that started in the period, newest first. */
  async list(filter: SessionFilter, limit = 10_000): Promise<SessionRecord[]> {
    const where = ['c.client_id = ?'];
    const params: unknown[] = [filter.clientId];
    if (filter.waId) {
      where.push('t.wa_id = ?');
      params.push(filter.waId);
    }
    if (filter.start) {
      where.push('c.started_at >= ?');
      params.push(filter.start);
    }
    if (filter.end) {
      where.push('c.started_at < ?');
      params.push(filter.end);
    }
    const rows = await this.q.all(
      `SELECT ${CONVERSATION_COLUMNS}, t.wa_id, t.contact_name, r.source AS rating_source, r.label AS rating_label,
              r.score AS rating_score, r.predicted_csat AS rating_csat, r.reason AS rating_reason,
              r.error AS rating_error
       FROM conversations c JOIN threads t ON t.id = c.thread_id
       LEFT JOIN conversation_ratings r ON r.conversation_id = c.id AND r.state = 'done'
       WHERE ${where.join(' AND ')} ORDER BY c.started_at DESC, c.id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map((r) => ({
      ...toConversation(r, String(r.wa_id)),
      id: Number(r.id),
      contactName: (r.contact_name as string | null) ?? null,
      rating: r.rating_source
        ? {
            source: r.rating_source as SessionRating['source'],
            label: (r.rating_label as string | null) ?? null,
            score: numberOrNull(r.rating_score),
            predictedCsat: numberOrNull(r.rating_csat),
            reason:
              r.rating_reason === null || r.rating_reason === undefined
                ? null
                : this.q.keys.open(String(r.rating_reason), () => `The rating of conversation ${String(r.id)}`),
            error: (r.rating_error as string | null) ?? null,
          }
        : null,
    }));
  }

  /**
   * Ends the conversations idle at `now` (last message + the client's idle period ≤ now), with
   * their conversation.ended events, in one transaction; returns how many ended. Idempotent and
   * safe anywhere: the daemon runs it periodically, reports run it before they count.
   */
  async sweep(now = new Date()): Promise<number> {
    let total = 0;
    for (;;) {
      const ended = await this.q.transaction(async (tx) => {
        // With the lock of their thread (PostgreSQL: a thread's conversation changes are serial;
        // a thread another transaction is writing is left for the next sweep).
        const lock = tx.dialect === 'postgres' ? 'FOR UPDATE OF t SKIP LOCKED' : '';
        const idle = 'COALESCE(cl.conversation_idle_seconds, ?)';
        const rows = await tx.all(
          `SELECT ${CONVERSATION_COLUMNS}, t.wa_id, ${idle} AS idle, cl.csat_enabled, cl.csat_scale FROM conversations c
           JOIN threads t ON t.id = c.thread_id JOIN clients cl ON cl.id = c.client_id
           WHERE c.ended_at IS NULL AND ${plusSeconds(tx.dialect, 'c.last_message_at', idle)} <= ?
           LIMIT 500 ${lock}`,
          [this.defaults.idleMs / 1000, this.defaults.idleMs / 1000, now],
        );
        const done: ConversationState[] = [];
        const surveys: SurveyToQueue[] = [];
        for (const r of rows) {
          const c = toConversation(r, String(r.wa_id));
          endIdle(c, Number(r.idle) * 1000);
          // Not if a message moved it on since this statement's snapshot (a writer that committed
          // between the snapshot and the lock): the update sees the latest row.
          const ended = await tx.run(
            `UPDATE conversations SET ended_at = ?, end_reason = 'idle'
             WHERE id = ? AND ended_at IS NULL AND last_message_at = ?`,
            [c.endedAt, c.id, c.lastMessageAt],
          );
          if (ended === 0) continue;
          done.push(c);
          if (r.csat_enabled) surveys.push(surveyOf(c, r.csat_scale));
        }
        await queueSurveys(tx, surveys, now);
        await this.outbox.emit(
          tx,
          done.map((c) => conversationEnded({ ...c, id: c.id as number })),
          now,
        );
        return done.length;
      });
      total += ended;
      if (ended < 500) return total;
    }
  }

  /** The thread of a client and user, or null. */
  async threadOf(clientId: number, waId: string): Promise<number | null> {
    const [row] = await this.q.all<{ id: unknown }>('SELECT id FROM threads WHERE client_id = ? AND wa_id = ?', [
      clientId,
      waId,
    ]);
    return row ? Number(row.id) : null;
  }

  /** Closes a thread's open conversation now (end reason closed); null when none was open. */
  async close(threadId: number, now = new Date()): Promise<ConversationState | null> {
    return this.q.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.all('SELECT id FROM threads WHERE id = ? FOR UPDATE', [threadId]);
      const [row] = await tx.all(
        `SELECT ${CONVERSATION_COLUMNS}, t.wa_id, cl.csat_enabled, cl.csat_scale FROM conversations c
         JOIN threads t ON t.id = c.thread_id JOIN clients cl ON cl.id = c.client_id
         WHERE c.thread_id = ? AND c.ended_at IS NULL ORDER BY c.started_at DESC LIMIT 1`,
        [threadId],
      );
      if (!row) return null;
      const c = toConversation(row, String(row.wa_id));
      // Never before its own last message (a clock behind the messages' times).
      c.endedAt = new Date(Math.max(now.getTime(), c.lastMessageAt.getTime()));
      c.endReason = 'closed';
      await tx.run(`UPDATE conversations SET ended_at = ?, end_reason = 'closed' WHERE id = ?`, [c.endedAt, c.id]);
      if (row.csat_enabled) await queueSurveys(tx, [surveyOf(c, row.csat_scale)], now);
      await this.outbox.emit(tx, [conversationEnded({ ...c, id: c.id as number })], now);
      return c;
    });
  }

  /**
   * Derives the conversations of messages stored before conversations existed (the migration that
   * added them leaves a marker), with the same rules as live tracking; no events (they are history).
   * Runs once, in one transaction, by whichever process opens the database first.
   */
  async backfill(now = new Date()): Promise<number | null> {
    const [marker] = await this.q.all<{ value: string }>(
      `SELECT value FROM settings WHERE key = 'conversations_backfill'`,
    );
    if (marker?.value !== 'pending') return null;
    return this.q.transaction(async (tx) => {
      const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
      const [again] = await tx.all<{ value: string }>(
        `SELECT value FROM settings WHERE key = 'conversations_backfill'${lock}`,
      );
      if (again?.value !== 'pending') return null;
      const threads = await tx.all(
        `SELECT t.id, t.client_id, t.wa_id, cl.conversation_idle_seconds, cl.assistant_enabled FROM threads t
         JOIN clients cl ON cl.id = t.client_id
         WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.thread_id = t.id) ORDER BY t.id`,
      );
      const created = await this.derive(tx, threads, now);
      await tx.run(`UPDATE settings SET value = 'done', updated_at = ? WHERE key = 'conversations_backfill'`, [now]);
      return created;
    });
  }

  /**
   * Derives again the conversations of these threads from their messages (after an archive was
   * restored into them), in one transaction; no events. Returns how many there are now.
   */
  async rebuild(threadIds: number[], now = new Date()): Promise<number> {
    if (threadIds.length === 0) return 0;
    return this.q.transaction(async (tx) => {
      let total = 0;
      for (let i = 0; i < threadIds.length; i += 200) {
        const ids = threadIds.slice(i, i + 200);
        const list = ids.map(() => '?').join(', ');
        if (tx.dialect === 'postgres') await tx.all(`SELECT id FROM threads WHERE id IN (${list}) FOR UPDATE`, ids);
        await tx.run(`DELETE FROM conversations WHERE thread_id IN (${list})`, ids);
        const threads = await tx.all(
          `SELECT t.id, t.client_id, t.wa_id, cl.conversation_idle_seconds, cl.assistant_enabled FROM threads t
           JOIN clients cl ON cl.id = t.client_id WHERE t.id IN (${list}) ORDER BY t.id`,
          ids,
        );
        total += await this.derive(tx, threads, now);
      }
      return total;
    });
  }

  /** Folds the messages of these threads into conversations (none may exist yet) and writes them. */
  private async derive(tx: Querier, threads: Row[], now: Date): Promise<number> {
    let created = 0;
    for (let i = 0; i < threads.length; i += 200) {
      const page = threads.slice(i, i + 200);
      const messages = await tx.all(
        `SELECT id, thread_id, role, created_at, sentiment FROM messages
         WHERE thread_id IN (${page.map(() => '?').join(', ')}) AND NOT (role = 'assistant' AND wamid IS NULL)
           AND csat_survey_id IS NULL
         ORDER BY thread_id, created_at, id`,
        page.map((t) => t.id),
      );
      const byThread = new Map<number, PlacedMessage[]>();
      for (const m of messages) {
        const list = byThread.get(Number(m.thread_id)) ?? [];
        list.push({
          id: Number(m.id),
          role: m.role as Role,
          createdAt: toDate(m.created_at),
          sentiment: numberOrNull(m.sentiment),
        });
        byThread.set(Number(m.thread_id), list);
      }
      const changed: ConversationState[] = [];
      for (const t of page) {
        const list = byThread.get(Number(t.id));
        if (!list) continue;
        // No alerts for the past: derived conversations keep negative_at empty.
        const policy = {
          idleMs: idleOf(t.conversation_idle_seconds, this.defaults),
          assistantEnabled: Boolean(t.assistant_enabled),
          negativeAlert: null,
        };
        const thread = { threadId: Number(t.id), clientId: Number(t.client_id), waId: String(t.wa_id) };
        const folded = foldMessages([], list, thread, policy);
        const last = folded.changed.at(-1);
        if (last && last.endedAt === null && last.lastMessageAt.getTime() + policy.idleMs <= now.getTime()) {
          endIdle(last, policy.idleMs);
        }
        changed.push(...folded.changed);
      }
      await save(tx, changed);
      created += changed.length;
    }
    return created;
  }
}
