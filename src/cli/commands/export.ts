// `wa-report export` and the seed's `--format detailed|summary`: reports to stdout or a file.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { buildDetailedReport, buildSummaryReport } from '../../reports/build.js';
import type { DetailedFormat, RenderResult } from '../../reports/types.js';
import type { CommandContext } from '../context.js';
import { parseReportOptions, requireClientId, type RawReportOptions } from '../../reports/query-options.js';

export const DETAILED_FORMATS: readonly DetailedFormat[] = ['json', 'text', 'html', 'csv'];
export const SUMMARY_FORMATS = ['text', 'html', 'json'] as const;

export interface ExportOptions extends RawReportOptions {
  format?: string;
  output?: string;
  bom?: boolean;
}

/**
 * Writes to `-o file` through a temporary file renamed at the end: an interrupted export never
 * leaves a half-written report under the requested name.
 */
export async function withOutput<R = RenderResult>(
  ctx: CommandContext,
  output: string | undefined,
  write: (out: Writable) => Promise<R>,
  mode = 0o666,
): Promise<{ result: R; file: string | null }> {
  if (output === undefined || output === '-') {
    const result = await write(ctx.io.stdout);
    return { result, file: null };
  }
  const temp = join(dirname(output), `.${basename(output)}.${process.pid}.part`);
  const stream = createWriteStream(temp, { flags: 'wx', highWaterMark: 256 * 1024, mode });
  // Ctrl-C or a kill during a long export: remove the partial file, then die of the same signal.
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(temp, { force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unhook = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          `--output: cannot write ${output} (${error.code ?? error.message}). Check that the directory exists and is writable.`,
        ),
      ),
    );
  });
  try {
    const result = await write(stream);
    stream.end();
    await finished(stream);
    renameSync(temp, output);
    return { result, file: output };
  } catch (error) {
    stream.destroy();
    rmSync(temp, { force: true });
    throw error;
  } finally {
    unhook();
  }
}

function checkFormat<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  dflt: T,
  flag = '--format',
): T {
  const v = (value ?? dflt) as T;
  if (!allowed.includes(v)) throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(', ')}.`);
  return v;
}

export async function runExport(options: ExportOptions, ctx: CommandContext): Promise<void> {
  const format = checkFormat(options.format, DETAILED_FORMATS, 'text');
  const o = parseReportOptions(options, ctx.io.env);
  const clientId = requireClientId(o);
  const store = await ctx.store();
  const report = await buildDetailedReport(store, {
    clientId,
    waId: o.waId,
    start: o.start,
    end: o.end,
    timeZone: o.timeZone,
    lang: o.lang,
  });
  const { renderDetailed } = await import('../../reports/index.js');
  const { result, file } = await withOutput(ctx, options.output, (out) =>
    renderDetailed(format, report, out, { bom: Boolean(options.bom) }),
  );
  const what = `${result.conversations.toLocaleString('en-US')} conversation${result.conversations === 1 ? '' : 's'}, ${result.messages.toLocaleString('en-US')} messages`;
  ctx.io.stderr.write(
    file
      ? `Wrote ${file}: ${what} (${format}, times in ${o.timeZone}).\n`
      : ctx.io.stdout.isTTY
        ? ''
        : `Exported ${what} (${format}, times in ${o.timeZone}).\n`,
  );
}

export async function runSummary(options: ExportOptions & { json?: boolean }, ctx: CommandContext): Promise<void> {
  const o = parseReportOptions(options, ctx.io.env);
  const clientId = requireClientId(o);
  const outFormat = options.json
    ? 'json'
    : options.output?.endsWith('.html')
      ? 'html'
      : options.output?.endsWith('.json')
        ? 'json'
        : 'text';
  const store = await ctx.store();
  const report = await buildSummaryReport(store, {
    clientId,
    waId: o.waId,
    start: o.start,
    end: o.end,
    timeZone: o.timeZone,
    lang: o.lang,
  });
  const summary = await import('../../reports/summary.js');
  const color = ctx.io.stdout.isTTY && (options.output === undefined || options.output === '-') && ctx.out.level > 0;
  const { file } = await withOutput(ctx, options.output, async (out) => {
    if (outFormat === 'json') await summary.renderSummaryJson(report, out);
    else if (outFormat === 'html') await summary.renderSummaryHtml(report, out);
    else await summary.renderSummaryText(report, out, { color });
    return { conversations: report.totals.conversations, messages: report.totals.messages };
  });
  if (file)
    ctx.io.stderr.write(`Wrote ${file}: summary of ${report.totals.conversations} conversations (${outFormat}).\n`);
}
