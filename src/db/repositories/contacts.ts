// A WhatsApp user's data across clients: what an erase would remove, the erase itself (one
// transaction, tombstones, an audit record without content, the contact.erased event, and the
// data of the contact's events dropped from the outbox) and what a contact export reads.
import { contactErased } from '../../domain/events.js';
import { waIdHash, wamidTombstone } from '../../domain/hashing.js';
import type { StatusUpdate } from '../../domain/types.js';
import { ingestLock } from '../dialect.js';
import { toDate, toDateOrNull, toStatusUpdate } from '../rows.js';
import type { Querier, Row } from '../sql.js';
import { UNFINISHED, type Outbox } from './outbox.js';
import { addTombstones } from './tombstones.js';

export interface ContactSummary {
  conversations: { clientId: number; clientName: string; threadId: number; messages: number }[];
  messages: number;
  statusEvents: number;
  rawEvents: number;
}

export interface ContactErasure {
  threads: number;
  messages: number;
  statusEvents: number;
  rawEvents: number;
  /** The audit record's id; null when there was nothing to erase (a repeated erase). */
  auditId: number | null;
}

export interface ErasureRecord {
  id: number;
  clientId: number | null;
  threads: number;
  messages: number;
  statusEvents: number;
  rawEvents: number;
  actor: string;
  erasedAt: Date;
}

export interface ContactThread {
  threadId: number;
  client: { id: number; name: string; phoneNumber: string };
  contactName: string | null;
  createdAt: Date;
  lastMessageAt: Date;
  contextResetAt: Date | null;
}

/** A status event as stored, its raw object decrypted. */
export interface StatusEventRecord extends StatusUpdate {
  id: number;
}

export interface RawEventRecord {
  id: number;
  kind: string;
  contentHash: string;
  phoneNumberId: string | null;
  waId: string | null;
  receivedAt: Date;
  /** As stored: sealed when the database is encrypted (open it with the store's keys). */
  storedPayload: string;
}

const STATUS_EVENT_COLUMNS =
  'id, wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw';

export class ContactsRepository {
  constructor(
    private readonly q: Querier,
    private readonly outbox: Outbox,
  ) {}

