// Reports as Excel workbooks, written with exceljs's streaming writer: each row is committed as it
// is read, so memory stays flat whatever the size. A detailed report has three sheets
// (Conversations, Messages, Summary); a summary or the statistics one sheet per table they print.
//
// Cells are typed: times are real dates (the wall clock in the report's zone, which every sheet
// names, since spreadsheets have no zones), counts are numbers, ids are text (a wa_id never turns
// into 3.46E+10). Text is always written as a string cell, never as a formula: a message starting
// with "=" stays that text in Excel and LibreOffice (the CSV needs a guard for that; a workbook does not).
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { formatWaId } from '../domain/phone.js';
import type { StatisticsReport } from './build.js';
import { CSV_COLUMNS } from './csv.js';
import { statisticsFigures, summaryFigures, type Figure } from './figures.js';
import { formatDateTime, wallClockDate } from './format.js';
import { describeRange } from './html.js';
import { bare, labelsFor, type Labels } from './i18n.js';
import type { DetailedReport, RenderResult, SummaryReport } from './types.js';

/** Excel's limit: 1,048,576 rows a sheet, the header included. */
export const XLSX_MAX_ROWS = 1_048_576;

export interface XlsxOptions {
  /** Rows a sheet may hold, header included (tests use a small one to see the rollover). */
  maxRows?: number;
}

const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss';
const FORMATS: Record<Figure['kind'], string> = { count: '#,##0', rate: '0.0%', seconds: '#,##0', score: '0.000' };

type Writer = InstanceType<typeof ExcelJS.stream.xlsx.WorkbookWriter>;
type Sheet = ReturnType<Writer['addWorksheet']>;

interface ColumnSpec {
  header: string;
  width: number;
  numFmt?: string;
  wrap?: boolean;
}

/** A1-style letters of a 1-based column number. */
function columnLetter(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** A sheet with a bold, frozen header row, an autofilter over it and fixed column widths. */
function tableSheet(wb: Writer, name: string, columns: ColumnSpec[]): Sheet {
  const sheet = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.autoFilter = `A1:${columnLetter(columns.length)}1`;
  sheet.columns = columns.map((c, i) => ({
    key: String(i),
    width: c.width,
    style: {
      ...(c.numFmt ? { numFmt: c.numFmt } : {}),
      alignment: c.wrap ? { wrapText: true, vertical: 'top' } : { vertical: 'top' },
    },
  }));
  const header = sheet.addRow(columns.map((c) => c.header));
  header.font = { bold: true };
  header.commit();
  return sheet;
}

/** Rows a sheet at a time: continues on "Name (2)", "Name (3)", … when one is full. */
class RollingSheet {
  private sheet: Sheet;
  private rows = 1;
  private part = 1;
  constructor(
    private readonly wb: Writer,
    private readonly name: string,
    private readonly columns: ColumnSpec[],
    private readonly maxRows: number,
  ) {
    this.sheet = tableSheet(wb, name, columns);
  }

  add(values: unknown[]): void {
    if (this.rows >= this.maxRows) {
      this.sheet.commit();
      this.part += 1;
      this.sheet = tableSheet(this.wb, `${this.name} (${this.part})`, this.columns);
      this.rows = 1;
    }
    this.sheet.addRow(values).commit();
    this.rows += 1;
  }

  commit(): void {
    this.sheet.commit();
  }
}

/** Streams a workbook to `out` without ending it: exceljs ends its stream, so it gets its own. */
async function workbook(out: NodeJS.WritableStream, title: string, fill: (wb: Writer) => Promise<void>) {
  const pass = new PassThrough({ highWaterMark: 256 * 1024 });
  pass.pipe(out as NodeJS.WritableStream, { end: false });
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: pass, useStyles: true, useSharedStrings: false });
  wb.creator = 'wa-report';
  wb.title = title;
  wb.created = new Date();
  await fill(wb);
  await wb.commit();
  await finished(pass);
}

