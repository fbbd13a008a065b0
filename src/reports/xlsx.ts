// Reports as Excel workbooks, streamed row by row (io/xlsx-writer.ts), so memory stays flat
// whatever the size. A detailed report has three sheets (Conversations, Messages, Summary); a summary
// or the statistics one sheet per table they print. Messages continue on "Messages (2)", … past
// Excel's 1,048,576 rows.
//
// Cells are typed: times are real dates (the wall clock in the report's zone, which every sheet
// names, since spreadsheets have no zones), counts are numbers, ids are text (a wa_id never turns
// into 3.46E+10). Text is always a string cell, never a formula: a message starting with "=" stays
// that text in Excel and LibreOffice (the CSV needs a guard for that; a workbook does not).
import { formatWaId } from '../domain/phone.js';
import { XLSX_MAX_ROWS, XlsxWriter, type CellStyle, type SheetColumn } from '../io/xlsx-writer.js';
import type { StatisticsReport } from './build.js';
import { CSV_COLUMNS } from './csv.js';
import { statisticsFigures, summaryFigures, type Figure } from './figures.js';
import { formatDateTime, wallClockDate } from './format.js';
import { describeRange } from './html.js';
import { bare, labelsFor, type Labels } from './i18n.js';
import type { DetailedReport, RenderResult, SummaryReport } from './types.js';

export { XLSX_MAX_ROWS };

export interface XlsxOptions {
  /** Rows a sheet may hold, header included (tests use a small one to see the rollover). */
  maxRows?: number;
}

const FIGURE_STYLE: Record<Figure['kind'], CellStyle> = {
  count: 'count',
  rate: 'rate',
  seconds: 'count',
  score: 'score',
};

interface Table {
  header: string[];
  columns: SheetColumn[];
}

function reportFacts(r: SummaryReport, labels: Labels, title: string): [string, string | Date][] {
  return [
    [title, ''],
    [bare(labels.client), `${r.client.name} (${r.client.phoneNumber})`],
    [bare(labels.range), describeRange(r, labels)],
    [bare(labels.timeZone), r.timeZone],
    [bare(labels.generated), wallClockDate(r.generatedAt, r.timeZone)],
  ];
}

function conversationTable(labels: Labels, tz: string): Table {
  const at = (label: string) => `${bare(label)} (${tz})`;
  const spec: [string, SheetColumn][] = [
    ['client_id', { width: 10 }],
    ['client_name', { width: 24 }],
    ['thread_id', { width: 10 }],
    ['wa_id', { width: 17 }],
    [bare(labels.contact), { width: 24 }],
    [at(labels.started), { width: 20, style: 'date' }],
    [at(labels.lastActivity), { width: 20, style: 'date' }],
    [labels.messages, { width: 11, style: 'count' }],
    [labels.roles.user, { width: 10, style: 'count' }],
    [labels.roles.assistant, { width: 10, style: 'count' }],
    [labels.roles.agent, { width: 10, style: 'count' }],
    [labels.failed, { width: 10, style: 'count' }],
    [labels.figures.sessions, { width: 10, style: 'count' }],
    [labels.figures.sentimentMean, { width: 16, style: 'score' }],
    [labels.figures.csatMean, { width: 14, style: 'score' }],
  ];
  return { header: spec.map(([h]) => h), columns: spec.map(([, c]) => c) };
}

function conversationRow(r: SummaryReport, row: SummaryReport['conversations'][number]) {
  const tz = r.timeZone;
  return [
    String(r.client.id),
    r.client.name,
    String(row.id),
    formatWaId(row.waId),
    row.contactName ?? '',
    wallClockDate(row.createdAt, tz),
    wallClockDate(row.lastMessageAt, tz),
    row.messageCount,
    row.byRole.user,
    row.byRole.assistant,
    row.byRole.agent,
    row.failed,
    row.sessions,
    row.sentimentMean,
    row.csatMean,
  ];
}

/** The columns of the CSV, typed; created_at is a date in the report's zone. */
function messageTable(tz: string): Table {
  const special: Partial<Record<(typeof CSV_COLUMNS)[number], SheetColumn>> = {
    client_name: { width: 20 },
    contact_name: { width: 20 },
    wa_id: { width: 17 },
    wamid: { width: 30 },
    created_at: { width: 20, style: 'date' },
    content: { width: 60, style: 'wrap' },
    // A code, not a quantity: no thousands separator.
    error_code: { width: 11 },
    error_message: { width: 30, style: 'wrap' },
    reply_to_wamid: { width: 30 },
  };
  return {
    header: CSV_COLUMNS.map((name) => (name === 'created_at' ? `created_at (${tz})` : name)),
    columns: CSV_COLUMNS.map((name) => special[name] ?? { width: 11 }),
  };
}

