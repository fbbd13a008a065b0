// The detailed report as CSV: one row per message, RFC 4180 (quoted where needed, CRLF between
// records, UTF-8, optional BOM so Excel detects the encoding), streamed through csv-stringify.
//
// Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with = + - @
// (or tab / CR, or their full-width forms) as a formula, and message text comes from strangers.
// Free-text cells (client_name, contact_name, content, error_message) that start with one of those
// characters — possibly after apostrophes — get one more leading apostrophe, which spreadsheets
// hide and treat as "this is text". The rule is reversible: a reader strips one leading "'" from
// those columns when what follows matches /^'*[=+\-@\t\r＝＋－＠]/ (see `unguardFormula`).
// Generated cells are left alone: wa_id is "+<digits>" by construction and a spreadsheet reads it
// as a number, not a formula. csv-stringify's own `escape_formulas` is not used because it touches
// every column (wa_id included) and cannot be undone unambiguously.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { formatWaId } from '../domain/phone.js';
import { ChunkWriter, formatIso } from './format.js';
import type { DetailedReport, RenderResult } from './types.js';

export const CSV_COLUMNS = [
  'client_id', 'client_name', 'thread_id', 'wa_id', 'contact_name', 'message_id', 'wamid', 'created_at',
  'role', 'type', 'content', 'status', 'error_code', 'error_message', 'reply_to_wamid',
] as const;

/** Columns whose text comes from people, guarded against formula injection. */
export const CSV_GUARDED_COLUMNS: readonly (typeof CSV_COLUMNS)[number][] = ['client_name', 'contact_name', 'content', 'error_message'];

export interface CsvOptions {
  /** Start with the UTF-8 byte order mark (Excel on Windows needs it to read UTF-8). */
  bom?: boolean;
  /** Guard free-text cells against formula injection (default true). */
  escapeFormulas?: boolean;
}

const FORMULA_START = /^'*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

export function guardFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The inverse of `guardFormula`, for programs reading the CSV back. */
export function unguardFormula(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

/** Streams the CSV to `out`; does not end it. */
export async function renderCsv(report: DetailedReport, out: NodeJS.WritableStream, options: CsvOptions = {}): Promise<RenderResult> {
  const tz = report.timeZone;
  const guard = options.escapeFormulas === false ? (v: string) => v : guardFormula;
  const clientName = guard(report.client.name);
  let conversations = 0;
  let messages = 0;

  async function* rows(): AsyncGenerator<(string | number)[]> {
    for await (const source of report.conversations()) {
      conversations += 1;
      const t = source.thread;
      const waId = formatWaId(t.waId);
      const contact = t.contactName === null ? '' : guard(t.contactName);
      for await (const batch of source.batches()) {
        for (const m of batch) {
          messages += 1;
          yield [
            report.client.id, clientName, t.id, waId, contact, m.id, m.wamid ?? '', formatIso(m.createdAt, tz),
            m.role, m.type, guard(m.content), m.status ?? '', m.errorCode ?? '', m.errorMessage === null ? '' : guard(m.errorMessage),
            m.replyToWamid ?? '',
          ];
        }
      }
    }
  }

  const stringifier = stringify({
    header: true,
    columns: [...CSV_COLUMNS],
    record_delimiter: 'windows',
    bom: options.bom ?? false,
  });
  const writer = new ChunkWriter(out);
  await pipeline(Readable.from(rows()), stringifier, async (csv: AsyncIterable<Buffer | string>) => {
    for await (const chunk of csv) await writer.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    await writer.flush();
  });
  return { conversations, messages };
}
