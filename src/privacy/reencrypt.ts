// `wa-report db encrypt` and `wa-report keys rotate`: every stored value that is not sealed with the
// current key (plaintext, or sealed with an older key) is sealed with it, a batch of rows per
// transaction. Resumable by construction: a rerun skips what is already done. A row is updated only
// if it still holds the value that was read (a concurrent writer wins and the row is seen again on
// the next run).
import { EncryptionError } from '../errors.js';
import type { Store } from '../db/store.js';

const TARGETS = [
  { table: 'messages', columns: ['content', 'raw'], what: 'message' },
  { table: 'message_status_events', columns: ['raw'], what: 'status event' },
  { table: 'raw_events', columns: ['payload'], what: 'raw event' },
] as const;

export interface ReencryptResult {
  /** Rows changed, per table. */
  changed: Record<string, number>;
  /** Rows examined. */
  examined: number;
}

export async function reencrypt(
  store: Store,
  options: { batchSize?: number; progress?: (message: string) => void; failAfterBatches?: number } = {},
): Promise<ReencryptResult> {
  const keys = store.keys;
  if (!keys.current) {
    throw new EncryptionError(
      'WA_REPORT_ENCRYPTION_KEY is not set. Run `wa-report keys generate`, keep the key somewhere safe (losing it loses the messages), and set WA_REPORT_ENCRYPTION_KEY.',
    );
  }
  const batchSize = options.batchSize ?? 500;
  const result: ReencryptResult = { changed: {}, examined: 0 };
  let batches = 0;
  // Every key id found must be configured before anything is rewritten or marked.
  const census = await encryptionCensus(store);
  const unknown = Object.keys(census.byKey).filter((id) => !keys.knows(id));
  if (unknown.length) {
    throw new EncryptionError(
      `Some content is encrypted with key id ${unknown.join(', ')}, which is not configured; nothing was changed. Add that key to WA_REPORT_ENCRYPTION_KEYS_OLD.`,
    );
  }
  // The database is marked first: from now on a process without the key refuses to write here.
  await store.markEncrypted();
  for (const target of TARGETS) {
    result.changed[target.table] = 0;
    let afterId = 0;
    for (;;) {
      const rows = await store.select<Record<string, unknown>>(
        `SELECT id, ${target.columns.join(', ')} FROM ${target.table} WHERE id > ? ORDER BY id LIMIT ?`,
        [afterId, batchSize],
      );
      if (rows.length === 0) break;
      result.examined += rows.length;
      const updates: { id: number; before: (string | null)[]; after: (string | null)[] }[] = [];
      for (const r of rows) {
        const before = target.columns.map((c) => (r[c] ?? null) as string | null);
        if (before.every((v) => keys.isCurrent(v))) continue;
        const after = before.map((v, i) =>
          keys.isCurrent(v) ? v : keys.seal(keys.open(v, () => `The ${target.columns[i]} of ${target.what} ${r.id}`)),
        );
        updates.push({ id: Number(r.id), before, after });
      }
      if (updates.length) {
        const changed = await store.transaction(async (tx) => {
          let n = 0;
          for (const u of updates) {
            const set = target.columns.map((c) => `${c} = ?`).join(', ');
            const same = target.columns.map((c) => `${c} IS NOT DISTINCT FROM ?`).join(' AND ');
            n += await tx.run(
              `UPDATE ${target.table} SET ${set} WHERE id = ? AND ${store.dialect === 'sqlite' ? same.replaceAll('IS NOT DISTINCT FROM', 'IS') : same}`,
              [...u.after, u.id, ...u.before],
            );
          }
          return n;
        });
        result.changed[target.table] = (result.changed[target.table] ?? 0) + changed;
        batches += 1;
        options.progress?.(`${target.table}: ${result.changed[target.table]} rows encrypted so far …`);
        if (options.failAfterBatches !== undefined && batches >= options.failAfterBatches) {
          throw new EncryptionError(
            `Simulated failure after ${batches} batches (WA_REPORT_ENCRYPT_FAIL_AFTER_BATCHES). Rerun the same command to finish.`,
          );
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
export async function encryptionCensus(store: Store): Promise<{ plaintext: number; byKey: Record<string, number> }> {
  const census = { plaintext: 0, byKey: {} as Record<string, number> };
  for (const target of TARGETS) {
    for (const column of target.columns) {
      const rows = await store.select<{ k: string | null; n: unknown }>(
        `SELECT CASE WHEN substr(${column}, 1, 7) = 'enc:v1:' THEN substr(${column}, 8, 16) ELSE NULL END AS k, COUNT(*) AS n FROM ${target.table} WHERE ${column} IS NOT NULL GROUP BY 1`,
      );
      for (const r of rows) {
        if (r.k === null) census.plaintext += Number(r.n);
        else census.byKey[r.k] = (census.byKey[r.k] ?? 0) + Number(r.n);
      }
    }
  }
  return census;
}
