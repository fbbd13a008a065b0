// The plain-text report, laid out exactly like the original generate_report text report, plus
// the line naming the time zone and a line under each failed message.
import { formatWaId } from '../domain/phone.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import { failureLine, formatDateTime, hasFailure } from './format.js';
import { labelsFor, type Labels } from './i18n.js';
import type { DetailedReport, RenderResult, ReportMessage, ReportThread } from './types.js';

/** The rule under the header: 50 '=' characters. */
export const TEXT_RULE = '='.repeat(50);

/** Lines end in \n whatever the message carried (WhatsApp text may contain \r\n). */
function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

function header(labels: Labels, report: DetailedReport, thread: ReportThread): string {
  const tz = report.timeZone;
  return [
    labels.title,
    `${labels.client} ${report.client.name}`,
    `${labels.waUser} ${formatWaId(thread.waId)}`,
    `${labels.started} ${formatDateTime(thread.createdAt, tz)}`,
    `${labels.lastActivity} ${formatDateTime(thread.lastMessageAt, tz)}`,
    `${labels.totalMessages} ${thread.messageCount}`,
    `${labels.timeZone} ${tz}`,
    TEXT_RULE,
    '',
  ].join('\n');
}

function message(labels: Labels, m: ReportMessage, tz: string): string {
  const role = labels.roles[m.role] ?? m.role;
  const failure = hasFailure(m) ? `${failureLine(m, labels)}\n` : '';
  return `\n[${formatDateTime(m.createdAt, tz)}] ${role}:\n${normalizeNewlines(m.content)}\n${failure}`;
}

/**
 * Writes one block per conversation (header, rule, then "[time] Role:" and the text of each
 * message); conversations are separated by a blank line and the rule. Streams batch by batch and
 * waits for 'drain'; does not end `out`.
 */
export async function renderText(report: DetailedReport, out: NodeJS.WritableStream): Promise<RenderResult> {
  const labels = labelsFor(report.lang);
  const tz = report.timeZone;
  const writer = new ChunkWriter(out);
  let conversations = 0;
  let messages = 0;

  for await (const source of report.conversations()) {
    if (conversations > 0) await writer.write(`\n${TEXT_RULE}\n\n`);
    conversations += 1;
    await writer.write(header(labels, report, source.thread));
    let count = 0;
    for await (const batch of source.batches()) {
      for (const m of batch) {
        const wrote = writer.write(message(labels, m, tz));
        if (wrote) await wrote;
      }
      count += batch.length;
    }
    if (count === 0) await writer.write(`\n${labels.noMessages}\n`);
    messages += count;
  }

  if (conversations === 0) {
    await writer.write(
      [
        labels.title,
        `${labels.client} ${report.client.name}`,
        `${labels.timeZone} ${tz}`,
        TEXT_RULE,
        '',
        labels.noConversations,
        '',
      ].join('\n'),
    );
  }
  await writer.flush();
  return { conversations, messages };
}
