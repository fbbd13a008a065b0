// The workbook renderer read back with exceljs and with LibreOffice: typed cells (dates in the
// report's zone, numbers, ids as text), frozen bold headers with autofilters, Messages continued on
// "Mensajes (2)" past the row limit, and text that looks like a formula kept as that text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDetailedXlsx, renderSummaryXlsx } from '../../src/reports/xlsx.js';
import { formatDateTime } from '../../src/reports/format.js';
import type { DetailedReport } from '../../src/reports/types.js';
import { libreOfficeSheet } from '../helpers/libreoffice.js';
import { MULTILINGUAL } from '../helpers/multilingual.js';
import {
  generatedReport,
  multilingualReport,
  sampleReport,
  sampleSummary,
  StringWritable,
  ZONE,
} from './sample-report.js';

const dir = mkdtempSync(join(tmpdir(), 'wa-report-xlsx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function workbook(report: DetailedReport, maxRows?: number) {
  const out = new StringWritable();
  const result = await renderDetailedXlsx(report, out, { maxRows });
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(out.buffer as unknown as ArrayBuffer);
  return { wb, result, bytes: out.buffer };
}

/** A Date cell as exceljs reads it (UTC fields = the wall clock written) → "YYYY-MM-DD HH:MM:SS". */
const wall = (d: unknown) => (d as Date).toISOString().slice(0, 19).replace('T', ' ');

describe('XLSX workbook', () => {
  it('has Conversations, Messages and Summary sheets with typed cells', async () => {
    const { wb, result } = await workbook(sampleReport());
    expect(wb.worksheets.map((s) => s.name)).toEqual(['Conversaciones', 'Mensajes', 'Resumen']);
    const messages = wb.getWorksheet('Mensajes')!;
    expect(messages.rowCount).toBe(result.messages + 1);
    const header = messages.getRow(1);
    expect(header.getCell(1).value).toBe('client_id');
    expect(header.getCell(8).value).toBe(`created_at (${ZONE})`);
    expect(header.getCell(1).font?.bold).toBe(true);
    expect(messages.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(messages.autoFilter).toBe(`A1:O${result.messages + 1}`);
    // Ids are text, times are dates showing the wall clock in the report's zone, codes are numbers.
    const first = messages.getRow(2);
    expect(first.getCell(4).value).toBe('+34123456789');
    expect(typeof first.getCell(6).value).toBe('string');
    const report = sampleReport();
    const all: { createdAt: Date; errorCode: number | null }[] = [];
    for await (const c of report.conversations()) for await (const b of c.batches()) all.push(...b);
    expect(wall(first.getCell(8).value)).toBe(formatDateTime(all[0]!.createdAt, ZONE));
    expect(first.getCell(8).numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    const failedRow = all.findIndex((m) => m.errorCode !== null) + 2;
    expect(messages.getRow(failedRow).getCell(13).value).toBe(131047);
    // The conversations, one row each, with their counts as numbers.
    const conversations = wb.getWorksheet('Conversaciones')!;
    expect(conversations.rowCount).toBe(3);
    expect(conversations.getRow(2).getCell(8).value).toBe(11);
    expect(conversations.getRow(2).getCell(12).value).toBe(1);
    // The summary names the client, zone and period, then the figures as numbers.
    const summary = wb.getWorksheet('Resumen')!;
    const values = summary.getSheetValues().flatMap((r) => (Array.isArray(r) ? [r.slice(1)] : []));
    expect(values).toContainEqual(['Zona horaria', ZONE]);
    expect(values).toContainEqual(['Mensajes', 13]);
    expect(values).toContainEqual(['Fallidos', 1]);
  });

  it('continues past the row limit on "Mensajes (2)", "Mensajes (3)"', async () => {
    const { wb, result } = await workbook(generatedReport(25, { batchSize: 7 }), 11);
    expect(result.messages).toBe(25);
    expect(wb.worksheets.map((s) => s.name)).toEqual([
      'Conversaciones',
      'Mensajes',
      'Mensajes (2)',
      'Mensajes (3)',
      'Resumen',
    ]);
    expect(wb.worksheets.slice(1, 4).map((s) => s.rowCount)).toEqual([11, 11, 6]);
    const ids = wb.worksheets.slice(1, 4).flatMap((s) => {
      const col: unknown[] = [];
      s.eachRow((row, n) => n > 1 && col.push(row.getCell(6).value));
      return col;
    });
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => String(i + 1)));
  });

  it('keeps every script, and formula-looking text as text in LibreOffice', async () => {
    const { bytes } = await workbook(multilingualReport());
    const file = join(dir, 'multilingual.xlsx');
    writeFileSync(file, bytes);
    // Sheet 2 (Mensajes), cells as LibreOffice shows them.
    const rows = libreOfficeSheet(file, 2);
    expect(rows[0]?.[10]).toBe('content');
    const contents = rows.slice(1).map((r) => r[10]);
    expect(contents).toEqual(MULTILINGUAL.map((m) => m.content));
    // Dates as dates (shown with the sheet's format), not numbers.
    expect(rows[1]?.[7]).toMatch(/^2024-03-01 09:00:00$/);
    expect(rows[1]?.[3]).toBe('+34600000001');
  }, 180_000);

  it('writes a summary workbook: figures, conversations and messages per day', async () => {
    const out = new StringWritable();
    await renderSummaryXlsx(sampleSummary('en'), out);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(out.buffer as unknown as ArrayBuffer);
    expect(wb.worksheets.map((s) => s.name)).toEqual(['Summary', 'Conversations', 'Messages per day']);
    const perDay = wb.getWorksheet('Messages per day')!;
    expect(wall(perDay.getRow(2).getCell(1).value).slice(0, 10)).toBe('2024-03-28');
    expect(perDay.getRow(3).getCell(2).value).toBe(2);
    const figures = wb
      .getWorksheet('Summary')!
      .getSheetValues()
      .flatMap((r) => (Array.isArray(r) ? [r.slice(1)] : []));
    expect(figures).toContainEqual(['Messages', 13]);
    expect(figures).toContainEqual(['Conversations', 2]);
    expect(wb.getWorksheet('Conversations')!.getRow(2).getCell(4).value).toBe('+34123456789');
  });
});
