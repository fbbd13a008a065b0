// One entry for the CLI and the HTTP API: the formats a detailed report comes in, and the renderer,
// media type and file name extension of each.
import type { CsvOptions } from './csv.js';
import type { StatisticsReport } from './build.js';
import type { DetailedFormat, DetailedReport, RenderResult, SummaryReport } from './types.js';

export interface FormatInfo {
  /** Content-Type of an HTTP answer. */
  mediaType: string;
  /** File name extension of an export. */
  extension: string;
  /** Whether a browser shows it (inline) or saves it (attachment). */
  disposition: 'inline' | 'attachment';
  /** Bytes no terminal can show (the CLI refuses to write them to one). */
  binary?: boolean;
}

export const DETAILED_FORMATS: Readonly<Record<DetailedFormat, FormatInfo>> = {
  json: { mediaType: 'application/json; charset=utf-8', extension: 'json', disposition: 'inline' },
  text: { mediaType: 'text/plain; charset=utf-8', extension: 'txt', disposition: 'attachment' },
  html: { mediaType: 'text/html; charset=utf-8', extension: 'html', disposition: 'inline' },
  csv: { mediaType: 'text/csv; charset=utf-8; header=present', extension: 'csv', disposition: 'attachment' },
  pdf: { mediaType: 'application/pdf', extension: 'pdf', disposition: 'attachment', binary: true },
  xlsx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extension: 'xlsx',
    disposition: 'attachment',
    binary: true,
  },
};

export const DETAILED_FORMAT_NAMES = Object.keys(DETAILED_FORMATS) as DetailedFormat[];

export function isDetailedFormat(name: string): name is DetailedFormat {
  return Object.hasOwn(DETAILED_FORMATS, name);
}

/**
 * Streams `report` to `out` in `format`; never ends `out`. Each renderer is loaded when its format
 * is asked for (a text export does not load ejs or pdfkit).
 */
export async function renderDetailed(
  format: DetailedFormat,
  report: DetailedReport,
  out: NodeJS.WritableStream,
  options: CsvOptions = {},
): Promise<RenderResult> {
  switch (format) {
    case 'json':
      return (await import('./json.js')).renderJson(report, out);
    case 'text':
      return (await import('./text.js')).renderText(report, out);
    case 'html':
      return (await import('./html.js')).renderHtml(report, out);
    case 'csv':
      return (await import('./csv.js')).renderCsv(report, out, options);
    case 'pdf':
      return (await import('./pdf/transcript.js')).renderDetailedPdf(report, out);
    case 'xlsx':
      return (await import('./xlsx.js')).renderDetailedXlsx(report, out);
  }
}

export type SummaryFormat = 'text' | 'json' | 'html' | 'pdf' | 'xlsx';

export const SUMMARY_FORMATS: Readonly<Record<SummaryFormat, FormatInfo>> = {
  text: DETAILED_FORMATS.text,
  json: DETAILED_FORMATS.json,
  html: DETAILED_FORMATS.html,
  pdf: DETAILED_FORMATS.pdf,
  xlsx: DETAILED_FORMATS.xlsx,
};

export const SUMMARY_FORMAT_NAMES = Object.keys(SUMMARY_FORMATS) as SummaryFormat[];

export function isSummaryFormat(name: string): name is SummaryFormat {
  return Object.hasOwn(SUMMARY_FORMATS, name);
}

/** The summary format a file name asks for (`-o summary.pdf`), or null. */
export function summaryFormatOf(file: string | undefined): SummaryFormat | null {
  const ext = file?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (ext === 'txt') return 'text';
  return ext && isSummaryFormat(ext) && ext !== 'text' ? ext : null;
}

/** Streams a summary to `out` in `format`; never ends `out`. */
export async function renderSummary(
  format: SummaryFormat,
  report: SummaryReport,
  out: NodeJS.WritableStream,
  options: { color?: boolean } = {},
): Promise<void> {
  switch (format) {
    case 'pdf':
      return (await import('./pdf/tables.js')).renderSummaryPdf(report, out);
    case 'xlsx':
      return (await import('./xlsx.js')).renderSummaryXlsx(report, out);
    default: {
      const summary = await import('./summary.js');
      if (format === 'json') return summary.renderSummaryJson(report, out);
      if (format === 'html') return summary.renderSummaryHtml(report, out);
      return summary.renderSummaryText(report, out, options);
    }
  }
}

/** Streams the statistics as a PDF or a workbook; never ends `out`. */
export async function renderStatistics(
  format: 'pdf' | 'xlsx',
  report: StatisticsReport,
  out: NodeJS.WritableStream,
): Promise<void> {
  if (format === 'pdf') return (await import('./pdf/tables.js')).renderStatisticsPdf(report, out);
  return (await import('./xlsx.js')).renderStatisticsXlsx(report, out);
}
