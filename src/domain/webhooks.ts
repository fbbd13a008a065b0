// Event webhook endpoints and their deliveries: which events an endpoint receives, how a receiver's
// answer is judged, and when a failed delivery is tried again. The data is in
// db/repositories/outbox.ts; the sending, in events/.
import { formatDuration, parseDuration } from './durations.js';
import { EVENT_TYPES, isEventType, type EventType } from './events.js';

export interface EndpointFilter {
  id: number;
  /** '*' or comma-separated event types. */
  events: string;
  clientId: number | null;
  includeContent: boolean;
}

/** Whether an endpoint receives an event of `type` about `clientId` (webhook.test: only when asked). */
export function subscribes(e: EndpointFilter, type: EventType, clientId: number | null): boolean {
  if (type === 'webhook.test') return false;
  if (e.clientId !== null && e.clientId !== clientId) return false;
  return e.events === '*' || e.events.split(',').includes(type);
}

/** `--events a,b` → stored form ('*' or sorted names); throws a message naming the valid ones. */
export function parseEventList(text: string): string {
  const names = [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (names.length === 0 || names.includes('*')) return '*';
  const unknown = names.filter((n) => !isEventType(n) || n === 'webhook.test');
  if (unknown.length) {
    throw new Error(
      `unknown event ${unknown.map((u) => `"${u}"`).join(', ')}; choose from ` +
        `${EVENT_TYPES.filter((t) => t !== 'webhook.test').join(', ')} (or * for all)`,
    );
  }
  return names.sort().join(',');
}

/** The default retry schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

/** WA_REPORT_WEBHOOK_RETRY ("1s,2s,4s") → delays in ms; throws a message on a bad item. */
export function parseRetrySchedule(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  const delays = items.map((item) => parseDuration(item, ['ms', 's', 'm', 'h', 'd']));
  const bad = items.filter((_, i) => delays[i] === null);
  if (bad.length || items.length === 0 || items.length > 50) {
    throw new Error(
      `"${text}" is not a retry schedule: give up to 50 comma-separated periods such as 5s,5m,30m,2h ` +
        `(not understood: ${bad.map((b) => `"${b}"`).join(', ') || 'none given'})`,
    );
  }
  return delays as number[];
}

export function formatRetrySchedule(schedule: readonly number[]): string {
  return schedule.map(formatDuration).join(',');
}

/** What the receiver's answer means for the delivery. */
export type Verdict =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; retryAfterMs: number | null }
  /** 410 Gone: the receiver wants no more; the endpoint is disabled. */
  | { outcome: 'gone' }
  /** Any other answer: not retried (a 400 stays a 400); redeliver by hand once fixed. */
  | { outcome: 'rejected' };

/** Retried: network errors, 408, 429 and 5xx. Delivered: 2xx. */
export function judge(status: number | null, retryAfter?: string | null, now = new Date()): Verdict {
  if (status === null) return { outcome: 'retry', retryAfterMs: null };
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  if (status === 410) return { outcome: 'gone' };
  if (status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retry', retryAfterMs: parseRetryAfter(retryAfter ?? null, now) };
  }
  return { outcome: 'rejected' };
}

/** Retry-After as seconds or an HTTP date → ms from now (null when absent or unreadable). */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/** A receiver's Retry-After is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * When to try again after `attempts` attempts (1 after the first), or null when the schedule is
 * spent (the delivery is dead-lettered). A Retry-After longer than the schedule's delay wins.
 */
export function nextAttemptAt(
  attempts: number,
  schedule: readonly number[],
  retryAfterMs: number | null,
  now: Date,
): Date | null {
  const delay = schedule[attempts - 1];
  if (delay === undefined) return null;
  const wait = Math.max(delay, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return new Date(now.getTime() + wait);
}

/** An endpoint whose every delivery has failed this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 86_400_000;

/** After a rotation the previous secret keeps signing this long. */
export const PREVIOUS_SECRET_MS = 86_400_000;

/** Receivers' answers are kept up to this many bytes. */
export const RESPONSE_LIMIT_BYTES = 64 * 1024;

/** A delivery attempt gives up after this long. */
export const DELIVERY_TIMEOUT_MS = 15_000;

/** A stored event list for people: "all" or the names. */
export function formatEventList(stored: string): string {
  return stored === '*' ? 'all' : stored.split(',').join(', ');
}
