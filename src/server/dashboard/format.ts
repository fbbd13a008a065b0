// Numbers, rates, durations and times as the dashboard shows them, in its language and zone.
import { formatDateTime, formatRate, formatSeconds } from '../../reports/format.js';

export interface Formatters {
  n(x: number): string;
  rate(x: number | null): string;
  seconds(x: number | null): string;
  /** `2025-03-01 14:05:09` in the zone. */
  at(d: Date): string;
  /** A day key (2025-03-01) for people: "1 Mar 2025" / "1 mar 2025". */
  day(key: string): string;
  /** A month key (2025-03): "Mar 2025". */
  month(key: string): string;
}

export function formatters(lang: 'en' | 'es', timeZone: string): Formatters {
  const locale = lang === 'es' ? 'es-ES' : 'en-GB';
  const number = new Intl.NumberFormat(locale);
  const day = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const month = new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' });
  return {
    n: (x) => number.format(x),
    rate: formatRate,
    seconds: formatSeconds,
    at: (d) => formatDateTime(d, timeZone),
    day: (key) => day.format(new Date(`${key}T00:00:00Z`)),
    month: (key) => month.format(new Date(`${key}-01T00:00:00Z`)),
  };
}
