// The detailed report as CSV: one row per message, RFC 4180 (quoted where needed, CRLF between
// records, UTF-8, optional BOM so Excel detects the encoding), written a batch at a time with csv-stringify.
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
import { stringify } from 'csv-stringify/sync';
import { formatWaId } from '../domain/phone.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import { formatIso } from './format.js';
import type { DetailedReport, RenderResult } from './types.js';

export const CSV_COLUMNS = [
  'client_id',
  'client_name',
  'thread_id',
  'wa_id',
  'contact_name',
  'message_id',
  'wamid',
  'created_at',
  'role',
  'type',
  'content',
  'status',
  'error_code',
  'error_message',
  'reply_to_wamid',
] as const;

/** Columns whose text comes from people, guarded against formula injection. */
export const CSV_GUARDED_COLUMNS: readonly (typeof CSV_COLUMNS)[number][] = [
  'client_name',
  'contact_name',
  'content',
  'error_message',
];

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
export async function renderCsv(
  report: DetailedReport,
  out: NodeJS.WritableStream,
  options: CsvOptions = {},
): Promise<RenderResult> {
  const tz = report.timeZone;
  const guard = options.escapeFormulas === false ? (v: string) => v : guardFormula;
  const clientName = guard(report.client.name);
  let conversations = 0;
  let messages = 0;

  // One synchronous stringify per slice of rows: a stream fed row by row spent more time in
  // its own machinery than in quoting.
  const options_ = { record_delimiter: 'windows' as const };
  const writer = new ChunkWriter(out);
  await writer.write((options.bom ? '\uFEFF' : '') + stringify([[...CSV_COLUMNS]], options_));
  for await (const source of report.conversations()) {
    conversations += 1;
    const t = source.thread;
    const waId = formatWaId(t.waId);
    const contact = t.contactName === null ? '' : guard(t.contactName);
    for await (const batch of source.batches()) {
      const rows: (string | number)[][] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i] as (typeof batch)[number];
        rows[i] = [
          report.client.id,
          clientName,
          t.id,
          waId,
          contact,
          m.id,
          m.wamid ?? '',
          formatIso(m.createdAt, tz),
          m.role,
          m.type,
          guard(m.content),
          m.status ?? '',
          m.errorCode ?? '',
          m.errorMessage === null ? '' : guard(m.errorMessage),
          m.replyToWamid ?? '',
        ];
      }
      messages += batch.length;
      // Slices of 100 rows (~20 kB) keep each write near the writer's chunk size, so backpressure still bounds memory.
      for (let i = 0; i < rows.length; i += 100) await writer.write(stringify(rows.slice(i, i + 100), options_));
    }
  }
  await writer.flush();
  return { conversations, messages };
}
