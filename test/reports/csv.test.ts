import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, CSV_GUARDED_COLUMNS, guardFormula, renderCsv, unguardFormula } from '../../src/reports/csv.js';
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

async function csv(report: DetailedReport, options: { bom?: boolean; escapeFormulas?: boolean } = {}): Promise<Buffer> {
  const out = new StringWritable();
  await renderCsv(report, out, options);
  return out.buffer;
}

const HEADER =
  'client_id,client_name,thread_id,wa_id,contact_name,message_id,wamid,created_at,role,type,' +
  'content,status,error_code,error_message,reply_to_wamid';

describe('renderCsv', () => {
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
