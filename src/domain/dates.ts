import { UsageError } from '../errors.js';

/** The system's IANA zone (TZ, else the OS setting). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function assertTimeZone(tz: string): string {
  // (Intl's first use loads the zone data: not for UTC.)
  if (tz === 'UTC') return tz;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new UsageError(
      `tz: "${tz}" is not a time zone; use an IANA name such as Europe/Madrid, America/Mexico_City or UTC.`,
    );
  }
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of `tz` from UTC, in minutes, at the instant `at`. */
export function zoneOffsetMinutes(tz: string, at: Date): number {
  let format = offsetFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormats.set(tz, format);
  }
  const parts = format.formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** The instant at which the wall-clock time (in `tz`) is y-m-d h:mi:s. */
export function zonedTimeToInstant(tz: string, y: number, m: number, d: number, h = 0, mi = 0, s = 0): Date {
  const guess = Date.UTC(y, m - 1, d, h, mi, s);
  // Two passes settle the offset, also across a DST change.
  let instant = guess - zoneOffsetMinutes(tz, new Date(guess)) * 60_000;
  instant = guess - zoneOffsetMinutes(tz, new Date(instant)) * 60_000;
  return new Date(instant);
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses an ISO 8601 date or date-time given on the command line or in a query string.
 * Without an offset it is read in `tz`. A bare date as an end bound means the end of that day:
 * `--end-date 2024-01-15` includes all of the 15th. Returns the exclusive/inclusive instant to use
 * as `[start, end)`.
 */
export function parseDateBound(
  text: string,
  tz: string,
  bound: 'start' | 'end',
  field = bound === 'start' ? 'start_date' : 'end_date',
): Date {
  const m = DATE_RE.exec(text.trim());
  if (!m) throw new UsageError(`${field}: "${text}" is not an ISO 8601 date; use 2024-01-15 or 2024-01-15T10:30.`);
  const [, ys, mos, ds, hs, mis, ss, offset] = m;
  const y = Number(ys),
    mo = Number(mos),
    d = Number(ds);
  const h = hs === undefined ? 0 : Number(hs),
    mi = mis === undefined ? 0 : Number(mis),
    s = ss === undefined ? 0 : Number(ss);
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new UsageError(`${field}: "${text}" is not a real date or time.`);
  }
  const dateOnly = hs === undefined;
  if (offset) {
    const sign = offset === 'Z' ? 0 : offset.startsWith('-') ? -1 : 1;
    const [oh, om] = offset === 'Z' ? [0, 0] : [Number(offset.slice(1, 3)), Number(offset.slice(-2))];
    const base = Date.UTC(y, mo - 1, d, h, mi, s) - sign * (oh * 60 + om) * 60_000;
    return new Date(dateOnly && bound === 'end' ? base + 86_400_000 : base);
  }
  if (dateOnly && bound === 'end') {
    const next = new Date(Date.UTC(y, mo - 1, d + 1));
    return zonedTimeToInstant(tz, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  }
  return zonedTimeToInstant(tz, y, mo, d, h, mi, s);
}
