// PDF and Excel exports as a user runs them, on SQLite and PostgreSQL: every workbook read back
// and compared cell by cell with the CSV of the same data, the PDF's text with the text report's,
// summaries and statistics in both formats, and binary output refused on a terminal.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store.js';
import { CSV_COLUMNS, CSV_GUARDED_COLUMNS, unguardFormula } from '../../src/reports/csv.js';
import { BIN, runCli } from '../helpers/cli.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { MULTILINGUAL } from '../helpers/multilingual.js';
import { seedReports, SEED_CLIENT } from '../helpers/seed.js';
import { recordMessages } from '../helpers/store.js';
import { libreOfficeSheet } from '../helpers/libreoffice.js';

const WA = '34699000111';

describe.each(databaseKinds)('PDF and XLSX exports on $name', (kind) => {
  let db: TestDatabase;
  let dir: string;
  let clientId: number;
  const cli = (...args: string[]) =>
    runCli(['--db', db.url, ...args], { env: { TZ: 'Europe/Madrid', LANG: 'es_ES.UTF-8' }, timeoutMs: 60_000 });

  beforeAll(async () => {
    db = await kind.create();
    dir = mkdtempSync(join(tmpdir(), 'wa-report-exports-'));
    const store = await openStore(db.target);
    ({ clientId } = await seedReports(store));
    const start = Date.parse('2024-02-10T08:00:00Z');
    await recordMessages(
      store,
      MULTILINGUAL.map((m, i) => ({
        clientId,
        phoneNumberId: SEED_CLIENT.phoneNumberId,
        waId: WA,
        contactName: 'Ana 😀',
        role: m.role,
        type: 'text',
        content: m.content,
        wamid: `wamid.X${i}`,
        createdAt: new Date(start + i * 60_000),
        status: m.role === 'user' ? null : 'delivered',
      })),
    );
    await store.close();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  async function readXlsx(file: string) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    return wb;
  }

  it('writes the same messages to the workbook as to the CSV, cell by cell', async () => {
    const csvFile = join(dir, 'all.csv');
    const xlsxFile = join(dir, 'all.xlsx');
    expect((await cli('export', '--client-id', String(clientId), '--format', 'csv', '-o', csvFile)).code).toBe(0);
    const x = await cli('export', '--client-id', String(clientId), '--format', 'xlsx', '-o', xlsxFile);
    const wrote = /Wrote .*all\.xlsx: (\d+) conversations, (\d+) messages \(xlsx, times in Europe\/Madrid\)/.exec(
      x.stderr,
    );
    expect(wrote).not.toBeNull();
    const csv = parse(execFileSync('cat', [csvFile], { encoding: 'utf8' })) as string[][];
    const wb = await readXlsx(xlsxFile);
    expect(wb.worksheets.map((s) => s.name)).toEqual(['Conversaciones', 'Mensajes', 'Resumen']);
    const sheet = wb.getWorksheet('Mensajes')!;
    expect(sheet.rowCount).toBe(csv.length);
    const guarded = new Set(CSV_GUARDED_COLUMNS.map((c) => CSV_COLUMNS.indexOf(c)));
    for (let r = 1; r < csv.length; r++) {
      const row = sheet.getRow(r + 1);
      (csv[r] as string[]).forEach((expected, c) => {
        const cell = row.getCell(c + 1).value;
        let got: string;
        if (cell instanceof Date) {
          // The workbook holds the wall clock of the CSV's ISO time (which carries the zone's offset).
          got = cell.toISOString().slice(0, 19);
          expected = expected.slice(0, 19);
        } else {
          got = cell === null || cell === undefined ? '' : String(cell);
        }
        const want = guarded.has(c) ? unguardFormula(expected) : expected;
        if (got !== want)
          expect({ row: r, column: CSV_COLUMNS[c], got }).toEqual({ row: r, column: CSV_COLUMNS[c], got: want });
      });
    }
    // LibreOffice reads the same cells: the Messages sheet as it shows it, compared with the CSV.
    const office = libreOfficeSheet(xlsxFile, 2);
    expect(office.length).toBe(csv.length);
    for (let r = 1; r < csv.length; r++) {
      (csv[r] as string[]).forEach((expected, c) => {
        // Dates as the sheet shows them (2024-01-15 10:30:00), the CSV has the ISO form with the offset.
        const want =
          CSV_COLUMNS[c] === 'created_at'
            ? expected.slice(0, 19).replace('T', ' ')
            : guarded.has(c)
              ? unguardFormula(expected)
              : expected;
        const got = office[r]?.[c] ?? '';
        if (got !== want)
          expect({ row: r, column: CSV_COLUMNS[c], got }).toEqual({ row: r, column: CSV_COLUMNS[c], got: want });
      });
    }

    // Conversations: one row per conversation, the counts of the messages sheet.
    const conversations = wb.getWorksheet('Conversaciones')!;
    expect(conversations.rowCount).toBe(Number(wrote?.[1]) + 1);
    expect(Number(wrote?.[2])).toBe(csv.length - 1);
    let total = 0;
    conversations.eachRow((row, n) => {
      if (n > 1) total += row.getCell(8).value as number;
    });
    expect(total).toBe(csv.length - 1);
  });

  it('writes a PDF transcript whose text is the text report’s', async () => {
    const file = join(dir, 'one.pdf');
    const r = await cli('export', '--client-id', String(clientId), '--wa-id', `+${WA}`, '--format', 'pdf', '-o', file);
    expect(r.code).toBe(0);
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).toMatch(
      /Title:\s+REPORTE DE CONVERSACIÓN · Released/,
    );
    const extracted = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    const text = extracted.replace(/\s+/g, ' ');
    // Lines are broken where the page ends, even inside a long link: compared without white space.
    const solid = extracted.replace(/\s+/g, '');
    const report = (await cli('export', '--client-id', String(clientId), '--wa-id', `+${WA}`)).stdout;
    expect(report).toContain('REPORTE DE CONVERSACIÓN');
    for (const fact of ['+34699000111', 'Ana 😀', 'Europe/Madrid', `Total mensajes`]) expect(text).toContain(fact);
    let at = 0;
    for (const m of MULTILINGUAL.filter((x) => !['ar', 'he', 'mixed'].includes(x.script))) {
      expect(report).toContain(m.content);
      // Variation selectors are not drawn (no font has a glyph for them); a flag is one ligature.
      const words = m.content
        .replace(/\uFE0F/g, '')
        .replace(/\s+/g, ' ')
        .trim()
        .split(' ');
      const shown = (m.script === 'emoji' ? words.slice(0, 4) : words).join(' ');
      const found = solid.indexOf(shown.replace(/\s+/g, ''), at);
      expect({ message: shown, found: found >= 0 }).toEqual({ message: shown, found: true });
      at = found;
    }
  });

  it('writes summaries and statistics as PDF and workbooks, with the figures of --json', async () => {
    const sumPdf = join(dir, 'summary.pdf');
    const sumXlsx = join(dir, 'summary.xlsx');
    expect(
      (await cli('export', '--client-id', String(clientId), '--summary', '--format', 'pdf', '-o', sumPdf)).code,
    ).toBe(0);
    expect((await cli('--client-id', String(clientId), '--format', 'summary', '-o', sumXlsx)).code).toBe(0);
    const sumText = execFileSync('pdftotext', ['-enc', 'UTF-8', sumPdf, '-'], { encoding: 'utf8' });
    expect(sumText).toContain('RESUMEN DE CONVERSACIONES');
    expect(sumText).toContain('Mensajes por día');
    const summary = JSON.parse(
      (await cli('--client-id', String(clientId), '--format', 'summary', '--json')).stdout,
    ) as { totals: { messages: number; conversations: number } };
    const figures = (await readXlsx(sumXlsx))
      .getWorksheet('Resumen')!
      .getSheetValues()
      .flatMap((r) => (Array.isArray(r) ? [r.slice(1)] : []));
    expect(figures).toContainEqual(['Mensajes', summary.totals.messages]);
    expect(figures).toContainEqual(['Conversaciones', summary.totals.conversations]);

    const statsPdf = join(dir, 'stats.pdf');
    const statsXlsx = join(dir, 'stats.xlsx');
    expect((await cli('stats', '--format', 'pdf', '-o', statsPdf)).code).toBe(0);
    expect((await cli('stats', '--format', 'xlsx', '-o', statsXlsx)).code).toBe(0);
    const stats = JSON.parse((await cli('stats', '--json')).stdout) as {
      clients: { client_name: string; messages: number; failed: number }[];
    };
    const statsText = execFileSync('pdftotext', ['-enc', 'UTF-8', statsPdf, '-'], { encoding: 'utf8' });
    for (const c of stats.clients) expect(statsText).toContain(c.client_name);
    const sheet = (await readXlsx(statsXlsx)).worksheets[0]!;
    const rows = sheet.getSheetValues().flatMap((r) => (Array.isArray(r) ? [r.slice(1)] : []));
    const messagesRow = rows.find((r) => r[0] === 'Mensajes');
    expect(messagesRow?.slice(1)).toEqual(stats.clients.map((c) => c.messages));
    expect(rows.find((r) => r[0] === 'Fallidos')?.slice(1)).toEqual(stats.clients.map((c) => c.failed));
  });

  it('refuses to write a PDF or a workbook to a terminal, and bad formats, with exit 2', async () => {
    for (const args of [
      ['export', '--client-id', String(clientId), '--format', 'pdf'],
      ['stats', '--format', 'xlsx'],
      ['export', '--client-id', String(clientId), '--summary', '--format', 'pdf'],
    ]) {
      // `script` gives the command a terminal as its stdout.
      const command = [process.execPath, BIN, '--db', db.url, ...args].map((a) => `'${a}'`).join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, TERM: 'dumb' },
      });
      expect({ args, code: r.status }).toEqual({ args, code: 2 });
      expect(r.stdout).toMatch(/binary file and stdout is a terminal: add -o report\.(pdf|xlsx), or redirect/);
    }
    const bad = await cli('export', '--client-id', String(clientId), '--summary', '--format', 'csv');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: a summary is text, json, html, pdf, xlsx/);
    const badStats = await cli('stats', '--format', 'docx');
    expect(badStats.code).toBe(2);
    // Piped, the bytes go to stdout; nothing is left behind by a failed -o.
    const piped = await cli('export', '--client-id', String(clientId), '--wa-id', `+${WA}`, '--format', 'pdf');
    expect(piped.code).toBe(0);
    expect(piped.stdout.startsWith('%PDF-')).toBe(true);
    const missing = await cli(
      'export',
      '--client-id',
      String(clientId),
      '--format',
      'xlsx',
      '-o',
      join(dir, 'no/such/x.xlsx'),
    );
    expect(missing.code).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});
