// Helpers every renderer shares: times shown in the report's zone, delivery marks and failures.
import type { StoredMessage } from '../domain/types.js';
import type { Labels } from './i18n.js';

interface WallClock {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  /** Offset from UTC in minutes at that instant. */
  offset: number;
}

// Building an Intl.DateTimeFormat costs far more than using one: one per zone, kept for the process.
const clockFormats = new Map<string, Intl.DateTimeFormat>();

function clockFormat(timeZone: string): Intl.DateTimeFormat {
  let f = clockFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    clockFormats.set(timeZone, f);
  }
  return f;
}

function intlWallClock(at: Date, timeZone: string): WallClock {
  const parts = clockFormat(timeZone).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '00';
  const year = get('year').padStart(4, '0');
  const clock = {
    year,
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
  const asUtc = Date.UTC(
    Number(year),
    Number(clock.month) - 1,
    Number(clock.day),
    Number(clock.hour),
    Number(clock.minute),
    Number(clock.second),
  );
  const offset = Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  return { ...clock, offset };
}

// Intl is slow per call (it dominated a 100,000-message export). Zone offsets only change on
// quarter-hour boundaries, so the offset is looked up once per zone and 15-minute bucket and the
// wall clock is plain arithmetic.
const QUARTER_HOUR = 900_000;
const offsets = new Map<string, number>();

function offsetAt(at: Date, timeZone: string): number {
  const key = `${timeZone}\u0000${Math.floor(at.getTime() / QUARTER_HOUR)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    offset = intlWallClock(at, timeZone).offset;
    if (offsets.size > 50_000) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

function wallClock(at: Date, timeZone: string): WallClock {
  const offset = offsetAt(at, timeZone);
  const local = new Date(at.getTime() + offset * 60_000);
  const y = local.getUTCFullYear();
  if (y < 1000 || y > 9999) return intlWallClock(at, timeZone);
  return {
    year: String(y),
    month: two(local.getUTCMonth() + 1),
    day: two(local.getUTCDate()),
    hour: two(local.getUTCHours()),
    minute: two(local.getUTCMinutes()),
    second: two(local.getUTCSeconds()),
    offset,
  };
}

export interface ZonedStamp {
  /** `2024-01-15` */
  day: string;
  /** `10:30` */
  clock: string;
  /** `2024-01-15 10:30:00` */
  dateTime: string;
  /** `2024-01-15T10:30:00.000+01:00` */
  iso: string;
}

function isoOffset(minutes: number): string {
  const abs = Math.abs(minutes);
  const hours = String(Math.floor(abs / 60)).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${hours}:${String(abs % 60).padStart(2, '0')}`;
}

/** Every form of one instant at once (one pass through Intl instead of four). */
export function zonedStamp(at: Date, timeZone: string): ZonedStamp {
  const c = wallClock(at, timeZone);
  const day = `${c.year}-${c.month}-${c.day}`;
  const time = `${c.hour}:${c.minute}:${c.second}`;
  const ms = String(at.getTime() - Math.floor(at.getTime() / 1000) * 1000).padStart(3, '0');
  return {
    day,
    clock: `${c.hour}:${c.minute}`,
    dateTime: `${day} ${time}`,
    iso: `${day}T${time}.${ms}${isoOffset(c.offset)}`,
  };
}

/**
 * The wall clock of `at` in `timeZone` as a Date whose UTC fields are that wall clock: what a
 * spreadsheet cell holds (spreadsheets have no zones; the sheet names the zone).
 */
export function wallClockDate(at: Date, timeZone: string): Date {
  return new Date(at.getTime() + offsetAt(at, timeZone) * 60_000);
}

/** `2024-01-15 10:30:00` in `timeZone` (the text report's layout). */
export function formatDateTime(at: Date, timeZone: string): string {
  const c = wallClock(at, timeZone);
  return `${c.year}-${c.month}-${c.day} ${c.hour}:${c.minute}:${c.second}`;
}

/** ISO 8601 with the zone's offset at that instant: `2024-01-15T10:30:00.000+01:00` (never `Z`). */
export function formatIso(at: Date, timeZone: string): string {
  return zonedStamp(at, timeZone).iso;
}

export function formatIsoOrNull(at: Date | undefined | null, timeZone: string): string | null {
  return at ? formatIso(at, timeZone) : null;
}

/** The day an instant falls on in `timeZone`: `2024-01-15`. */
export function dayKey(at: Date, timeZone: string): string {
  const c = wallClock(at, timeZone);
  return `${c.year}-${c.month}-${c.day}`;
}

const longDayFormats = new Map<string, Intl.DateTimeFormat>();

/** A day for people, in the report's language: "lunes, 15 de enero de 2024". */
export function formatLongDay(at: Date, timeZone: string, locale: string): string {
  const key = `${locale}|${timeZone}`;
  let f = longDayFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone, weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
    longDayFormats.set(key, f);
  }
  return f.format(at);
}

/** Delivery marks as WhatsApp shows them: sent ✓, delivered ✓✓, read ✓✓ (blue in HTML), failed ⚠. */
export function statusMark(status: string | null): string {
  switch (status) {
    case 'sending':
      return '🕓';
    case 'sent':
      return '✓';
    case 'delivered':
    case 'read':
    case 'played':
      return '✓✓';
    case 'failed':
      return '⚠';
    default:
      return '';
  }
}

/**
 * Whether a message shows a failure: its delivery failed, or it arrived carrying an error
 * (an unsupported inbound message, status null). A later delivered/read wins over a stale error.
 */
export function hasFailure(m: Pick<StoredMessage, 'status' | 'errorCode' | 'errorMessage'>): boolean {
  return m.status === 'failed' || (m.status === null && (m.errorCode !== null || m.errorMessage !== null));
}

/** "131047 Re-engagement message: …", or the language's "no details". */
export function failureDetails(m: Pick<StoredMessage, 'errorCode' | 'errorMessage'>, labels: Labels): string {
  const parts = [m.errorCode === null ? null : String(m.errorCode), m.errorMessage].filter(
    (p): p is string => p !== null && p !== '',
  );
  return parts.length ? parts.join(' ') : labels.noDetails;
}

/** The line under a failed message: "⚠ Fallo: 131047 Re-engagement message: …". */
export function failureLine(m: Pick<StoredMessage, 'errorCode' | 'errorMessage'>, labels: Labels): string {
  return `${labels.failure} ${failureDetails(m, labels)}`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** At most `max` characters (whole graphemes, so an emoji is never cut in half), with "…" when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept: string[] = [];
  for (const { segment } of graphemes.segment(text)) {
    kept.push(segment);
    if (kept.length > max) return `${kept.slice(0, max - 1).join('')}…`;
  }
  return text;
}

/** A number of seconds for people: "42 s", "3 min 5 s", "2 h 10 min"; "–" for none. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** A rate as a percentage with one decimal ("83.3 %"); "–" when there is nothing to divide. */
export function formatRate(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)} %`;
}
