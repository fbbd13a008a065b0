// The detailed report as one JSON document (schema: docs/report-json.md), written piece by piece so
// a conversation of any size never sits in memory. The bytes are exactly what
// JSON.stringify(document, null, 2) + "\n" would give.
import { formatWaId } from '../domain/phone.js';
import type { StoredMessage } from '../domain/types.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import { nested, pad } from '../io/json-text.js';
import { formatIso, formatIsoOrNull } from './format.js';
import type { DetailedReport, RenderResult, ReportMessage, ReportThread } from './types.js';

export interface JsonMessage {
  id: number;
  wamid: string | null;
  role: StoredMessage['role'];
  type: string;
  content: string;
  created_at: string;
  status: string | null;
  error_code: number | null;
  error_message: string | null;
  reply_to_wamid: string | null;
}

export function jsonMessage(m: ReportMessage, timeZone: string): JsonMessage {
  return {
    id: m.id,
    wamid: m.wamid,
    role: m.role,
    type: m.type,
    content: m.content,
    created_at: formatIso(m.createdAt, timeZone),
    status: m.status,
    error_code: m.errorCode,
    error_message: m.errorMessage,
    reply_to_wamid: m.replyToWamid,
  };
}

const q = JSON.stringify;
const CUT_SHORT = 'The report was cut short by an error; it is incomplete.';
const P5 = `,\n${pad(5)}`;
const P4 = `\n${pad(4)}`;
const OPEN = `{\n${pad(5)}"id": `;
const CLOSE = `\n${pad(4)}}`;

/**
 * `nested(jsonMessage(m), 4)` written out by hand: the same bytes (a test compares them), without
 * building an object and re-indenting it 100,000 times.
 */
function messageJson(m: ReportMessage, timeZone: string): string {
  return (
    // role is one of the three roles, error_code a number or null, created_at ISO digits: none needs escaping.
    `${OPEN}${m.id}${P5}"wamid": ${q(m.wamid)}${P5}"role": "${m.role}"${P5}"type": ${q(m.type)}` +
    `${P5}"content": ${q(m.content)}${P5}"created_at": "${formatIso(m.createdAt, timeZone)}"` +
    `${P5}"status": ${q(m.status)}${P5}"error_code": ${m.errorCode}` +
    `${P5}"error_message": ${q(m.errorMessage)}${P5}"reply_to_wamid": ${q(m.replyToWamid)}${CLOSE}`
  );
}

/** A conversation's fields before `messages`, in document order. */
function conversationFields(t: ReportThread, timeZone: string): [string, unknown][] {
  return [
    ['thread_id', t.id],
    ['wa_id', formatWaId(t.waId)],
    ['contact_name', t.contactName],
    ['created_at', formatIso(t.createdAt, timeZone)],
    ['last_message_at', formatIso(t.lastMessageAt, timeZone)],
    ['message_count', t.messageCount],
  ];
}

/**
 * Streams the document; does not end `out`. Should reading the data fail half-way, the open
 * arrays are closed and a top-level `"error"` member says the document is incomplete (the output
 * stays valid JSON), then the error is rethrown.
 */
export async function renderJson(report: DetailedReport, out: NodeJS.WritableStream): Promise<RenderResult> {
  const tz = report.timeZone;
  const writer = new ChunkWriter(out);
  let conversations = 0;
  let messages = 0;
  let inConversation = false;
  let messagesInConversation = 0;

  const client = { id: report.client.id, name: report.client.name, phone_number: report.client.phoneNumber };
  const range = { start: formatIsoOrNull(report.range.start, tz), end: formatIsoOrNull(report.range.end, tz) };
  await writer.write(
    `{\n${pad(1)}"client": ${nested(client, 1)},\n${pad(1)}"time_zone": ${JSON.stringify(tz)},\n` +
      `${pad(1)}"generated_at": ${JSON.stringify(formatIso(report.generatedAt, tz))},\n` +
      `${pad(1)}"range": ${nested(range, 1)},\n${pad(1)}"conversations": [`,
  );

  const closeConversation = async (): Promise<void> => {
    await writer.write(`${messagesInConversation ? `\n${pad(3)}]` : ']'}\n${pad(2)}}`);
    inConversation = false;
  };

  try {
    for await (const source of report.conversations()) {
      let opening = `${conversations ? ',' : ''}\n${pad(2)}{\n`;
      for (const [key, value] of conversationFields(source.thread, tz))
        opening += `${pad(3)}${JSON.stringify(key)}: ${JSON.stringify(value)},\n`;
      await writer.write(`${opening}${pad(3)}"messages": [`);
      conversations += 1;
      inConversation = true;
      messagesInConversation = 0;
      for await (const batch of source.batches()) {
        for (const m of batch) {
          const wrote = writer.write(`${messagesInConversation ? ',' : ''}${P4}${messageJson(m, tz)}`);
          if (wrote) await wrote;
          messagesInConversation += 1;
        }
        messages += batch.length;
      }
      await closeConversation();
    }
  } catch (error) {
    // Close what is open so the output still parses, and say it is incomplete.
    try {
      if (inConversation) await closeConversation();
      await writer.write(
        `${conversations ? `\n${pad(1)}]` : ']'},\n${pad(1)}"error": ${nested({ message: CUT_SHORT }, 1)}\n}\n`,
      );
      await writer.flush();
    } catch {
      /* the output itself failed: nothing more can be said there */
    }
    throw error;
  }

  await writer.write(`${conversations ? `\n${pad(1)}]` : ']'}\n}\n`);
  await writer.flush();
  return { conversations, messages };
}
