// Summaries and statistics as PDF: the header, the figures as a table, the messages-per-day chart
// drawn as vector graphics (the geometry of the HTML chart, charts.ts) and the per-conversation table.
import { formatWaId } from '../../domain/phone.js';
import type { StatisticsReport } from '../build.js';
import { perDayChart } from '../charts.js';
import { formatFigure, statisticsFigures, summaryFigures, type Figure } from '../figures.js';
import { formatDateTime } from '../format.js';
import { describeRange } from '../html.js';
import { bare, labelsFor, type Labels } from '../i18n.js';
import type { SummaryReport } from '../types.js';
import type { TextStyle } from './layout.js';
import { drawFacts, drawRule, drawTitle } from './blocks.js';
import { COLORS, PdfWriter } from './writer.js';

const HEAD: TextStyle = { size: 8, weight: 'bold', color: COLORS.muted };
const CELL: TextStyle = { size: 8.5, weight: 'regular', color: COLORS.text };
const ROW = 13;

function heading(w: PdfWriter, text: string): void {
  const style: TextStyle = { size: 11, weight: 'bold', color: COLORS.text };
  w.ensure(40);
  w.y += 6;
  w.text.draw(w.text.fit(text, w.width, style), w.left, w.y, style);
  w.y += 18;
}

/** Figures in two columns of label / value rows, zebra-striped. */
function figureTable(w: PdfWriter, figures: Figure[], locale: string): void {
  const half = Math.ceil(figures.length / 2);
  const col = (w.width - 16) / 2;
  for (let i = 0; i < half; i++) {
    w.ensure(ROW);
    for (let k = 0; k < 2; k++) {
      const f = figures[i + k * half];
      if (!f) continue;
      const x = w.left + k * (col + 16);
      if (i % 2 === 0) w.text.ink.rect(x, w.y - 2, col, ROW, COLORS.zebra);
      w.text.draw(w.text.fit(f.label, col - 90, CELL), x + 4, w.y, CELL);
      const value = w.text.fit(formatFigure(f, locale), 84, { ...CELL, weight: 'bold' });
      w.text.draw(value, x, w.y, { ...CELL, weight: 'bold' }, 'right', col - 4);
    }
    w.y += ROW;
  }
}

/** The bar chart of messages per day, as rectangles and lines. */
function chart(w: PdfWriter, labels: Labels, perDay: { day: string; messages: number }[]): void {
  if (perDay.length === 0) return;
  const height = 190;
  heading(w, labels.perDay);
  w.ensure(height + 10);
  const c = perDayChart(perDay, w.width, height);
  const x0 = w.left;
  const y0 = w.y;
  const ink = w.text.ink;
  for (const fraction of [0, 0.5, 1]) {
    const y = y0 + c.plotBottom - (c.plotBottom - c.plotTop) * fraction;
    ink.line(x0 + c.plotLeft, y, x0 + c.plotRight, y, 0.5, COLORS.rule);
    const label = w.text.fit(String(Math.round(c.max * fraction)), c.plotLeft - 6, HEAD);
    w.text.draw(label, x0, y - 4, HEAD, 'right', c.plotLeft - 6);
  }
  for (const b of c.bars) {
    if (b.height > 0) ink.rect(x0 + b.x, y0 + b.y, b.width, b.height, COLORS.bar);
    if (b.label) {
      const label = w.text.fit(b.label.slice(5), 40, HEAD);
      w.text.draw(label, x0 + b.x + b.width / 2 - label.width / 2, y0 + c.plotBottom + 5, HEAD);
    }
  }
  w.y = y0 + height + 6;
}

