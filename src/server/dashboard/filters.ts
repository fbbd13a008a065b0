// What a dashboard URL asks for: client, period (a preset or from/to in the zone), zone, grouping
// and the conversation list's filters, all in the query string so every view can be shared and
// back/forward work. Bad values are reported (400) with what to use instead.
import type { Request } from 'express';
import { assertTimeZone, parseDateBound, systemTimeZone } from '../../domain/dates.js';
import { normalizeWaId } from '../../domain/phone.js';
import { GRAINS, type Grain } from '../../domain/zone-clock.js';
import type { SentimentFilter, ThreadSearchFilter, ThreadSort } from '../../db/repositories/thread-search.js';
import { THREAD_SORTS } from '../../db/repositories/thread-search.js';
import { UsageError } from '../../errors.js';

export const PRESETS = ['24h', '7d', '30d', '90d', '12m', 'custom'] as const;
export type Preset = (typeof PRESETS)[number];

const PRESET_MS: Record<Exclude<Preset, 'custom'>, number> = {
  '24h': 24 * 3600_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
  '12m': 365 * 86_400_000,
};
const DEFAULT_GRAIN: Record<Exclude<Preset, 'custom'>, Grain> = {
  '24h': 'hour',
  '7d': 'day',
  '30d': 'day',
  '90d': 'week',
  '12m': 'month',
};

export interface View {
  clientId: number | undefined;
  preset: Preset;
  start: Date;
  end: Date;
  /** As typed (custom periods), for the form. */
  fromText: string;
  toText: string;
  timeZone: string;
  grain: Grain;
}

