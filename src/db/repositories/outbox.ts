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
 * States of a delivery still to be sent. Written exactly so in every query that looks them up: the
 * partial index webhook_deliveries_unfinished_idx has this condition, and SQLite uses a partial
 * index only for a query that repeats it.
 */
export const UNFINISHED = `('waiting', 'pending', 'delivering')`;

/**
 * PostgreSQL: a transaction's events and their deliveries in one statement ($1–$7 one array per
 * event column, $8–$9 the (event uid, endpoint) pairs, $10 the time). An event already written
 * (same uid: the same change seen again) is skipped with its deliveries. A delivery is pending
 * when it is the first its thread has to send to that endpoint, waiting otherwise (see
 * webhook-deliveries.ts).
 */
const EMIT_SQL = `WITH v AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::timestamptz[])
    WITH ORDINALITY AS v(uid, type, client_id, thread_id, ordering_key, payload, occurred_at, ord)
), ev AS (
  INSERT INTO events (uid, type, client_id, thread_id, ordering_key, payload, occurred_at, created_at)
  SELECT uid, type, client_id, thread_id, ordering_key, payload, occurred_at, $10 FROM v ORDER BY ord
  ON CONFLICT (uid) DO NOTHING
  RETURNING id, uid, ordering_key
), d AS (
  SELECT ev.id AS event_id, p.endpoint_id, ev.ordering_key,
         row_number() OVER (PARTITION BY p.endpoint_id, ev.ordering_key ORDER BY ev.id) AS nth
  FROM unnest($8::text[], $9::int[]) AS p(uid, endpoint_id) JOIN ev ON ev.uid = p.uid
)
INSERT INTO webhook_deliveries (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
SELECT d.event_id, d.endpoint_id, d.ordering_key,
       -- A scalar subquery with LIMIT: probed per row in the index (NOT EXISTS could be hashed over all).
       CASE WHEN d.nth = 1 AND (
              SELECT 1 FROM webhook_deliveries x WHERE x.endpoint_id = d.endpoint_id
                AND x.ordering_key = d.ordering_key AND x.state IN ${UNFINISHED} LIMIT 1) IS NULL
            THEN 'pending' ELSE 'waiting' END,
       0, $10, $10
FROM d ORDER BY d.event_id, d.endpoint_id
RETURNING id`;

export class Outbox {
  private readonly listeners = new Set<() => void>();

