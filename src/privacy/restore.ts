// Restoring an archive: every line verified first (and every key its sealed values name
// configured), then imported idempotently: what is already stored stays as it is, so restoring
// twice changes nothing, and data erased since the archive was written (tombstones, erasure
// records) is not brought back.
import type { ArchiveRestorer } from '../db/repositories/archives.js';
import { MESSAGE_INSERT_FIELDS, RAW_EVENT_FIELDS, STATUS_EVENT_FIELDS, TIME_FIELDS } from '../db/rows.js';
import type { Store } from '../db/store.js';
import { wamidTombstone } from '../domain/hashing.js';
import { SEALED_PREFIX, sealedKeyId } from '../domain/key-ring.js';
import { EncryptionError } from '../errors.js';
import { verifyArchive, type Row } from './archive-file.js';

export interface RestoreResult {
  threads: number;
  messagesInserted: number;
  messagesPresent: number;
  /** Messages of contacts erased after the archive was written: not brought back. */
  messagesErased: number;
  statusEventsInserted: number;
  rawEventsInserted: number;
  clientsCreated: number;
}

/**
 * Imports an archive back (after verifying all of it). Idempotent: what is already stored is left
 * alone, so restoring twice changes nothing. Data erased since the archive was written (tombstones,
 * erasure records) is not brought back.
 */