/** The header of a report as label/value rows, then its figures (typed, formatted numbers). */
function summarySheet(
  wb: Writer,
  name: string,
  labels: Labels,
  facts: [string, string | Date][],
  figures: Figure[],
): void {
  const sheet = wb.addWorksheet(name);
  sheet.columns = [{ width: 38 }, { width: 44 }];
  for (const [label, value] of facts) {
    const row = sheet.addRow([label, value]);
    row.getCell(1).font = { bold: true };
    if (value instanceof Date) row.getCell(2).numFmt = DATE_FORMAT;
    row.commit();
  }
  sheet.addRow([]).commit();
  const head = sheet.addRow([labels.figures.figure, labels.figures.value]);
  head.font = { bold: true };
  head.commit();
  for (const f of figures) {
    const row = sheet.addRow([f.label, f.value]);
    row.getCell(2).numFmt = FORMATS[f.kind];
    row.getCell(2).alignment = { horizontal: 'right' };
    row.commit();
  }
  sheet.commit();
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

function conversationColumns(labels: Labels, tz: string): ColumnSpec[] {
  const at = (label: string) => `${bare(label)} (${tz})`;
  return [
    { header: 'client_id', width: 10 },
    { header: 'client_name', width: 24 },
    { header: 'thread_id', width: 10 },
    { header: 'wa_id', width: 17 },
    { header: bare(labels.contact), width: 24 },
    { header: at(labels.started), width: 20, numFmt: DATE_FORMAT },
    { header: at(labels.lastActivity), width: 20, numFmt: DATE_FORMAT },
    { header: labels.messages, width: 11, numFmt: '#,##0' },
    { header: labels.roles.user, width: 10, numFmt: '#,##0' },
    { header: labels.roles.assistant, width: 10, numFmt: '#,##0' },
    { header: labels.roles.agent, width: 10, numFmt: '#,##0' },
    { header: labels.failed, width: 10, numFmt: '#,##0' },
    { header: labels.figures.sessions, width: 10, numFmt: '#,##0' },
    { header: labels.figures.sentimentMean, width: 16, numFmt: '0.000' },
  ];
}

function conversationRow(r: SummaryReport, row: SummaryReport['conversations'][number]): unknown[] {
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
  ];
}

/** The columns of the CSV, typed; created_at is a date in the report's zone. */
function messageColumns(tz: string): ColumnSpec[] {
  const widths: Partial<Record<(typeof CSV_COLUMNS)[number], ColumnSpec>> = {
    client_name: { header: 'client_name', width: 20 },
    contact_name: { header: 'contact_name', width: 20 },
    wa_id: { header: 'wa_id', width: 17 },
    wamid: { header: 'wamid', width: 30 },
    created_at: { header: `created_at (${tz})`, width: 20, numFmt: DATE_FORMAT },
    content: { header: 'content', width: 60, wrap: true },
    error_message: { header: 'error_message', width: 30, wrap: true },
    reply_to_wamid: { header: 'reply_to_wamid', width: 30 },
  };
  return CSV_COLUMNS.map((name) => widths[name] ?? { header: name, width: 11 });
}

