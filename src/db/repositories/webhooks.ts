// Event webhook endpoints (secrets sealed at rest) and the progress of each delivery: claimed with
// a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so several daemons deliver each event once between
// them), its attempts logged, retried on a schedule, dead-lettered, redelivered by hand.
//
// Order: a delivery is claimed only when no earlier event with the same ordering key (one
// conversation thread) is still pending or being delivered to that endpoint, so a later event
// waits while an earlier one is retried; other threads do not wait.
import {
  DISABLE_AFTER_FAILING_MS,
  judge,
  nextAttemptAt,
  PREVIOUS_SECRET_MS,
  type Verdict,
} from '../../domain/webhooks.js';
import { eventUid, type NewEvent } from '../../domain/events.js';
import { NotFoundError, UsageError } from '../../errors.js';
import type { Outbox } from './outbox.js';
import { toDate, toDateOrNull } from '../rows.js';
import type { Querier, Row } from '../sql.js';

export interface EndpointRecord {
  id: number;
  url: string;
  events: string;
  clientId: number | null;
  includeContent: boolean;
  allowHttp: boolean;
  createdAt: Date;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  /** Until when the previous secret still signs (after a rotation). */
  previousSecretUntil: Date | null;
}

export interface NewEndpoint {
  url: string;
  events: string;
  clientId: number | null;
  includeContent: boolean;
  allowHttp: boolean;
  secret: string;
}

export type DeliveryState = 'pending' | 'delivering' | 'delivered' | 'failed' | 'cancelled';

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
  webhookId: string;
  type: string;
  occurredAt: Date;
  /** The event's data as JSON text, content left out unless the endpoint receives it; null once erased. */
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

const ENDPOINT_COLUMNS =
  'id, url, events, client_id, include_content, allow_http, created_at, failing_since, disabled_at, disabled_reason, ' +
  'previous_secret_until';

function toEndpoint(r: Row): EndpointRecord {
  return {
    id: Number(r.id),
    url: String(r.url),
    events: String(r.events),
    clientId: r.client_id === null ? null : Number(r.client_id),
    includeContent: Boolean(r.include_content),
    allowHttp: Boolean(r.allow_http),
    createdAt: toDate(r.created_at),
    failingSince: toDateOrNull(r.failing_since),
    disabledAt: toDateOrNull(r.disabled_at),
    disabledReason: (r.disabled_reason as string | null) ?? null,
    previousSecretUntil: toDateOrNull(r.previous_secret_until),
  };
}

/** Deliveries that may be sent now (see the order rule above); `d` and `e` the aliases. */
const CLAIMABLE = `e.disabled_at IS NULL
  AND ((d.state = 'pending' AND d.next_attempt_at <= ?) OR (d.state = 'delivering' AND d.lease_until <= ?))
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                  WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key
                    AND p.event_id < d.event_id AND p.state IN ('pending', 'delivering'))`;

export interface DeliveryPolicy {
  /** Delays between attempts (WA_REPORT_WEBHOOK_RETRY). */
  retrySchedule: readonly number[];
  /** How long a claim holds before another daemon may take the delivery over. */
  leaseMs: number;
}

export class WebhooksRepository {
  constructor(
    private readonly q: Querier,
    private readonly outbox: Outbox,
  ) {}

  /** Writes one event through the outbox in its own transaction; returns its webhook-id. */
  async queueEvent(event: NewEvent): Promise<string> {
    await this.q.transaction((tx) => this.outbox.emit(tx, [event]));
    return eventUid(event);
  }

  // ---- endpoints ------------------------------------------------------------------------------

  async create(input: NewEndpoint, now = new Date()): Promise<EndpointRecord> {
    const [row] = await this.q.all(
      `INSERT INTO webhook_endpoints (url, events, client_id, include_content, allow_http, secret, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${ENDPOINT_COLUMNS}`,
      [
        input.url,
        input.events,
        input.clientId,
        input.includeContent,
        input.allowHttp,
        this.q.keys.seal(input.secret),
        now,
      ],
    );
    return toEndpoint(row as Row);
  }

