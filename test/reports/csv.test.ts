import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  CSV_GUARDED_COLUMNS,
  csvRecord,
  guardFormula,
  renderCsv,
  unguardFormula,
} from '../../src/reports/csv.js';
import { formatIso } from '../../src/reports/format.js';
import type { DetailedReport } from '../../src/reports/types.js';
import {
  generatedReport,
  NullWritable,
  sampleReport,
  StringWritable,
  THREAD_1_MESSAGES,
  THREAD_2_MESSAGES,
  ZONE,
} from './sample-report.js';
import { libreOfficeSheet } from '../helpers/libreoffice.js';

async function csv(report: DetailedReport, options: { bom?: boolean; escapeFormulas?: boolean } = {}): Promise<Buffer> {
  const out = new StringWritable();
  await renderCsv(report, out, options);
  return out.buffer;
}

const HEADER =
  'client_id,client_name,thread_id,wa_id,contact_name,message_id,wamid,created_at,role,type,' +
  'content,status,error_code,error_message,reply_to_wamid';

describe('csvRecord', () => {
  it('gives the same bytes as csv-stringify for every kind of field', () => {
    const pieces = ['a', ' ', '"', ',', '\r', '\n', '\r\n', '\t', ';', "'", '=', '😀', 'é', '\u2028', '0', ''];
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const field = () =>
      random() < 0.1
        ? Math.floor(random() * 1e6)
        : Array.from({ length: Math.floor(random() * 6) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const fields = Array.from({ length: 1 + Math.floor(random() * 15) }, field);
      // csv-stringify with CRLF records leaves a bare LF or CR unquoted, which Excel and LibreOffice
      // read as the end of a row; ours quotes any line break (quoted_match makes the library do the same).
      const expected = stringify([fields], { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
      expect(csvRecord(fields), JSON.stringify(fields)).toBe(expected);
    }
  });
});

describe('renderCsv', () => {
  it('quotes every kind of line break (WhatsApp has bare LFs): LibreOffice keeps each message in one row', async () => {
    const texts = ['primera línea\nsegunda línea', 'sin coma\r\ny con CRLF', 'solo CR\rfin', 'nada especial'];
    const base = sampleReport();
    let n = 0;
    const report: DetailedReport = {
      ...base,
      async *conversations() {
        for await (const s of base.conversations()) {
          yield {
            thread: s.thread,
            async *batches() {
              for await (const batch of s.batches()) yield batch.map((m) => ({ ...m, content: texts[n++ % 4]! }));
            },
          };
        }
      },
    };
    const bytes = await csv(report);
    expect(bytes.toString('utf8')).toContain(',"primera línea\nsegunda línea",');
    const dir = mkdtempSync(join(tmpdir(), 'wa-report-csv-'));
    try {
      writeFileSync(join(dir, 'report.csv'), bytes);
      const rows = libreOfficeSheet(join(dir, 'report.csv'), 1);
      const content = CSV_COLUMNS.indexOf('content');
      const total = THREAD_1_MESSAGES.length + THREAD_2_MESSAGES.length;
      expect(rows).toHaveLength(1 + total);
      // LibreOffice writes a cell's line breaks back as LF.
      expect(rows.slice(1).map((r) => r[content])).toEqual(
        Array.from({ length: total }, (_, i) => texts[i % 4]!.replace(/\r\n?/g, '\n')),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('writes the documented header, CRLF between records, UTF-8 without BOM by default', async () => {
    const bytes = await csv(sampleReport());
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    const text = bytes.toString('utf8');
    expect(text.startsWith(`${HEADER}\r\n`)).toBe(true);
    expect(CSV_COLUMNS.join(',')).toBe(HEADER);
    expect(text.endsWith('\r\n')).toBe(true);
    // Every record ends in CRLF; the only bare \n are inside quoted fields.
    const records: string[][] = parse(text, { record_delimiter: '\r\n', relax_column_count: false });
    expect(records).toHaveLength(1 + 13);
  });

  it('starts with the UTF-8 BOM when asked (Excel)', async () => {
    const bytes = await csv(sampleReport(), { bom: true });
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8').startsWith(HEADER)).toBe(true);
    const rows: Record<string, string>[] = parse(bytes, { bom: true, columns: true });
    expect(rows).toHaveLength(13);
  });

  it('round-trips every field (commas, quotes, newlines, tabs, emoji, leading = and -) through csv-parse', async () => {
    const rows: Record<string, string>[] = parse(await csv(sampleReport()), { columns: true });
    const messages = [...THREAD_1_MESSAGES, ...THREAD_2_MESSAGES];
    expect(rows).toHaveLength(messages.length);
    rows.forEach((row, i) => {
      const m = messages[i]!;
      const unguarded = Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, (CSV_GUARDED_COLUMNS as string[]).includes(k) ? unguardFormula(v) : v]),
      );
      expect(unguarded).toEqual({
        client_id: '1',
        client_name: 'Released',
        thread_id: String(m.threadId),
        wa_id: `+${m.waId}`,
        contact_name: m.threadId === 1 ? 'María José' : '',
        message_id: String(m.id),
        wamid: m.wamid ?? '',
        created_at: formatIso(m.createdAt, ZONE),
        role: m.role,
        type: m.type,
        content: m.content,
        status: m.status ?? '',
        error_code: m.errorCode === null ? '' : String(m.errorCode),
        error_message: m.errorMessage ?? '',
        reply_to_wamid: m.replyToWamid ?? '',
      });
    });
    // CRLF inside a message survives as it was.
    expect(rows[7]!.content).toBe('Soy Laura, del equipo de reservas.\r\nTe llamo en 5 minutos, ¿vale?');
  });

  it('guards cells that a spreadsheet would run as formulas, reversibly, and leaves wa_id alone', async () => {
    const rows: Record<string, string>[] = parse(await csv(sampleReport()), { columns: true });
    expect(rows[11]!.content).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(rows[10]!.content).toBe(`'-¿Sigues ahí?`);
    expect(rows[0]!.wa_id).toBe('+34123456789');
    for (const v of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '＝1', "'=1", "''+1"]) {
      expect(guardFormula(v)).toBe(`'${v}`);
      expect(unguardFormula(guardFormula(v))).toBe(v);
    }
    for (const v of ['hola', "'hola", "it's", '', '1-2', 'a=b']) {
      expect(guardFormula(v)).toBe(v);
      expect(unguardFormula(guardFormula(v))).toBe(v);
    }
    const raw: Record<string, string>[] = parse(await csv(sampleReport(), { escapeFormulas: false }), {
      columns: true,
    });
    expect(raw[11]!.content).toBe('=HYPERLINK("http://evil.example","click")');
  });

  it('waits for drain instead of buffering the whole file', async () => {
    const out = new NullWritable({ slow: true, highWaterMark: 1024 });
    expect(await renderCsv(generatedReport(5000), out)).toEqual({ conversations: 1, messages: 5000 });
    expect(out.bytes).toBeGreaterThan(500_000);
    expect(out.maxBuffered).toBeLessThan(64 * 1024);
  });
});
