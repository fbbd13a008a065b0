// One entry for the CLI and the HTTP API: the formats a detailed report comes in, and the renderer,
// media type and file name extension of each.
import { renderCsv, type CsvOptions } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderText } from './text.js';
import type { DetailedFormat, DetailedReport, RenderResult } from './types.js';

export interface FormatInfo {
  /** Content-Type of an HTTP answer. */
  mediaType: string;
  /** File name extension of an export. */
  extension: string;
  /** Whether a browser shows it (inline) or saves it (attachment). */
  disposition: 'inline' | 'attachment';
}

export const DETAILED_FORMATS: Readonly<Record<DetailedFormat, FormatInfo>> = {
  json: { mediaType: 'application/json; charset=utf-8', extension: 'json', disposition: 'inline' },
  text: { mediaType: 'text/plain; charset=utf-8', extension: 'txt', disposition: 'attachment' },
  html: { mediaType: 'text/html; charset=utf-8', extension: 'html', disposition: 'inline' },
  csv: { mediaType: 'text/csv; charset=utf-8; header=present', extension: 'csv', disposition: 'attachment' },
};

export const DETAILED_FORMAT_NAMES = Object.keys(DETAILED_FORMATS) as DetailedFormat[];

export function isDetailedFormat(name: string): name is DetailedFormat {
  return Object.hasOwn(DETAILED_FORMATS, name);
}

/** Streams `report` to `out` in `format`; never ends `out`. */
export function renderDetailed(
  format: DetailedFormat,
  report: DetailedReport,
  out: NodeJS.WritableStream,
  options: CsvOptions = {},
): Promise<RenderResult> {
  switch (format) {
    case 'json':
      return renderJson(report, out);
    case 'text':
      return renderText(report, out);
    case 'html':
      return renderHtml(report, out);
    case 'csv':
      return renderCsv(report, out, options);
  }
}
