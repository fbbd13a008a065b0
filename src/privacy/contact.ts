// A WhatsApp user's rights over their data (GDPR articles 15 and 17): everything stored about them
// as one JSON document (docs/contact-export.md), and erasure with an audit record and tombstones.
import type { ContactErasure, ContactSummary, ErasureRecord, StatusEventRecord } from '../db/repositories/contacts.js';
import type { Store } from '../db/store.js';
import { formatWaId } from '../domain/phone.js';
import type { StoredMessage } from '../domain/types.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import { nested } from '../io/json-text.js';

export type { ContactErasure, ContactSummary, ErasureRecord };

/** What an erase would remove (shown before asking for confirmation). */
export function contactSummary(store: Store, waId: string, clientId?: number): Promise<ContactSummary> {
  return store.contacts.summary(waId, clientId);
}

/**
 * Deletes a user's conversations, messages, status events and raw events (of one client, or all),
 * leaving tombstones and an audit record without content (see ContactsRepository.erase). On SQLite,
 * the old page images of the erased rows then leave the write-ahead log too.
 */
export async function eraseContact(
  store: Store,
  waId: string,
  options: { clientId?: number; actor: string; now?: Date },
): Promise<ContactErasure> {
  const result = await store.contacts.erase(waId, options);
  if (result.auditId !== null) await store.checkpoint().catch(() => false);
  return result;
}

export function erasuresOf(store: Store, waId: string): Promise<ErasureRecord[]> {
  return store.contacts.erasures(waId);
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

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
  const statusJson = (e: StatusEventRecord) => ({
    status: e.status,
    occurred_at: iso(e.occurredAt),
    recipient_id: e.recipientId === null || e.recipientId === undefined ? null : formatWaId(e.recipientId),
    error_code: e.errorCode ?? null,
    error_title: e.errorTitle ?? null,
    error_details: e.errorDetails ?? null,
    raw: embedded(e.raw ?? null),
  });

  await writer.write(
    `{\n  "format": "wa-report-contact-export",\n  "version": 1,\n  "wa_id": ${JSON.stringify(formatWaId(waId))},\n` +
      `  "generated_at": ${JSON.stringify(now.toISOString())},\n  "conversations": [`,
  );
  const seenWamids = new Set<string>();
  for (const t of await store.contacts.threads(waId)) {
    const head = {
      client: { id: t.client.id, name: t.client.name, phone_number: t.client.phoneNumber },
      thread_id: t.threadId,
      contact_name: t.contactName,
      created_at: iso(t.createdAt),
      last_message_at: iso(t.lastMessageAt),
      context_reset_at: iso(t.contextResetAt),
    };
    const opening = nested(head, 2).replace(/\n {4}}$/, ',\n      "messages": [');
    await writer.write(`${counts.conversations ? ',' : ''}\n    ${opening}`);
    counts.conversations += 1;
    let inThread = 0;
    let after: { createdAt: Date; id: number } | null = null;
    for (;;) {
      const batch: StoredMessage[] = await store.messages.page(t.threadId, { after, limit: 500 });
      if (batch.length === 0) break;
      const wamids = batch.flatMap((m) => (m.wamid ? [m.wamid] : []));
      const history = new Map<string, StatusEventRecord[]>();
      for (const e of await store.contacts.statusEvents(wamids)) {
        const list = history.get(e.wamid);
        if (list) list.push(e);
        else history.set(e.wamid, [e]);
      }
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
  let n = 0;
  for (const e of await store.contacts.statusEventsTo(waId)) {
    if (seenWamids.has(e.wamid)) continue;
    await writer.write(`${n ? ',' : ''}\n    ${nested({ wamid: e.wamid, ...statusJson(e) }, 2)}`);
    n += 1;
    counts.statusEvents += 1;
  }
  await writer.write(`${n ? '\n  ' : ''}],\n  "raw_events": [`);
  for (const r of await store.contacts.rawEvents(waId)) {
    const payload = embedded(store.keys.open(r.storedPayload, () => `Raw event ${r.id}`));
    const doc = { id: r.id, kind: r.kind, phone_number_id: r.phoneNumberId, received_at: iso(r.receivedAt), payload };
    await writer.write(`${counts.rawEvents ? ',' : ''}\n    ${nested(doc, 2)}`);
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
