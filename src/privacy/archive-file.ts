// The archive file: gzipped JSON lines (docs/archive-format.md), written to `<out>.part`, fsynced and
// renamed into place, and read back and verified (every line, the counts and the SHA-256 in its end
// line) before anything is deleted. Values are copied as stored: content encrypted at rest stays
// encrypted in the archive (restoring it needs the key it names); the file is written with mode 0600.
import { createHash, type Hash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import type { ThreadSnapshot } from '../db/repositories/archives.js';
import { MESSAGE_FIELDS, RAW_EVENT_FIELDS, STATUS_EVENT_FIELDS, THREAD_FIELDS, TIME_FIELDS } from '../db/rows.js';
import type { Store } from '../db/store.js';
import { WaReportError } from '../errors.js';

export const ARCHIVE_FORMAT = 'wa-report-archive';
export const ARCHIVE_VERSION = 1;

export class ArchiveError extends WaReportError {}

export type Row = Record<string, unknown>;

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

export function messageFingerprint(r: Row): string {
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

/** Where an archive goes and what it holds. */
export interface ArchiveTarget {
  before: Date;
  clientId?: number;
  out: string;
  /** Stops between conversations (daemon shutdown). */
  signal?: AbortSignal;
  now?: Date;
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
export async function writeArchive(
  store: Store,
  options: ArchiveTarget,
  threadIds: number[],
  dbId: string,
): Promise<void> {
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
      `${path} cannot be read as a gzipped archive (${(error as Error).message}); it is truncated or damaged. ` +
        'Nothing was changed.',
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
/** Whether a conversation in the database is still exactly what the archive holds. */
export function matches(now: ThreadSnapshot, expected: ThreadFingerprint): boolean {
  const digest = createHash('sha256');
  for (const m of now.messages) digest.update(messageFingerprint(m));
  return (
    now.messages.length === expected.messages &&
    digest.digest('hex') === expected.digest &&
    now.statusEvents === expected.statusEvents &&
    now.maxStatusEventId === expected.maxStatusEventId
  );
}
