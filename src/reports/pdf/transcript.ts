// The detailed report as a PDF that reads like the HTML one: a header per conversation (client,
// user, contact, period, zone, totals), the messages as chat bubbles (the user's on the left, the
// assistant's and a person's on the right), day separators, quoted replies, media placeholders,
// delivery marks and failures; a running header and page numbers. Streamed page by page.
import { formatWaId } from '../../domain/phone.js';
import { formatDateTime } from '../format.js';
import { describeRange, QuoteCache, walkTranscript, type MessageView } from '../html.js';
import { bare, labelsFor, type Labels } from '../i18n.js';
import type { DetailedReport, RenderResult, ReportThread, SummaryReport, SummaryRow } from '../types.js';
import type { Line, TextStyle } from './layout.js';
import { drawFacts, drawRule, drawTitle } from './blocks.js';
import { COLORS, PdfWriter } from './writer.js';

const BODY: TextStyle = { size: 9.5, weight: 'regular', color: COLORS.text };
const LEADING = 12.5;
const PAD = 7;

/** A row of a bubble: its height and how to draw it at (x, y) in a bubble `inner` points wide. */
type Row = { height: number; draw: (x: number, y: number, inner: number) => void };

function conversationHeader(
  w: PdfWriter,
  report: DetailedReport,
  labels: Labels,
  t: ReportThread,
  row: SummaryRow | undefined,
  single: boolean,
): void {
  const tz = report.timeZone;
  drawTitle(w, labels.title);
  const facts: [string, string][] = [
    [bare(labels.client), `${report.client.name} · ${report.client.phoneNumber}`],
    [bare(labels.waUser), formatWaId(t.waId)],
    ...(t.contactName ? [[bare(labels.contact), t.contactName] as [string, string]] : []),
    [bare(labels.started), formatDateTime(t.createdAt, tz)],
    [bare(labels.lastActivity), formatDateTime(t.lastMessageAt, tz)],
    [bare(labels.totalMessages), String(t.messageCount)],
    [bare(labels.timeZone), tz],
    ...(single
      ? ([
          [bare(labels.range), describeRange(report, labels)],
          [bare(labels.generated), formatDateTime(report.generatedAt, tz)],
        ] as [string, string][])
      : []),
  ];
  if (row) {
    const r = row.byRole;
    facts.push([
      labels.messages,
      `${labels.roles.user} ${r.user} · ${labels.roles.assistant} ${r.assistant} · ${labels.roles.agent} ${r.agent}`,
    ]);
    facts.push([labels.failed, String(row.failed)]);
  }
  drawFacts(w, facts);
  w.y += 4;
  drawRule(w);
}

/** The cover of a report of several conversations: the client, the period and a table of contents. */
function cover(w: PdfWriter, report: DetailedReport, labels: Labels, overview: SummaryReport): void {
  const tz = report.timeZone;
  drawTitle(w, `${report.client.name} · ${labels.conversations}`);
  drawFacts(w, [
    [bare(labels.client), `${report.client.name} · ${report.client.phoneNumber}`],
    [labels.conversations, String(report.conversationCount)],
    [bare(labels.range), describeRange(report, labels)],
    [bare(labels.timeZone), tz],
    [bare(labels.generated), formatDateTime(report.generatedAt, tz)],
    [labels.messages, String(overview.totals.messages)],
    [labels.failed, String(overview.totals.failed)],
  ]);
  w.y += 6;
  drawRule(w);
  const head: TextStyle = { size: 8.5, weight: 'bold', color: COLORS.muted };
  const cell: TextStyle = { size: 8.5, weight: 'regular', color: COLORS.text };
  const cols = [0, 110, 300, 420];
  const header = () => {
    w.ensure(16);
    const names = [bare(labels.waUser), bare(labels.contact), bare(labels.lastActivity), labels.messages];
    names.forEach((n, i) => w.text.draw(w.text.fit(n, 110, head), w.left + (cols[i] as number), w.y, head));
    w.y += 14;
  };
  w.text.draw(w.text.fit(labels.contents, w.width, head), w.left, w.y, head);
  w.y += 14;
  header();
  for (const row of overview.conversations) {
    if (w.y + 12 > w.bottom) {
      w.newPage();
      header();
    }
    const values = [formatWaId(row.waId), row.contactName ?? '', formatDateTime(row.lastMessageAt, tz)];
    values.forEach((v, i) => w.text.draw(w.text.fit(v, 180, cell), w.left + (cols[i] as number), w.y, cell));
    const count = w.text.fit(String(row.messageCount), 80, cell);
    w.text.draw(count, w.left + (cols[3] as number), w.y, cell, 'right', 60);
    w.y += 12;
  }
}

