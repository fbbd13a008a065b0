// Message counts per client, quarter hour (UTC), role and status, read from `message_rollups` (kept
// by triggers on messages, see the migration) instead of counting messages. Quarter hours regroup
// exactly into the hours and days of every zone in use; a range that does not start or end on a
// quarter hour has its partial quarter hours counted exactly from messages, so every answer equals
// COUNT(*) over messages.
import type { Role } from '../../domain/types.js';
import { epochBucket, ingestLock } from '../dialect.js';
import type { Querier } from '../sql.js';
import { conditions } from '../where.js';

/** A rollup bucket's length: a quarter hour. */
export const ROLLUP_BUCKET_MS = 900_000;

export interface RollupFilter {
  clientId?: number;
  /** Inclusive. */
  start?: Date;
  /** Exclusive. */
  end?: Date;
}

export type RollupKey = 'bucket' | 'role' | 'status';

export interface RollupCount {
  clientId: number;
  /** Start of the quarter hour, epoch ms (0 when not grouped by bucket). */
  at: number;
  role: Role | null;
  /** The messages' latest status, null for none (or when not grouped by status). */
  status: string | null;
  n: number;
}

export interface RollupCheck {
  /** Rollup rows that agree with messages. */
  matching: number;
  /** (client, bucket, role, status) whose count differs: the rollup's and the exact one. */
  differences: { clientId: number; at: number; role: string; status: string | null; rollup: number; exact: number }[];
}

export class RollupsRepository {
  constructor(private readonly q: Querier) {}

  /**
   * Counts grouped by client and the keys asked for, over the filter's range. A key can appear more
   * than once (a partial quarter hour at an edge and whole ones): add the counts up.
   */
  async counts(filter: RollupFilter, by: readonly RollupKey[]): Promise<RollupCount[]> {
    const start = filter.start?.getTime();
    const end = filter.end?.getTime();
    // Whole quarter hours: [first, last) in bucket numbers.
    const first = start === undefined ? undefined : Math.ceil(start / ROLLUP_BUCKET_MS);
    const last = end === undefined ? undefined : Math.floor(end / ROLLUP_BUCKET_MS);
    const parts: Promise<RollupCount[]>[] = [];
    if (first !== undefined && last !== undefined && first >= last) {
      parts.push(this.exact(filter, by));
    } else {
      parts.push(this.fromRollups(filter.clientId, first, last, by));
      if (start !== undefined && start % ROLLUP_BUCKET_MS !== 0) {
        parts.push(this.exact({ ...filter, end: new Date((first as number) * ROLLUP_BUCKET_MS) }, by));
      }
      if (end !== undefined && end % ROLLUP_BUCKET_MS !== 0) {
        parts.push(this.exact({ ...filter, start: new Date((last as number) * ROLLUP_BUCKET_MS) }, by));
      }
    }
    // The same key may come from the rollups and an edge: callers add counts up, so no merge.
    return (await Promise.all(parts)).flat().filter((r) => r.n !== 0);
  }

  /**
   * Recounts every rollup from messages, in one transaction (PostgreSQL: with ingest paused by the
   * exclusive ingest lock, so no batch commits between the two statements). Returns the rows written.
   */
  async rebuild(): Promise<number> {
    return this.q.transaction(
      async (tx) => {
        await tx.run('DELETE FROM message_rollups');
        return tx.run(
          `INSERT INTO message_rollups (client_id, bucket, role, status, n)
         SELECT client_id, ${this.bucketOf('created_at')}, role, COALESCE(status, ''), COUNT(*) FROM messages
         GROUP BY client_id, ${this.bucketOf('created_at')}, role, COALESCE(status, '')`,
        );
      },
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }

  /** Compares every rollup with an exact count of messages (reads everything: for checks and tests). */
  async check(): Promise<RollupCheck> {
    return this.q.transaction(
      async (tx) => {
        const bucket = this.bucketOf('created_at');
        const exact = await tx.all(
          `SELECT client_id, ${bucket} AS bucket, role, COALESCE(status, '') AS status, COUNT(*) AS n
           FROM messages GROUP BY client_id, ${bucket}, role, COALESCE(status, '')`,
        );
        const rollups = await tx.all('SELECT client_id, bucket, role, status, n FROM message_rollups WHERE n <> 0');
        const key = (r: Record<string, unknown>) => `${r.client_id}|${r.bucket}|${r.role}|${r.status}`;
        const want = new Map(exact.map((r) => [key(r), r]));
        const differences: RollupCheck['differences'] = [];
        let matching = 0;
        const describe = (r: Record<string, unknown>, rollup: number, exactN: number) => ({
          clientId: Number(r.client_id),
          at: Number(r.bucket) * ROLLUP_BUCKET_MS,
          role: String(r.role),
          status: r.status === '' ? null : String(r.status),
          rollup,
          exact: exactN,
        });
        for (const r of rollups) {
          const e = want.get(key(r));
          want.delete(key(r));
          const exactN = Number(e?.n ?? 0);
          if (exactN === Number(r.n)) matching++;
          else differences.push(describe(r, Number(r.n), exactN));
        }
        for (const e of want.values()) differences.push(describe(e, 0, Number(e.n)));
        return { matching, differences };
      },
      ingestLock(this.q.dialect, 'exclusive'),
    );
  }

  private bucketOf(column: string): string {
    return this.q.dialect === 'sqlite'
      ? epochBucket('sqlite', column, 900)
      : `${epochBucket('postgres', column, 900)}::bigint`;
  }

  private async fromRollups(
    clientId: number | undefined,
    first: number | undefined,
    last: number | undefined,
    by: readonly RollupKey[],
  ): Promise<RollupCount[]> {
    const { where, params } = conditions([
      ['client_id = ?', clientId],
      ['bucket >= ?', first],
      ['bucket < ?', last],
    ]);
    const keys = by.map((k) => k);
    // Grouped by the whole key, rows are the table's own rows: no GROUP BY to sort them.
    const whole = (['bucket', 'role', 'status'] as const).every((k) => by.includes(k));
    const rows = await this.q.all(
      whole
        ? `SELECT client_id, bucket, role, status, n FROM message_rollups ${where}`
        : `SELECT client_id${keys.map((k) => `, ${k}`).join('')}, SUM(n) AS n FROM message_rollups ${where}
           GROUP BY client_id${keys.map((k) => `, ${k}`).join('')}`,
      params,
    );
    return rows.map((r) => toCount(r, by));
  }

  private async exact(filter: RollupFilter, by: readonly RollupKey[]): Promise<RollupCount[]> {
    const { where, params } = conditions([
      ['client_id = ?', filter.clientId],
      ['created_at >= ?', filter.start],
      ['created_at < ?', filter.end],
    ]);
    const column = { bucket: this.bucketOf('created_at'), role: 'role', status: "COALESCE(status, '')" };
    const keys = by.map((k) => column[k]);
    const rows = await this.q.all(
      `SELECT client_id${by.map((k) => `, ${column[k]} AS ${k}`).join('')}, COUNT(*) AS n FROM messages ${where}
       GROUP BY client_id${keys.map((k) => `, ${k}`).join('')}`,
      params,
    );
    return rows.map((r) => toCount(r, by));
  }
}

function toCount(r: Record<string, unknown>, by: readonly RollupKey[]): RollupCount {
  return {
    clientId: Number(r.client_id),
    at: by.includes('bucket') ? Number(r.bucket) * ROLLUP_BUCKET_MS : 0,
    role: by.includes('role') ? (r.role as Role) : null,
    status: by.includes('status') && r.status !== '' && r.status !== null ? String(r.status) : null,
    n: Number(r.n),
  };
}
