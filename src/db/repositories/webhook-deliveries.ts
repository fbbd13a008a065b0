// The progress of each event delivery: claimed with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so
// several daemons deliver each event once between them), its attempts logged, retried on a
// schedule, dead-lettered, redelivered by hand.
//
// Order: of the deliveries to one endpoint with the same ordering key (one conversation thread),
// only the earliest is 'pending' (or 'delivering'); the later ones are 'waiting' and the next is
// promoted when it finishes. So a later event waits while an earlier one is retried, other
// threads do not wait, and claiming reads only what may be sent (an index of pending rows), never
// a backlog of blocked ones. `repair` (the daemon runs it every few seconds) frees leases of dead
// daemons and promotes a waiting delivery left without a head by a race between two daemons.
import { judge, nextAttemptAt, DISABLE_AFTER_FAILING_MS, type Verdict } from '../../domain/webhooks.js';
import { eventUid, type NewEvent } from '../../domain/events.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { bind } from '../dialect.js';
import { toDate, toDateOrNull } from '../rows.js';
import type { Querier } from '../sql.js';
import { UNFINISHED, type Outbox } from './outbox.js';

export type DeliveryState = 'waiting' | 'pending' | 'delivering' | 'delivered' | 'failed' | 'cancelled';

export interface AttemptRecord {
  attemptedAt: Date;
  httpStatus: number | null;
  error: string | null;
  latencyMs: number;
  response: string | null;
}

export interface DeliveryRecord {
  id: number;
  endpointId: number;
  eventId: number;
  webhookId: string;
  type: string;
  occurredAt: Date;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  attemptLog: AttemptRecord[];
}

/** A delivery claimed for sending: everything the sender needs. */
export interface ClaimedDelivery {
  id: number;
  attempts: number;
  orderingKey: string;
  webhookId: string;
  type: string;
  occurredAt: Date;
  /** The event's data as JSON text; null once erased. */
  data: string | null;
  endpointId: number;
  url: string;
  includeContent: boolean;
  allowHttp: boolean;
  /** The secrets that sign: the current one, and the previous one during a rotation. */
  secrets: string[];
}

/** What one attempt came to. */
export interface AttemptResult {
  status: number | null;
  error: string | null;
  latencyMs: number;
  response: string | null;
  retryAfter: string | null;
  at: Date;
  /** Not to be tried again whatever the answer (the event's data is gone). */
  final?: boolean;
}

export interface Recorded {
  verdict: Verdict;
  /** The delivery's new state; null when the lease was lost (another daemon took it over). */
  state: DeliveryState | null;
  /** Why its endpoint was disabled by this attempt, if it was. */
  endpointDisabled: string | null;
}

export interface DeliveryPolicy {
  /** Delays between attempts (WA_REPORT_WEBHOOK_RETRY). */
  retrySchedule: readonly number[];
  /** How long a claim holds before another daemon may take the delivery over. */
  leaseMs: number;
}

const CLAIM_COLUMNS = `d.id, d.attempts, d.ordering_key, ev.uid, ev.type, ev.occurred_at, ev.payload,
  e.id AS endpoint_id,
  e.url, e.include_content, e.allow_http, e.secret, e.previous_secret, e.previous_secret_until`;

/** PostgreSQL: a batch's outcomes in one statement each ($1… one array per column). */
const RECORD_ATTEMPTS_SQL = `INSERT INTO webhook_attempts
    (delivery_id, attempted_at, http_status, error, latency_ms, response)
  SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::text[], $5::int[], $6::text[])`;
const RECORD_DELIVERIES_SQL = `UPDATE webhook_deliveries d SET state = v.state,
    next_attempt_at = COALESCE(v.next_attempt_at, d.next_attempt_at), lease_owner = NULL, lease_until = NULL,
    last_status = v.last_status, last_error = v.last_error, delivered_at = v.delivered_at
  FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::timestamptz[])
    AS v(id, state, next_attempt_at, last_status, last_error, delivered_at)
  WHERE d.id = v.id AND d.state = 'delivering' AND d.lease_owner = $7
  RETURNING d.id`;
