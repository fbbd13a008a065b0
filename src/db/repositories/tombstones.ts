// Tombstones: hashes of erased message ids and raw payloads, so a webhook Meta redelivers after an
// erase is acknowledged but never stored again (see domain/hashing.ts for the hashes).
import type { Querier } from '../sql.js';

/** Which of these hashes belong to erased data, one query per 500. */
export async function tombstoned(q: Querier, hashes: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const unique = [...new Set(hashes)];
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    const rows = await q.all<{ hash: string }>(
      `SELECT hash FROM tombstones WHERE hash IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const r of rows) found.add(r.hash);
  }
  return found;
}

/** Records the hashes as erased (once each). */
export async function addTombstones(q: Querier, hashes: string[], at: Date): Promise<void> {
  const unique = [...new Set(hashes)];
  for (let i = 0; i < unique.length; i += 400) {
    const chunk = unique.slice(i, i + 400);
    await q.run(
      `INSERT INTO tombstones (hash, erased_at) VALUES ${chunk.map(() => '(?, ?)').join(', ')}
       ON CONFLICT (hash) DO NOTHING`,
      chunk.flatMap((h) => [h, at]),
    );
  }
}
