// stdout carries data only; three shapes of the same rows: a table on a terminal, tab-separated
// when piped, and --json. Reports go to stdout or to a file written whole or not at all.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type CliTable from 'cli-table3';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';

/**
 * A count as en-US writes it (1,234,567). By hand: Intl's first use loads its locale data, which
 * costs a command that otherwise never touches Intl (an export in UTC) tens of milliseconds.
 */
export function count(x: number): string {
  if (!Number.isSafeInteger(x)) return x.toLocaleString('en-US');
  return String(x).replace(/\B(?=(\d{3})+$)/g, ',');
}

export interface Column<T> {
  header: string;
  /** Terminal cell (may be shortened or coloured). */
  cell: (row: T) => string;
  /** Piped cell: full value, ISO dates; defaults to `cell`. */
  plain?: (row: T) => string;
}

/** cli-table3, loaded by the first table drawn (~10 ms at start for commands that draw none). */
let loadedTable: typeof CliTable | undefined;
export function terminalTable(): typeof CliTable {
  return (loadedTable ??= createRequire(import.meta.url)('cli-table3') as typeof CliTable);
}

export function writeRows<T>(ctx: CommandContext, rows: T[], columns: Column<T>[], emptyMessage: string): void {
  const { stdout, stderr } = ctx.io;
  if (stdout.isTTY) {
    if (rows.length === 0) {
      stderr.write(`${emptyMessage}\n`);
      return;
    }
    const Table = terminalTable();
    const table = new Table({
      head: columns.map((c) => ctx.out.bold(c.header)),
      style: { head: [], border: [] },
    });
    for (const row of rows) table.push(columns.map((c) => c.cell(row)));
    stdout.write(`${table.toString()}\n`);
    return;
  }
  const clean = (s: string) => s.replace(/[\t\r\n]+/g, ' ');
  stdout.write(`${columns.map((c) => c.header.toLowerCase().replace(/\s+/g, '_')).join('\t')}\n`);
  for (const row of rows) stdout.write(`${columns.map((c) => clean((c.plain ?? c.cell)(row))).join('\t')}\n`);
}

export function writeJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A short local date-time for terminals: 2024-01-15 10:30. */
export function shortDateTime(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A PDF or a workbook is bytes no terminal shows: refuse to write one to a terminal (exit 2) and
 * say how to get the file.
 */
export function refuseBinaryOnTerminal(
  ctx: CommandContext,
  output: string | undefined,
  format: string,
  extension: string,
): void {
  if ((output === undefined || output === '-') && ctx.io.stdout.isTTY) {
    throw new UsageError(
      `--format ${format} is a binary file and stdout is a terminal: add -o report.${extension}, or redirect ` +
        `(> report.${extension}).`,
    );
  }
}

/**
 * Writes to `-o file` through a temporary file renamed at the end: an interrupted export never
 * leaves a half-written report under the requested name.
 */
export async function withOutput<R>(
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
          `--output: cannot write ${output} (${error.code ?? error.message}). Check that the directory exists and ` +
            'is writable.',
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