const PROMOTE_SQL = `UPDATE webhook_deliveries SET state = 'pending'
  WHERE id IN (SELECT (SELECT w.id FROM webhook_deliveries w
                       WHERE w.endpoint_id = v.endpoint_id AND w.ordering_key = v.ordering_key
                         AND w.state IN ${UNFINISHED} AND w.state = 'waiting' ORDER BY w.event_id, w.id LIMIT 1)
               FROM unnest($1::int[], $2::text[]) AS v(endpoint_id, ordering_key))`;

export class DeliveriesRepository {
  constructor(
    private readonly q: Querier,
    private readonly outbox: Outbox,
  ) {}

  /** Writes one event through the outbox in its own transaction; returns its webhook-id. */
  async queueEvent(event: NewEvent): Promise<string> {
    await this.queueEvents([event]);
    return eventUid(event);
  }

  /** Writes events through the outbox in one transaction; returns how many deliveries were queued. */
  queueEvents(events: NewEvent[]): Promise<number> {
    return this.q.transaction((tx) => this.outbox.emit(tx, events));
  }

  /**
   * Claims up to `limit` deliveries due now for `owner`, for `policy.leaseMs`; each claim counts as
   * an attempt. Only heads of their thread are pending, so every row read is one that may be sent.
   */
  async claim(
    owner: string,
    limit: number,
    policy: DeliveryPolicy,
    now = new Date(),
    dueBefore = now,
  ): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return this.q.transaction(async (tx) => {
      const lock = tx.dialect === 'postgres' ? 'FOR UPDATE OF d SKIP LOCKED' : '';
      const claimed = await tx.all<{ id: unknown }>(
        `UPDATE webhook_deliveries SET state = 'delivering', lease_owner = ?, lease_until = ?, attempts = attempts + 1
         WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                      WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND e.disabled_at IS NULL
                      ORDER BY d.next_attempt_at LIMIT ? ${lock})
         RETURNING id`,
        [owner, new Date(now.getTime() + policy.leaseMs), dueBefore, limit],
      );
      if (claimed.length === 0) return [];
      return this.claimed(
        tx,
        claimed.map((r) => Number(r.id)),
        now,
      );
    });
  }

  /** Whether any delivery is due by `dueBefore` (a read: no transaction, no lock). */
  async anyDue(dueBefore: Date): Promise<boolean> {
    const [row] = await this.q.all(
      `SELECT 1 AS x FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? LIMIT 1`,
      [dueBefore],
    );
    return row !== undefined;
  }

  /** Claims one given delivery now (`webhooks test` and `redeliver`); null if it is not pending. */
  async claimOne(id: number, owner: string, policy: DeliveryPolicy, now = new Date()): Promise<ClaimedDelivery | null> {
    return this.q.transaction(async (tx) => {
      const n = await tx.run(
        `UPDATE webhook_deliveries SET state = 'delivering', lease_owner = ?, lease_until = ?, attempts = attempts + 1
         WHERE id = ? AND state = 'pending'`,
        [owner, new Date(now.getTime() + policy.leaseMs), id],
      );
      return n ? ((await this.claimed(tx, [id], now))[0] ?? null) : null;
    });
  }

  private async claimed(tx: Querier, ids: number[], now: Date): Promise<ClaimedDelivery[]> {
    const rows = await tx.all(
      `SELECT ${CLAIM_COLUMNS}
       FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.id IN (${ids.map(() => '?').join(', ')}) ORDER BY d.id`,
      ids,
    );
    return rows.map((r) => {
      const what = () => `The secret of webhook endpoint ${Number(r.endpoint_id)}`;
      const secrets = [tx.keys.open(String(r.secret), what)];
      const until = toDateOrNull(r.previous_secret_until);
      if (r.previous_secret && until && until > now) secrets.push(tx.keys.open(String(r.previous_secret), what));
      return {
        id: Number(r.id),
        attempts: Number(r.attempts),
        orderingKey: String(r.ordering_key),
        webhookId: String(r.uid),
        type: String(r.type),
        occurredAt: toDate(r.occurred_at),
        data: tx.keys.open((r.payload as string | null) ?? null, () => `The payload of event ${String(r.uid)}`),
        endpointId: Number(r.endpoint_id),
        url: String(r.url),
        includeContent: Boolean(r.include_content),
        allowHttp: Boolean(r.allow_http),
        secrets,
      };
    });
  }

  /**
   * Logs attempts and moves their deliveries on, in one transaction: delivered, pending again (a
   * retry), or failed (the schedule is spent, or the receiver refused it); a finished delivery
   * lets the next of its thread go. Each endpoint's failure streak is kept: a 410 disables it, as
   * do 5 days of failures. A delivery whose lease was lost (another daemon took it over) only gets
   * its attempt logged.
   */
  async record(
    outcomes: {
      delivery: Pick<ClaimedDelivery, 'id' | 'attempts' | 'endpointId' | 'orderingKey'>;
      result: AttemptResult;
    }[],
    owner: string,
    policy: DeliveryPolicy,
  ): Promise<Recorded[]> {
    if (outcomes.length === 0) return [];
    const planned = outcomes.map(({ delivery, result }) => {
      const verdict: Verdict = result.final
        ? { outcome: 'rejected' }
        : judge(result.status, result.retryAfter, result.at);
      let state: DeliveryState;
      let next: Date | null = null;
      if (verdict.outcome === 'delivered') state = 'delivered';
      else if (verdict.outcome === 'retry') {
        next = nextAttemptAt(delivery.attempts, policy.retrySchedule, verdict.retryAfterMs, result.at);
        state = next ? 'pending' : 'failed';
      } else state = 'failed';
      const lastError =
        result.error ?? (result.status !== null && state !== 'delivered' ? `HTTP ${result.status}` : null);
      return { delivery, result, verdict, state, next, lastError };
    });
    return this.q.transaction(async (tx) => {
      const pg = tx.dialect === 'postgres';
      const col = <T>(f: (p: (typeof planned)[number]) => T) => planned.map((p) => bind(tx.dialect, f(p)));
      // The attempt log.
      if (pg) {
        await tx.all(
          RECORD_ATTEMPTS_SQL,
          [
            col((p) => p.delivery.id),
            col((p) => p.result.at),
            col((p) => p.result.status),
            col((p) => p.result.error),
            col((p) => Math.round(p.result.latencyMs)),
            col((p) => p.result.response),
          ],
          'wa_report_record_attempts_v1',
        );
      } else {
        for (const p of planned) {
          await tx.run(
            `INSERT INTO webhook_attempts (delivery_id, attempted_at, http_status, error, latency_ms, response)
             VALUES (?, ?, ?, ?, ?, ?)`,
            [
              p.delivery.id,
              p.result.at,
              p.result.status,
              p.result.error,
              Math.round(p.result.latencyMs),
              p.result.response,
            ],
          );
        }
      }
      // The deliveries, if still ours.
      let moved: Set<number>;
      if (pg) {
        const rows = await tx.all<{ id: unknown }>(
          RECORD_DELIVERIES_SQL,
          [
            col((p) => p.delivery.id),
            col((p) => p.state),
            col((p) => p.next),
            col((p) => p.result.status),
            col((p) => p.lastError),
            col((p) => (p.state === 'delivered' ? p.result.at : null)),
            owner,
          ],
          'wa_report_record_deliveries_v1',
        );
        moved = new Set(rows.map((r) => Number(r.id)));
      } else {
        moved = new Set();
        for (const p of planned) {
          const n = await tx.run(
            `UPDATE webhook_deliveries SET state = ?, next_attempt_at = COALESCE(?, next_attempt_at),
               lease_owner = NULL, lease_until = NULL, last_status = ?, last_error = ?, delivered_at = ?
             WHERE id = ? AND state = 'delivering' AND lease_owner = ?`,
            [
              p.state,
              p.next,
              p.result.status,
              p.lastError,
              p.state === 'delivered' ? p.result.at : null,
              p.delivery.id,
              owner,
            ],
          );
          if (n) moved.add(p.delivery.id);
        }
      }
      // The next delivery of each finished one's thread may go.
      const finished = planned.filter((p) => moved.has(p.delivery.id) && p.state !== 'pending');
      await promote(
        tx,
        finished.map((p) => p.delivery),
      );
      // Each endpoint's failure streak.
      const disabled = new Map<number, string>();
      for (const endpointId of new Set(
        planned.filter((p) => moved.has(p.delivery.id)).map((p) => p.delivery.endpointId),
      )) {
        const mine = planned.filter((p) => moved.has(p.delivery.id) && p.delivery.endpointId === endpointId);
        const reason = await streak(tx, endpointId, mine);
        if (reason) disabled.set(endpointId, reason);
      }
      return planned.map((p) => ({
        verdict: p.verdict,
        state: moved.has(p.delivery.id) ? p.state : null,
        endpointDisabled: moved.has(p.delivery.id) ? (disabled.get(p.delivery.endpointId) ?? null) : null,
      }));
    });
  }

  /** Deliveries newest first, with their attempts: of one endpoint, and only dead-lettered ones if asked. */
  async list(filter: {
    endpointId?: number;
    failed?: boolean;
    limit?: number;
    id?: number;
  }): Promise<DeliveryRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.id !== undefined) {
      where.push('d.id = ?');
      params.push(filter.id);
    }
    if (filter.endpointId !== undefined) {
      where.push('d.endpoint_id = ?');
      params.push(filter.endpointId);
    }
    if (filter.failed) where.push(`d.state = 'failed'`);
    const rows = await this.q.all(
      `SELECT d.id, d.endpoint_id, d.event_id, ev.uid, ev.type, ev.occurred_at, d.state, d.attempts, d.next_attempt_at,
              d.last_status, d.last_error, d.created_at, d.delivered_at
       FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT ?`,
      [...params, filter.limit ?? 50],
    );
    const list: DeliveryRecord[] = rows.map((r) => ({
      id: Number(r.id),
      endpointId: Number(r.endpoint_id),
      eventId: Number(r.event_id),
      webhookId: String(r.uid),
      type: String(r.type),
      occurredAt: toDate(r.occurred_at),
      state: r.state as DeliveryState,
      attempts: Number(r.attempts),
      nextAttemptAt: r.state === 'pending' ? toDateOrNull(r.next_attempt_at) : null,
      lastStatus: r.last_status === null ? null : Number(r.last_status),
      lastError: (r.last_error as string | null) ?? null,
      createdAt: toDate(r.created_at),
      deliveredAt: toDateOrNull(r.delivered_at),
      attemptLog: [],
    }));
    if (list.length) {
      const byId = new Map(list.map((d) => [d.id, d]));
      const attempts = await this.q.all(
        `SELECT delivery_id, attempted_at, http_status, error, latency_ms, response FROM webhook_attempts
         WHERE delivery_id IN (${list.map(() => '?').join(', ')}) ORDER BY attempted_at, id`,
        list.map((d) => d.id),
      );
      for (const a of attempts) {
        byId.get(Number(a.delivery_id))?.attemptLog.push({
          attemptedAt: toDate(a.attempted_at),
          httpStatus: a.http_status === null ? null : Number(a.http_status),
          error: (a.error as string | null) ?? null,
          latencyMs: Number(a.latency_ms),
          response: (a.response as string | null) ?? null,
        });
      }
    }
    return list;
  }

  /** One delivery with its attempts. */
  async get(id: number): Promise<DeliveryRecord> {
    const [d] = await this.list({ id });
    if (!d) throw new NotFoundError(`No delivery with id ${id}. Run \`wa-report webhooks deliveries\` to see them.`);
    return d;
  }

  /** The same event to the same endpoint again (same webhook-id), as a new delivery; its id. */
  async redeliver(deliveryId: number, now = new Date()): Promise<number> {
    return this.q.transaction(async (tx) => {
      const [d] = await tx.all(
        `SELECT d.event_id, d.endpoint_id, d.ordering_key, d.state, ev.payload FROM webhook_deliveries d
         JOIN events ev ON ev.id = d.event_id WHERE d.id = ?`,
        [deliveryId],
      );
      if (!d) {
        throw new NotFoundError(
          `No delivery with id ${deliveryId}. Run \`wa-report webhooks deliveries\` to see them.`,
        );
      }
      if (d.payload === null) {
        throw new UsageError(
          `Delivery ${deliveryId} cannot be sent again: its event's data was erased with its contact.`,
        );
      }
      if (['waiting', 'pending', 'delivering'].includes(String(d.state))) {
        throw new UsageError(`Delivery ${deliveryId} is still ${String(d.state)}; it is sent without being asked.`);
      }
      // Behind what its thread still has to send to that endpoint, if anything.
      const [busy] = await tx.all(
        `SELECT 1 AS x FROM webhook_deliveries WHERE endpoint_id = ? AND ordering_key = ? AND state IN ${UNFINISHED}
         LIMIT 1`,
        [d.endpoint_id, d.ordering_key],
      );
      const [row] = await tx.all<{ id: unknown }>(
        `INSERT INTO webhook_deliveries
           (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id`,
        [d.event_id, d.endpoint_id, d.ordering_key, busy ? 'waiting' : 'pending', now, now],
      );
      return Number(row?.id);
    });
  }

  /** The delivery of an event to an endpoint (for `webhooks test`, which writes the event). */
  async deliveryOf(webhookId: string, endpointId: number): Promise<number | null> {
    const [row] = await this.q.all<{ id: unknown }>(
      `SELECT d.id FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id
       WHERE ev.uid = ? AND d.endpoint_id = ? ORDER BY d.id DESC LIMIT 1`,
      [webhookId, endpointId],
    );
    return row ? Number(row.id) : null;
  }

  /**
   * The outbox's depth (deliveries still to be sent to enabled endpoints), the age of the oldest,
   * and the oldest that is due and not being sent (a stuck worker shows there).
   */
  async health(now = new Date()): Promise<{ depth: number; oldestAt: Date | null; oldestDueAt: Date | null }> {
    const [a] = await this.q.all<{ n: unknown; oldest: unknown }>(
      `SELECT count(*) AS n, MIN(d.created_at) AS oldest FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.state IN ${UNFINISHED} AND e.disabled_at IS NULL`,
    );
    const [b] = await this.q.all<{ oldest: unknown }>(
      `SELECT MIN(d.next_attempt_at) AS oldest FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND e.disabled_at IS NULL`,
      [now],
    );
    return { depth: Number(a?.n ?? 0), oldestAt: toDateOrNull(a?.oldest), oldestDueAt: toDateOrNull(b?.oldest) };
  }

  /**
   * Frees the claims of daemons that died: their lease ran out (`all`: every claim, at the start of
   * the only daemon on SQLite). Cheap (an index of the claims held); returns how many it freed.
   */
  async expireLeases(now = new Date(), options: { all?: boolean } = {}): Promise<number> {
    return this.q.run(
      `UPDATE webhook_deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL
       WHERE state = 'delivering'${options.all ? '' : ' AND lease_until <= ?'}`,
      options.all ? [] : [now],
    );
  }

  /**
   * Gives every thread without a delivery in progress to an enabled endpoint its next one: after an
   * endpoint is enabled, at start, and now and then for a promotion lost in a race between two
   * daemons on PostgreSQL. Reads every waiting delivery: not for every commit.
   */
  async repair(): Promise<number> {
    return this.q.transaction(async (tx) => {
      const promoted = await tx.run(
        `UPDATE webhook_deliveries SET state = 'pending'
         WHERE id IN (
           SELECT w.id FROM webhook_deliveries w JOIN webhook_endpoints e ON e.id = w.endpoint_id
           WHERE w.state IN ${UNFINISHED} AND w.state = 'waiting' AND e.disabled_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries a WHERE a.endpoint_id = w.endpoint_id
                             AND a.ordering_key = w.ordering_key AND a.state IN ${UNFINISHED} AND a.state <> 'waiting')
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries b WHERE b.endpoint_id = w.endpoint_id
                             AND b.ordering_key = w.ordering_key AND b.state IN ${UNFINISHED} AND b.state = 'waiting'
                             AND (b.event_id < w.event_id OR (b.event_id = w.event_id AND b.id < w.id))))`,
      );
      return promoted;
    });
  }

  /**
   * Deletes events older than `before` that nothing is still to be delivered for (with their
   * deliveries and attempt log): the outbox is a queue, not an archive. Returns events deleted.
   */
  async prune(before: Date): Promise<number> {
    // Ids grow with time: the old events are those below the first recent one (found by reading
    // from the oldest, so the cost is that of what is deleted; no index on created_at to keep up).
    return this.q.run(
      `DELETE FROM events
       WHERE id < COALESCE((SELECT id FROM events WHERE created_at >= ? ORDER BY id LIMIT 1),
                           (SELECT MAX(id) + 1 FROM events))
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = events.id AND d.state IN ${UNFINISHED})`,
      [before],
    );
  }
}

