// Delivery statuses move a message forward only (sent < failed < delivered < read < played; see
// STATUS_RANK), whatever order WhatsApp delivers them in. Shared by the ingest writer (statuses of
// a batch, and statuses that arrived before their message) and replies (statuses that raced ahead
// of the Graph API's answer).
import { formatStatusError, STATUS_RANK, statusRank, type StatusUpdate } from '../../domain/types.js';
import { int32OrNull, toStatusUpdate } from '../rows.js';
import type { Querier, Row } from '../sql.js';

/** The rank of a status column, in SQL (unknown statuses rank 0). */
export function rankSql(column: string): string {
  const cases = Object.entries(STATUS_RANK).map(([s, r]) => `WHEN '${s}' THEN ${r}`);
  return `(CASE ${column} ${cases.join(' ')} ELSE 0 END)`;
}

const RANK_SQL = rankSql('status');

/** Moves the message's status forward when `s` ranks higher; returns 1 when it did. */
export async function applyStatus(q: Querier, s: StatusUpdate): Promise<number> {
  const rank = statusRank(s.status);
  if (rank === 0) return 0; // unknown statuses are kept as events only
  const failed = s.status === 'failed';
  return q.run(
    `UPDATE messages SET status = ?, status_at = ?, error_code = ?, error_message = ?
     WHERE wamid = ? AND ${RANK_SQL} < ?`,
    [
      s.status,
      s.occurredAt,
      failed ? int32OrNull(s.errorCode) : null,
      failed ? formatStatusError(s) : null,
      s.wamid,
      rank,
    ],
  );
}

/** Status events stored before their message arrived, applied to it now, in the order given (arrival). */
export async function applyEarlierStatuses(q: Querier, events: Row[]): Promise<void> {
  for (const e of events) await applyStatus(q, toStatusUpdate(e));
}

/** The stored status events of these messages, in arrival order (one query per 500). */
export async function statusEventsOf(q: Querier, wamids: string[]): Promise<Row[]> {
  const events: Row[] = [];
  for (let i = 0; i < wamids.length; i += 500) {
    const chunk = wamids.slice(i, i + 500);
    events.push(
      ...(await q.all(
        `SELECT id, wamid, status, occurred_at, error_code, error_title, error_details FROM message_status_events
         WHERE wamid IN (${chunk.map(() => '?').join(', ')}) ORDER BY id`,
        chunk,
      )),
    );
  }
  return events;
}
