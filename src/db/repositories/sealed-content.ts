// The columns that hold message content (sealed at rest when a key is set), for `db encrypt`,
// `keys rotate` and `keys status`: read in pages by id, replaced only where they still hold what was
// read (a concurrent writer wins; the row is seen again on the next run), and counted per key id.
import { KEY_ID_LENGTH, SEALED_PREFIX } from '../../domain/key-ring.js';
import { sameAs } from '../dialect.js';
import type { Querier, Row } from '../sql.js';

/** Every table and column holding content that is sealed at rest. */
export const SEALED_COLUMNS = [
  { table: 'messages', key: 'id', columns: ['content', 'raw'], what: 'message' },
  { table: 'message_status_events', key: 'id', columns: ['raw'], what: 'status event' },
  { table: 'raw_events', key: 'id', columns: ['payload'], what: 'raw event' },
  { table: 'events', key: 'id', columns: ['payload'], what: 'event' },
  { table: 'webhook_endpoints', key: 'id', columns: ['secret', 'previous_secret'], what: 'webhook endpoint' },
  { table: 'conversation_ratings', key: 'conversation_id', columns: ['reason'], what: 'conversation rating' },
  { table: 'csat_surveys', key: 'id', columns: ['comment'], what: 'satisfaction survey' },
] as const;

export type SealedTable = (typeof SEALED_COLUMNS)[number];

export interface SealedRowUpdate {
  id: number;
  before: (string | null)[];
  after: (string | null)[];
}

export class SealedContentRepository {
  constructor(private readonly q: Querier) {}

  /** The next rows after `afterId`, with their sealed columns as stored. */
  page(target: SealedTable, afterId: number, limit: number): Promise<Row[]> {
    const key = target.key;
    return this.q.all(
      `SELECT ${key} AS id, ${target.columns.join(', ')} FROM ${target.table} WHERE ${key} > ? ORDER BY ${key} LIMIT ?`,
      [afterId, limit],
    );
  }

  /** Writes the new values in one transaction, each row only if it still holds `before`; returns rows changed. */
  replace(target: SealedTable, updates: SealedRowUpdate[]): Promise<number> {
    const set = target.columns.map((c) => `${c} = ?`).join(', ');
    const same = target.columns.map((c) => `${c} ${sameAs(this.q.dialect)} ?`).join(' AND ');
    return this.q.transaction(async (tx) => {
      let n = 0;
      for (const u of updates) {
        n += await tx.run(`UPDATE ${target.table} SET ${set} WHERE ${target.key} = ? AND ${same}`, [
          ...u.after,
          u.id,
          ...u.before,
        ]);
      }
      return n;
    });
  }

  /** How many stored values are plaintext, or sealed with each key id. */
  async census(): Promise<{ plaintext: number; byKey: Record<string, number> }> {
    const census = { plaintext: 0, byKey: {} as Record<string, number> };
    const prefix = SEALED_PREFIX;
    for (const target of SEALED_COLUMNS) {
      for (const column of target.columns) {
        const rows = await this.q.all<{ k: string | null; n: unknown }>(
          `SELECT CASE WHEN substr(${column}, 1, ${prefix.length}) = '${prefix}'
                       THEN substr(${column}, ${prefix.length + 1}, ${KEY_ID_LENGTH}) ELSE NULL END AS k,
                  COUNT(*) AS n
           FROM ${target.table} WHERE ${column} IS NOT NULL GROUP BY 1`,
        );
        for (const r of rows) {
          if (r.k === null) census.plaintext += Number(r.n);
          else census.byKey[r.k] = (census.byKey[r.k] ?? 0) + Number(r.n);
        }
      }
    }
    return census;
  }
}