function daySeparator(w: PdfWriter, label: string): void {
  const style: TextStyle = { size: 8, weight: 'bold', color: COLORS.muted };
  w.ensure(26);
  const line = w.text.fit(label, w.width - 40, style);
  const width = line.width + 16;
  const x = w.left + (w.width - width) / 2;
  w.y += 4;
  w.text.ink.roundedRect(x, w.y, width, 14, 7, COLORS.day);
  w.text.draw(line, x + 8, w.y + 2.5, style);
  w.y += 22;
}

/** The rows inside a bubble: who, the quote, media or reaction, the text, time and marks, the failure. */
function bubbleRows(w: PdfWriter, v: MessageView, inner: number): { rows: Row[]; width: number } {
  const rows: Row[] = [];
  let widest = 0;
  const lineRows = (lines: Line[], style: TextStyle, rtl: boolean, leading: number, indent = 0) => {
    for (const line of lines) {
      widest = Math.max(widest, line.width + indent);
      rows.push({
        height: leading,
        draw: (x, y, width) => w.text.draw(line, x + indent, y, style, rtl ? 'right' : 'left', width - indent),
      });
    }
  };
  const roleStyle: TextStyle = {
    size: 8,
    weight: 'bold',
    color: v.role === 'user' ? COLORS.muted : v.role === 'agent' ? COLORS.agentAccent : COLORS.accent,
  };
  lineRows([w.text.fit(v.roleLabel, inner, roleStyle)], roleStyle, false, 11);

  if (v.quote) {
    const head: TextStyle = { size: 7.5, weight: 'bold', color: COLORS.muted };
    const body: TextStyle = { size: 8, weight: 'regular', color: COLORS.muted };
    const quoteLines = w.text.lines(v.quote.text, inner - 10, body);
    const lines = [w.text.fit(v.quote.head, inner - 10, head), ...quoteLines.lines.slice(0, 3)];
    const height = 10 + (lines.length - 1) * 10 + 6;
    widest = Math.max(widest, ...lines.map((l) => l.width + 10));
    rows.push({
      height: height + 3,
      draw: (x, y, width) => {
        w.text.ink.rect(x, y, width, height, COLORS.quote);
        w.text.ink.rect(x, y, 2.5, height, COLORS.accent);
        lines.forEach((l, i) => {
          const align = i > 0 && quoteLines.rtl ? 'right' : 'left';
          w.text.draw(l, x + 7, y + 3 + i * 10, i === 0 ? head : body, align, width - 10);
        });
      },
    });
  }

  let text = v.text;
  if (v.reaction !== null) text = v.reactionLabel;
  else if (v.media) {
    const label: TextStyle = { size: 9, weight: 'bold', color: COLORS.muted };
    lineRows([w.text.fit(`${v.media.icon} ${v.media.label}`, inner, label)], label, false, LEADING);
    text = v.media.caption;
  }
  if (text !== '') {
    const p = w.text.lines(text, inner, BODY);
    lineRows(p.lines, BODY, p.rtl, LEADING);
  }

  const meta: TextStyle = { size: 7, weight: 'regular', color: COLORS.muted };
  const status = v.status ? ` ${v.status.mark} ${v.status.title}` : '';
  const metaLine = w.text.fit(`${v.time}${status}`, inner, meta);
  const metaColor =
    v.status?.name === 'read' ? COLORS.read : v.status?.name === 'failed' ? COLORS.failure : COLORS.muted;
  widest = Math.max(widest, metaLine.width);
  rows.push({
    height: 10,
    draw: (x, y, width) => w.text.draw(metaLine, x, y + 1, { ...meta, color: metaColor }, 'right', width),
  });

  if (v.failure) {
    const fail: TextStyle = { size: 8, weight: 'bold', color: COLORS.failure };
    lineRows(w.text.lines(v.failure, inner, fail).lines, fail, false, 11);
  }
  return { rows, width: widest };
}

