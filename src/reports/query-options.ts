// What a report is asked for, as the CLI's flags and the HTTP API's query parameters give it (in
// their own spellings): checked once, every problem reported at once.
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { parseDuration } from '../domain/durations.js';
import { parseOptions } from '../domain/validation.js';
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

const REPORT_FLAGS = {
  clientId: '--client-id',
  waId: '--wa-id',
  startDate: '--start-date',
  endDate: '--end-date',
  tz: '--tz',
  lang: '--lang',
};

/**
 * The schema of a report query: every field checked in one pass (dates are read in the zone, so
 * they are checked after it), each problem reported under its own name.
 */
export function reportQuerySchema(
  env: NodeJS.ProcessEnv,
  flags: Record<keyof RawReportOptions, string> = REPORT_FLAGS,
) {
  const text = z.string().optional();
  return z
    .object({ clientId: text, waId: text, startDate: text, endDate: text, tz: text, lang: text })
    .transform((raw, ctx): ReportOptions => {
      const problem = (path: keyof RawReportOptions, message: string) =>
        ctx.addIssue({ code: 'custom', path: [path], message });
      const attempt = <T>(path: keyof RawReportOptions, fn: () => T): T | undefined => {
        try {
          return fn();
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          problem(path, error.message.replace(/^[\w-]+: /, ''));
          return undefined;
        }
      };
      let clientId: number | undefined;
      if (raw.clientId !== undefined) {
        if (!/^\d+$/.test(raw.clientId.trim()) || Number(raw.clientId) < 1) {
          problem('clientId', `"${raw.clientId}" is not a client id; run \`wa-report --list\` to see them.`);
        } else clientId = Number(raw.clientId);
      }
      const waId = raw.waId === undefined ? undefined : attempt('waId', () => normalizeWaId(raw.waId as string));
      const timeZone = attempt('tz', () => assertTimeZone(raw.tz ?? env.TZ ?? systemTimeZone())) ?? 'UTC';
      const bound = (path: 'startDate' | 'endDate', which: 'start' | 'end') => {
        const value = raw[path];
        return value === undefined ? undefined : attempt(path, () => parseDateBound(value, timeZone, which));
      };
      const start = bound('startDate', 'start');
      const end = bound('endDate', 'end');
      if (start && end && start >= end) problem('endDate', `must be after ${flags.startDate}.`);
      let lang: Lang = defaultLang(env);
      if (raw.lang !== undefined) {
        if (raw.lang !== 'es' && raw.lang !== 'en') problem('lang', `"${raw.lang}" must be es or en.`);
        else lang = raw.lang;
      }
      return { clientId, waId, start, end, timeZone, lang };
    });
}

/**
 * Parses and checks every option, reporting all problems at once as `--flag: message` (`names`
 * renames them: the HTTP API says `start_date`).
 */
export function parseReportOptions(
  raw: RawReportOptions,
  env: NodeJS.ProcessEnv,
  names: Partial<Record<keyof RawReportOptions, string>> = {},
): ReportOptions {
  const flags: Record<keyof RawReportOptions, string> = { ...REPORT_FLAGS, ...names };
  const pick = (o: RawReportOptions): RawReportOptions => ({
    clientId: o.clientId,
    waId: o.waId,
    startDate: o.startDate,
    endDate: o.endDate,
    tz: o.tz,
    lang: o.lang,
  });
  return parseOptions(reportQuerySchema(env, flags), pick(raw), flags);
}

export function requireClientId(o: ReportOptions, flagName = '--client-id'): number {
  if (o.clientId === undefined)
    throw new UsageError(`${flagName} is required: run \`wa-report --list\` to see the clients.`);
  return o.clientId;
}

/** "7d", "24h", "90m", "2w" or an ISO date. */
export function parseSince(text: string, timeZone: string, now: Date, flag = '--since'): Date {
  const ago = parseDuration(text, ['m', 'h', 'd', 'w']);
  if (ago !== null) return new Date(now.getTime() - ago);
  try {
    return parseDateBound(text, timeZone, 'start');
  } catch {
    throw new UsageError(`${flag}: "${text}" is neither a duration (7d, 24h, 90m, 2w) nor an ISO date (2024-01-15).`);
  }
}