  async list(): Promise<EndpointRecord[]> {
    return (await this.q.all(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id`)).map(toEndpoint);
  }

  async get(id: number): Promise<EndpointRecord> {
    const [row] = await this.q.all(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?`, [id]);
    if (!row)
      throw new NotFoundError(`No webhook endpoint with id ${id}. Run \`wa-report webhooks list\` to see them.`);
    return toEndpoint(row);
  }

  /** Removes an endpoint with its deliveries and their log. */
  async remove(id: number): Promise<void> {
    await this.get(id);
    await this.q.run('DELETE FROM webhook_endpoints WHERE id = ?', [id]);
  }

  /** A new secret; the previous one keeps signing for 24 hours (receivers accept either meanwhile). */
  async rotateSecret(id: number, secret: string, now = new Date()): Promise<EndpointRecord> {
    return this.q.transaction(async (tx) => {
      const [row] = await tx.all<{ secret: string }>('SELECT secret FROM webhook_endpoints WHERE id = ?', [id]);
      if (!row) throw new NotFoundError(`No webhook endpoint with id ${id}. Run \`wa-report webhooks list\`.`);
      await tx.run(
        `UPDATE webhook_endpoints SET secret = ?, previous_secret = ?, previous_secret_until = ? WHERE id = ?`,
        [tx.keys.seal(secret), row.secret, new Date(now.getTime() + PREVIOUS_SECRET_MS), id],
      );
      return this.get(id);
    });
  }

  /** Enables (clearing why it was disabled and its failure streak) or disables an endpoint. */
  async setEnabled(id: number, enabled: boolean, now = new Date()): Promise<EndpointRecord> {
    await this.get(id);
    await this.q.run(
      enabled
        ? 'UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL WHERE id = ?'
        : `UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = 'disabled by hand' WHERE id = ?`,
      enabled ? [id] : [now, id],
    );
    return this.get(id);
  }

  // ---- deliveries -----------------------------------------------------------------------------

  /**
   * Claims up to `limit` deliveries that may be sent now for `owner`, for `policy.leaseMs`; each
   * claim counts as an attempt. A delivery whose lease ran out (its daemon died) is claimed again.
   */
  async claim(owner: string, limit: number, policy: DeliveryPolicy, now = new Date()): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return this.q.transaction(async (tx) => {
      const lock = tx.dialect === 'postgres' ? 'FOR UPDATE OF d SKIP LOCKED' : '';
      const claimed = await tx.all<{ id: unknown }>(
        `UPDATE webhook_deliveries SET state = 'delivering', lease_owner = ?, lease_until = ?, attempts = attempts + 1
         WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                      WHERE ${CLAIMABLE} ORDER BY d.next_attempt_at, d.id LIMIT ? ${lock})
         RETURNING id`,
        [owner, new Date(now.getTime() + policy.leaseMs), now, now, limit],
      );
      if (claimed.length === 0) return [];
      return this.claimed(
        tx,
        claimed.map((r) => Number(r.id)),
        now,
      );
    });
  }

