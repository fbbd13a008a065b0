// Wall-clock arithmetic in one zone over a period, without asking Intl for every instant: the
// zone's offsets are found once (sampled daily, each change located to the minute by bisection),
// then any instant's local hour, day, week and month is plain arithmetic, and the offsets can be
// handed to SQL (rollups regroup by them, one offset per stretch of the period).
import { zoneOffsetMinutes, zonedTimeToInstant } from './dates.js';

export type Grain = 'hour' | 'day' | 'week' | 'month';
export const GRAINS: readonly Grain[] = ['hour', 'day', 'week', 'month'];

const DAY = 86_400_000;

export interface LocalBucket {
  /** A sortable name: 2025-03-01T14 (hour), 2025-03-01 (day, and week: its Monday), 2025-03 (month). */
  key: string;
  /** Its first instant and the first instant after it (UTC), for links to what happened in it. */
  start: Date;
  end: Date;
}

export class ZoneClock {
  /** Offset changes inside the period: from `at` on, the offset is `minutes`. */
  private readonly changes: { at: number; minutes: number }[] = [];
  /** Every offset of the period is a whole number of quarter hours (true for every zone in use today). */
  readonly quarterHourAligned: boolean;

  constructor(
    readonly timeZone: string,
    from: Date,
    to: Date,
  ) {
    const offset = (at: number) => zoneOffsetMinutes(timeZone, new Date(at));
    let at = from.getTime() - DAY;
    let minutes = offset(at);
    this.changes.push({ at: Number.NEGATIVE_INFINITY, minutes });
    const last = to.getTime() + DAY;
    while (at < last) {
      const next = Math.min(at + DAY, last);
      const nextMinutes = offset(next);
      if (nextMinutes !== minutes) {
        // The change lies in (at, next]: bisect to the minute.
        let lo = at;
        let hi = next;
        while (hi - lo > 60_000) {
          const mid = Math.floor((lo + hi) / 2 / 60_000) * 60_000;
          if (mid <= lo) break;
          if (offset(mid) === minutes) lo = mid;
          else hi = mid;
        }
        this.changes.push({ at: hi, minutes: nextMinutes });
        minutes = nextMinutes;
      }
      at = next;
    }
    this.quarterHourAligned = this.changes.every((c) => c.minutes % 15 === 0);
  }

  /** Offset from UTC in minutes at an instant (epoch ms). */
  offsetMinutes(at: number): number {
    let lo = 0;
    let hi = this.changes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.changes[mid] as { at: number }).at <= at) lo = mid;
      else hi = mid - 1;
    }
    return (this.changes[lo] as { minutes: number }).minutes;
  }

  /** The wall clock at an instant, as a Date whose UTC fields are the local ones. */
  local(at: number): Date {
    return new Date(at + this.offsetMinutes(at) * 60_000);
  }

  /**
   * The zone's offsets over the period, whole minutes east of UTC from instant `from` (epoch ms) on;
   * the first applies from the beginning of time.
   */
  offsets(): { from: number; minutes: number }[] {
    return this.changes.map((c) => ({ from: c.at, minutes: Math.floor(c.minutes) }));
  }

  /** The hour, day, ISO week (from Monday) or month an instant falls in. */
  keyOf(at: number, grain: Grain): string {
    return this.keyOfLocal(this.local(at).getTime(), grain);
  }

  /** The same for a wall-clock time given as epoch ms of its local fields (local(at).getTime()). */
  keyOfLocal(localMs: number, grain: Grain): string {
    const l = new Date(localMs);
    const iso = l.toISOString();
    switch (grain) {
      case 'hour':
        return iso.slice(0, 13);
      case 'day':
        return iso.slice(0, 10);
      case 'month':
        return iso.slice(0, 7);
      case 'week': {
        const monday = new Date(l.getTime() - ((l.getUTCDay() + 6) % 7) * DAY);
        return monday.toISOString().slice(0, 10);
      }
    }
  }

  /** The bucket named by a key of `keyOf`. */
  bucket(key: string, grain: Grain): LocalBucket {
    const [y, m, d, h] = key.split(/[-T]/).map(Number) as [number, number, number?, number?];
    const start = zonedTimeToInstant(this.timeZone, y, m, d ?? 1, h ?? 0);
    let end: Date;
    if (grain === 'hour') end = zonedTimeToInstant(this.timeZone, y, m, d as number, (h as number) + 1);
    else if (grain === 'day') end = zonedTimeToInstant(this.timeZone, y, m, (d as number) + 1);
    else if (grain === 'week') end = zonedTimeToInstant(this.timeZone, y, m, (d as number) + 7);
    else end = zonedTimeToInstant(this.timeZone, y, m + 1, 1);
    return { key, start, end };
  }

  /** Every bucket from the one holding `from` to the one holding the last instant before `to`. */
  buckets(from: Date, to: Date, grain: Grain): LocalBucket[] {
    const out: LocalBucket[] = [];
    const lastKey = this.keyOf(to.getTime() - 1, grain);
    let b = this.bucket(this.keyOf(from.getTime(), grain), grain);
    for (let i = 0; i < 20_000; i++) {
      out.push(b);
      if (b.key >= lastKey) break;
      b = this.bucket(this.keyOf(b.end.getTime(), grain), grain);
    }
    return out;
  }
}