/** Makes the next waiting delivery of each (endpoint, thread) pending. */
async function promote(tx: Querier, finished: Pick<ClaimedDelivery, 'endpointId' | 'orderingKey'>[]): Promise<void> {
  const keys = [...new Map(finished.map((f) => [`${f.endpointId}\u0000${f.orderingKey}`, f])).values()];
  if (keys.length === 0) return;
  if (tx.dialect === 'postgres') {
    await tx.all(PROMOTE_SQL, [keys.map((k) => k.endpointId), keys.map((k) => k.orderingKey)], 'wa_report_promote_v1');
    return;
  }
  for (const k of keys) {
    await tx.run(
      `UPDATE webhook_deliveries SET state = 'pending'
       WHERE id = (SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND ordering_key = ?
                     AND state IN ${UNFINISHED} AND state = 'waiting' ORDER BY event_id, id LIMIT 1)`,
      [k.endpointId, k.orderingKey],
    );
  }
}

/** Keeps an endpoint's failure streak after a batch of its attempts; returns why it was disabled, if it was. */
async function streak(
  tx: Querier,
  endpointId: number,
  mine: { verdict: Verdict; result: AttemptResult }[],
): Promise<string | null> {
  const now = mine.reduce((a, p) => (p.result.at > a ? p.result.at : a), new Date(0));
  if (mine.some((p) => p.verdict.outcome === 'delivered')) {
    await tx.run('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL', [
      endpointId,
    ]);
    return null;
  }
  await tx.run('UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL', [
    now,
    endpointId,
  ]);
  const [e] = await tx.all<{ failing_since: unknown }>(
    'SELECT failing_since FROM webhook_endpoints WHERE id = ? AND disabled_at IS NULL',
    [endpointId],
  );
  if (!e) return null;
  let reason: string | null = null;
  if (mine.some((p) => p.verdict.outcome === 'gone')) reason = `the receiver answered 410 Gone at ${now.toISOString()}`;
  else if (now.getTime() - toDate(e.failing_since).getTime() >= DISABLE_AFTER_FAILING_MS) {
    reason = `every delivery failed since ${toDate(e.failing_since).toISOString()} (5 days)`;
  }
  if (reason) {
    await tx.run('UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ?', [
      now,
      reason,
      endpointId,
    ]);
    await pauseDeliveries(tx, endpointId);
  }
  return reason;
}

/** A disabled endpoint's deliveries wait (claims never read them); `repair` lets them go once it is enabled. */
export async function pauseDeliveries(tx: Querier, endpointId: number): Promise<void> {
  await tx.run(`UPDATE webhook_deliveries SET state = 'waiting' WHERE endpoint_id = ? AND state = 'pending'`, [
    endpointId,
  ]);
}
