// Retention (the seed's "Archivado"): conversations last active before a date are written to a
// gzipped JSON-lines file, made durable (fsync), read back and verified, and only then deleted from
// the database, a batch of conversations per transaction. An interruption at any point loses
// nothing: before the rename the data is only in the database; after it, the file is complete and
// verified, and a rerun with the same --out resumes the deletions. `restoreArchive` imports a file
// back, idempotently. Format: docs/archive-format.md.
//
// Values are copied as stored: content encrypted at rest stays encrypted in the archive (restoring
// it needs the key it names), and the archive is written with mode 0600.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  openSync,
  closeSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import type { ArchiveRestorer, ThreadSnapshot } from '../db/repositories/archives.js';
import {
  MESSAGE_FIELDS,
  MESSAGE_INSERT_FIELDS,
  RAW_EVENT_FIELDS,
  STATUS_EVENT_FIELDS,
  THREAD_FIELDS,
  TIME_FIELDS,
} from '../db/rows.js';
import type { Store } from '../db/store.js';
import { wamidTombstone } from '../domain/hashing.js';
import { EncryptionError, UsageError, WaReportError } from '../errors.js';
import { SEALED_PREFIX, sealedKeyId } from '../domain/key-ring.js';

export const ARCHIVE_FORMAT = 'wa-report-archive';
export const ARCHIVE_VERSION = 1;

export class ArchiveError extends WaReportError {}

type Row = Record<string, unknown>;

export interface ArchiveHeader {
  record: 'header';
  format: typeof ARCHIVE_FORMAT;
  version: number;
  created_at: string;
  before: string;
  client_id: number | null;
  /** The database it was taken from (settings 'database_id'): a resumed run deletes only there. */
  database_id: string;
}

export interface ArchiveSummary {
  threads: number;
  messages: number;
  statusEvents: number;
  rawEvents: number;
}

/**
 * A conversation as archived: its messages' ids and mutable fields (status, wamid, errors) hashed,
 * and its status events counted. Deletion compares the database with this, so nothing that changed
 * after the archive was written (a new message or status, an answer marked failed) is deleted.
 */
export interface ThreadFingerprint {
  messages: number;
  digest: string;
  statusEvents: number;
  maxStatusEventId: number;
}

function messageFingerprint(r: Row): string {
  return (
    [r.id, r.wamid ?? '', r.status ?? '', toIso(r.status_at) ?? '', r.error_code ?? '', r.error_message ?? ''].join(
      '\u0001',
    ) + '\n'
  );
}

/** What a verified archive holds, per conversation, to check the database against before deleting. */
export interface VerifiedArchive extends ArchiveSummary {
  header: ArchiveHeader;
  sha256: string;
  perThread: Map<number, ThreadFingerprint>;
  rawEventHashes: string[];
}

export interface ArchiveOptions {
  before: Date;
  clientId?: number;
  out: string;
  /** Conversations deleted per transaction (default 100). */
  batchSize?: number;
  /** Test hook: fail after this many delete batches have committed (an interruption mid-way). */
  failAfterBatches?: number;
  /** Stops between batches (daemon shutdown). */
  signal?: AbortSignal;
  progress?: (message: string) => void;
  now?: Date;
}

export interface ArchiveResult extends ArchiveSummary {
  /** The archive file, or null when nothing qualified (no file written). */
  file: string | null;
  /** The file already existed and was verified: this run only finished the deletions. */
  resumed: boolean;
  deletedThreads: number;
  /** Conversations in the archive that changed since (a new message or status): kept in the database. */
  keptChanged: number;
  /** Conversations that qualify but are not in this archive (run again with another --out). */
  remaining: number;
}

const toIso = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  // Epoch milliseconds (SQLite, as a number or numeric text) or an ISO string (archives).
  return (typeof v === 'string' && !/^-?\d+$/.test(v) ? new Date(v) : new Date(Number(v))).toISOString();
};

function encodeRow(record: string, columns: readonly string[], r: Row): Row {
  const out: Row = { record };
  for (const c of columns) {
    const v = r[c];
    out[c] = TIME_FIELDS.has(c) ? toIso(v) : typeof v === 'bigint' ? Number(v) : (v ?? null);
  }
  return out;
}

