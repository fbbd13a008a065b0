// The ingest writer: a group commit's messages, statuses, raw events and contact names in one
// transaction, idempotently (a wamid is stored once; a redelivery changes nothing; an erased
// message's redelivery is not stored again). This is the hot path of `wa-report ingest`.
//
// SQLite runs plain statements (its round trips cost nothing). PostgreSQL runs one prepared
// statement for the batch's messages and one for its statuses: 3 round trips per commit instead of
// 7, plus 2 per status before. Each passes one array per column, so its text never changes with the
// batch size and is prepared once per connection (named statements).
import { messageFailed, type NewEvent } from '../../domain/events.js';
import { rawEventHash, wamidTombstone } from '../../domain/hashing.js';
import {
  formatStatusError,
  ROLES,
  statusRank,
  type NewMessage,
  type RawEventInput,
  type Role,
  type StatusUpdate,
} from '../../domain/types.js';
import { messageSentiment } from '../../domain/sentiment/index.js';
import { UsageError } from '../../errors.js';
import { bind, ingestLock, userLocks } from '../dialect.js';
import { MARKER_SUBQUERY, type EncryptionMarker } from '../encryption-marker.js';
import { int32OrNull, MESSAGE_INSERT_FIELDS, toDate } from '../rows.js';
import type { Querier, Row } from '../sql.js';
import {
  LATEST_CONVERSATION_JSON,
  trackConversations,
  type ConversationDefaults,
  type TrackedMessage,
} from './conversations.js';
import { recogniseAnswers } from './csat.js';
import type { PendingRepliesRepository } from './pending-replies.js';
import { ENDPOINTS_JSON_SUBQUERY, endpointsFromJson, type Outbox } from './outbox.js';
import type { EndpointFilter } from '../../domain/webhooks.js';
import { applyEarlierStatuses, applyStatus, rankSql, statusEventsOf } from './statuses.js';
import { threadUpsert } from './threads.js';
import { tombstoned } from './tombstones.js';
import { batchMessageRollups } from './rollups.js';

export interface WriteBatch {
  messages?: NewMessage[];
  statuses?: StatusUpdate[];
  rawEvents?: RawEventInput[];
  /** Profile names seen without a message of theirs: they rename existing conversations. */
  contactNames?: { clientId: number; waId: string; name: string }[];
}

export interface RecordResult {
  /** Messages stored by this call (new ones); duplicates are left out. csat: an answer to a survey. */
  inserted: { id: number; wamid: string | null; threadId: number; csat?: boolean }[];
  duplicates: number;
}

/** A message just inserted, as the statement returns it (content comes from the batch). */
interface InsertedRow {
  id: number;
  wamid: string | null;
  threadId: number;
  clientId: number;
  waId: string;
  role: Role;
  type: string;
  createdAt: Date;
}

function insertedRow(r: Row): InsertedRow {
  return {
    id: Number(r.id),
    wamid: (r.wamid as string | null) ?? null,
    threadId: Number(r.thread_id),
    clientId: Number(r.client_id),
    waId: String(r.wa_id),
    role: r.role as Role,
    type: String(r.type),
    createdAt: toDate(r.created_at),
  };
}

export interface BatchResult extends RecordResult {
  /** Messages whose status moved forward (PostgreSQL) or status steps applied (SQLite). */
  statusesApplied: number;
}

export class IngestWriter {
  constructor(
    private readonly q: Querier,
    private readonly marker: EncryptionMarker,
    private readonly outbox: Outbox,
    private readonly conversations: ConversationDefaults,
    private readonly pendingReplies: PendingRepliesRepository,
    /** Whether user messages are scored as they are stored (WA_REPORT_SENTIMENT). */
    private readonly options: { sentiment: boolean } = { sentiment: true },
  ) {}

