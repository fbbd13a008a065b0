// Conversations inside threads ("sessions" in reports, so they are not mistaken for the threads
// reports have always called conversations): how many started per day, how long they lasted, how
// fast the first answer came, and the two bot metrics, handoff rate and bot-only resolution rate.
import type { ConversationState } from '../domain/conversations.js';
import type { SecondsHistogram, SessionCounts } from '../db/repositories/statistics.js';

export interface SessionFigures {
  total: number;
  open: number;
  ended: { idle: number; closed: number };
  /** Of ended sessions: first message to last. */
  durationSeconds: { median: number | null; p90: number | null };
  /** First user message to the first answer (assistant or person), of sessions with one. */
  firstResponseSeconds: { median: number | null; p90: number | null; answered: number };
  /** Sessions where a person took over (an agent message while the assistant was on). */
  handoffs: number;
  /** Handoffs / sessions the assistant took part in (answered, or was taken over from); null without any. */
  handoffRate: number | null;
  /** Ended sessions the assistant handled alone (it answered, no person did) / ended sessions it took part in. */
  botOnlyResolutionRate: number | null;
  /** Sessions started per day in the report's zone, oldest first (days without any included). */
  perDay: { day: string; sessions: number }[];
}

const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/** Nearest-rank percentile of a histogram. */
export function percentile(histogram: SecondsHistogram, p: number): number | null {
  const sorted = [...histogram].sort((a, b) => a.seconds - b.seconds);
  const total = sorted.reduce((a, h) => a + h.n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const h of sorted) {
    seen += h.n;
    if (seen >= rank) return h.seconds;
  }
  return sorted.at(-1)?.seconds ?? null;
}

function histogramOf(values: number[]): SecondsHistogram {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].map(([seconds, n]) => ({ seconds, n }));
}

export function countSessions(sessions: ConversationState[]): SessionCounts {
  const c: SessionCounts = {
    total: sessions.length,
    open: 0,
    closed: 0,
    handoffs: 0,
    involved: 0,
    endedInvolved: 0,
    botOnly: 0,
    firstResponse: [],
    duration: [],
    starts: sessions.map((s) => ({ at: s.startedAt.getTime(), n: 1 })),
  };
  const firsts: number[] = [];
  const durations: number[] = [];
  for (const s of sessions) {
    const bot = s.assistantMessages > 0 || s.handoffAt !== null;
    if (bot) c.involved++;
    if (s.handoffAt) c.handoffs++;
    if (s.firstUserAt && s.firstResponseAt) firsts.push(seconds(s.firstUserAt, s.firstResponseAt));
    if (s.endedAt === null) {
      c.open++;
      continue;
    }
    if (s.endReason === 'closed') c.closed++;
    durations.push(seconds(s.startedAt, s.lastMessageAt));
    if (bot) {
      c.endedInvolved++;
      if (s.handoffAt === null && s.agentMessages === 0) c.botOnly++;
    }
  }
  c.firstResponse = histogramOf(firsts);
  c.duration = histogramOf(durations);
  return c;
}

export function sessionFigures(
  sessions: SessionCounts | ConversationState[],
  day: (at: Date | number) => string,
  fillDays: (counts: Map<string, number>) => { day: string; messages: number }[],
): SessionFigures {
  const c = Array.isArray(sessions) ? countSessions(sessions) : sessions;
  let perDay = c.perDay;
  if (!perDay) {
    perDay = new Map<string, number>();
    for (const s of c.starts) {
      const key = day(s.at);
      perDay.set(key, (perDay.get(key) ?? 0) + s.n);
    }
  }
  const answered = c.firstResponse.reduce((a, h) => a + h.n, 0);
  return {
    total: c.total,
    open: c.open,
    ended: { idle: c.total - c.open - c.closed, closed: c.closed },
    durationSeconds: { median: percentile(c.duration, 0.5), p90: percentile(c.duration, 0.9) },
    firstResponseSeconds: {
      median: percentile(c.firstResponse, 0.5),
      p90: percentile(c.firstResponse, 0.9),
      answered,
    },
    handoffs: c.handoffs,
    handoffRate: c.involved ? c.handoffs / c.involved : null,
    botOnlyResolutionRate: c.endedInvolved ? c.botOnly / c.endedInvolved : null,
    perDay: fillDays(perDay).map((d) => ({ day: d.day, sessions: d.messages })),
  };
}

/** The JSON of session figures (docs/report-json.md). */
export function sessionFiguresDocument(f: SessionFigures) {
  return {
    total: f.total,
    open: f.open,
    ended: { ...f.ended },
    duration_seconds: { ...f.durationSeconds },
    first_response_seconds: { ...f.firstResponseSeconds },
    handoffs: f.handoffs,
    handoff_rate: f.handoffRate,
    bot_only_resolution_rate: f.botOnlyResolutionRate,
    per_day: f.perDay.map((d) => ({ ...d })),
  };
}
