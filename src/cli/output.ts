// stdout carries data only; three shapes of the same rows: a table on a terminal, tab-separated
// when piped, and --json.
import Table from 'cli-table3';
import type { CommandContext } from './context.js';

export interface Column<T> {
  header: string;
  /** Terminal cell (may be shortened or coloured). */
  cell: (row: T) => string;
  /** Piped cell: full value, ISO dates; defaults to `cell`. */
  plain?: (row: T) => string;
}

export function writeRows<T>(ctx: CommandContext, rows: T[], columns: Column<T>[], emptyMessage: string): void {
  const { stdout, stderr } = ctx.io;
  if (stdout.isTTY) {
    if (rows.length === 0) {
      stderr.write(`${emptyMessage}\n`);
      return;
    }
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
