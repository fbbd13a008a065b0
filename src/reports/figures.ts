// The figures a summary or a statistics report lists, as typed values: one list that the PDF draws
// as a table and the workbook writes as numbers, so the two can never disagree on what is shown.
import type { ClientStatistics } from './build.js';
import { formatRate, formatSeconds } from './format.js';
import type { Labels } from './i18n.js';
import type { CsatFigures } from './csat.js';
import type { SentimentFigures } from './sentiment.js';
import type { SessionFigures } from './sessions.js';
import type { SummaryReport } from './types.js';

/** count: a whole number; rate: 0–1 (shown as a percentage); seconds; score: a mean (−1..1 or 1..5). */
export type FigureKind = 'count' | 'rate' | 'seconds' | 'score';

export interface Figure {
  label: string;
  kind: FigureKind;
  /** null: nothing to measure (no answers, no surveys…). */
  value: number | null;
}

/** How a figure reads on paper: "1,234", "83.3 %", "3 min 5 s", "+0.42"; "–" for none. */
export function formatFigure(f: Figure, locale: string): string {
  if (f.value === null) return '–';
  switch (f.kind) {
    case 'count':
      return f.value.toLocaleString(locale);
    case 'rate':
      return formatRate(f.value);
    case 'seconds':
      return formatSeconds(f.value);
    case 'score':
      return `${f.value > 0 ? '+' : ''}${f.value.toFixed(2)}`;
  }
}

function sessionRows(s: SessionFigures, l: Labels): Figure[] {
  const f = l.figures;
  return [
    { label: l.sessions, kind: 'count', value: s.total },
    { label: f.sessionsOpen, kind: 'count', value: s.open },
    { label: f.sessionsIdle, kind: 'count', value: s.ended.idle },
    { label: f.sessionsClosed, kind: 'count', value: s.ended.closed },
    { label: f.durationMedian, kind: 'seconds', value: s.durationSeconds.median },
    { label: f.durationP90, kind: 'seconds', value: s.durationSeconds.p90 },
    { label: f.firstResponseMedian, kind: 'seconds', value: s.firstResponseSeconds.median },
    { label: f.firstResponseP90, kind: 'seconds', value: s.firstResponseSeconds.p90 },
    { label: f.handoffs, kind: 'count', value: s.handoffs },
    { label: f.handoffRate, kind: 'rate', value: s.handoffRate },
    { label: f.botOnlyRate, kind: 'rate', value: s.botOnlyResolutionRate },
  ];
}

function sentimentRows(s: SentimentFigures, l: Labels): Figure[] {
  const f = l.figures;
  return [
    { label: f.sentimentScored, kind: 'count', value: s.scored },
    { label: f.sentimentPositive, kind: 'count', value: s.distribution.positive },
    { label: f.sentimentNeutral, kind: 'count', value: s.distribution.neutral },
    { label: f.sentimentNegative, kind: 'count', value: s.distribution.negative },
    { label: f.sentimentMean, kind: 'score', value: s.mean },
    { label: f.sentimentOpening, kind: 'score', value: s.sessions.opening },
    { label: f.sentimentClosing, kind: 'score', value: s.sessions.closing },
  ];
}

function csatRows(c: CsatFigures, l: Labels): Figure[] {
  const f = l.figures;
  return [
    { label: f.csatSurveys, kind: 'count', value: c.surveys },
    { label: f.csatSent, kind: 'count', value: c.sent },
    { label: f.csatAnswered, kind: 'count', value: c.answered },
    { label: f.csatResponseRate, kind: 'rate', value: c.responseRate },
    { label: f.csatScore, kind: 'rate', value: c.satisfactionScore },
    { label: f.csatMean, kind: 'score', value: c.mean },
  ];
}

/** The summary's totals and figures, in the order the text summary prints them. */
export function summaryFigures(r: SummaryReport, l: Labels): Figure[] {
  const t = r.totals;
  return [
    { label: l.conversations, kind: 'count', value: t.conversations },
    { label: l.activeLast24h, kind: 'count', value: t.activeLast24h },
    { label: l.messages, kind: 'count', value: t.messages },
    { label: `${l.messages} · ${l.roles.user}`, kind: 'count', value: t.byRole.user },
    { label: `${l.messages} · ${l.roles.assistant}`, kind: 'count', value: t.byRole.assistant },
    { label: `${l.messages} · ${l.roles.agent}`, kind: 'count', value: t.byRole.agent },
    { label: l.failed, kind: 'count', value: t.failed },
    ...sessionRows(r.sessions, l),
    ...sentimentRows(r.sentiment, l),
    ...csatRows(r.csat, l),
  ];
}

/** One client's statistics, in the order `wa-report stats` prints them. */
export function statisticsFigures(s: ClientStatistics, l: Labels): Figure[] {
  const f = l.figures;
  return [
    { label: l.conversations, kind: 'count', value: s.conversations },
    { label: l.activeLast24h, kind: 'count', value: s.activeLast24h },
    { label: l.messages, kind: 'count', value: s.messages },
    { label: `${l.messages} · ${l.roles.user}`, kind: 'count', value: s.messagesByRole.user },
    { label: `${l.messages} · ${l.roles.assistant}`, kind: 'count', value: s.messagesByRole.assistant },
    { label: `${l.messages} · ${l.roles.agent}`, kind: 'count', value: s.messagesByRole.agent },
    { label: l.failed, kind: 'count', value: s.failed },
    { label: f.deliveryRate, kind: 'rate', value: s.deliveryRate },
    { label: f.readRate, kind: 'rate', value: s.readRate },
    { label: f.responseMedian, kind: 'seconds', value: s.responseSeconds.median },
    { label: f.responseP90, kind: 'seconds', value: s.responseSeconds.p90 },
    { label: f.answers, kind: 'count', value: s.responseSeconds.answers },
    ...sessionRows(s.sessions, l),
    ...sentimentRows(s.sentiment, l),
    ...csatRows(s.csat, l),
  ];
}
