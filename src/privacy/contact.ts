// A WhatsApp user's rights over their data (GDPR articles 15 and 17): everything stored about them
// as one JSON document (docs/contact-export.md), and erasure with an audit record and tombstones.
import { createHash } from 'node:crypto';
import { CONTACT_LOCK_KEY, wamidTombstone, type Store } from '../db/store.js';
import { formatWaId } from '../domain/phone.js';
import type { StoredMessage } from '../domain/types.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import { nested } from '../io/json-text.js';

/** The audit's handle on a number. Phone numbers are guessable: it proves whether a given number was erased, it does not hide which. */
export function waIdHash(waId: string): string {
  return createHash('sha256').update('wa-report:wa_id:').update(waId).digest('hex');
}

export interface ContactErasure {
  threads: number;
  messages: number;
  statusEvents: number;
  rawEvents: number;
  /** The audit record's id; null when there was nothing to erase (a repeated erase). */
  auditId: number | null;
}

export interface ContactSummary {
  conversations: { clientId: number; clientName: string; threadId: number; messages: number }[];
  messages: number;
  statusEvents: number;
  rawEvents: number;
}

/** What an erase would remove (shown before asking for confirmation). */
export async function contactSummary(store: Store, waId: string, clientId?: number): Promise<ContactSummary> {
  const byClient = clientId !== undefined;
  const threads = await store.select<{ id: unknown; client_id: unknown; name: string; n: unknown }>(
    `SELECT t.id, t.client_id, c.name, (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id) AS n
       FROM threads t JOIN clients c ON c.id = t.client_id WHERE t.wa_id = ?${byClient ? ' AND t.client_id = ?' : ''} ORDER BY t.id`,
    byClient ? [waId, clientId] : [waId],
  );
  const conversations = threads.map((t) => ({
    clientId: Number(t.client_id),
    clientName: t.name,
    threadId: Number(t.id),
    messages: Number(t.n),
  }));
  const [events] = await store.select<{ n: unknown }>(
    `SELECT COUNT(*) AS n FROM message_status_events WHERE wamid IN (SELECT wamid FROM messages WHERE wa_id = ?${byClient ? ' AND client_id = ?' : ''} AND wamid IS NOT NULL)${byClient ? '' : ' OR recipient_id = ?'}`,
    byClient ? [waId, clientId] : [waId, waId],
  );
  const raws = await rawEventsOf(store, { all: (sql, p) => store.select(sql, p) }, waId, clientId);
  return {
    conversations,
    messages: conversations.reduce((a, c) => a + c.messages, 0),
    statusEvents: Number(events?.n ?? 0),
    rawEvents: raws.length,
  };
}

/**
 * Raw events that concern a user: stored with their wa_id, or (parse errors, unstorable bodies,
 * multi-contact changes stored under another number) naming it inside the payload. The payloads
 * are read (decrypted) a page at a time; raw events are rare, so the scan stays small.
 */
export async function rawEventsOf(
  store: Store,
  q: { all<T>(sql: string, params?: unknown[]): Promise<T[]> },
  waId: string,
  clientId?: number,
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  const needle = `"${waId}"`;
  const byClient =
    clientId !== undefined ? ' AND phone_number_id = (SELECT phone_number_id FROM clients WHERE id = ?)' : '';
  let afterId = 0;
  for (;;) {
    const rows = await q.all<Record<string, unknown>>(
      `SELECT id, kind, content_hash, phone_number_id, wa_id, received_at, payload FROM raw_events WHERE id > ?${byClient} ORDER BY id LIMIT 500`,
      clientId !== undefined ? [afterId, clientId] : [afterId],
    );
    for (const r of rows) {
      if (r.wa_id === waId) {
        found.push(r);
        continue;
      }
      const payload = store.keys.open(r.payload as string, () => `Raw event ${r.id}`);
      if (payload.includes(needle)) found.push(r);
    }
    if (rows.length < 500) break;
    afterId = Number(rows[rows.length - 1]?.id);
  }
  return found;
}

/**
 * Deletes a user's conversations, messages, status events and raw events (of one client, or all),
 * in one transaction. Erased wamids and raw events leave tombstones, so a redelivered webhook does
 * not bring them back; an audit record says when, whose (hash), how many rows, and who asked.
 * Erasing again finds nothing and changes nothing. On PostgreSQL the erase holds the lock ingest
 * batches share, so no batch interleaves with it.
 */