export async function restoreArchive(
  store: Store,
  path: string,
  options: { progress?: (message: string) => void } = {},
): Promise<RestoreResult> {
  store.assertKeyForWrites();
  // First pass: the whole file verifies, and every key its sealed values name is configured.
  const keyIds = new Set<string>();
  const verified = await verifyArchive(path, async (row) => {
    for (const c of ['content', 'raw', 'payload']) {
      const v = row[c];
      if (typeof v === 'string') {
        const id = sealedKeyId(v);
        if (id) keyIds.add(id);
      }
    }
  });
  if (keyIds.size > 0 && !store.keys.enabled) {
    throw new EncryptionError(
      `${path} holds encrypted content (key id ${[...keyIds].join(', ')}); restoring it needs ` +
        'WA_REPORT_ENCRYPTION_KEY set, so this database is marked encrypted and never mixes in plaintext. Nothing ' +
        'was imported.',
    );
  }
  const unknown = [...keyIds].filter((id) => !store.keys.knows(id));
  if (unknown.length) {
    throw new EncryptionError(
      `${path} holds content encrypted with key id ${unknown.join(', ')}, which is not configured; nothing was ` +
        'imported. Set WA_REPORT_ENCRYPTION_KEY (or WA_REPORT_ENCRYPTION_KEYS_OLD) to include it.',
    );
  }
  await store.markEncrypted();
  options.progress?.(`Verified ${path}: ${verified.threads} conversations, ${verified.messages} messages. Importing …`);
  const result: RestoreResult = {
    threads: 0,
    messagesInserted: 0,
    messagesPresent: 0,
    messagesErased: 0,
    statusEventsInserted: 0,
    rawEventsInserted: 0,
    clientsCreated: 0,
  };
  const clientIds = new Map<string, number>();
  // Per archived thread: where it goes here, and until when its contact's data was erased.
  const threads = new Map<number, ArchivedThread>();
  const skippedWamids = new Set<string>();
  let pending: Row[] = [];
  // Values sealed with a known key are kept as they are; plaintext is sealed when a key is set.
  const seal = (v: unknown): unknown =>
    typeof v === 'string' && store.keys.enabled && !v.startsWith(SEALED_PREFIX)
      ? store.keys.seal(store.keys.open(v, () => 'an archived value'))
      : v;

  const clientFor = async (t: Row): Promise<number> => {
    const c = t.client as { phone_number_id: string; name: string; phone_number: string };
    const known = clientIds.get(c.phone_number_id);
    if (known) return known;
    let client = await store.clients.findByPhoneNumberId(c.phone_number_id);
    if (!client) {
      client = await store.clients.create({
        name: c.name,
        phoneNumber: c.phone_number,
        phoneNumberId: c.phone_number_id,
        active: true,
        assistantEnabled: false,
      });
      result.clientsCreated += 1;
    }
    clientIds.set(c.phone_number_id, client.id);
    return client.id;
  };

  const ensureThread = async (r: ArchiveRestorer, t: ArchivedThread): Promise<number> => {
    if (t.id !== null) return t.id;
    t.id = await r.upsertThread({
      clientId: t.clientId,
      waId: t.waId,
      contactName: (t.row.contact_name as string | null) ?? null,
      createdAt: time(t.row.created_at),
      lastMessageAt: time(t.row.last_message_at),
      contextResetAt: time(t.row.context_reset_at),
    });
    result.threads += 1;
    return t.id;
  };

  const flush = async () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    await store.archives.restoring(async (r) => {
      const tombstoned = await r.tombstoned(
        rows.flatMap((row) =>
          (row.record === 'message' || row.record === 'status_event') && row.wamid
            ? [wamidTombstone(String(row.wamid))]
            : row.record === 'raw_event'
              ? [String(row.content_hash)]
              : [],
        ),
      );
      for (const row of rows) {
        if (row.record === 'message') {
          const t = threads.get(Number(row.thread_id));
          if (!t) continue;
          const created = time(row.created_at) as Date;
          const erased = row.wamid && tombstoned.has(wamidTombstone(String(row.wamid)));
          if (erased || created.getTime() <= t.erasedUntil) {
            result.messagesErased += 1;
            if (row.wamid) skippedWamids.add(String(row.wamid));
            continue;
          }
          const threadId = await ensureThread(r, t);
          if (await r.insertMessage(messageValues(row, threadId, t.clientId, seal))) result.messagesInserted += 1;
          else result.messagesPresent += 1;
        } else if (row.record === 'status_event') {
          if (skippedWamids.has(String(row.wamid)) || tombstoned.has(wamidTombstone(String(row.wamid)))) continue;
          result.statusEventsInserted += await r.insertStatusEvent(
            STATUS_EVENT_FIELDS.filter((f) => f !== 'id').map((f) =>
              f === 'raw' ? seal(row.raw ?? null) : TIME_FIELDS.has(f) ? time(row[f]) : (row[f] ?? null),
            ),
          );
        } else if (row.record === 'raw_event') {
          if (tombstoned.has(String(row.content_hash))) continue;
          if (row.wa_id) {
            const clientId = row.phone_number_id ? ((await r.clientIdOf(String(row.phone_number_id))) ?? 0) : 0;
            if ((time(row.received_at) as Date).getTime() <= (await r.erasedUntil(String(row.wa_id), clientId)))
              continue;
          }
          result.rawEventsInserted += await r.insertRawEvent(
            RAW_EVENT_FIELDS.filter((f) => f !== 'id').map((f) =>
              f === 'payload' ? seal(row.payload) : TIME_FIELDS.has(f) ? time(row[f]) : (row[f] ?? null),
            ),
          );
        }
      }
    });
  };

  // Second pass over the (verified) file, importing as it goes.
  await verifyArchive(path, async (row) => {
    if (row.record === 'thread') {
      await flush();
      const clientId = await clientFor(row);
      const waId = String(row.wa_id);
      const erasedUntil = await store.archives.restoring((r) => r.erasedUntil(waId, clientId));
      const t: ArchivedThread = { id: null, clientId, waId, erasedUntil, row };
      threads.set(Number(row.id), t);
      // A conversation without messages is restored as such; one whose contact was erased since is not.
      if ((time(row.last_message_at) as Date).getTime() > t.erasedUntil) {
        await store.archives.restoring((r) => ensureThread(r, t));
      }
      return;
    }
    pending.push(row);
    if (pending.length >= 500) await flush();
  });
  await flush();
  // The restored threads' conversations, derived from their messages as live tracking makes them.
  await store.conversations.rebuild([...threads.values()].flatMap((t) => (t.id === null ? [] : [t.id])));
  return result;
}

interface ArchivedThread {
  /** Its id in this database, once created or found. */
  id: number | null;
  clientId: number;
  waId: string;
  /** When the contact's data was last erased here (epoch ms), -Infinity if never. */
  erasedUntil: number;
  row: Row;
}

const time = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(String(v)));

/** An archived message as the values of a new row here (MESSAGE_INSERT_FIELDS order). */
function messageValues(r: Row, threadId: number, clientId: number, seal: (v: unknown) => unknown): unknown[] {
  return MESSAGE_INSERT_FIELDS.map((f) => {
    if (f === 'thread_id') return threadId;
    if (f === 'client_id') return clientId;
    if (f === 'content') return seal(r.content);
    if (f === 'raw') return seal(r.raw ?? null);
    if (TIME_FIELDS.has(f)) return time(r[f]);
    // Archives written before answers_wamid: an answer's reply_to_wamid was what it covered.
    if (f === 'answers_wamid') return r.answers_wamid ?? (r.role === 'assistant' ? (r.reply_to_wamid ?? null) : null);
    return r[f] ?? null;
  });
}