  /** What an erase would remove (shown before asking for confirmation). */
  async summary(waId: string, clientId?: number): Promise<ContactSummary> {
    const byClient = clientId !== undefined;
    const threads = await this.q.all<{ id: unknown; client_id: unknown; name: string; n: unknown }>(
      `SELECT t.id, t.client_id, c.name, (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id) AS n
       FROM threads t JOIN clients c ON c.id = t.client_id
       WHERE t.wa_id = ?${byClient ? ' AND t.client_id = ?' : ''} ORDER BY t.id`,
      byClient ? [waId, clientId] : [waId],
    );
    const conversations = threads.map((t) => ({
      clientId: Number(t.client_id),
      clientName: t.name,
      threadId: Number(t.id),
      messages: Number(t.n),
    }));
    const [events] = await this.q.all<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM message_status_events
       WHERE wamid IN (SELECT wamid FROM messages
                       WHERE wa_id = ?${byClient ? ' AND client_id = ?' : ''} AND wamid IS NOT NULL)
       ${byClient ? '' : ' OR recipient_id = ?'}`,
      byClient ? [waId, clientId] : [waId, waId],
    );
    return {
      conversations,
      messages: conversations.reduce((a, c) => a + c.messages, 0),
      statusEvents: Number(events?.n ?? 0),
      rawEvents: (await rawEventsOf(this.q, waId, clientId)).length,
    };
  }

  /**
   * Deletes a user's conversations, messages, status events and raw events (of one client, or all),
   * in one transaction. Erased wamids and raw events leave tombstones, so a redelivered webhook does
   * not bring them back; an audit record says when, whose (hash), how many rows, and who asked.
   * Erasing again finds nothing and changes nothing. On PostgreSQL the erase holds the ingest lock
   * exclusively, so no batch interleaves with it.
   */
  erase(waId: string, options: { clientId?: number; actor: string; now?: Date }): Promise<ContactErasure> {
    const now = options.now ?? new Date();
    const byClient = options.clientId !== undefined;
    const own = byClient ? ' AND client_id = ?' : '';
    const params = byClient ? [waId, options.clientId] : [waId];
    return this.q.transaction(
      async (tx) => {
        // Status events first (they hang off the messages by wamid), then messages and conversations;
        // every deleted wamid comes back from RETURNING, so none is left without its tombstone.
        const deletedEvents = await tx.all<{ wamid: string }>(
          `DELETE FROM message_status_events
         WHERE wamid IN (SELECT wamid FROM messages WHERE wa_id = ?${own} AND wamid IS NOT NULL)` +
            (byClient ? '' : ' OR recipient_id = ?') +
            ' RETURNING wamid',
          byClient ? params : [waId, waId],
        );
        const deletedMessages = await tx.all<{ wamid: string | null }>(
          `DELETE FROM messages WHERE wa_id = ?${own} RETURNING wamid`,
          params,
        );
        const threadIds = (await tx.all<{ id: unknown }>(`SELECT id FROM threads WHERE wa_id = ?${own}`, params)).map(
          (t) => Number(t.id),
        );
        await forgetEvents(tx, threadIds);
        const threads = await tx.run(`DELETE FROM threads WHERE wa_id = ?${own}`, params);
        const raws = await rawEventsOf(tx, waId, options.clientId);
        let rawEvents = 0;
        for (let i = 0; i < raws.length; i += 500) {
          const ids = raws.slice(i, i + 500).map((r) => r.id);
          rawEvents += await tx.run(`DELETE FROM raw_events WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
        }
        const wamids = [
          ...deletedMessages.flatMap((m) => (m.wamid ? [m.wamid] : [])),
          ...deletedEvents.map((e) => e.wamid),
        ];
        await addTombstones(tx, [...wamids.map(wamidTombstone), ...raws.map((r) => r.contentHash)], now);
        const messages = deletedMessages.length;
        const statusEvents = deletedEvents.length;
        if (threads + messages + statusEvents + rawEvents === 0) {
          return { threads, messages, statusEvents, rawEvents, auditId: null };
        }
        const [audit] = await tx.all<{ id: unknown }>(
          `INSERT INTO erasures (wa_id_hash, client_id, threads, messages, status_events, raw_events, actor, erased_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
          [waIdHash(waId), options.clientId ?? null, threads, messages, statusEvents, rawEvents, options.actor, now],
        );
        await this.outbox.emit(
          tx,
          [
            contactErased({
              waIdHash: waIdHash(waId),
              clientId: options.clientId ?? null,
              counts: { threads, messages, statusEvents, rawEvents },
              at: now,
            }),
          ],
          now,
        );
        return { threads, messages, statusEvents, rawEvents, auditId: Number(audit?.id) };
      },
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }

  async erasures(waId: string): Promise<ErasureRecord[]> {
    const rows = await this.q.all(
      `SELECT id, client_id, threads, messages, status_events, raw_events, actor, erased_at FROM erasures
       WHERE wa_id_hash = ? ORDER BY erased_at, id`,
      [waIdHash(waId)],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      clientId: r.client_id === null ? null : Number(r.client_id),
      threads: Number(r.threads),
      messages: Number(r.messages),
      statusEvents: Number(r.status_events),
      rawEvents: Number(r.raw_events),
      actor: String(r.actor),
      erasedAt: toDate(r.erased_at),
    }));
  }

  /** The user's conversations with every client, with the client's name and number. */
  async threads(waId: string): Promise<ContactThread[]> {
    const rows = await this.q.all(
      `SELECT t.id, t.client_id, c.name AS client_name, c.phone_number, t.contact_name, t.created_at,
              t.last_message_at, t.context_reset_at
       FROM threads t JOIN clients c ON c.id = t.client_id WHERE t.wa_id = ? ORDER BY t.client_id, t.id`,
      [waId],
    );
    return rows.map((r) => ({
      threadId: Number(r.id),
      client: { id: Number(r.client_id), name: String(r.client_name), phoneNumber: String(r.phone_number) },
      contactName: (r.contact_name as string | null) ?? null,
      createdAt: toDate(r.created_at),
      lastMessageAt: toDate(r.last_message_at),
      contextResetAt: toDateOrNull(r.context_reset_at),
    }));
  }

  /** Status events of these messages, in the order they happened. */
  async statusEvents(wamids: string[]): Promise<StatusEventRecord[]> {
    if (wamids.length === 0) return [];
    const rows = await this.q.all(
      `SELECT ${STATUS_EVENT_COLUMNS} FROM message_status_events
       WHERE wamid IN (${wamids.map(() => '?').join(', ')}) ORDER BY occurred_at, id`,
      wamids,
    );
    return rows.map((r) => this.statusEvent(r));
  }

  /** Status events addressed to the user, in the order they happened. */
  async statusEventsTo(waId: string): Promise<StatusEventRecord[]> {
    const rows = await this.q.all(
      `SELECT ${STATUS_EVENT_COLUMNS} FROM message_status_events WHERE recipient_id = ? ORDER BY occurred_at, id`,
      [waId],
    );
    return rows.map((r) => this.statusEvent(r));
  }

  /** Raw events that concern the user (see rawEventsOf). */
  rawEvents(waId: string, clientId?: number): Promise<RawEventRecord[]> {
    return rawEventsOf(this.q, waId, clientId);
  }

  private statusEvent(r: Row): StatusEventRecord {
    const e = toStatusUpdate(r);
    return {
      id: Number(r.id),
      ...e,
      raw: this.q.keys.open(e.raw ?? null, () => `The raw object of status event ${r.id}`),
    };
  }
}

/**
 * Raw events that concern a user: stored with their wa_id, or (parse errors, unstorable bodies,
 * multi-contact changes stored under another number) naming it inside the payload. The payloads
 * are read (decrypted) a page at a time; raw events are rare, so the scan stays small.
 */
/**
 * The outbox forgets what it held of these threads: every event's data is dropped, and what was
 * still to be delivered is cancelled (its event cannot be sent without its data).
 */
async function forgetEvents(tx: Querier, threadIds: number[]): Promise<void> {
  for (let i = 0; i < threadIds.length; i += 500) {
    const ids = threadIds.slice(i, i + 500);
    const list = ids.map(() => '?').join(', ');
    await tx.run(
      `UPDATE webhook_deliveries SET state = 'cancelled', lease_owner = NULL, lease_until = NULL,
         last_error = 'cancelled: the contact was erased'
       WHERE state IN ${UNFINISHED} AND event_id IN (SELECT id FROM events WHERE thread_id IN (${list}))`,
      ids,
    );
    await tx.run(`UPDATE events SET payload = NULL WHERE thread_id IN (${list}) AND payload IS NOT NULL`, ids);
  }
}

async function rawEventsOf(q: Querier, waId: string, clientId?: number): Promise<RawEventRecord[]> {
  const found: RawEventRecord[] = [];
  const needle = `"${waId}"`;
  const byClient =
    clientId !== undefined ? ' AND phone_number_id = (SELECT phone_number_id FROM clients WHERE id = ?)' : '';
  let afterId = 0;
  for (;;) {
    const rows = await q.all(
      `SELECT id, kind, content_hash, phone_number_id, wa_id, received_at, payload FROM raw_events
       WHERE id > ?${byClient} ORDER BY id LIMIT 500`,
      clientId !== undefined ? [afterId, clientId] : [afterId],
    );
    for (const r of rows) {
      const mine = r.wa_id === waId || q.keys.open(r.payload as string, () => `Raw event ${r.id}`).includes(needle);
      if (!mine) continue;
      found.push({
        id: Number(r.id),
        kind: String(r.kind),
        contentHash: String(r.content_hash),
        phoneNumberId: (r.phone_number_id as string | null) ?? null,
        waId: (r.wa_id as string | null) ?? null,
        receivedAt: toDate(r.received_at),
        storedPayload: String(r.payload),
      });
    }
    if (rows.length < 500) break;
    afterId = Number(rows[rows.length - 1]?.id);
  }
  return found;
}
