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
// quarter-hour boundaries (since 1973; see FAST_FROM), so the offset is looked up once per zone and
// 15-minute bucket; the wall clock is arithmetic, and each zone keeps a cursor (the last bucket and
// the last local day) so the messages of a report, which come in time order, skip even the lookups.
const QUARTER_HOUR = 900_000;
const DAY = 86_400_000;

interface ZoneCursor {
  /** Offsets by quarter-hour bucket (bucket = floor(utc ms / 15 min)). */
  offsets: Map<number, number>;
  /** Offsets by UTC day (floor(utc ms / 1 day)): the day's one offset, or NaN when it changes within it. */
  days: Map<number, number>;
  /** The last bucket looked up, and its offset in minutes. */
  bucket: number;
  offset: number;
  /** The last local day shown: its start (local ms as UTC) and `2024-01-15`, or NaN. */
  dayStart: number;
  day: string;
}

const cursors = new Map<string, ZoneCursor>();

function cursorFor(timeZone: string): ZoneCursor {
  let c = cursors.get(timeZone);
  if (!c) {
    c = { offsets: new Map(), days: new Map(), bucket: NaN, offset: 0, dayStart: NaN, day: '' };
    cursors.set(timeZone, c);
  }
  return c;
}

function offsetIn(c: ZoneCursor, ms: number, at: Date, timeZone: string): number {
  const bucket = Math.floor(ms / QUARTER_HOUR);
  if (bucket === c.bucket) return c.offset;
  let offset = c.offsets.get(bucket);
  if (offset === undefined) {
    offset = dayOffset(c, ms, timeZone) ?? intlWallClock(at, timeZone).offset;
    if (c.offsets.size > 50_000) c.offsets.clear();
    c.offsets.set(bucket, offset);
  }
  c.bucket = bucket;
  c.offset = offset;
  return offset;
}

/** Names of UTC itself: no lookup at all. */
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu']);

/**
 * The offset of the whole UTC day of `ms` when its first and last quarter hours have the same one,
 * else null (then each quarter hour is looked up). Two lookups a day instead of 96: offsets change
 * on quarter-hour boundaries, and no zone has changed its offset twice within one day.
 */
function dayOffset(c: ZoneCursor, ms: number, timeZone: string): number | null {
  if (UTC_NAMES.has(timeZone)) return 0;
  if (!(ms >= FAST_FROM && ms < FAST_UNTIL)) return null;
  const day = Math.floor(ms / DAY);
  let offset = c.days.get(day);
  if (offset === undefined) {
    const first = intlWallClock(new Date(day * DAY), timeZone).offset;
    const last = intlWallClock(new Date(day * DAY + DAY - QUARTER_HOUR), timeZone).offset;
    offset = first === last ? first : NaN;
    if (c.days.size > 50_000) c.days.clear();
    c.days.set(day, offset);
  }
  return Number.isNaN(offset) ? null : offset;
}

function offsetAt(at: Date, timeZone: string): number {
  return offsetIn(cursorFor(timeZone), at.getTime(), at, timeZone);
}

/** "00" … "59": the two-digit fields of a clock. */
const TWO = Array.from({ length: 60 }, (_, n) => (n < 10 ? `0${n}` : String(n)));

/**
 * Where the arithmetic holds: from 1973 (every zone's offset a whole number of minutes since Monrovia
 * dropped its -0:44:30 in 1972) to year 9999 (four-digit years). Outside, every call asks Intl.
 */
const FAST_FROM = Date.UTC(1973, 0, 1);
const FAST_UNTIL = Date.UTC(10000, 0, 1) - 2 * DAY;

/** The local day of `local` (local ms as UTC), from the cursor when it is the same day. */
function localDay(c: ZoneCursor, local: number): string {
  const start = Math.floor(local / DAY) * DAY;
  if (start !== c.dayStart) {
    const d = new Date(start);
    c.day = `${d.getUTCFullYear()}-${TWO[d.getUTCMonth() + 1]}-${TWO[d.getUTCDate()]}`;
    c.dayStart = start;
  }
  return c.day;
}

/** The local wall clock split as `day` and `hh:mm:ss`, and the offset; null outside FAST_FROM–FAST_UNTIL. */
function fastClock(at: Date, timeZone: string): { day: string; time: string; hm: string; offset: number } | null {
  const ms = at.getTime();
  if (!(ms >= FAST_FROM && ms < FAST_UNTIL)) return null;
  const c = cursorFor(timeZone);
  const offset = offsetIn(c, ms, at, timeZone);
  const local = ms + offset * 60_000;
  const day = localDay(c, local);
  const s = Math.floor((local - c.dayStart) / 1000);
  const hm = `${TWO[Math.floor(s / 3600)]}:${TWO[Math.floor(s / 60) % 60]}`;
  return { day, time: `${hm}:${TWO[s % 60]}`, hm, offset };
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

const isoOffsets = new Map<number, string>();

function isoOffset(minutes: number): string {
  let text = isoOffsets.get(minutes);
  if (text === undefined) {
    const abs = Math.abs(minutes);
    const hours = String(Math.floor(abs / 60)).padStart(2, '0');
    text = `${minutes < 0 ? '-' : '+'}${hours}:${String(abs % 60).padStart(2, '0')}`;
    isoOffsets.set(minutes, text);
  }
  return text;
}

const millis = (ms: number): string => {
  const n = ms - Math.floor(ms / 1000) * 1000;
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
};

/** Every form of one instant at once (one pass through Intl instead of four). */
export function zonedStamp(at: Date, timeZone: string): ZonedStamp {
  const f = fastClock(at, timeZone);
  if (f) {
    return {
      day: f.day,
      clock: f.hm,
      dateTime: `${f.day} ${f.time}`,
      iso: `${f.day}T${f.time}.${millis(at.getTime())}${isoOffset(f.offset)}`,
    };
  }
  const c = intlWallClock(at, timeZone);
  const day = `${c.year}-${c.month}-${c.day}`;
  const time = `${c.hour}:${c.minute}:${c.second}`;
  return {
    day,
    clock: `${c.hour}:${c.minute}`,
    dateTime: `${day} ${time}`,
    iso: `${day}T${time}.${millis(at.getTime())}${isoOffset(c.offset)}`,
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
  const f = fastClock(at, timeZone);
  return f ? `${f.day} ${f.time}` : zonedStamp(at, timeZone).dateTime;
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
  return fastClock(at, timeZone)?.day ?? zonedStamp(at, timeZone).day;
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

// Built on first use: constructing a Segmenter costs ~9 ms, which every command would pay at start.
let graphemes: Intl.Segmenter | undefined;

/** At most `max` characters (whole graphemes, so an emoji is never cut in half), with "…" when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept: string[] = [];
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
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
