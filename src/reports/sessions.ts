// Conversations inside threads ("sessions" in reports, so they are not mistaken for the threads
// reports have always called conversations): how many started per day, how long they lasted, how
// fast the first answer came, and the two bot metrics, handoff rate and bot-only resolution rate.
import type { ConversationState } from '../domain/conversations.js';

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

/** Nearest-rank percentile of plain values. */
export function percentileOf(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] as number;
}

export function sessionFigures(
  sessions: ConversationState[],
  day: (at: Date | number) => string,
  fillDays: (counts: Map<string, number>) => { day: string; messages: number }[],
): SessionFigures {
  const durations: number[] = [];
  const firsts: number[] = [];
  const perDay = new Map<string, number>();
  let open = 0;
  let idle = 0;
  let closed = 0;
  let handoffs = 0;
  let involved = 0;
  let endedInvolved = 0;
  let botOnly = 0;
  for (const s of sessions) {
    const key = day(s.startedAt);
    perDay.set(key, (perDay.get(key) ?? 0) + 1);
    const bot = s.assistantMessages > 0 || s.handoffAt !== null;
    if (bot) involved++;
    if (s.handoffAt) handoffs++;
    if (s.firstUserAt && s.firstResponseAt) firsts.push(seconds(s.firstUserAt, s.firstResponseAt));
    if (s.endedAt === null) {
      open++;
      continue;
    }
    if (s.endReason === 'closed') closed++;
    else idle++;
    durations.push(seconds(s.startedAt, s.lastMessageAt));
    if (bot) {
      endedInvolved++;
      if (s.handoffAt === null && s.agentMessages === 0) botOnly++;
    }
  }
  return {
    total: sessions.length,
    open,
    ended: { idle, closed },
    durationSeconds: { median: percentileOf(durations, 0.5), p90: percentileOf(durations, 0.9) },
    firstResponseSeconds: {
      median: percentileOf(firsts, 0.5),
      p90: percentileOf(firsts, 0.9),
      answered: firsts.length,
    },
    handoffs,
    handoffRate: involved ? handoffs / involved : null,
    botOnlyResolutionRate: endedInvolved ? botOnly / endedInvolved : null,
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
