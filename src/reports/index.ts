// One entry for the CLI and the HTTP API: pick a renderer by format name.
import { renderCsv, type CsvOptions } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderText } from './text.js';
import type { DetailedFormat, DetailedReport, RenderResult } from './types.js';

export const DETAILED_FORMATS: readonly DetailedFormat[] = ['json', 'text', 'html', 'csv'];

/** Options some formats understand; the others ignore them. */
export type DetailedRenderOptions = CsvOptions;

/** Content-Type for an HTTP answer (or a hint for the file written). */
export const MEDIA_TYPES: Readonly<Record<DetailedFormat, string>> = {
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

export const FILE_EXTENSIONS: Readonly<Record<DetailedFormat, string>> = {
  json: 'json',
  text: 'txt',
  html: 'html',
  csv: 'csv',
};

/** Streams `report` to `out` in `format`; never ends `out`. */
export function renderDetailed(
  format: DetailedFormat,
  report: DetailedReport,
  out: NodeJS.WritableStream,
  options: DetailedRenderOptions = {},
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

export { renderCsv, renderHtml, renderJson, renderText };
export type { CsvOptions };
export { renderSummaryHtml, renderSummaryJson, renderSummaryText, type SummaryTextOptions } from './summary.js';