/** A detailed report: Conversations, Messages (rolling over past Excel's row limit), Summary. */
export async function renderDetailedXlsx(
  report: DetailedReport,
  out: NodeJS.WritableStream,
  options: XlsxOptions = {},
): Promise<RenderResult> {
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const overview = await report.overview();
  let conversations = 0;
  let messages = 0;
  await workbook(out, `${labels.title} · ${report.client.name}`, async (wb) => {
    const sheet = tableSheet(wb, labels.conversations, conversationColumns(labels, tz));
    for (const row of overview.conversations) sheet.addRow(conversationRow(overview, row)).commit();
    sheet.commit();

    const rows = new RollingSheet(wb, labels.messages, messageColumns(tz), options.maxRows ?? XLSX_MAX_ROWS);
    const clientId = String(report.client.id);
    for await (const source of report.conversations()) {
      conversations += 1;
      const t = source.thread;
      const threadId = String(t.id);
      const waId = formatWaId(t.waId);
      for await (const batch of source.batches()) {
        for (const m of batch) {
          rows.add([
            clientId,
            report.client.name,
            threadId,
            waId,
            t.contactName ?? '',
            String(m.id),
            m.wamid ?? '',
            wallClockDate(m.createdAt, tz),
            m.role,
            m.type,
            m.content,
            m.status ?? '',
            m.errorCode ?? '',
            m.errorMessage ?? '',
            m.replyToWamid ?? '',
          ]);
        }
        messages += batch.length;
        // Let the zip stream catch up before the next batch (committed rows wait in memory until then).
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    rows.commit();
    summarySheet(
      wb,
      labels.figures.summary,
      labels,
      reportFacts(overview, labels, labels.title),
      summaryFigures(overview, labels),
    );
  });
  return { conversations, messages };
}

function perDaySheet(wb: Writer, labels: Labels, rows: { client?: string; day: string; messages: number }[]): void {
  const withClient = rows.some((r) => r.client !== undefined);
  const sheet = tableSheet(wb, labels.perDay, [
    ...(withClient ? [{ header: bare(labels.client), width: 24 }] : []),
    { header: labels.day, width: 12, numFmt: 'yyyy-mm-dd' },
    { header: labels.messages, width: 11, numFmt: '#,##0' },
  ]);
  for (const r of rows) {
    const day = new Date(`${r.day}T00:00:00Z`);
    sheet.addRow(withClient ? [r.client, day, r.messages] : [day, r.messages]).commit();
  }
  sheet.commit();
}

/** A client's summary: Summary (header and figures), Conversations, Messages per day. */
export async function renderSummaryXlsx(report: SummaryReport, out: NodeJS.WritableStream): Promise<void> {
  const labels = labelsFor(report.lang);
  await workbook(out, `${labels.summaryTitle} · ${report.client.name}`, async (wb) => {
    summarySheet(
      wb,
      labels.figures.summary,
      labels,
      reportFacts(report, labels, labels.summaryTitle),
      summaryFigures(report, labels),
    );
    const sheet = tableSheet(wb, labels.conversations, conversationColumns(labels, report.timeZone));
    for (const row of report.conversations) sheet.addRow(conversationRow(report, row)).commit();
    sheet.commit();
    perDaySheet(wb, labels, report.perDay);
  });
}

/** `wa-report stats`: one row per figure and a column per client, then messages per day. */
export async function renderStatisticsXlsx(input: StatisticsReport, out: NodeJS.WritableStream): Promise<void> {
  const labels = labelsFor(input.lang);
  const f = labels.figures;
  await workbook(out, f.statsTitle, async (wb) => {
    const sheet = wb.addWorksheet(f.statsTitle, { views: [{ state: 'frozen', ySplit: 1, xSplit: 1 }] });
    sheet.columns = [{ width: 38 }, ...input.stats.map(() => ({ width: 22 }))];
    const facts: [string, string | Date][] = [
      [bare(labels.timeZone), input.timeZone],
      [bare(labels.generated), wallClockDate(input.generatedAt, input.timeZone)],
      [bare(labels.range), input.since ? `${formatDateTime(input.since, input.timeZone)} — …` : labels.rangeAll],
    ];
    const head = sheet.addRow([f.figure, ...input.stats.map((s) => `${s.clientName} (${s.clientId})`)]);
    head.font = { bold: true };
    head.commit();
    const columns = input.stats.map((s) => statisticsFigures(s, labels));
    for (let i = 0; i < (columns[0]?.length ?? 0); i++) {
      const first = columns[0]?.[i] as Figure;
      const row = sheet.addRow([first.label, ...columns.map((c) => c[i]?.value ?? null)]);
      for (let c = 0; c < columns.length; c++) row.getCell(c + 2).numFmt = FORMATS[first.kind];
      row.commit();
    }
    sheet.addRow([]).commit();
    for (const [label, value] of facts) {
      const row = sheet.addRow([label, value]);
      row.getCell(1).font = { bold: true };
      if (value instanceof Date) row.getCell(2).numFmt = DATE_FORMAT;
      row.commit();
    }
    sheet.commit();
    perDaySheet(
      wb,
      labels,
      input.stats.flatMap((s) => s.perDay.map((d) => ({ client: s.clientName, ...d }))),
    );
  });
}