  /** Messages, statuses and raw events of one batch in one transaction. */
  async write(batch: WriteBatch): Promise<BatchResult> {
    this.marker.assertKeyForWrites();
    const messages = this.options.sentiment ? (batch.messages ?? []).map(withSentiment) : (batch.messages ?? []);
    // PostgreSQL: an erase takes the ingest lock exclusively, so a batch never interleaves with it
    // (tombstones it writes are seen; nothing it deletes is re-created half-way); the locks of the
    // batch's users keep their writes serial across daemons. Taken with BEGIN, in the same round
    // trip, and before any statement reads (each reads with a snapshot taken when it starts).
    // SQLite: the batch's new messages are counted into the rollups at once.
    const done = await this.q.transaction(
      (tx) =>
        messages.length
          ? batchMessageRollups(tx, () => this.writeIn(tx, batch, messages))
          : this.writeIn(tx, batch, messages),
      [
        ingestLock(this.q.dialect, 'shared'),
        userLocks(this.q.dialect, [
          ...messages.map((m) => m.waId),
          ...(batch.statuses ?? []).flatMap((s) => (s.recipientId ? [s.recipientId] : [])),
        ]),
      ]
        .filter((sql) => sql !== null)
        .join('; ') || null,
    );
    this.marker.committed();
    return done;
  }

  /** The batch inside its transaction (messages: the batch's, with their sentiment). */
  private async writeIn(tx: Querier, batch: WriteBatch, messages: NewMessage[]): Promise<BatchResult> {
    const statuses = batch.statuses ?? [];
    const pg = this.q.dialect === 'postgres';
    // PostgreSQL: each of the two statements reads the encryption marker back itself.
    const markerRead = pg && (messages.length > 0 || statuses.length > 0);
    if (!markerRead || tx.keys.current) await this.marker.noteIn(tx);
    const rows =
      pg && messages.length
        ? await insertMessagesPostgres(tx, messages, this.marker)
        : await insertMessages(tx, messages);
    const byWamid = new Map(messages.map((m) => [m.wamid, m]));
    // Answers to satisfaction surveys (and their comments) are marked: no conversation counts
    // them and the assistant never answers them.
    const users = rows.inserted.filter((m) => m.role === 'user');
    const csat =
      users.length && messages.some((m) => m.role === 'user' && m.csatSurveys !== false)
        ? await recogniseAnswers(
            tx,
            users.map((m) => {
              const stored = m.wamid !== null ? byWamid.get(m.wamid) : undefined;
              return { ...m, content: stored?.content ?? '', raw: stored?.raw ?? null };
            }),
            new Date(),
          )
        : { marked: new Set<number>(), events: [] };
    const result: RecordResult = {
      inserted: rows.inserted.map((m) => ({
        id: m.id,
        wamid: m.wamid,
        threadId: m.threadId,
        ...(csat.marked.has(m.id) ? { csat: true } : {}),
      })),
      duplicates: rows.duplicates,
    };
    // Conversations move with their messages, and every event is written with the change.
    const tracked: TrackedMessage[] = rows.inserted
      .filter((m) => !csat.marked.has(m.id))
      .map((m) => {
        const stored = m.wamid !== null ? byWamid.get(m.wamid) : undefined;
        return { ...m, content: stored?.content ?? '', sentiment: stored?.sentiment ?? null };
      });
    // What the assistant has to answer is noted with the messages, for whichever daemon claims it
    // (PostgreSQL: by the conversations' statement, one round trip less).
    const asked = tracked.filter((m) => m.role === 'user');
    const rider = pg ? this.pendingReplies.rider(asked, new Date()) : null;
    const { events } = await trackConversations(tx, tracked, this.conversations, rows.latest, rider ?? undefined);
    if (!pg) await this.pendingReplies.noteIn(tx, asked, new Date());
    const statusesApplied =
      pg && statuses.length
        ? await insertStatusesPostgres(tx, statuses, this.marker)
        : await insertStatuses(tx, statuses);
    await this.outbox.emit(
      tx,
      async () => [...events(), ...csat.events, ...(await failuresOf(tx, statuses))],
      new Date(),
      rows.endpoints,
    );
    await insertRawEvents(tx, batch.rawEvents ?? []);
    for (const c of batch.contactNames ?? []) {
      await tx.run(
        `UPDATE threads SET contact_name = ?
             WHERE client_id = ? AND wa_id = ? AND (contact_name IS NULL OR contact_name <> ?)`,
        [c.name, c.clientId, c.waId, c.name],
      );
    }
    return { ...result, statusesApplied };
  }
}