  /** `fn` runs after each commit that wrote deliveries (the worker wakes up). Returns an unsubscribe. */
  onWritten(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Writes events in the transaction `tx` for every enabled endpoint that receives them (an event
   * with endpointId: that endpoint only). Returns how many deliveries were queued. `events` may be
   * a function: it is called only when some endpoint is enabled (most transactions notify no one).
   * `known`: the enabled endpoints as a statement of this transaction already read them.
   */
  async emit(
    tx: Querier,
    given: NewEvent[] | (() => NewEvent[] | Promise<NewEvent[]>),
    now = new Date(),
    known?: EndpointFilter[],
  ): Promise<number> {
    if (Array.isArray(given) && given.length === 0) return 0;
    const direct = Array.isArray(given) && given.some((e) => e.endpointId !== undefined);
    const endpoints = known && !direct ? known : await enabledEndpoints(tx, Array.isArray(given) ? given : []);
    if (endpoints.length === 0) return 0;
    const events = Array.isArray(given) ? given : await given();
    const rows: EmitRow[] = [];
    for (const e of events) {
      const to = endpoints.filter((p) =>
        e.endpointId !== undefined ? p.id === e.endpointId : subscribes(p, e.type, e.clientId),
      );
      if (to.length === 0) continue;
      // Content is stored only when an endpoint that receives the event was created to get it.
      const data = to.some((p) => p.includeContent) ? e.data : withoutContent(e.data);
      rows.push({
        uid: eventUid(e),
        key: orderingKey(e),
        e,
        payload: tx.keys.seal(JSON.stringify(data)),
        endpoints: to.map((p) => p.id),
      });
    }
    if (rows.length === 0) return 0;
    const queued = tx.dialect === 'postgres' ? await emitPostgres(tx, rows, now) : await emitSqlite(tx, rows, now);
    if (queued > 0) tx.afterCommit(() => this.listeners.forEach((fn) => fn()));
    return queued;
  }
}

/**
 * The enabled endpoints as one JSON value, for a statement that returns them along with its own
 * rows (PostgreSQL ingest: one round trip less per commit); read back with endpointsFromJson.
 */
export const ENDPOINTS_JSON_SUBQUERY = `SELECT COALESCE(json_agg(json_build_object('id', id, 'events', events,
  'client_id', client_id, 'include_content', include_content))::text, '[]')
  FROM webhook_endpoints WHERE disabled_at IS NULL`;

export function endpointsFromJson(text: unknown): EndpointFilter[] {
  const list = JSON.parse(typeof text === 'string' ? text : '[]') as {
    id: number;
    events: string;
    client_id: number | null;
    include_content: boolean;
  }[];
  return list.map((e) => ({
    id: Number(e.id),
    events: String(e.events),
    clientId: e.client_id === null ? null : Number(e.client_id),
    includeContent: Boolean(e.include_content),
  }));
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

type EmitRow = { uid: string; key: string; e: NewEvent; payload: string; endpoints: number[] };

async function emitSqlite(tx: Querier, rows: EmitRow[], now: Date): Promise<number> {
  // Threads that already have something to send to an endpoint: their new deliveries wait. One
  // probe per thread and endpoint, stopping at the first row (a thread may have many waiting).
  const endpoints = [...new Set(rows.flatMap((r) => r.endpoints))];
  const keys = [...new Set(rows.map((r) => r.key))];
  const busy = new Set<string>();
  for (const endpointId of endpoints) {
    for (let i = 0; i < keys.length; i += 400) {
      const chunk = keys.slice(i, i + 400);
      const found = await tx.all<{ k: string }>(
        `WITH k(k) AS (VALUES ${chunk.map(() => '(?)').join(', ')})
         SELECT k FROM k WHERE EXISTS (SELECT 1 FROM webhook_deliveries x
           WHERE x.endpoint_id = ? AND x.ordering_key = k.k AND x.state IN ${UNFINISHED})`,
        [...chunk, endpointId],
      );
      for (const f of found) busy.add(`${endpointId}\u0000${f.k}`);
    }
  }
  let queued = 0;
  for (let i = 0; i < rows.length; i += 100) {
    const chunk = rows.slice(i, i + 100);
    const inserted = await tx.all<{ id: unknown; uid: string }>(
      `INSERT INTO events (uid, type, client_id, thread_id, ordering_key, payload, occurred_at, created_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT (uid) DO NOTHING RETURNING id, uid`,
      chunk.flatMap((r) => [r.uid, r.e.type, r.e.clientId, r.e.threadId, r.key, r.payload, r.e.occurredAt, now]),
    );
    const ids = new Map(inserted.map((e) => [e.uid, Number(e.id)]));
    const deliveries: unknown[][] = [];
    for (const r of chunk) {
      const eventId = ids.get(r.uid);
      if (eventId === undefined) continue; // written before: the same change seen again
      for (const endpointId of r.endpoints) {
        const pair = `${endpointId}\u0000${r.key}`;
        deliveries.push([eventId, endpointId, r.key, busy.has(pair) ? 'waiting' : 'pending', now, now]);
        busy.add(pair);
      }
    }
    for (let j = 0; j < deliveries.length; j += 150) {
      const part = deliveries.slice(j, j + 150);
      await tx.run(
        `INSERT INTO webhook_deliveries
           (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
         VALUES ${part.map(() => '(?, ?, ?, ?, 0, ?, ?)').join(', ')}`,
        part.flat(),
      );
      queued += part.length;
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
      col((r) => r.key),
      col((r) => r.payload),
      col((r) => r.e.occurredAt),
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
      now,
    ],
    'wa_report_emit_events_v3',
  );
  return result.length;
}
