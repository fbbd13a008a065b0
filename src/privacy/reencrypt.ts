// `wa-report db encrypt` and `wa-report keys rotate`: every stored value that is not sealed with the
// current key (plaintext, or sealed with an older key) is sealed with it, a batch of rows per
// transaction. Resumable by construction: a rerun skips what is already done. A row is updated only
// if it still holds the value that was read (a concurrent writer wins and the row is seen again on
// the next run).
import { EncryptionError } from '../errors.js';
import { SEALED_COLUMNS, type SealedRowUpdate } from '../db/repositories/sealed-content.js';
import type { Store } from '../db/store.js';

export interface ReencryptResult {
  /** Rows changed, per table. */
  changed: Record<string, number>;
  /** Rows examined. */
  examined: number;
}

export async function reencrypt(
  store: Store,
  options: {
    batchSize?: number;
    progress?: (message: string) => void;
    /** Test seam: fail after this many batches have committed (an interruption mid-way). */
    failAfterBatches?: number;
  } = {},
): Promise<ReencryptResult> {
  const keys = store.keys;
  if (!keys.current) {
    throw new EncryptionError(
      'WA_REPORT_ENCRYPTION_KEY is not set. Run `wa-report keys generate`, keep the key somewhere safe (losing ' +
        'it loses the messages), and set WA_REPORT_ENCRYPTION_KEY.',
    );
  }
  const batchSize = options.batchSize ?? 500;
  const result: ReencryptResult = { changed: {}, examined: 0 };
  let batches = 0;
  // Every key id found must be configured before anything is rewritten or marked.
  const census = await store.sealedContent.census();
  const unknown = Object.keys(census.byKey).filter((id) => !keys.knows(id));
  if (unknown.length) {
    throw new EncryptionError(
      `Some content is encrypted with key id ${unknown.join(', ')}, which is not configured; nothing was ` +
        'changed. Add that key to WA_REPORT_ENCRYPTION_KEYS_OLD.',
    );
  }
  // The database is marked first: from now on a process without the key refuses to write here.
  await store.markEncrypted();
  for (const target of SEALED_COLUMNS) {
    result.changed[target.table] = 0;
    let afterId = 0;
    for (;;) {
      const rows = await store.sealedContent.page(target, afterId, batchSize);
      if (rows.length === 0) break;
      result.examined += rows.length;
      const updates: SealedRowUpdate[] = [];
      for (const r of rows) {
        const before = target.columns.map((c) => (r[c] ?? null) as string | null);
        if (before.every((v) => keys.isCurrent(v))) continue;
        const after = before.map((v, i) =>
          keys.isCurrent(v) ? v : keys.seal(keys.open(v, () => `The ${target.columns[i]} of ${target.what} ${r.id}`)),
        );
        updates.push({ id: Number(r.id), before, after });
      }
      if (updates.length) {
        const changed = await store.sealedContent.replace(target, updates);
        result.changed[target.table] = (result.changed[target.table] ?? 0) + changed;
        batches += 1;
        options.progress?.(`${target.table}: ${result.changed[target.table]} rows encrypted so far …`);
        if (options.failAfterBatches !== undefined && batches >= options.failAfterBatches) {
          throw new EncryptionError(`Simulated failure after ${batches} batches. Rerun the same command to finish.`);
        }
      }
      afterId = Number(rows[rows.length - 1]?.id);
      if (rows.length < batchSize) break;
    }
  }
  await store.checkpoint().catch(() => {});
  return result;
}

/** How many stored values are plaintext, or sealed with each key id (for `keys status`). */
export function encryptionCensus(store: Store): Promise<{ plaintext: number; byKey: Record<string, number> }> {
  return store.sealedContent.census();
}
