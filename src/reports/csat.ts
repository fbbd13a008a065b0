// Satisfaction (CSAT) in reports, as Chatwoot counts it and more: surveys sent, answered, the
// response rate (answers ÷ surveys sent), the satisfaction score (share of top answers: 4–5 of 5,
// 3 of 3), the mean and the whole distribution (on 1–5; a 3-point answer counts as 1, 3 or 5), and
// the surveys that were not sent, with why.
import { isSatisfied } from '../domain/csat.js';
import type { CsatCounts } from '../db/repositories/statistics.js';

export interface CsatFigures {
  /** Surveys queued (one per ended conversation of a client with --csat). */
  surveys: number;
  sent: number;
  answered: number;
  /** answered ÷ sent; null when none was sent. */
  responseRate: number | null;
  /** Top answers ÷ answered. */
  satisfactionScore: number | null;
  /** Mean on 1–5. */
  mean: number | null;
  distribution: { 1: number; 2: number; 3: number; 4: number; 5: number };
  comments: number;
  /** Waiting to be sent. */
  pending: number;
  notSent: { state: 'skipped' | 'failed'; reason: string; surveys: number }[];
}

const onFive = (score: number, scale: number) => (scale === 3 ? ([1, 3, 5][score - 1] ?? score) : score);
const round = (v: number) => Math.round(v * 1000) / 1000 || 0;

export function csatFigures(rows: CsatCounts[]): CsatFigures {
  const distribution = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  let surveys = 0;
  let sent = 0;
  let answered = 0;
  let satisfied = 0;
  let sum = 0;
  let pending = 0;
  let comments = 0;
  const notSent = new Map<string, { state: 'skipped' | 'failed'; reason: string; surveys: number }>();
  for (const r of rows) {
    surveys += r.n;
    comments += r.comments;
    if (r.state === 'sent' || r.state === 'answered') sent += r.n;
    if (r.state === 'pending' || r.state === 'sending') pending += r.n;
    if (r.state === 'answered' && r.score !== null) {
      answered += r.n;
      const five = onFive(r.score, r.scale);
      distribution[five as 1 | 2 | 3 | 4 | 5] += r.n;
      sum += five * r.n;
      if (isSatisfied(r.score, r.scale === 3 ? 3 : 5)) satisfied += r.n;
    }
    if (r.state === 'skipped' || r.state === 'failed') {
      const reason = r.reason ?? 'no reason recorded';
      const key = `${r.state}\u0000${reason}`;
      const entry = notSent.get(key) ?? { state: r.state, reason, surveys: 0 };
      entry.surveys += r.n;
      notSent.set(key, entry);
    }
  }
  return {
    surveys,
    sent,
    answered,
    responseRate: sent ? round(answered / sent) : null,
    satisfactionScore: answered ? round(satisfied / answered) : null,
    mean: answered ? round(sum / answered) : null,
    distribution,
    comments,
    pending,
    notSent: [...notSent.values()].sort((a, b) => b.surveys - a.surveys),
  };
}

/** Per conversation (thread): answered surveys and their mean on 1–5. */
export function csatByThread(rows: CsatCounts[]): Map<number, { answered: number; mean: number }> {
  const acc = new Map<number, { answered: number; sum: number }>();
  for (const r of rows) {
    if (r.state !== 'answered' || r.score === null) continue;
    const a = acc.get(r.threadId) ?? { answered: 0, sum: 0 };
    a.answered += r.n;
    a.sum += onFive(r.score, r.scale) * r.n;
    acc.set(r.threadId, a);
  }
  return new Map([...acc].map(([id, a]) => [id, { answered: a.answered, mean: round(a.sum / a.answered) }]));
}

/** The JSON of CSAT figures (docs/report-json.md). */
export function csatFiguresDocument(f: CsatFigures) {
  return {
    surveys: f.surveys,
    sent: f.sent,
    answered: f.answered,
    response_rate: f.responseRate,
    satisfaction_score: f.satisfactionScore,
    mean: f.mean,
    distribution: { ...f.distribution },
    comments: f.comments,
    pending: f.pending,
    not_sent: f.notSent.map((n) => ({ ...n })),
  };
}

/** The words of CSAT lines, in the report's language (reports/i18n.ts). */
export interface CsatLabels {
  title: string;
  satisfied: string;
  mean: string;
  of5: string;
  answers: string;
  answeredOf: string;
  sent: string;
  notSent: string;
  waiting: string;
}

/** "72.0 % satisfied (mean 4.1 of 5, 18 answers) · 45.0 % answered of 40 sent · 3 not sent". */
export function csatLine(f: CsatFigures, l: CsatLabels, pct: (rate: number | null) => string): string {
  if (f.surveys === 0) return '–';
  const answers = f.answered
    ? `${pct(f.satisfactionScore)} ${l.satisfied} ` +
      `(${l.mean} ${f.mean?.toFixed(1)} ${l.of5}, ${f.answered} ${l.answers}) · `
    : '';
  const skipped = f.notSent.reduce((a, n) => a + n.surveys, 0);
  return (
    `${answers}${pct(f.responseRate)} ${l.answeredOf} ${f.sent} ${l.sent}` +
    (skipped ? ` · ${skipped} ${l.notSent}` : '') +
    (f.pending ? ` · ${f.pending} ${l.waiting}` : '')
  );
}