const text = (req: Request, name: string): string | undefined => {
  const v = req.query[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};

export function parseView(req: Request, env: NodeJS.ProcessEnv, now: Date): View {
  const problems: string[] = [];
  const attempt = <T>(name: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push(`${name}: ${error.message.replace(/^[\w-]+: /, '')}`);
      return undefined;
    }
  };
  const clientText = text(req, 'client');
  let clientId: number | undefined;
  if (clientText !== undefined) {
    if (/^\d+$/.test(clientText) && Number(clientText) > 0) clientId = Number(clientText);
    else problems.push(`client: "${clientText}" is not a client id.`);
  }
  const timeZone = attempt('tz', () => assertTimeZone(text(req, 'tz') ?? env.TZ ?? systemTimeZone())) ?? 'UTC';
  const fromText = text(req, 'from') ?? '';
  const toText = text(req, 'to') ?? '';
  const presetText = text(req, 'period') ?? (fromText ? 'custom' : '30d');
  let preset: Preset = '30d';
  if ((PRESETS as readonly string[]).includes(presetText)) preset = presetText as Preset;
  else problems.push(`period: "${presetText}" must be one of ${PRESETS.join(', ')}.`);
  let start = new Date(now.getTime() - PRESET_MS['30d']);
  let end = now;
  if (preset === 'custom') {
    const s = fromText ? attempt('from', () => parseDateBound(fromText, timeZone, 'start', 'from')) : undefined;
    const e = toText ? attempt('to', () => parseDateBound(toText, timeZone, 'end', 'to')) : now;
    if (!fromText) problems.push('from: a custom period needs a start date (2025-01-31).');
    if (s && e) {
      if (e <= s) problems.push('to: must be later than from.');
      start = s;
      end = e;
    }
  } else {
    start = new Date(now.getTime() - PRESET_MS[preset]);
  }
  const grainText = text(req, 'grain');
  let grain: Grain =
    preset === 'custom'
      ? grainFor(end.getTime() - start.getTime())
      : DEFAULT_GRAIN[preset as Exclude<Preset, 'custom'>];
  if (grainText !== undefined) {
    if ((GRAINS as readonly string[]).includes(grainText)) grain = grainText as Grain;
    else problems.push(`grain: "${grainText}" must be one of ${GRAINS.join(', ')}.`);
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  return { clientId, preset, start, end, fromText, toText, timeZone, grain };
}

function grainFor(span: number): Grain {
  if (span <= 2 * 86_400_000) return 'hour';
  if (span <= 62 * 86_400_000) return 'day';
  if (span <= 200 * 86_400_000) return 'week';
  return 'month';
}

/** The query string of a view (and extra parameters), for links that keep it. */
export function viewQuery(v: View, extra: Record<string, string | number | undefined> = {}): URLSearchParams {
  const q = new URLSearchParams();
  if (v.clientId !== undefined) q.set('client', String(v.clientId));
  q.set('period', v.preset);
  if (v.preset === 'custom') {
    q.set('from', v.fromText);
    if (v.toText) q.set('to', v.toText);
  }
  q.set('tz', v.timeZone);
  q.set('grain', v.grain);
  for (const [k, value] of Object.entries(extra)) if (value !== undefined && value !== '') q.set(k, String(value));
  return q;
}

/** A custom view of exactly [start, end) (the links from one bar of a chart to its conversations). */
export function exactPeriod(v: View, start: Date, end: Date): View {
  return { ...v, preset: 'custom', start, end, fromText: start.toISOString(), toText: end.toISOString() };
}

export interface ListFilters {
  search: ThreadSearchFilter;
  sort: ThreadSort;
  cursor: string | null;
  /** Conversations per page (default 50, at most 200). */
  limit: number;
  /** As given, for the form. */
  raw: {
    q: string;
    failed: boolean;
    handoff: boolean;
    csat: string;
    sentiment: string;
    sort: ThreadSort;
    limit: number | undefined;
  };
}

export function parseListFilters(req: Request, view: View): ListFilters {
  const problems: string[] = [];
  const q = text(req, 'q') ?? '';
  if (q.length > 100) problems.push('q: at most 100 characters.');
  const failed = text(req, 'failed') === '1';
  const handoff = text(req, 'handoff') === '1';
  const csatText = text(req, 'csat') ?? '';
  let csat: ThreadSearchFilter['csat'];
  if (csatText === 'answered') csat = 'answered';
  else if (/^[1-5]$/.test(csatText)) csat = Number(csatText) as 1 | 2 | 3 | 4 | 5;
  else if (csatText) problems.push(`csat: "${csatText}" must be answered or 1 to 5.`);
  const sentimentText = text(req, 'sentiment') ?? '';
  let sentiment: SentimentFilter | undefined;
  if (['negative', 'neutral', 'positive'].includes(sentimentText)) sentiment = sentimentText as SentimentFilter;
  else if (sentimentText) problems.push(`sentiment: "${sentimentText}" must be negative, neutral or positive.`);
  const sortText = text(req, 'sort') ?? 'recent';
  let sort: ThreadSort = 'recent';
  if ((THREAD_SORTS as readonly string[]).includes(sortText)) sort = sortText as ThreadSort;
  else problems.push(`sort: "${sortText}" must be one of ${THREAD_SORTS.join(', ')}.`);
  const limitText = text(req, 'limit');
  let limit: number | undefined;
  if (limitText !== undefined) {
    if (/^\d+$/.test(limitText) && Number(limitText) >= 1 && Number(limitText) <= 200) limit = Number(limitText);
    else problems.push(`limit: "${limitText}" must be a number from 1 to 200.`);
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  return {
    limit: limit ?? 50,
    search: {
      clientId: view.clientId,
      text: q || undefined,
      start: view.start,
      end: view.end,
      failed: failed || undefined,
      handedOff: handoff || undefined,
      csat,
      sentiment,
    },
    sort,
    cursor: text(req, 'cursor') ?? null,
    raw: { q, failed, handoff, csat: csatText, sentiment: sentimentText, sort, limit },
  };
}

/** A wa_id from a URL segment ("+34 612…" or "34612…"). */
export function waIdParam(value: string): string {
  return normalizeWaId(value);
}