/** A bubble, split over pages when it does not fit on one. */
function drawBubble(w: PdfWriter, v: MessageView): void {
  const max = w.width * 0.74;
  const inner = max - 2 * PAD;
  const { rows, width } = bubbleRows(w, v, inner);
  const bubbleWidth = Math.min(max, Math.max(110, width + 2 * PAD + 1));
  const x = v.side === 'right' ? w.left + w.width - bubbleWidth : w.left;
  const fill = v.role === 'user' ? COLORS.user : v.role === 'agent' ? COLORS.agent : COLORS.assistant;
  // A bubble that fits on a page is never split: it starts the next page instead.
  const total = rows.reduce((h, r) => h + r.height, 0) + 2 * PAD;
  if (w.page === 0 || (total > w.room && total <= w.bottom - w.top)) w.newPage();
  let i = 0;
  while (i < rows.length) {
    let height = 0;
    let j = i;
    while (j < rows.length && w.y + 2 * PAD + height + (rows[j] as Row).height <= w.bottom) {
      height += (rows[j] as Row).height;
      j += 1;
    }
    if (j === i) {
      w.newPage();
      continue;
    }
    w.text.ink.roundedRect(x, w.y, bubbleWidth, height + 2 * PAD, 6, fill);
    let y = w.y + PAD;
    for (let k = i; k < j; k++) {
      const row = rows[k] as Row;
      row.draw(x + PAD, y, bubbleWidth - 2 * PAD);
      y += row.height;
    }
    w.y = y + PAD + 5;
    i = j;
    if (i < rows.length) w.newPage();
  }
}

/** Streams the PDF to `out`; does not end it. */
export async function renderDetailedPdf(report: DetailedReport, out: NodeJS.WritableStream): Promise<RenderResult> {
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const overview = await report.overview();
  const rows = new Map(overview.conversations.map((r) => [r.id, r]));
  const single = report.conversationCount === 1;
  const w = PdfWriter.forReport(out, report, labels, labels.title);
  if (!single) {
    w.newPage();
    cover(w, report, labels, overview);
  }
  const cache = new QuoteCache();
  let conversations = 0;
  let messages = 0;
  for await (const source of report.conversations()) {
    const t = source.thread;
    conversations += 1;
    w.runningHeader = [report.client.name, formatWaId(t.waId), t.contactName].filter(Boolean).join(' · ');
    w.newPage();
    conversationHeader(w, report, labels, t, rows.get(t.id), single);
    const count = await walkTranscript(source, report, labels, cache, {
      day: (_day, label) => daySeparator(w, label),
      message: (view) => drawBubble(w, view),
      batchEnd: () => w.drain(),
    });
    if (count === 0) {
      const style: TextStyle = { size: 9.5, weight: 'regular', color: COLORS.muted };
      w.text.draw(w.text.fit(labels.noMessages, w.width, style), w.left, w.y, style);
      w.y += 16;
    }
    messages += count;
  }
  if (conversations === 0) {
    w.newPage();
    drawTitle(w, labels.title);
    drawFacts(w, [
      [bare(labels.client), `${report.client.name} · ${report.client.phoneNumber}`],
      [bare(labels.range), describeRange(report, labels)],
      [bare(labels.timeZone), tz],
      [bare(labels.generated), formatDateTime(report.generatedAt, tz)],
    ]);
    const style: TextStyle = { size: 9.5, weight: 'regular', color: COLORS.muted };
    w.text.draw(w.text.fit(labels.noConversations, w.width, style), w.left, w.y + 8, style);
  }
  await w.end();
  return { conversations, messages };
}