/** A user message with its sentiment, computed here (before its content is sealed) unless given. */
function withSentiment(m: NewMessage): NewMessage {
  if (m.role !== 'user' || m.sentiment !== undefined) return m;
  return { ...m, sentiment: messageSentiment(m, m.sentimentLanguage) };
}

function checkRoles(messages: NewMessage[]): void {
  for (const m of messages) {
    if (!ROLES.includes(m.role)) throw new UsageError(`role: "${m.role}" is not one of ${ROLES.join(', ')}`);
  }
}

interface Inserted {
  inserted: InsertedRow[];
  duplicates: number;
  /** PostgreSQL: the enabled webhook endpoints, read by the same statement (one round trip less). */
  endpoints?: EndpointFilter[];
  /** PostgreSQL: each thread's latest conversation and its client's policy, read by the same statement. */
  latest?: Map<number, Row>;
}

/** Stores messages once per wamid; creates and updates their threads (SQLite). */
async function insertMessages(tx: Querier, all: NewMessage[]): Promise<Inserted> {
  if (all.length === 0) return { inserted: [], duplicates: 0 };
  checkRoles(all);
  // A redelivered webhook of an erased message is not stored again (nor its conversation re-created).
  const erased = await tombstoned(
    tx,
    all.flatMap((m) => (m.wamid ? [wamidTombstone(m.wamid)] : [])),
  );
  const messages = erased.size ? all.filter((m) => !m.wamid || !erased.has(wamidTombstone(m.wamid))) : all;
  if (messages.length === 0) return { inserted: [], duplicates: all.length };
  const threadIds = await upsertThreadsOf(tx, messages);

  // Messages, skipping wamids already stored.
  const inserted: InsertedRow[] = [];
  const now = new Date();
  const tuple = `(${MESSAGE_INSERT_FIELDS.map(() => '?').join(', ')})`;
  for (let i = 0; i < messages.length; i += 400) {
    const chunk = messages.slice(i, i + 400);
    const params: unknown[] = [];
    for (const m of chunk) {
      params.push(
        threadIds.get(`${m.clientId}\u0000${m.waId}`),
        m.clientId,
        m.role,
        m.type,
        tx.keys.seal(m.content),
        m.wamid,
        m.waId,
        m.phoneNumberId,
        m.createdAt,
        m.status ?? null,
        m.status ? m.createdAt : null,
        int32OrNull(m.errorCode),
        m.errorMessage ?? null,
        m.replyToWamid ?? null,
        tx.keys.seal(m.raw ?? null),
        now,
        null, // answers_wamid: only the assistant's answers have one
        m.sentiment ?? null,
      );
    }
    const rows = await tx.all(
      `INSERT INTO messages (${MESSAGE_INSERT_FIELDS.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}
       ON CONFLICT (wamid) DO NOTHING RETURNING ${INSERTED_COLUMNS}`,
      params,
    );
    for (const r of rows) inserted.push(insertedRow(r));
  }
  inserted.sort((a, b) => a.id - b.id);

  // Statuses that arrived before their message.
  const newWamids = inserted.map((r) => r.wamid).filter((w): w is string => w !== null);
  await applyEarlierStatuses(tx, await statusEventsOf(tx, newWamids));
  return { inserted, duplicates: all.length - inserted.length };
}

/**
 * One thread per (client, user): created at its first message, last activity moved forward only.
 * One statement for a batch's conversations, in a fixed order (by conversation key): two
 * transactions upserting the same conversations lock them in the same order and cannot deadlock.
 */
