// Retention: conversations last active before a date are written to a verified archive file
// (archive-file.ts) and only then deleted from the database, a batch of conversations per
// transaction, each only if it is still exactly what the archive holds. An interruption at any point
// loses nothing: before the rename the data is only in the database; after it, the file is complete
// and verified, and a rerun with the same --out resumes the deletions. restore.ts imports a file back.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../db/store.js';
import { UsageError } from '../errors.js';
import {
  ArchiveError,
  matches,
  verifyArchive,
  writeArchive,
  type ArchiveSummary,
  type ArchiveTarget,
  type ThreadFingerprint,
  type VerifiedArchive,
} from './archive-file.js';

export interface ArchiveOptions extends ArchiveTarget {
  /** Conversations deleted per transaction (default 100). */
  batchSize?: number;
  /** Test hook: fail after this many delete batches have committed (an interruption mid-way). */
  failAfterBatches?: number;
  progress?: (message: string) => void;
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
        `${options.out} already exists and holds another archive (before ${verified.header.before}` +
          `${verified.header.client_id === null ? '' : `, client ${verified.header.client_id}`}). Choose another ` +
          '--out, or rerun with the same --before and --client-id to finish that one.',
      );
    }
    resumed = true;
    progress(
      `${options.out} exists and verifies (${verified.threads} conversations, ${verified.messages} messages): ` +
        'finishing its deletions.',
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
      `Verified ${options.out}: ${verified.threads} conversations, ${verified.messages} messages, ` +
        `${verified.statusEvents} status events, ${verified.rawEvents} raw events ` +
        `(sha256 ${verified.sha256.slice(0, 16)}…).`,
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
        `Stopped before finishing; ${options.out} is complete and verified. Rerun the same command to finish the ` +
          'deletions.',
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

/** A file name for the daemon's retention runs: wa-report-archive-<now>-before-<date>.jsonl.gz */
export function retentionFileName(dir: string, now: Date, before: Date): string {
  const stamp = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
  return join(dir, `wa-report-archive-${stamp(now)}-before-${stamp(before)}.jsonl.gz`);
}