function conversationTable(w: PdfWriter, report: SummaryReport, labels: Labels): void {
  if (report.conversations.length === 0) return;
  heading(w, labels.conversations);
  const tz = report.timeZone;
  const cols: { name: string; x: number; width: number; right?: boolean }[] = [
    { name: bare(labels.waUser), x: 0, width: 70 },
    { name: bare(labels.contact), x: 72, width: 84 },
    { name: bare(labels.started), x: 158, width: 80 },
    { name: bare(labels.lastActivity), x: 240, width: 80 },
    { name: labels.messages, x: 322, width: 48, right: true },
    { name: labels.roles.user, x: 372, width: 34, right: true },
    { name: labels.roles.assistant, x: 408, width: 42, right: true },
    { name: labels.roles.agent, x: 452, width: 28, right: true },
    { name: labels.failed, x: 482, width: 29, right: true },
  ];
  const header = () => {
    w.ensure(ROW * 2);
    const head = { ...HEAD, size: 7 };
    for (const c of cols) {
      const line = w.text.fit(c.name, c.width, head);
      w.text.draw(line, w.left + c.x, w.y, head, c.right ? 'right' : 'left', c.width);
    }
    w.y += ROW;
  };
  header();
  report.conversations.forEach((r, i) => {
    if (w.y + ROW > w.bottom) {
      w.newPage();
      header();
    }
    if (i % 2 === 0) w.text.ink.rect(w.left, w.y - 2, w.width, ROW, COLORS.zebra);
    const values = [
      formatWaId(r.waId),
      r.contactName ?? '',
      formatDateTime(r.createdAt, tz).slice(0, 16),
      formatDateTime(r.lastMessageAt, tz).slice(0, 16),
      String(r.messageCount),
      String(r.byRole.user),
      String(r.byRole.assistant),
      String(r.byRole.agent),
      String(r.failed),
    ];
    cols.forEach((c, k) => {
      const base = { ...CELL, size: 7.5 };
      const style = k === 8 && r.failed > 0 ? { ...base, color: COLORS.failure, weight: 'bold' as const } : base;
      w.text.draw(
        w.text.fit(values[k] as string, c.width, style),
        w.left + c.x,
        w.y,
        style,
        c.right ? 'right' : 'left',
        c.width,
      );
    });
    w.y += ROW;
  });
}

/** Streams a client's summary as PDF; does not end `out`. */
export async function renderSummaryPdf(report: SummaryReport, out: NodeJS.WritableStream): Promise<void> {
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const w = PdfWriter.forReport(out, report, labels, labels.summaryTitle);
  w.newPage();
  drawTitle(w, labels.summaryTitle);
  drawFacts(w, [
    [bare(labels.client), `${report.client.name} · ${report.client.phoneNumber}`],
    [bare(labels.range), describeRange(report, labels)],
    [bare(labels.timeZone), tz],
    [bare(labels.generated), formatDateTime(report.generatedAt, tz)],
  ]);
  w.y += 4;
  drawRule(w);
  figureTable(w, summaryFigures(report, labels), labels.locale);
  chart(w, labels, report.perDay);
  conversationTable(w, report, labels);
  await w.end();
}

/** `wa-report stats` as PDF: a page (or more) per client; does not end `out`. */
export async function renderStatisticsPdf(input: StatisticsReport, out: NodeJS.WritableStream): Promise<void> {
  const labels = labelsFor(input.lang);
  const tz = input.timeZone;
  const w = new PdfWriter(
    out,
    {
      title: labels.figures.statsTitle,
      subject: `wa-report · ${tz}`,
      lang: labels.locale,
      createdAt: input.generatedAt,
    },
    (page) => `${tz} · ${labels.figures.page} ${page}`,
  );
  w.runningHeader = labels.figures.statsTitle;
  w.newPage();
  drawTitle(w, labels.figures.statsTitle);
  drawFacts(w, [
    [bare(labels.range), input.since ? `${formatDateTime(input.since, tz)} — …` : labels.rangeAll],
    [bare(labels.timeZone), tz],
    [bare(labels.generated), formatDateTime(input.generatedAt, tz)],
    [labels.conversations, String(input.stats.reduce((n, s) => n + s.conversations, 0))],
  ]);
  w.y += 4;
  drawRule(w);
  input.stats.forEach((s, i) => {
    if (i > 0) w.newPage();
    heading(w, `${s.clientName} (${s.clientId})`);
    figureTable(w, statisticsFigures(s, labels), labels.locale);
    chart(w, labels, s.perDay);
  });
  if (input.stats.length === 0) {
    w.text.draw(w.text.fit(labels.noConversations, w.width, CELL), w.left, w.y, CELL);
  }
  await w.end();
}
