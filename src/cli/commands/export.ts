// `wa-report export` (and the root `--format detailed|summary|…`): a detailed report of one
// conversation or of all of a client's, or a client's summary, to stdout or a file.
import { UsageError } from '../../errors.js';
import { buildDetailedReport, buildSummaryReport } from '../../reports/build.js';
import { parseReportOptions, requireClientId, type RawReportOptions } from '../../reports/query-options.js';
import type { DetailedFormat } from '../../reports/types.js';
import { bool, defineCommand, text } from '../command.js';
import type { CommandContext } from '../context.js';
import { output, reportFlags } from '../flags.js';
import { withOutput } from '../output.js';

export interface ExportOptions extends RawReportOptions {
  format?: string;
  output?: string;
  bom?: boolean;
}

export const command = defineCommand({
  flags: {
    ...reportFlags(),
    format: text('--format <format>', 'json, text, html or csv (default text)'),
    output: output(),
    bom: bool('--bom', 'csv: start with a UTF-8 byte order mark (for Excel)'),
  },
  help: `
Examples:
  wa-report export --client-id 1 --wa-id +34612345678 --format html > conversation.html
  wa-report export --client-id 1 --start-date 2024-01-01 --format csv --bom -o january.csv
  wa-report export --client-id 1 --format json | jq '.conversations[].message_count'
`,
  async run({ options }, ctx) {
    await runExport(options, ctx);
  },
});

export async function runExport(options: ExportOptions, ctx: CommandContext): Promise<void> {
  const { DETAILED_FORMAT_NAMES, isDetailedFormat, renderDetailed } = await import('../../reports/index.js');
  const format = (options.format ?? 'text') as DetailedFormat;
  if (!isDetailedFormat(format)) {
    throw new UsageError(`--format: "${options.format}" is not one of ${DETAILED_FORMAT_NAMES.join(', ')}.`);
  }
  const o = parseReportOptions(options, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const report = await buildDetailedReport(store, { ...o, clientId });
  const { result, file } = await withOutput(ctx, options.output, (out) =>
    renderDetailed(format, report, out, { bom: Boolean(options.bom) }),
  );
  const n = (x: number) => x.toLocaleString('en-US');
  const plural = result.conversations === 1 ? '' : 's';
  const what = `${n(result.conversations)} conversation${plural}, ${n(result.messages)} messages`;
  const done = `${what} (${format}, times in ${o.timeZone})`;
  ctx.io.stderr.write(file ? `Wrote ${file}: ${done}.\n` : ctx.io.stdout.isTTY ? '' : `Exported ${done}.\n`);
}

export async function runSummary(options: ExportOptions & { json?: boolean }, ctx: CommandContext): Promise<void> {
  const o = parseReportOptions(options, ctx.io.env);
  const clientId = requireClientId(o);
  const out = options.output;
  const outFormat = options.json ? 'json' : out?.endsWith('.html') ? 'html' : out?.endsWith('.json') ? 'json' : 'text';
  const store = await ctx.store();
  const report = await buildSummaryReport(store, { ...o, clientId });
  const summary = await import('../../reports/summary.js');
  const color = ctx.io.stdout.isTTY && (out === undefined || out === '-') && ctx.out.level > 0;
  const { file } = await withOutput(ctx, out, async (stream) => {
    if (outFormat === 'json') await summary.renderSummaryJson(report, stream);
    else if (outFormat === 'html') await summary.renderSummaryHtml(report, stream);
    else await summary.renderSummaryText(report, stream, { color });
  });
  if (file) {
    ctx.io.stderr.write(`Wrote ${file}: summary of ${report.totals.conversations} conversations (${outFormat}).\n`);
  }
}
