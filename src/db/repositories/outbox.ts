// The transactional outbox: an event is written in the transaction of the change that causes it,
// with one delivery row per endpoint that receives it, so there is never an event for a change
// that did not commit nor a committed change without its event. The delivery worker
// (events/worker.ts) sends them; webhooks.ts holds the endpoints and the deliveries' progress.
//
// Nothing is written when no enabled endpoint receives an event: the outbox costs ingest one read
// of the endpoints per transaction until someone subscribes.
import { eventUid, orderingKey, withoutContent, type NewEvent } from '../../domain/events.js';
import { subscribes, type EndpointFilter } from '../../domain/webhooks.js';
import { bind } from '../dialect.js';
import type { Querier } from '../sql.js';

/**
 * PostgreSQL: a transaction's events and their deliveries in one statement ($1–$7 one array per
 * event column, $8–$9 the (event uid, endpoint) pairs, $10 the time). An event already written
 * (same uid: the same change seen again) is skipped with its deliveries.
 */
const EMIT_SQL = `WITH v AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::timestamptz[])
    WITH ORDINALITY AS v(uid, type, client_id, thread_id, ordering_key, payload, occurred_at, ord)
), ev AS (
  INSERT INTO events (uid, type, client_id, thread_id, ordering_key, payload, occurred_at, created_at)
  SELECT uid, type, client_id, thread_id, ordering_key, payload, occurred_at, $10 FROM v ORDER BY ord
  ON CONFLICT (uid) DO NOTHING
  RETURNING id, uid, ordering_key
)
INSERT INTO webhook_deliveries (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
SELECT ev.id, d.endpoint_id, ev.ordering_key, 'pending', 0, $10, $10
FROM unnest($8::text[], $9::int[]) AS d(uid, endpoint_id) JOIN ev ON ev.uid = d.uid
ORDER BY ev.id, d.endpoint_id
RETURNING id`;

export class Outbox {
  private readonly listeners = new Set<() => void>();

  /** `fn` runs after each commit that wrote deliveries (the worker wakes up). Returns an unsubscribe. */
  onWritten(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Writes `events` in the transaction `tx` for every enabled endpoint that receives them (an
   * event with endpointId: that endpoint only). Returns how many deliveries were queued.
   */
  async emit(tx: Querier, events: NewEvent[], now = new Date()): Promise<number> {
    if (events.length === 0) return 0;
    const endpoints = await enabledEndpoints(tx, events);
    if (endpoints.length === 0) return 0;
    const rows: { uid: string; e: NewEvent; payload: string; endpoints: number[] }[] = [];
    for (const e of events) {
      const to = endpoints.filter((p) =>
        e.endpointId !== undefined ? p.id === e.endpointId : subscribes(p, e.type, e.clientId),
      );
      if (to.length === 0) continue;
      // Content is stored only when an endpoint that receives the event was created to get it.
      const data = to.some((p) => p.includeContent) ? e.data : withoutContent(e.data);
      rows.push({ uid: eventUid(e), e, payload: tx.keys.seal(JSON.stringify(data)), endpoints: to.map((p) => p.id) });
    }
    if (rows.length === 0) return 0;
    const queued = tx.dialect === 'postgres' ? await emitPostgres(tx, rows, now) : await emitSqlite(tx, rows, now);
    if (queued > 0) tx.afterCommit(() => this.listeners.forEach((fn) => fn()));
    return queued;
  }
}

async function enabledEndpoints(tx: Querier, events: NewEvent[]): Promise<EndpointFilter[]> {
  const direct = events.flatMap((e) => (e.endpointId !== undefined ? [e.endpointId] : []));
  const rows = await tx.all(
    `SELECT id, events, client_id, include_content FROM webhook_endpoints
     WHERE disabled_at IS NULL${direct.length ? ` OR id IN (${direct.map(() => '?').join(', ')})` : ''}`,
    direct,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    events: String(r.events),
    clientId: r.client_id === null ? null : Number(r.client_id),
    includeContent: Boolean(r.include_content),
  }));
}

type EmitRow = { uid: string; e: NewEvent; payload: string; endpoints: number[] };

async function emitSqlite(tx: Querier, rows: EmitRow[], now: Date): Promise<number> {
  let queued = 0;
  for (const r of rows) {
    const [ev] = await tx.all<{ id: unknown }>(
      `INSERT INTO events (uid, type, client_id, thread_id, ordering_key, payload, occurred_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING RETURNING id`,
      [r.uid, r.e.type, r.e.clientId, r.e.threadId, orderingKey(r.e), r.payload, r.e.occurredAt, now],
    );
    if (!ev) continue;
    for (const endpointId of r.endpoints) {
      await tx.run(
        `INSERT INTO webhook_deliveries
           (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
        [Number(ev.id), endpointId, orderingKey(r.e), now, now],
      );
      queued++;
    }
  }
  return queued;
}

async function emitPostgres(tx: Querier, rows: EmitRow[], now: Date): Promise<number> {
  const col = (f: (r: EmitRow) => unknown) => rows.map((r) => bind('postgres', f(r)));
  const pairs = rows.flatMap((r) => r.endpoints.map((id) => [r.uid, id] as const));
  const result = await tx.all(
    EMIT_SQL,
    [
      col((r) => r.uid),
      col((r) => r.e.type),
      col((r) => r.e.clientId),
      col((r) => r.e.threadId),
      col((r) => orderingKey(r.e)),
      col((r) => r.payload),
      col((r) => r.e.occurredAt),
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
      now,
    ],
    'wa_report_emit_events_v1',
  );
  return result.length;
}
