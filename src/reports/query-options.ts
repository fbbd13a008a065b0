// What a report is asked for, as the CLI's flags and the HTTP API's query parameters give it (in
// their own spellings): checked once, every problem reported at once.
import { UsageError } from '../errors.js';
import { assertTimeZone, parseDateBound, systemTimeZone } from '../domain/dates.js';
import { normalizeWaId } from '../domain/phone.js';
import type { Lang } from './types.js';

export interface RawReportOptions {
  clientId?: string;
  waId?: string;
  startDate?: string;
  endDate?: string;
  tz?: string;
  lang?: string;
}

export interface ReportOptions {
  clientId: number | undefined;
  waId: string | undefined;
  start: Date | undefined;
  end: Date | undefined;
  timeZone: string;
  lang: Lang;
}

/** es when LC_ALL / LC_MESSAGES / LANG start with "es", else en. */
export function defaultLang(env: NodeJS.ProcessEnv): Lang {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^es\b|^es[_-]/i.test(locale) ? 'es' : 'en';
}

/** Parses and checks every option, reporting all problems at once as `--flag: message`. */
export function parseReportOptions(
  raw: RawReportOptions,
  env: NodeJS.ProcessEnv,
  names: Record<string, string> = {},
): ReportOptions {
  const flag = (k: string, d: string) => names[k] ?? d;
  const problems: string[] = [];
  const attempt = <T>(fn: () => T, name: string): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push(`${name}: ${error.message.replace(/^[\w-]+: /, '')}`);
      return undefined;
    }
  };
  let clientId: number | undefined;
  if (raw.clientId !== undefined) {
    if (!/^\d+$/.test(raw.clientId.trim()) || Number(raw.clientId) < 1)
      problems.push(
        `${flag('clientId', '--client-id')}: "${raw.clientId}" is not a client id; run \`wa-report --list\` to see them.`,
      );
    else clientId = Number(raw.clientId);
  }
  const waId =
    raw.waId === undefined ? undefined : attempt(() => normalizeWaId(raw.waId as string), flag('waId', '--wa-id'));
  const timeZone = attempt(() => assertTimeZone(raw.tz ?? env.TZ ?? systemTimeZone()), flag('tz', '--tz')) ?? 'UTC';
  const start =
    raw.startDate === undefined
      ? undefined
      : attempt(() => parseDateBound(raw.startDate as string, timeZone, 'start'), flag('startDate', '--start-date'));
  const end =
    raw.endDate === undefined
      ? undefined
      : attempt(() => parseDateBound(raw.endDate as string, timeZone, 'end'), flag('endDate', '--end-date'));
  if (start && end && start >= end)
    problems.push(`${flag('endDate', '--end-date')}: must be after ${flag('startDate', '--start-date')}.`);
  let lang: Lang = defaultLang(env);
  if (raw.lang !== undefined) {
    if (raw.lang !== 'es' && raw.lang !== 'en')
      problems.push(`${flag('lang', '--lang')}: "${raw.lang}" must be es or en.`);
    else lang = raw.lang;
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  return { clientId, waId, start, end, timeZone, lang };
}

export function requireClientId(o: ReportOptions, flagName = '--client-id'): number {
  if (o.clientId === undefined)
    throw new UsageError(`${flagName} is required: run \`wa-report --list\` to see the clients.`);
  return o.clientId;
}

/** "7d", "24h", "90m", "2w" or an ISO date. */
export function parseSince(text: string, timeZone: string, now: Date): Date {
  const m = /^(\d+)\s*(m|h|d|w)$/i.exec(text.trim());
  if (m) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
      (m[2] as string).toLowerCase() as 'm' | 'h' | 'd' | 'w'
    ];
    return new Date(now.getTime() - Number(m[1]) * unit);
  }
  try {
    return parseDateBound(text, timeZone, 'start');
  } catch {
    throw new UsageError(`--since: "${text}" is neither a duration (7d, 24h, 90m, 2w) nor an ISO date (2024-01-15).`);
  }
}