  /** Claims one given delivery now (the CLI's `webhooks test` and `redeliver`); null if it is not pending. */
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
      `SELECT d.id, d.attempts, ev.uid, ev.type, ev.occurred_at, ev.payload, e.id AS endpoint_id, e.url,
              e.include_content, e.allow_http, e.secret, e.previous_secret, e.previous_secret_until
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
   * Logs an attempt and moves its delivery on: delivered, pending again (retry), failed (the
   * schedule is spent, or the receiver refused it), with the endpoint's failure streak; a 410
   * disables the endpoint, as do 5 days of failures. If the lease was lost meanwhile (another
   * daemon took the delivery over), only the attempt is logged. Returns the verdict and the state.
   */
  async record(
    d: Pick<ClaimedDelivery, 'id' | 'attempts' | 'endpointId'>,
    owner: string,
    result: AttemptResult,
    policy: DeliveryPolicy,
  ): Promise<{ verdict: Verdict; state: DeliveryState | null; endpointDisabled: string | null }> {
    const verdict: Verdict = result.final
      ? { outcome: 'rejected' }
      : judge(result.status, result.retryAfter, result.at);
    const now = result.at;
    return this.q.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO webhook_attempts (delivery_id, attempted_at, http_status, error, latency_ms, response)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [d.id, now, result.status, result.error, Math.round(result.latencyMs), result.response],
      );
      let state: DeliveryState;
      let next: Date | null = null;
      if (verdict.outcome === 'delivered') state = 'delivered';
      else if (verdict.outcome === 'retry') {
        next = nextAttemptAt(d.attempts, policy.retrySchedule, verdict.retryAfterMs, now);
        state = next ? 'pending' : 'failed';
      } else state = 'failed';
      const lastError =
        result.error ?? (result.status !== null && state !== 'delivered' ? `HTTP ${result.status}` : null);
      const moved = await tx.run(
        `UPDATE webhook_deliveries SET state = ?, next_attempt_at = COALESCE(?, next_attempt_at), lease_owner = NULL,
           lease_until = NULL, last_status = ?, last_error = ?, delivered_at = ?
         WHERE id = ? AND state = 'delivering' AND lease_owner = ?`,
        [state, next, result.status, lastError, state === 'delivered' ? now : null, d.id, owner],
      );
      if (!moved) return { verdict, state: null, endpointDisabled: null };
      let endpointDisabled: string | null = null;
      if (verdict.outcome === 'delivered') {
        await tx.run('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL', [
          d.endpointId,
        ]);
      } else {
        await tx.run('UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL', [
          now,
          d.endpointId,
        ]);
        const [e] = await tx.all<{ failing_since: unknown }>(
          'SELECT failing_since FROM webhook_endpoints WHERE id = ? AND disabled_at IS NULL',
          [d.endpointId],
        );
        if (e && verdict.outcome === 'gone') {
          endpointDisabled = `the receiver answered 410 Gone at ${now.toISOString()}`;
        } else if (e && now.getTime() - toDate(e.failing_since).getTime() >= DISABLE_AFTER_FAILING_MS) {
          endpointDisabled = `every delivery failed since ${toDate(e.failing_since).toISOString()} (5 days)`;
        }
        if (endpointDisabled) {
          await tx.run('UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ?', [
            now,
            endpointDisabled,
            d.endpointId,
          ]);
        }
      }
      return { verdict, state, endpointDisabled };
    });
  }

  /** Deliveries newest first, with their attempts: of one endpoint, and only dead-lettered ones if asked. */
  async deliveries(filter: {
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

  /** The same event to the same endpoint again (same webhook-id), as a new pending delivery; its id. */
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
      if (d.state === 'pending' || d.state === 'delivering') {
        throw new UsageError(`Delivery ${deliveryId} is still ${String(d.state)}; it is sent without being asked.`);
      }
      const [row] = await tx.all<{ id: unknown }>(
        `INSERT INTO webhook_deliveries
           (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, 'pending', 0, ?, ?) RETURNING id`,
        [d.event_id, d.endpoint_id, d.ordering_key, now, now],
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

  /** One delivery with its attempts. */
  async delivery(id: number): Promise<DeliveryRecord> {
    const [d] = await this.deliveries({ id });
    if (!d) throw new NotFoundError(`No delivery with id ${id}. Run \`wa-report webhooks deliveries\` to see them.`);
    return d;
  }

  /**
   * The outbox's depth (deliveries pending or being delivered, to enabled endpoints), the age of
   * the oldest, and the oldest that could be sent now but is not (a stuck worker shows there).
   */
  async health(now = new Date()): Promise<{ depth: number; oldestAt: Date | null; oldestClaimableAt: Date | null }> {
    const [a] = await this.q.all<{ n: unknown; oldest: unknown }>(
      `SELECT count(*) AS n, MIN(d.created_at) AS oldest FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.state IN ('pending', 'delivering') AND e.disabled_at IS NULL`,
    );
    const [b] = await this.q.all<{ oldest: unknown }>(
      `SELECT MIN(d.next_attempt_at) AS oldest FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE ${CLAIMABLE}`,
      [now, now],
    );
    return {
      depth: Number(a?.n ?? 0),
      oldestAt: toDateOrNull(a?.oldest),
      oldestClaimableAt: toDateOrNull(b?.oldest),
    };
  }

  /** At the start of the only daemon (SQLite): claims left by a killed process are free again. */
  async releaseLeases(): Promise<number> {
    return this.q.run(
      `UPDATE webhook_deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL
       WHERE state = 'delivering'`,
    );
  }

  /**
   * Deletes events older than `before` that nothing is still to be delivered for (with their
   * deliveries and attempt log): the outbox is a queue, not an archive. Returns events deleted.
   */
  async prune(before: Date): Promise<number> {
    return this.q.run(
      `DELETE FROM events WHERE created_at < ? AND NOT EXISTS (
         SELECT 1 FROM webhook_deliveries d WHERE d.event_id = events.id AND d.state IN ('pending', 'delivering'))`,
      [before],
    );
  }
}
