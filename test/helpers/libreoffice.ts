// A workbook's sheet as LibreOffice reads it: converted headless to UTF-8 CSV (cells as shown),
// with its own throwaway profile so parallel tests never share one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

/**
 * The rows of sheet `sheet` (1-based) of `xlsxFile`, as LibreOffice shows its cells. A CSV file is
 * opened as UTF-8, comma-separated, quoted with '"' (what a person picks in the import dialog).
 */
export function libreOfficeSheet(xlsxFile: string, sheet: number): string[][] {
  const profile = mkdtempSync(join(tmpdir(), 'wa-report-lo-'));
  const out = mkdtempSync(join(tmpdir(), 'wa-report-lo-out-'));
  try {
    execFileSync(
      'soffice',
      [
        `-env:UserInstallation=file://${profile}`,
        '--headless',
        ...(xlsxFile.endsWith('.csv') ? ['--infilter=CSV:44,34,76,1'] : []),
        '--convert-to',
        `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,${sheet}`,
        '--outdir',
        out,
        xlsxFile,
      ],
      { stdio: 'pipe', timeout: 120_000 },
    );
    const name = readdirSync(out).find((f) => f.endsWith('.csv'));
    if (!name) throw new Error(`LibreOffice wrote no CSV for ${xlsxFile}`);
    return parse(readFileSync(join(out, name), 'utf8'), { relax_column_count: true }) as string[][];
  } finally {
    rmSync(profile, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
}
