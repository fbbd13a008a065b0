// Jobs only one daemon may do at a time on a database, each held with a lease its holder renews
// (on SQLite: answering users; PostgreSQL shares that work through pending_replies instead).
import { toDate } from '../rows.js';
import type { Querier } from '../sql.js';

export interface RoleHolder {
  owner: string;
  leaseUntil: Date;
  startedAt: Date;
}

export class DaemonRolesRepository {
  constructor(private readonly q: Querier) {}

  /**
   * Takes `role` for `owner` until now + `leaseMs` when nobody holds it, its lease ran out, or
   * `isDead` says its holder is gone. Returns null when taken, else the live holder.
   */
  async acquire(
    role: string,
    owner: string,
    leaseMs: number,
    isDead: (holder: string) => boolean,
    now = new Date(),
  ): Promise<RoleHolder | null> {
    return this.q.transaction(async (tx) => {
      const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
      const [row] = await tx.all<{ owner: string; lease_until: unknown; started_at: unknown }>(
        `SELECT owner, lease_until, started_at FROM daemon_roles WHERE role = ?${lock}`,
        [role],
      );
      if (row && row.owner !== owner && toDate(row.lease_until) > now && !isDead(row.owner))
        return { owner: row.owner, leaseUntil: toDate(row.lease_until), startedAt: toDate(row.started_at) };
      await tx.run(
        `INSERT INTO daemon_roles (role, owner, lease_until, started_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until,
           started_at = excluded.started_at`,
        [role, owner, new Date(now.getTime() + leaseMs), now],
      );
      return null;
    });
  }

  /** Extends `owner`'s lease; false when it no longer holds the role. */
  async renew(role: string, owner: string, leaseMs: number, now = new Date()): Promise<boolean> {
    const n = await this.q.run(`UPDATE daemon_roles SET lease_until = ? WHERE role = ? AND owner = ?`, [
      new Date(now.getTime() + leaseMs),
      role,
      owner,
    ]);
    return n > 0;
  }

  /** Gives the role up (a clean stop): the next daemon takes it at once. */
  async release(role: string, owner: string): Promise<void> {
    await this.q.run(`DELETE FROM daemon_roles WHERE role = ? AND owner = ?`, [role, owner]);
  }
}
