// `wa-report export` (and the root `--format detailed|summary|…`): a detailed report of one
// conversation or of all of a client's, or a client's summary, to stdout or a file.
import { UsageError } from '../../errors.js';
import { buildDetailedReport, buildSummaryReport } from '../../reports/build.js';
import { parseReportOptions, requireClientId, type RawReportOptions } from '../../reports/query-options.js';
import type { DetailedFormat } from '../../reports/types.js';
import { bool, defineCommand, text } from '../command.js';
import type { CommandContext } from '../context.js';
import { output, reportFlags } from '../flags.js';
import { count, refuseBinaryOnTerminal, withOutput } from '../output.js';

export interface ExportOptions extends RawReportOptions {
  format?: string;
  output?: string;
  bom?: boolean;
  summary?: boolean;
}

export const command = defineCommand({
  flags: {
    ...reportFlags(),
    format: text('--format <format>', 'json, text, html, csv, pdf or xlsx (default text)'),
    output: output(),
    bom: bool('--bom', 'csv: start with a UTF-8 byte order mark (for Excel)'),
    summary: bool('--summary', "the client's summary instead of the messages (text, json, html, pdf or xlsx)"),
  },
  help: `
Examples:
  wa-report export --client-id 1 --wa-id +34612345678 --format html > conversation.html
  wa-report export --client-id 1 --start-date 2024-01-01 --format csv --bom -o january.csv
  wa-report export --client-id 1 --format json | jq '.conversations[].message_count'
  wa-report export --client-id 1 --wa-id +34612345678 --format pdf -o conversation.pdf
  wa-report export --client-id 1 --format xlsx -o client-1.xlsx      # Conversations, Messages, Summary
  wa-report export --client-id 1 --summary --format pdf -o summary.pdf
`,
  async run({ options }, ctx) {
    if (options.summary) await runSummary(options, ctx);
    else await runExport(options, ctx);
  },
});

export async function runExport(options: ExportOptions, ctx: CommandContext): Promise<void> {
  const { DETAILED_FORMATS, DETAILED_FORMAT_NAMES, isDetailedFormat, renderDetailed } =
    await import('../../reports/index.js');
  const format = (options.format ?? 'text') as DetailedFormat;
  if (!isDetailedFormat(format)) {
    throw new UsageError(`--format: "${options.format}" is not one of ${DETAILED_FORMAT_NAMES.join(', ')}.`);
  }
  const info = DETAILED_FORMATS[format];
  if (info.binary) refuseBinaryOnTerminal(ctx, options.output, format, info.extension);
  const o = parseReportOptions(options, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const report = await buildDetailedReport(store, { ...o, clientId });
  const { result, file } = await withOutput(ctx, options.output, (out) =>
    renderDetailed(format, report, out, { bom: Boolean(options.bom) }),
  );
  const plural = result.conversations === 1 ? '' : 's';
  const what = `${count(result.conversations)} conversation${plural}, ${count(result.messages)} messages`;
  const done = `${what} (${format}, times in ${o.timeZone})`;
  ctx.io.stderr.write(file ? `Wrote ${file}: ${done}.\n` : ctx.io.stdout.isTTY ? '' : `Exported ${done}.\n`);
}

/**
 * A client's summary. Its format: `--json`, `--format` (from `export --summary`), or the extension of
 * `-o` (summary.html, .json, .pdf, .xlsx); text otherwise.
 */
export async function runSummary(options: ExportOptions & { json?: boolean }, ctx: CommandContext): Promise<void> {
  const { SUMMARY_FORMAT_NAMES, isSummaryFormat, renderSummary, summaryFormatOf } =
    await import('../../reports/index.js');
  const out = options.output;
  const asked = options.summary ? options.format : undefined;
  if (asked !== undefined && !isSummaryFormat(asked)) {
    throw new UsageError(`--format: a summary is ${SUMMARY_FORMAT_NAMES.join(', ')}, not "${asked}".`);
  }
  const outFormat = options.json ? 'json' : (asked ?? summaryFormatOf(out) ?? 'text');
  if (outFormat === 'pdf' || outFormat === 'xlsx') refuseBinaryOnTerminal(ctx, out, outFormat, outFormat);
  const o = parseReportOptions(options, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const report = await buildSummaryReport(store, { ...o, clientId });
  const color = ctx.io.stdout.isTTY && (out === undefined || out === '-') && ctx.out.level > 0;
  const { file } = await withOutput(ctx, out, (stream) => renderSummary(outFormat, report, stream, { color }));
  if (file) {
    ctx.io.stderr.write(`Wrote ${file}: summary of ${report.totals.conversations} conversations (${outFormat}).\n`);
  }
}