/** A detailed report: Conversations, Messages (rolling over past Excel's row limit), Summary. */
export async function renderDetailedXlsx(
  report: DetailedReport,
  out: NodeJS.WritableStream,
  options: XlsxOptions = {},
): Promise<RenderResult> {
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const maxRows = options.maxRows ?? XLSX_MAX_ROWS;
  const overview = await report.overview();
  const x = new XlsxWriter(out, { title: `${labels.title} · ${report.client.name}`, created: report.generatedAt });

  const conv = conversationTable(labels, tz);
  await x.startSheet(labels.conversations, { ...conv, freezeColumns: 0 });
  for (const row of overview.conversations) await x.row(conversationRow(overview, row));

  const msgs = messageTable(tz);
  let part = 1;
  await x.startSheet(labels.messages, msgs);
  const clientId = String(report.client.id);
  let conversations = 0;
  let messages = 0;
  for await (const source of report.conversations()) {
    conversations += 1;
    const t = source.thread;
    const threadId = String(t.id);
    const waId = formatWaId(t.waId);
    const contact = t.contactName ?? '';
    for await (const batch of source.batches()) {
      for (const m of batch) {
        if (x.rowCount >= maxRows) {
          part += 1;
          await x.startSheet(`${labels.messages} (${part})`, msgs);
        }
        const pending = x.row([
          clientId,
          report.client.name,
          threadId,
          waId,
          contact,
          String(m.id),
          m.wamid,
          wallClockDate(m.createdAt, tz),
          m.role,
          m.type,
          m.content,
          m.status,
          m.errorCode,
          m.errorMessage,
          m.replyToWamid,
        ]);
        if (pending) await pending;
      }
      messages += batch.length;
    }
  }
  await figuresSheet(x, labels.figures.summary, labels, reportFacts(overview, labels, labels.title), [
    summaryFigures(overview, labels),
  ]);
  await x.end();
  return { conversations, messages };
}

/**
 * Facts (label / value), then one row per figure with a value column per entity (a client of the
 * statistics, or the one summary), each cell in its figure's number format.
 */
async function figuresSheet(
  x: XlsxWriter,
  name: string,
  labels: Labels,
  facts: [string, string | Date][],
  columns: Figure[][],
  heads: string[] = [labels.figures.value],
): Promise<void> {
  await x.startSheet(name, {
    columns: [{ width: 40, style: 'bold' }, ...columns.map(() => ({ width: 24 }))],
    freezeColumns: 1,
  });
  for (const [label, value] of facts) await x.row([label, value]);
  await x.row([]);
  await x.row([labels.figures.figure, ...heads], 'bold');
  for (let i = 0; i < (columns[0]?.length ?? 0); i++) {
    const first = columns[0]?.[i] as Figure;
    await x.rowStyled(
      [first.label, ...columns.map((c) => c[i]?.value ?? null)],
      ['text', ...columns.map(() => FIGURE_STYLE[first.kind])],
    );
  }
}

async function perDaySheet(
  x: XlsxWriter,
  labels: Labels,
  rows: { client?: string; day: string; messages: number }[],
): Promise<void> {
  const withClient = rows.some((r) => r.client !== undefined);
  await x.startSheet(labels.perDay, {
    header: [...(withClient ? [bare(labels.client)] : []), labels.day, labels.messages],
    columns: [
      ...(withClient ? [{ width: 24 }] : []),
      { width: 12, style: 'day' as const },
      { width: 11, style: 'count' as const },
    ],
  });
  for (const r of rows) {
    const day = new Date(`${r.day}T00:00:00Z`);
    await x.row(withClient ? [r.client, day, r.messages] : [day, r.messages]);
  }
}

/** A client's summary: Summary (header and figures), Conversations, Messages per day. */
export async function renderSummaryXlsx(report: SummaryReport, out: NodeJS.WritableStream): Promise<void> {
  const labels = labelsFor(report.lang);
  const x = new XlsxWriter(out, {
    title: `${labels.summaryTitle} · ${report.client.name}`,
    created: report.generatedAt,
  });
  await figuresSheet(x, labels.figures.summary, labels, reportFacts(report, labels, labels.summaryTitle), [
    summaryFigures(report, labels),
  ]);
  await x.startSheet(labels.conversations, conversationTable(labels, report.timeZone));
  for (const row of report.conversations) await x.row(conversationRow(report, row));
  await perDaySheet(x, labels, report.perDay);
  await x.end();
}

/** `wa-report stats`: one row per figure and a column per client, then messages per day. */
export async function renderStatisticsXlsx(input: StatisticsReport, out: NodeJS.WritableStream): Promise<void> {
  const labels = labelsFor(input.lang);
  const f = labels.figures;
  const x = new XlsxWriter(out, { title: f.statsTitle, created: input.generatedAt });
  const facts: [string, string | Date][] = [
    [f.statsTitle, ''],
    [bare(labels.timeZone), input.timeZone],
    [bare(labels.generated), wallClockDate(input.generatedAt, input.timeZone)],
    [bare(labels.range), input.since ? `${formatDateTime(input.since, input.timeZone)} — …` : labels.rangeAll],
  ];
  await figuresSheet(
    x,
    f.statsTitle,
    labels,
    facts,
    input.stats.map((s) => statisticsFigures(s, labels)),
    input.stats.map((s) => `${s.clientName} (${s.clientId})`),
  );
  await perDaySheet(
    x,
    labels,
    input.stats.flatMap((s) => s.perDay.map((d) => ({ client: s.clientName, ...d }))),
  );
  await x.end();
}