/** Writes the archive to `<out>.part`, fsyncs it, renames it to `out` and fsyncs the directory. */
async function writeArchive(store: Store, options: ArchiveOptions, threadIds: number[], dbId: string): Promise<void> {
  const part = `${options.out}.part`;
  rmSync(part, { force: true });
  const file = createWriteStream(part, { flags: 'wx', mode: 0o600 });
  const gzip = createGzip({ level: 6 });
  gzip.pipe(file);
  const hash = createHash('sha256');
  const counts: ArchiveSummary = { threads: 0, messages: 0, statusEvents: 0, rawEvents: 0 };
  const line = async (value: Row): Promise<void> => {
    const text = `${JSON.stringify(value)}\n`;
    hash.update(text);
    if (!gzip.write(text)) await new Promise<void>((resolve) => gzip.once('drain', resolve));
  };
  const failed = new Promise<never>((_, reject) => {
    file.once('error', reject);
    gzip.once('error', reject);
  });
  const work = (async () => {
    const header: ArchiveHeader = {
      record: 'header',
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      created_at: (options.now ?? new Date()).toISOString(),
      before: options.before.toISOString(),
      client_id: options.clientId ?? null,
      database_id: dbId,
    };
    await line(header as unknown as Row);
    for (const threadId of threadIds) {
      if (options.signal?.aborted) throw new Error('stopped (shutdown)');
      const t = await store.archives.threadRow(threadId);
      if (!t) continue; // deleted meanwhile (an erase)
      await line({
        ...encodeRow('thread', THREAD_FIELDS, t),
        client: { phone_number_id: t.client_phone_number_id, name: t.client_name, phone_number: t.client_phone_number },
      });
      counts.threads += 1;
      let afterId = 0;
      for (;;) {
        const messages = await store.archives.messageRows(threadId, afterId, 1000);
        if (messages.length === 0) break;
        for (const m of messages) await line(encodeRow('message', MESSAGE_FIELDS, m));
        counts.messages += messages.length;
        const wamids = messages.flatMap((m) => (m.wamid ? [String(m.wamid)] : []));
        const events = await store.archives.statusEventRows(wamids);
        for (const e of events)
          await line({ ...encodeRow('status_event', STATUS_EVENT_FIELDS, e), thread_id: threadId });
        counts.statusEvents += events.length;
        afterId = Number(messages[messages.length - 1]?.id);
        if (messages.length < 1000) break;
      }
    }
    // Raw events (webhook content the parser did not understand) from before the date.
    let afterRaw = 0;
    for (;;) {
      const raws = await store.archives.rawEventRows(options, afterRaw, 1000);
      if (raws.length === 0) break;
      for (const r of raws) await line(encodeRow('raw_event', RAW_EVENT_FIELDS, r));
      counts.rawEvents += raws.length;
      afterRaw = Number(raws[raws.length - 1]?.id);
    }
    const trailer = {
      record: 'end',
      threads: counts.threads,
      messages: counts.messages,
      status_events: counts.statusEvents,
      raw_events: counts.rawEvents,
      sha256: hash.digest('hex'),
    };
    gzip.end(`${JSON.stringify(trailer)}\n`);
    await new Promise<void>((resolve) => file.once('finish', resolve));
  })();
  try {
    await Promise.race([work, failed]);
  } catch (error) {
    gzip.destroy();
    file.destroy();
    rmSync(part, { force: true });
    throw new ArchiveError(
      `Could not write the archive ${options.out}: ${(error as Error).message}. Nothing was deleted.`,
      { cause: error },
    );
  }
  // Durable before anything is deleted: the file's data, then its name in the directory.
  const fd = openSync(part, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(part, options.out);
  const dir = openSync(dirname(options.out), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Reads an archive back: every line parses, the header and trailer are there, the checksum and the
 * counts match. Throws ArchiveError saying what is wrong.
 */
export async function verifyArchive(path: string, onRow?: (row: Row) => Promise<void>): Promise<VerifiedArchive> {
  if (!existsSync(path)) throw new ArchiveError(`${path}: no such archive.`);
  const hash = createHash('sha256');
  const input = createReadStream(path).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity });
  let header: ArchiveHeader | null = null;
  let trailer: Row | null = null;
  const counts: ArchiveSummary = { threads: 0, messages: 0, statusEvents: 0, rawEvents: 0 };
  const perThread = new Map<number, ThreadFingerprint>();
  const digests = new Map<number, Hash>();
  const rawEventHashes: string[] = [];
  let n = 0;
  const bad = (why: string) =>
    new ArchiveError(`${path} is not a complete wa-report archive (line ${n}: ${why}). Nothing was changed.`);
  try {
    for await (const text of lines) {
      n += 1;
      if (trailer) throw bad('content after the end line');
      let row: Row;
      try {
        row = JSON.parse(text) as Row;
      } catch {
        throw bad('not JSON');
      }
      if (n === 1) {
        if (row.record !== 'header' || row.format !== ARCHIVE_FORMAT) throw bad('no archive header');
        if (row.version !== ARCHIVE_VERSION)
          throw bad(`version ${String(row.version)}, this wa-report reads version ${ARCHIVE_VERSION}`);
        header = row as unknown as ArchiveHeader;
        hash.update(`${text}\n`);
        continue;
      }
      if (row.record === 'end') {
        trailer = row;
        continue;
      }
      hash.update(`${text}\n`);
      switch (row.record) {
        case 'thread':
          counts.threads += 1;
          perThread.set(Number(row.id), { messages: 0, digest: '', statusEvents: 0, maxStatusEventId: 0 });
          digests.set(Number(row.id), createHash('sha256'));
          break;
        case 'message': {
          counts.messages += 1;
          const t = perThread.get(Number(row.thread_id));
          if (!t) throw bad('a message before its conversation');
          t.messages += 1;
          digests.get(Number(row.thread_id))?.update(messageFingerprint(row));
          break;
        }
        case 'status_event': {
          counts.statusEvents += 1;
          const t = perThread.get(Number(row.thread_id));
          if (t) {
            t.statusEvents += 1;
            t.maxStatusEventId = Math.max(t.maxStatusEventId, Number(row.id));
          }
          break;
        }
        case 'raw_event':
          counts.rawEvents += 1;
          rawEventHashes.push(String(row.content_hash));
          break;
        default:
          throw bad(`unknown record ${JSON.stringify(row.record)}`);
      }
      if (onRow) await onRow(row);
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(
      `${path} cannot be read as a gzipped archive (${(error as Error).message}); it is truncated or damaged. Nothing was changed.`,
      { cause: error },
    );
  }
  if (!header) throw bad('empty file');
  if (!trailer) throw bad('no end line: the file is truncated');
  const sha256 = hash.digest('hex');
  if (trailer.sha256 !== sha256) throw bad('the checksum does not match the content');
  if (
    trailer.threads !== counts.threads ||
    trailer.messages !== counts.messages ||
    trailer.status_events !== counts.statusEvents ||
    trailer.raw_events !== counts.rawEvents
  ) {
    throw bad('the counts in the end line do not match the content');
  }
  for (const [id, h] of digests) (perThread.get(id) as ThreadFingerprint).digest = h.digest('hex');
  return { header, sha256, perThread, rawEventHashes, ...counts };
}

/** Archives and deletes the conversations last active before `options.before` (see the file comment). */
export async function archive(store: Store, options: ArchiveOptions): Promise<ArchiveResult> {
  const progress = options.progress ?? (() => {});
  const dbId = await store.archives.databaseId();
  let verified: VerifiedArchive;
  let resumed = false;
  if (existsSync(options.out)) {
    verified = await verifyArchive(options.out);
    const same =
      verified.header.before === options.before.toISOString() &&
      verified.header.client_id === (options.clientId ?? null);
    if (verified.header.database_id !== dbId) {
      throw new UsageError(
        `${options.out} was taken from another database (${verified.header.database_id}, this one is ${dbId}); ` +
          'nothing was deleted. Choose another --out.',
      );
    }
    if (!same) {
      throw new UsageError(
        `${options.out} already exists and holds another archive (before ${verified.header.before}${verified.header.client_id === null ? '' : `, client ${verified.header.client_id}`}). Choose another --out, or rerun with the same --before and --client-id to finish that one.`,
      );
    }
    resumed = true;
    progress(
      `${options.out} exists and verifies (${verified.threads} conversations, ${verified.messages} messages): finishing its deletions.`,
    );
  } else {
    const threadIds = await store.archives.threadIdsBefore(options);
    if (threadIds.length === 0 && (await store.archives.rawEventCountBefore(options)) === 0) {
      return {
        file: null,
        resumed: false,
        threads: 0,
        messages: 0,
        statusEvents: 0,
        rawEvents: 0,
        deletedThreads: 0,
        keptChanged: 0,
        remaining: 0,
      };
    }
    progress(`Writing ${threadIds.length} conversations to ${options.out} …`);
    await writeArchive(store, options, threadIds, dbId);
    verified = await verifyArchive(options.out);
    progress(
      `Verified ${options.out}: ${verified.threads} conversations, ${verified.messages} messages, ${verified.statusEvents} status events, ${verified.rawEvents} raw events (sha256 ${verified.sha256.slice(0, 16)}…).`,
    );
  }

  // Delete, a batch of conversations per transaction; each one only if it is still exactly what
  // the archive holds (a message or status that arrived since keeps it in the database).
  const batchSize = options.batchSize ?? 100;
  const ids = [...verified.perThread.keys()];
  let deletedThreads = 0;
  let keptChanged = 0;
  let batches = 0;
  for (let i = 0; i < ids.length; i += batchSize) {
    if (options.signal?.aborted)
      throw new ArchiveError(
        `Stopped before finishing; ${options.out} is complete and verified. Rerun the same command to finish the deletions.`,
      );
    const chunk = ids.slice(i, i + batchSize);
    const outcome = await store.archives.deleteUnchanged(chunk, options.before, (id, now) =>
      matches(now, verified.perThread.get(id) as ThreadFingerprint),
    );
    deletedThreads += outcome.deleted;
    keptChanged += outcome.kept;
    batches += 1;
    progress(`Deleted ${deletedThreads} of ${ids.length} conversations …`);
    if (options.failAfterBatches !== undefined && batches >= options.failAfterBatches) {
      throw new ArchiveError(`Simulated failure after ${batches} delete batches. Rerun the same command to finish.`);
    }
  }
  await store.archives.deleteRawEvents(verified.rawEventHashes);
  if (deletedThreads > 0) await store.checkpoint().catch(() => {});
  // Conversations that qualify now but are not in this archive (e.g. restored since it was written).
  const left = await store.archives.threadIdsBefore(options);
  const remaining = left.filter((id) => !verified.perThread.has(id)).length;
  return {
    file: options.out,
    resumed,
    threads: verified.threads,
    messages: verified.messages,
    statusEvents: verified.statusEvents,
    rawEvents: verified.rawEvents,
    deletedThreads,
    keptChanged,
    remaining,
  };
}

/** Whether a conversation in the database is still exactly what the archive holds. */
function matches(now: ThreadSnapshot, expected: ThreadFingerprint): boolean {
  const digest = createHash('sha256');
  for (const m of now.messages) digest.update(messageFingerprint(m));
  return (
    now.messages.length === expected.messages &&
    digest.digest('hex') === expected.digest &&
    now.statusEvents === expected.statusEvents &&
    now.maxStatusEventId === expected.maxStatusEventId
  );
}

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
      `${path} holds encrypted content (key id ${[...keyIds].join(', ')}); restoring it needs WA_REPORT_ENCRYPTION_KEY set, so this database is marked encrypted and never mixes in plaintext. Nothing was imported.`,
    );
  }
  const unknown = [...keyIds].filter((id) => !store.keys.knows(id));
  if (unknown.length) {
    throw new EncryptionError(
      `${path} holds content encrypted with key id ${unknown.join(', ')}, which is not configured; nothing was imported. Set WA_REPORT_ENCRYPTION_KEY (or WA_REPORT_ENCRYPTION_KEYS_OLD) to include it.`,
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
    return r[f] ?? null;
  });
}

/** A file name for the daemon's retention runs: wa-report-archive-<now>-before-<date>.jsonl.gz */
export function retentionFileName(dir: string, now: Date, before: Date): string {
  const stamp = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
  return join(dir, `wa-report-archive-${stamp(now)}-before-${stamp(before)}.jsonl.gz`);
}

export function describeArchiveFile(path: string): string {
  return `${basename(path)} (${(statSync(path).size / 1024).toFixed(0)} kB)`;
}
