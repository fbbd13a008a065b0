// Event webhook endpoints: where events go, which they receive, their signing secret (sealed at
// rest, rotated with a day of overlap), and whether they are enabled. Deliveries are in
// webhook-deliveries.ts.
import { PREVIOUS_SECRET_MS } from '../../domain/webhooks.js';
import { NotFoundError } from '../../errors.js';
import { toDate, toDateOrNull } from '../rows.js';
import type { EncryptionMarker } from '../encryption-marker.js';
import type { Querier, Row } from '../sql.js';
import { pauseDeliveries, type DeliveriesRepository } from './webhook-deliveries.js';

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

export class WebhooksRepository {
  constructor(
    private readonly q: Querier,
    private readonly deliveries: DeliveriesRepository,
    private readonly marker: EncryptionMarker,
  ) {}

  // ---- endpoints ------------------------------------------------------------------------------

  /** Secrets are sealed like content: never in plaintext into a database whose content is encrypted. */
  async create(input: NewEndpoint, now = new Date()): Promise<EndpointRecord> {
    this.marker.assertKeyForWrites();
    const row = await this.q.transaction(async (tx) => {
      await this.marker.noteIn(tx);
      const [created] = await tx.all(
        `INSERT INTO webhook_endpoints (url, events, client_id, include_content, allow_http, secret, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${ENDPOINT_COLUMNS}`,
        [
          input.url,
          input.events,
          input.clientId,
          input.includeContent,
          input.allowHttp,
          tx.keys.seal(input.secret),
          now,
        ],
      );
      return created as Row;
    });
    this.marker.committed();
    return toEndpoint(row);
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
    this.marker.assertKeyForWrites();
    await this.q.transaction(async (tx) => {
      await this.marker.noteIn(tx);
      const [row] = await tx.all<{ secret: string }>('SELECT secret FROM webhook_endpoints WHERE id = ?', [id]);
      if (!row) throw new NotFoundError(`No webhook endpoint with id ${id}. Run \`wa-report webhooks list\`.`);
      await tx.run(
        `UPDATE webhook_endpoints SET secret = ?, previous_secret = ?, previous_secret_until = ? WHERE id = ?`,
        [tx.keys.seal(secret), row.secret, new Date(now.getTime() + PREVIOUS_SECRET_MS), id],
      );
    });
    this.marker.committed();
    return this.get(id);
  }

  /**
   * Enables (clearing why it was disabled and its failure streak: what waited for it goes out) or
   * disables an endpoint (what is queued for it waits).
   */
  async setEnabled(id: number, enabled: boolean, now = new Date()): Promise<EndpointRecord> {
    await this.get(id);
    await this.q.transaction(async (tx) => {
      await tx.run(
        enabled
          ? 'UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL WHERE id = ?'
          : `UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = 'disabled by hand' WHERE id = ?`,
        enabled ? [id] : [now, id],
      );
      if (!enabled) await pauseDeliveries(tx, id);
    });
    if (enabled) await this.deliveries.repair();
    return this.get(id);
  }
}