export async function eraseContact(
  store: Store,
  waId: string,
  options: { clientId?: number; actor: string; now?: Date },
): Promise<ContactErasure> {
  const now = options.now ?? new Date();
  const byClient = options.clientId !== undefined;
  const own = byClient ? ' AND client_id = ?' : '';
  const params = byClient ? [waId, options.clientId] : [waId];
  const result = await store.transaction(async (tx) => {
    if (store.dialect === 'postgres') await tx.all('SELECT pg_advisory_xact_lock(?)', [CONTACT_LOCK_KEY]);
    // Status events first (they hang off the messages by wamid), then messages and conversations;
    // every deleted wamid comes back from RETURNING, so none is left without its tombstone.
    const statusWamids: string[] = [];
    const deletedEvents = await tx.all<{ wamid: string }>(
      `DELETE FROM message_status_events WHERE wamid IN (SELECT wamid FROM messages WHERE wa_id = ?${own} AND wamid IS NOT NULL)` +
        (byClient ? '' : ' OR recipient_id = ?') +
        ' RETURNING wamid',
      byClient ? params : [waId, waId],
    );
    for (const e of deletedEvents) statusWamids.push(e.wamid);
    const deletedMessages = await tx.all<{ wamid: string | null }>(
      `DELETE FROM messages WHERE wa_id = ?${own} RETURNING wamid`,
      params,
    );
    const threads = await tx.run(`DELETE FROM threads WHERE wa_id = ?${own}`, params);
    const raws = await rawEventsOf(store, tx, waId, options.clientId);
    let rawEvents = 0;
    for (let i = 0; i < raws.length; i += 500) {
      const ids = raws.slice(i, i + 500).map((r) => Number(r.id));
      rawEvents += await tx.run(`DELETE FROM raw_events WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
    }
    const wamids = [...deletedMessages.flatMap((m) => (m.wamid ? [m.wamid] : [])), ...statusWamids];
    const tombstones = [...new Set([...wamids.map(wamidTombstone), ...raws.map((r) => String(r.content_hash))])];
    for (let i = 0; i < tombstones.length; i += 400) {
      const chunk = tombstones.slice(i, i + 400);
      await tx.run(
        `INSERT INTO tombstones (hash, erased_at) VALUES ${chunk.map(() => '(?, ?)').join(', ')} ON CONFLICT (hash) DO NOTHING`,
        chunk.flatMap((h) => [h, now]),
      );
    }
    const messages = deletedMessages.length;
    const statusEvents = deletedEvents.length;
    if (threads + messages + statusEvents + rawEvents === 0)
      return { threads, messages, statusEvents, rawEvents, auditId: null };
    const [audit] = await tx.all<{ id: unknown }>(
      `INSERT INTO erasures (wa_id_hash, client_id, threads, messages, status_events, raw_events, actor, erased_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [waIdHash(waId), options.clientId ?? null, threads, messages, statusEvents, rawEvents, options.actor, now],
    );
    return { threads, messages, statusEvents, rawEvents, auditId: Number(audit?.id) };
  });
  // SQLite: old page images of the erased rows leave the write-ahead log too.
  if (result.auditId !== null) await store.checkpoint().catch(() => false);
  return result;
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

export async function erasuresOf(store: Store, waId: string): Promise<ErasureRecord[]> {
  const rows = await store.select<Record<string, unknown>>(
    `SELECT id, client_id, threads, messages, status_events, raw_events, actor, erased_at FROM erasures WHERE wa_id_hash = ? ORDER BY erased_at, id`,
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
    erasedAt: r.erased_at instanceof Date ? r.erased_at : new Date(Number(r.erased_at)),
  }));
}

const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : (v instanceof Date ? v : new Date(Number(v))).toISOString();

/** JSON text kept as JSON (parsed), anything else as a string. */
function embedded(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Streams everything stored about a user, across all clients, as one JSON document
 * (docs/contact-export.md); times in UTC. Returns the counts written.
 */
export async function exportContact(
  store: Store,
  waId: string,
  out: NodeJS.WritableStream,
  now = new Date(),
): Promise<{ conversations: number; messages: number; statusEvents: number; rawEvents: number }> {
  const writer = new ChunkWriter(out);
  const counts = { conversations: 0, messages: 0, statusEvents: 0, rawEvents: 0 };
  const statusJson = (e: Record<string, unknown>) => ({
    status: e.status,
    occurred_at: iso(e.occurred_at),
    recipient_id: e.recipient_id === null ? null : formatWaId(String(e.recipient_id)),
    error_code: e.error_code === null ? null : Number(e.error_code),
    error_title: e.error_title,
    error_details: e.error_details,
    raw: embedded(store.keys.open(e.raw as string | null, () => `The raw object of status event ${e.id}`)),
  });

  await writer.write(
    `{\n  "format": "wa-report-contact-export",\n  "version": 1,\n  "wa_id": ${JSON.stringify(formatWaId(waId))},\n  "generated_at": ${JSON.stringify(now.toISOString())},\n  "conversations": [`,
  );
  const threads = await store.select<Record<string, unknown>>(
    `SELECT t.id, t.client_id, c.name AS client_name, c.phone_number, t.contact_name, t.created_at, t.last_message_at, t.context_reset_at
       FROM threads t JOIN clients c ON c.id = t.client_id WHERE t.wa_id = ? ORDER BY t.client_id, t.id`,
    [waId],
  );
  const seenWamids = new Set<string>();
  for (const t of threads) {
    const head = {
      client: { id: Number(t.client_id), name: t.client_name, phone_number: t.phone_number },
      thread_id: Number(t.id),
      contact_name: t.contact_name ?? null,
      created_at: iso(t.created_at),
      last_message_at: iso(t.last_message_at),
      context_reset_at: iso(t.context_reset_at),
    };
    const opening = nested(head, 2).replace(/\n {4}}$/, ',\n      "messages": [');
    await writer.write(`${counts.conversations ? ',' : ''}\n    ${opening}`);
    counts.conversations += 1;
    let inThread = 0;
    let after: { createdAt: Date; id: number } | null = null;
    for (;;) {
      const batch: StoredMessage[] = await store.readMessages(Number(t.id), { after, limit: 500 });
      if (batch.length === 0) break;
      const wamids = batch.flatMap((m) => (m.wamid ? [m.wamid] : []));
      const events = wamids.length
        ? await store.select<Record<string, unknown>>(
            `SELECT id, wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw FROM message_status_events WHERE wamid IN (${wamids.map(() => '?').join(', ')}) ORDER BY occurred_at, id`,
            wamids,
          )
        : [];
      const history = new Map<string, Record<string, unknown>[]>();
      for (const e of events) history.get(String(e.wamid))?.push(e) ?? history.set(String(e.wamid), [e]);
      for (const m of batch) {
        if (m.wamid) seenWamids.add(m.wamid);
        const doc = {
          id: m.id,
          wamid: m.wamid,
          role: m.role,
          type: m.type,
          content: m.content,
          created_at: m.createdAt.toISOString(),
          status: m.status,
          status_at: m.statusAt?.toISOString() ?? null,
          error_code: m.errorCode,
          error_message: m.errorMessage,
          reply_to_wamid: m.replyToWamid,
          raw: embedded(m.raw),
          status_history: (m.wamid ? (history.get(m.wamid) ?? []) : []).map(statusJson),
        };
        counts.statusEvents += doc.status_history.length;
        await writer.write(`${inThread ? ',' : ''}\n        ${nested(doc, 4)}`);
        inThread += 1;
        counts.messages += 1;
      }
      if (batch.length < 500) break;
      const last = batch[batch.length - 1] as StoredMessage;
      after = { createdAt: last.createdAt, id: last.id };
    }
    await writer.write(`${inThread ? '\n      ' : ''}]\n    }`);
  }
  await writer.write(`${counts.conversations ? '\n  ' : ''}],\n  "other_status_events": [`);
  // Status events addressed to this user whose message is not stored here (e.g. sent by another system).
  const others = await store.select<Record<string, unknown>>(
    `SELECT id, wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw FROM message_status_events WHERE recipient_id = ? ORDER BY occurred_at, id`,
    [waId],
  );
  let n = 0;
  for (const e of others) {
    if (seenWamids.has(String(e.wamid))) continue;
    await writer.write(`${n ? ',' : ''}\n    ${nested({ wamid: e.wamid, ...statusJson(e) }, 2)}`);
    n += 1;
    counts.statusEvents += 1;
  }
  await writer.write(`${n ? '\n  ' : ''}],\n  "raw_events": [`);
  const raws = await rawEventsOf(store, { all: (sql, p) => store.select(sql, p) }, waId);
  for (const r of raws) {
    const payload = embedded(store.keys.open(r.payload as string, () => `Raw event ${r.id}`));
    await writer.write(
      `${counts.rawEvents ? ',' : ''}\n    ${nested({ id: Number(r.id), kind: r.kind, phone_number_id: r.phone_number_id, received_at: iso(r.received_at), payload }, 2)}`,
    );
    counts.rawEvents += 1;
  }
  const erasures = await erasuresOf(store, waId);
  const erasureDocs = erasures.map((e) => ({
    erased_at: e.erasedAt.toISOString(),
    client_id: e.clientId,
    threads: e.threads,
    messages: e.messages,
    status_events: e.statusEvents,
    raw_events: e.rawEvents,
  }));
  await writer.write(`${counts.rawEvents ? '\n  ' : ''}],\n  "erasures": ${nested(erasureDocs, 1)}\n}\n`);
  await writer.flush();
  return counts;
}