async function upsertThreadsOf(tx: Querier, messages: NewMessage[]): Promise<Map<string, number>> {
  const groups = new Map<string, NewMessage[]>();
  for (const m of messages) {
    const key = `${m.clientId}\u0000${m.waId}`;
    const group = groups.get(key);
    if (group) group.push(m);
    else groups.set(key, [m]);
  }
  const entries = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  const threadIds = new Map<string, number>();
  for (let i = 0; i < entries.length; i += 200) {
    const chunk = entries.slice(i, i + 200);
    const params: unknown[] = [];
    for (const group of chunk) {
      const first = group[0] as NewMessage;
      const times = group.map((m) => m.createdAt.getTime());
      const contactName =
        group
          .map((m) => m.contactName)
          .filter(Boolean)
          .at(-1) ?? null;
      params.push(first.clientId, first.waId, contactName, new Date(Math.min(...times)), new Date(Math.max(...times)));
    }
    const rows = await tx.all<{ id: unknown; client_id: unknown; wa_id: string }>(
      `INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}
       ${threadUpsert(tx.dialect)}
       RETURNING id, client_id, wa_id`,
      params,
    );
    for (const r of rows) threadIds.set(`${Number(r.client_id)}\u0000${r.wa_id}`, Number(r.id));
  }
  return threadIds;
}

const INSERTED_COLUMNS = 'id, wamid, thread_id, client_id, wa_id, role, type, created_at';

/** message.failed for each failed status of a message we have (a redelivered one is the same event). */
async function failuresOf(tx: Querier, statuses: StatusUpdate[]): Promise<NewEvent[]> {
  const failed = statuses.filter((s) => s.status === 'failed');
  if (failed.length === 0) return [];
  const rows = await tx.all(
    `SELECT ${INSERTED_COLUMNS} FROM messages WHERE wamid IN (${failed.map(() => '?').join(', ')})`,
    failed.map((s) => s.wamid),
  );
  const byWamid = new Map(rows.map((r) => [String(r.wamid), insertedRow(r)]));
  const events: NewEvent[] = [];
  for (const s of failed) {
    const m = byWamid.get(s.wamid);
    if (!m) continue;
    // The conversation the message belongs to: the latest that started by its time.
    const [c] = await tx.all<{ id: unknown }>(
      'SELECT id FROM conversations WHERE thread_id = ? AND started_at <= ? ORDER BY started_at DESC LIMIT 1',
      [m.threadId, m.createdAt],
    );
    events.push(
      messageFailed(
        { ...m, conversationId: c ? Number(c.id) : null },
        {
          service: 'whatsapp',
          code: s.errorCode ?? null,
          title: s.errorTitle ?? null,
          details: s.errorDetails ?? null,
          at: s.occurredAt,
        },
      ),
    );
  }
  return events;
}

/** Keeps every status event once and moves each message forward (SQLite). */
async function insertStatuses(tx: Querier, all: StatusUpdate[]): Promise<number> {
  if (all.length === 0) return 0;
  const erased = await tombstoned(
    tx,
    all.map((s) => wamidTombstone(s.wamid)),
  );
  const statuses = erased.size ? all.filter((s) => !erased.has(wamidTombstone(s.wamid))) : all;
  let applied = 0;
  for (const s of statuses) {
    await tx.run(
      `INSERT INTO message_status_events
         (wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid, status, occurred_at) DO NOTHING`,
      [
        s.wamid,
        s.status,
        s.occurredAt,
        s.recipientId ?? null,
        int32OrNull(s.errorCode),
        s.errorTitle ?? null,
        s.errorDetails ?? null,
        tx.keys.seal(s.raw ?? null),
        new Date(),
      ],
    );
    applied += await applyStatus(tx, s);
  }
  return applied;
}

