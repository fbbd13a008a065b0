// The "summary" report of a client: totals, one row per conversation and messages per day,
// for a terminal (text), a browser (self-contained HTML with an inline SVG chart) or a program (JSON).
import { Chalk } from 'chalk';
import Table from 'cli-table3';
import { formatWaId } from '../domain/phone.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import { formatDateTime, formatIso, formatIsoOrNull, formatRate, formatSeconds } from './format.js';
import { csatFiguresDocument, csatLine } from './csat.js';
import { openingClosingLine, sentimentFiguresDocument, sentimentLine, signed } from './sentiment.js';
import { sessionFiguresDocument } from './sessions.js';
import { perDayChart, unicodeBar } from './charts.js';
import { describeRange, htmlLabels, reportTemplates } from './html.js';
import { bare, labelsFor, type Labels } from './i18n.js';
import type { SummaryReport } from './types.js';

export interface SummaryTextOptions {
  /** Colour (the caller applies the CLI's colour policy). A bordered table is drawn with colour or on a TTY. */
  color?: boolean;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function tableHead(labels: Labels): string[] {
  return [
    bare(labels.waUser),
    bare(labels.contact),
    bare(labels.started),
    bare(labels.lastActivity),
    labels.messages,
    labels.roles.user,
    labels.roles.assistant,
    labels.roles.agent,
    labels.failed,
  ];
}

/** "Sessions: 12 (open 2) · median length 4 min · first response 12 s", then the two bot rates. */
function sessionLine(report: SummaryReport, labels: Labels): string {
  const s = report.sessions;
  return (
    `${labels.sessions}: ${s.total} (${labels.open} ${s.open}) · ${labels.medianDuration} ` +
    `${formatSeconds(s.durationSeconds.median)} · ` +
    `${labels.firstResponse} ${formatSeconds(s.firstResponseSeconds.median)}\n` +
    `${labels.handoffRate}: ${formatRate(s.handoffRate)} · ` +
    `${labels.botOnly}: ${formatRate(s.botOnlyResolutionRate)}\n` +
    `${labels.sentiment.title}: ${sentimentLine(report.sentiment, labels.sentiment, formatRate)}\n` +
    `${labels.sentiment.openingClosing}: ${openingClosingLine(report.sentiment, labels.sentiment)}\n` +
    `${labels.csat.title}: ${csatLine(report.csat, labels.csat, formatRate)}`
  );
}

/** Writes the terminal summary; does not end `out`. */
export async function renderSummaryText(
  report: SummaryReport,
  out: NodeJS.WritableStream,
  options: SummaryTextOptions = {},
): Promise<void> {
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const color = options.color ?? false;
  const c = new Chalk({ level: color ? 1 : 0 });
  const bordered = color || Boolean((out as { isTTY?: boolean }).isTTY);
  const writer = new ChunkWriter(out);
  const t = report.totals;

  await writer.write(
    [
      c.bold(labels.summaryTitle),
      `${labels.client} ${report.client.name} (${report.client.phoneNumber})`,
      `${labels.range} ${describeRange(report, labels)}`,
      `${labels.timeZone} ${tz}`,
      `${labels.generated} ${formatDateTime(report.generatedAt, tz)}`,
      `${labels.conversations}: ${t.conversations} · ${labels.activeLast24h}: ${t.activeLast24h}`,
      `${labels.messages}: ${t.messages} (${labels.roles.user} ${t.byRole.user} · ` +
        `${labels.roles.assistant} ${t.byRole.assistant} · ${labels.roles.agent} ${t.byRole.agent}) · ` +
        `${labels.failed}: ${t.failed === 0 ? '0' : c.red(String(t.failed))}`,
      sessionLine(report, labels),
      '',
    ].join('\n') + '\n',
  );

  if (report.conversations.length) {
    const table = new Table({
      head: tableHead(labels).map((h) => c.bold(h)),
      colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'],
      style: bordered
        ? { head: [], border: [], compact: true }
        : { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
      ...(bordered
        ? {}
        : {
            chars: {
              top: '',
              'top-mid': '',
              'top-left': '',
              'top-right': '',
              bottom: '',
              'bottom-mid': '',
              'bottom-left': '',
              'bottom-right': '',
              left: '',
              'left-mid': '',
              mid: '',
              'mid-mid': '',
              right: '',
              'right-mid': '',
              middle: '',
            },
          }),
    });
    for (const row of report.conversations) {
      // On a terminal the table must fit 120 columns: minutes instead of seconds, long names cut.
      const when = (d: Date) => (bordered ? formatDateTime(d, tz).slice(0, 16) : formatDateTime(d, tz));
      const contact = oneLine(row.contactName ?? '');
      table.push([
        formatWaId(row.waId),
        bordered && contact.length > 22 ? `${[...contact].slice(0, 21).join('')}…` : contact,
        when(row.createdAt),
        when(row.lastMessageAt),
        row.messageCount,
        row.byRole.user,
        row.byRole.assistant,
        row.byRole.agent,
        row.failed === 0 ? 0 : c.red(String(row.failed)),
      ]);
    }
    // Borderless, cli-table3 still emits the (empty) top and bottom rules and pads the last column.
    const lines = table
      .toString()
      .split('\n')
      .map((l) => (bordered ? l : l.trimEnd()));
    await writer.write(`${lines.filter((l) => bordered || l !== '').join('\n')}\n`);
  } else {
    await writer.write(`${labels.noConversations}\n`);
  }

  if (report.perDay.length) {
    const max = Math.max(...report.perDay.map((d) => d.messages));
    const countWidth = String(max).length;
    await writer.write(`\n${c.bold(labels.perDay)}\n`);
    for (const { day, messages } of report.perDay) {
      const bar = unicodeBar(messages, max);
      await writer.write(`${day} ${String(messages).padStart(countWidth)}${bar ? ` ${c.green(bar)}` : ''}\n`);
    }
  }
  await writer.flush();
}

/** Writes the summary as one self-contained HTML page; does not end `out`. */
export async function renderSummaryHtml(report: SummaryReport, out: NodeJS.WritableStream): Promise<void> {
  const { render, css } = await reportTemplates();
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const writer = new ChunkWriter(out);
  await writer.write(
    render.summary({
      lang: labels.locale,
      css,
      labels: htmlLabels(labels),
      head: tableHead(labels),
      clientName: report.client.name,
      clientPhone: report.client.phoneNumber,
      range: describeRange(report, labels),
      timeZone: tz,
      generated: formatDateTime(report.generatedAt, tz),
      generatedIso: formatIso(report.generatedAt, tz),
      totals: report.totals,
      sessions: {
        total: report.sessions.total,
        open: report.sessions.open,
        medianDuration: formatSeconds(report.sessions.durationSeconds.median),
        firstResponse: formatSeconds(report.sessions.firstResponseSeconds.median),
        handoffRate: formatRate(report.sessions.handoffRate),
        botOnly: formatRate(report.sessions.botOnlyResolutionRate),
      },
      sentiment: {
        positiveShare: report.sentiment.scored
          ? formatRate(report.sentiment.distribution.positive / report.sentiment.scored)
          : '–',
        mean: signed(report.sentiment.mean),
        openingClosing: openingClosingLine(report.sentiment, labels.sentiment),
        line: sentimentLine(report.sentiment, labels.sentiment, formatRate),
      },
      csat: { line: csatLine(report.csat, labels.csat, formatRate) },
      rows: report.conversations.map((row) => ({
        waId: formatWaId(row.waId),
        contactName: row.contactName ?? '',
        created: formatDateTime(row.createdAt, tz),
        last: formatDateTime(row.lastMessageAt, tz),
        messageCount: row.messageCount,
        byRole: row.byRole,
        failed: row.failed,
      })),
      chart: report.perDay.length ? perDayChart(report.perDay) : null,
    }),
  );
  await writer.flush();
}

/** The summary as JSON (schema in docs/report-json.md); does not end `out`. */
export async function renderSummaryJson(report: SummaryReport, out: NodeJS.WritableStream): Promise<void> {
  const tz = report.timeZone;
  const t = report.totals;
  const doc = {
    client: { id: report.client.id, name: report.client.name, phone_number: report.client.phoneNumber },
    time_zone: tz,
    generated_at: formatIso(report.generatedAt, tz),
    range: { start: formatIsoOrNull(report.range.start, tz), end: formatIsoOrNull(report.range.end, tz) },
    totals: {
      conversations: t.conversations,
      messages: t.messages,
      by_role: { ...t.byRole },
      failed: t.failed,
      active_last_24h: t.activeLast24h,
    },
    conversations: report.conversations.map((row) => ({
      thread_id: row.id,
      wa_id: formatWaId(row.waId),
      contact_name: row.contactName,
      created_at: formatIso(row.createdAt, tz),
      last_message_at: formatIso(row.lastMessageAt, tz),
      message_count: row.messageCount,
      by_role: { ...row.byRole },
      failed: row.failed,
    })),
    per_day: report.perDay.map((d) => ({ day: d.day, messages: d.messages })),
    sessions: sessionFiguresDocument(report.sessions),
    sentiment: sentimentFiguresDocument(report.sentiment, (d) => formatIso(d, tz)),
    csat: csatFiguresDocument(report.csat),
  };
  const writer = new ChunkWriter(out);
  await writer.write(`${JSON.stringify(doc, null, 2)}\n`);
  await writer.flush();
}