/** Webhook content the parser did not understand, kept raw once (by content hash). */
async function insertRawEvents(tx: Querier, all: RawEventInput[]): Promise<void> {
  if (all.length === 0) return;
  const hashOf = new Map(all.map((e) => [e, rawEventHash(e)]));
  const erased = await tombstoned(tx, [...hashOf.values()]);
  const events = erased.size ? all.filter((e) => !erased.has(hashOf.get(e) as string)) : all;
  const now = new Date();
  // Many rows per statement: a hostile payload with thousands of parts must not cost thousands
  // of round trips (SQLite's driver blocks the event loop meanwhile).
  for (let i = 0; i < events.length; i += 200) {
    const chunk = events.slice(i, i + 200);
    const params: unknown[] = [];
    for (const e of chunk) {
      const hash = hashOf.get(e) as string;
      params.push(e.kind, hash, e.phoneNumberId ?? null, e.waId ?? null, tx.keys.seal(e.payload), now);
    }
    await tx.run(
      `INSERT INTO raw_events (kind, content_hash, phone_number_id, wa_id, payload, received_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT (content_hash) DO NOTHING`,
      params,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * A batch of messages ($1–$15 and $17: one array per column, $16 the insertion time). Messages whose wamid
 * was erased (tombstones) are left out, so a redelivery neither stores them nor re-creates their
 * conversation. Conversations are upserted in a fixed order (client, user), so two writers lock
 * them in the same order and cannot deadlock; a message is inserted once per wamid. It returns the
 * inserted messages (kind 'm'), status events that arrived before their message ('e'), and the
 * encryption marker ('k', in wamid).
 */
const INGEST_MESSAGES_SQL = `WITH v AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::timestamptz[], $10::text[], $11::int[], $12::text[], $13::text[], $14::text[], $15::text[],
                       $17::float8[])
    WITH ORDINALITY AS v(client_id, wa_id, contact_name, role, type, content, wamid, phone_number_id,
                         created_at, status, error_code, error_message, reply_to_wamid, raw, tombstone, sentiment, ord)
), live AS (
  SELECT * FROM v WHERE v.tombstone IS NULL OR NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.hash = v.tombstone)
), th AS (
  INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at)
  SELECT client_id, wa_id, (array_agg(contact_name ORDER BY ord DESC) FILTER (WHERE contact_name IS NOT NULL))[1],
         min(created_at), max(created_at)
  FROM live GROUP BY client_id, wa_id ORDER BY client_id, wa_id
  ${threadUpsert('postgres')}
  RETURNING id, client_id, wa_id
), ins AS (
  INSERT INTO messages (${MESSAGE_INSERT_FIELDS.join(', ')})
  SELECT th.id, live.client_id, live.role, live.type, live.content, live.wamid, live.wa_id, live.phone_number_id,
         live.created_at, live.status, CASE WHEN NULLIF(live.status, '') IS NULL THEN NULL ELSE live.created_at END,
         live.error_code, live.error_message, live.reply_to_wamid, live.raw, $16, NULL, live.sentiment
  FROM live JOIN th ON th.client_id = live.client_id AND th.wa_id = live.wa_id
  ORDER BY live.ord
  ON CONFLICT (wamid) DO NOTHING
  RETURNING id, wamid, thread_id, client_id, wa_id, role, type, created_at
)
SELECT 'm' AS kind, id, wamid, thread_id, NULL::text AS status, NULL::timestamptz AS occurred_at,
       NULL::int AS error_code, NULL::text AS error_title, NULL::text AS error_details,
       client_id, wa_id, role, type, created_at, NULL::text AS endpoints FROM ins
UNION ALL
SELECT 'e', e.id, e.wamid, NULL, e.status, e.occurred_at, e.error_code, e.error_title, e.error_details,
       NULL, NULL, NULL, NULL, NULL, NULL
FROM message_status_events e WHERE e.wamid IN (SELECT wamid FROM ins)
UNION ALL
SELECT 'c', th.id, NULL, th.id, NULL, NULL, NULL, NULL, NULL, th.client_id, th.wa_id, NULL, NULL, NULL,
       (${LATEST_CONVERSATION_JSON('th.id', 'th.client_id')})
FROM th
UNION ALL
SELECT 'k', NULL, ${MARKER_SUBQUERY}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       (${ENDPOINTS_JSON_SUBQUERY})`;

/**
 * A batch of statuses ($1–$12: one array per column, $13 the reception time). Every event is kept
 * once (wamid, status, time); statuses of erased messages are left out. Each message moves forward
 * only, to the highest-ranked status of the batch (the first of equals), as applying them one by
 * one would. Returns how many messages moved, and the encryption marker.
 */
const INGEST_STATUSES_SQL = `WITH v AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::int[], $11::int[], $12::text[])
    WITH ORDINALITY AS v(wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw,
                         tombstone, rank, message_error_code, message_error, ord)
), live AS (
  SELECT * FROM v WHERE NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.hash = v.tombstone)
), events AS (
  INSERT INTO message_status_events
    (wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw, received_at)
  SELECT wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw, $13
  FROM live ORDER BY ord
  ON CONFLICT (wamid, status, occurred_at) DO NOTHING
), best AS (
  SELECT DISTINCT ON (wamid) * FROM live WHERE rank > 0 ORDER BY wamid, rank DESC, ord
), moved AS (
  UPDATE messages m SET status = best.status, status_at = best.occurred_at, error_code = best.message_error_code,
                        error_message = best.message_error
  FROM best WHERE m.wamid = best.wamid AND ${rankSql('m.status')} < best.rank
  RETURNING m.id
)
SELECT (SELECT count(*) FROM moved) AS applied, ${MARKER_SUBQUERY} AS marker`;

/** Rows turned into one bound array per column (unnest parameters). */
function columnsOf<T>(items: T[], row: (item: T) => unknown[]): unknown[][] {
  const columns: unknown[][] = [];
  for (const item of items) {
    row(item).forEach((value, i) => (columns[i] ??= []).push(bind('postgres', value)));
  }
  return columns;
}

export async function insertMessagesPostgres(
  tx: Querier,
  all: NewMessage[],
  marker: EncryptionMarker,
): Promise<Inserted> {
  checkRoles(all);
  const columns = columnsOf(all, (m) => [
    m.clientId,
    m.waId,
    m.contactName || null,
    m.role,
    m.type,
    tx.keys.seal(m.content),
    m.wamid,
    m.phoneNumberId,
    m.createdAt,
    m.status ?? null,
    int32OrNull(m.errorCode),
    m.errorMessage ?? null,
    m.replyToWamid ?? null,
    tx.keys.seal(m.raw ?? null),
    m.wamid ? wamidTombstone(m.wamid) : null,
    m.sentiment ?? null,
  ]);
  const sentiments = columns.pop();
  const rows = await tx.all<Row>(
    INGEST_MESSAGES_SQL,
    [...columns, new Date(), sentiments],
    'wa_report_ingest_messages_v7',
  );
  const inserted: InsertedRow[] = [];
  const earlier: Row[] = [];
  let sealedWith: string | null = null;
  let endpoints: EndpointFilter[] = [];
  const latest = new Map<number, Row>();
  for (const r of rows) {
    if (r.kind === 'm') inserted.push(insertedRow(r));
    else if (r.kind === 'e') earlier.push(r);
    else if (r.kind === 'c') latest.set(Number(r.id), JSON.parse(String(r.endpoints)) as Row);
    else {
      sealedWith = r.wamid as string | null;
      endpoints = endpointsFromJson(r.endpoints);
    }
  }
  if (!tx.keys.current) marker.saw(sealedWith);
  // In the order they arrived, as if each had been applied then.
  await applyEarlierStatuses(
    tx,
    earlier.sort((a, b) => Number(a.id) - Number(b.id)),
  );
  inserted.sort((a, b) => a.id - b.id);
  return { inserted, duplicates: all.length - inserted.length, endpoints, latest };
}

/** The batch's statuses (see INGEST_STATUSES_SQL); returns the number of messages whose status moved. */
export async function insertStatusesPostgres(
  tx: Querier,
  statuses: StatusUpdate[],
  marker: EncryptionMarker,
): Promise<number> {
  const columns = columnsOf(statuses, (s) => {
    const failed = s.status === 'failed';
    return [
      s.wamid,
      s.status,
      s.occurredAt,
      s.recipientId ?? null,
      int32OrNull(s.errorCode),
      s.errorTitle ?? null,
      s.errorDetails ?? null,
      tx.keys.seal(s.raw ?? null),
      wamidTombstone(s.wamid),
      statusRank(s.status),
      failed ? int32OrNull(s.errorCode) : null,
      failed ? formatStatusError(s) : null,
    ];
  });
  const [r] = await tx.all<{ applied: unknown; marker: string | null }>(
    INGEST_STATUSES_SQL,
    [...columns, new Date()],
    'wa_report_ingest_statuses_v2',
  );
  if (!tx.keys.current) marker.saw(r?.marker ?? null);
  return Number(r?.applied ?? 0);
}
