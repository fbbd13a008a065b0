// The detailed report as one self-contained HTML5 page: inline CSS, no request of any kind (a CSP
// meta tag forbids them, too), readable offline and on paper. EJS templates in templates/report/
// are compiled once per process and rendered a message at a time, so memory stays flat whatever
// the size of the conversation. Every piece of data goes through `<%= %>` (escaped); the only
// `<%-` inserts our own stylesheet.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { formatWaId } from '../domain/phone.js';
import { ChunkWriter } from '../io/chunk-writer.js';
import {
  failureLine,
  formatDateTime,
  formatIso,
  formatLongDay,
  hasFailure,
  statusMark,
  truncate,
  zonedStamp,
  type ZonedStamp,
} from './format.js';
import { bare, labelsFor, type Labels, type MediaKind } from './i18n.js';
import type {
  ConversationSource,
  DetailedReport,
  QuotedMessage,
  RenderResult,
  ReportContext,
  ReportMessage,
} from './types.js';

/** src/reports and dist/reports are both two levels below the package root. */
export const TEMPLATE_DIR = new URL('../../templates/report/', import.meta.url);

const TEMPLATE_NAMES = [
  'layout-start',
  'toc-start',
  'toc-entry',
  'toc-end',
  'conversation-start',
  'day',
  'message',
  'conversation-end',
  'layout-end',
  'summary',
] as const;
type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface ReportTemplates {
  render: Record<TemplateName, ejs.TemplateFunction>;
  css: string;
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const HTML_SPECIAL = /[&<>'"]/;
const HTML_SPECIAL_ALL = /[&<>'"]/g;

/**
 * ejs's `<%= %>` escaping, same entities as its own escapeXML, but most message text has nothing to
 * escape and is returned as is (escaping was the largest cost of a 100,000-message HTML export).
 */
export function escapeHtml(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIAL_ALL, (c) => HTML_ENTITIES[c] as string) : text;
}

let loading: Promise<ReportTemplates> | null = null;

/** Reads and compiles the templates the first time they are needed; later calls reuse them. */
export function reportTemplates(): Promise<ReportTemplates> {
  loading ??= (async () => {
    const read = (file: string) => readFile(new URL(file, TEMPLATE_DIR), 'utf8');
    const entries = await Promise.all(
      TEMPLATE_NAMES.map(async (name) => {
        const file = new URL(`${name}.ejs`, TEMPLATE_DIR);
        // strict: no `with`; data is reached as `it.…`, which also keeps templates honest about their inputs.
        const fn = ejs.compile(await read(`${name}.ejs`), {
          filename: fileURLToPath(file),
          strict: true,
          localsName: 'it',
          escape: escapeHtml,
        });
        return [name, fn] as const;
      }),
    );
    return {
      render: Object.fromEntries(entries) as Record<TemplateName, ejs.TemplateFunction>,
      css: await read('style.css'),
    };
  })().catch((error: unknown) => {
    loading = null; // let a later call try again (a missing file may be put back)
    throw error;
  });
  return loading;
}

/** Labels as the templates use them: the text-report ones plus colon-less forms for <dt>. */
export function htmlLabels(labels: Labels) {
  return {
    ...labels,
    clientBare: bare(labels.client),
    waUserBare: bare(labels.waUser),
    contactBare: bare(labels.contact),
    startedBare: bare(labels.started),
    lastActivityBare: bare(labels.lastActivity),
    totalMessagesBare: bare(labels.totalMessages),
    timeZoneBare: bare(labels.timeZone),
    generatedBare: bare(labels.generated),
    rangeBare: bare(labels.range),
  };
}

export function describeRange(ctx: ReportContext, labels: Labels): string {
  const { start, end } = ctx.range;
  if (!start && !end) return labels.rangeAll;
  const show = (d: Date | undefined) => (d ? formatDateTime(d, ctx.timeZone) : '…');
  return `${show(start)} — ${show(end)}`;
}

const MEDIA_ICONS: Record<MediaKind, string> = {
  image: '🖼️',
  video: '🎬',
  audio: '🎵',
  voice: '🎤',
  document: '📄',
  sticker: '🏷️',
  location: '📍',
  contacts: '👤',
};
const MEDIA_RE = /^\[(image|video|audio|voice|document|sticker|location|contacts)\](?: ([\s\S]*))?$/;
const REACTION_RE = /^\[reaction (.+?) to \S+\]$/su;

interface MediaView {
  kind: MediaKind;
  icon: string;
  label: string;
  caption: string;
}

/** "[image] Foto del salón" → an Image placeholder captioned "Foto del salón". */
export function parseMedia(content: string, labels: Labels): MediaView | null {
  const m = MEDIA_RE.exec(content);
  if (!m) return null;
  const kind = m[1] as MediaKind;
  return { kind, icon: MEDIA_ICONS[kind], label: labels.media[kind], caption: m[2] ?? '' };
}

/**
 * Least-recently-used map of the messages replies point at. Fed with every message rendered (a
 * reply usually answers something a few messages up) and with `lookup` answers; bounded so a long
 * conversation cannot grow it, and quoted text is kept already shortened.
 */
export class QuoteCache {
  private readonly entries = new Map<string, QuotedMessage | null>();
  constructor(private readonly max = 256) {}

  get size(): number {
    return this.entries.size;
  }

  has(wamid: string): boolean {
    return this.entries.has(wamid);
  }

  get(wamid: string): QuotedMessage | null | undefined {
    if (!this.entries.has(wamid)) return undefined;
    const value = this.entries.get(wamid) ?? null;
    this.entries.delete(wamid);
    this.entries.set(wamid, value);
    return value;
  }

  set(wamid: string, value: QuotedMessage | null): void {
    this.entries.delete(wamid);
    // Most messages are short: kept as they are (no copy), long ones shortened as they will be quoted.
    const kept =
      value && value.content.length > QUOTE_LENGTH
        ? { ...value, content: truncate(value.content, QUOTE_LENGTH) }
        : value;
    this.entries.set(wamid, kept);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

const QUOTE_LENGTH = 160;

async function quoted(wamid: string, cache: QuoteCache, ctx: ReportContext): Promise<QuotedMessage | null> {
  const hit = cache.get(wamid);
  if (hit !== undefined) return hit;
  const found = await ctx.lookup(wamid);
  cache.set(wamid, found);
  return found;
}

/**
 * A message as a report shows it (the HTML template and the PDF transcript); a promise only for a
 * reply (the quoted message may need a lookup).
 */
export function messageView(
  m: ReportMessage,
  stamp: ZonedStamp,
  ctx: ReportContext,
  labels: Labels,
  cache: QuoteCache,
): MessageView | Promise<MessageView> {
  const reaction = REACTION_RE.exec(m.content)?.[1] ?? null;
  if (!m.replyToWamid) return view(m, stamp, ctx, labels, reaction, null);
  return quoted(m.replyToWamid, cache, ctx).then((target) => {
    const kind = reaction !== null ? labels.reactionTo : labels.replyTo;
    const who = (t: QuotedMessage) => labels.roles[t.role] ?? t.role;
    const quote = target
      ? {
          head: `${kind} ${who(target)} · ${formatDateTime(target.createdAt, ctx.timeZone)}`,
          text: truncate(target.content, QUOTE_LENGTH),
          missing: false,
        }
      : { head: kind, text: labels.quotedMissing, missing: true };
    return view(m, stamp, ctx, labels, reaction, quote);
  });
}

export type MessageView = ReturnType<typeof view>;

function view(
  m: ReportMessage,
  stamp: ZonedStamp,
  ctx: ReportContext,
  labels: Labels,
  reaction: string | null,
  quote: { head: string; text: string; missing: boolean } | null,
) {
  const tz = ctx.timeZone;
  const outbound = m.role !== 'user';
  const mark = statusMark(m.status);
  return {
    id: m.id,
    role: m.role,
    roleLabel: labels.roles[m.role] ?? m.role,
    side: outbound ? 'right' : 'left',
    text: m.content,
    media: reaction === null ? parseMedia(m.content, labels) : null,
    reaction,
    reactionLabel: reaction === null ? '' : `${labels.reactionTo}: ${reaction}`,
    quote,
    failure: hasFailure(m) ? failureLine(m, labels) : null,
    // Ticks are about what the business sent; a failure shows its mark whoever sent the message.
    status:
      mark && (outbound || m.status === 'failed') && m.status
        ? { name: m.status, mark, title: labels.statuses[m.status as keyof Labels['statuses']] ?? m.status }
        : null,
    time: stamp.clock,
    fullTime: `${stamp.dateTime} (${tz})`,
    iso: stamp.iso,
  };
}

export interface TranscriptSink {
  /** A day separator: the day (YYYY-MM-DD in the report's zone) and its long name. */
  day(day: string, label: string): Promise<void> | void;
  message(view: MessageView): Promise<void> | void;
  /** After each batch read from the store (where a renderer waits for its output). */
  batchEnd?(): Promise<void> | void;
}

/**
 * Walks a conversation's messages in order, as every transcript shows them (HTML, PDF): a day
 * separator where the day changes in the report's zone, then each message's view, with the quoted
 * messages found through `cache`. Promises are awaited only when a sink returns one. Returns the
 * number of messages.
 */
export async function walkTranscript(
  source: ConversationSource,
  ctx: ReportContext,
  labels: Labels,
  cache: QuoteCache,
  sink: TranscriptSink,
): Promise<number> {
  const tz = ctx.timeZone;
  let day = '';
  let count = 0;
  for await (const batch of source.batches()) {
    for (const m of batch) {
      const stamp = zonedStamp(m.createdAt, tz);
      if (stamp.day !== day) {
        day = stamp.day;
        const wrote = sink.day(day, formatLongDay(m.createdAt, tz, labels.locale));
        if (wrote) await wrote;
      }
      const shown = messageView(m, stamp, ctx, labels, cache);
      const wrote = sink.message(shown instanceof Promise ? await shown : shown);
      if (wrote) await wrote;
      if (m.wamid) cache.set(m.wamid, m as ReportMessage & { wamid: string });
      count += 1;
    }
    const waited = sink.batchEnd?.();
    if (waited) await waited;
  }
  return count;
}

/**
 * Streams the page to `out` (does not end it). With several conversations the page starts with a
 * table of contents, which walks `report.conversations()` once for the headers before walking it
 * again for the messages.
 */
export async function renderHtml(report: DetailedReport, out: NodeJS.WritableStream): Promise<RenderResult> {
  const { render, css } = await reportTemplates();
  const labels = labelsFor(report.lang);
  const tl = htmlLabels(labels);
  const tz = report.timeZone;
  const writer = new ChunkWriter(out);
  const multi = report.conversationCount > 1;

  await writer.write(
    render['layout-start']({
      lang: labels.locale,
      css,
      labels: tl,
      title: `${labels.title} · ${report.client.name}`,
      heading: multi ? `${report.client.name} · ${labels.conversations}` : labels.title,
      clientName: report.client.name,
      clientPhone: report.client.phoneNumber,
      showCount: report.conversationCount !== 1,
      single: report.conversationCount === 1,
      conversationCount: report.conversationCount,
      range: describeRange(report, labels),
      timeZone: tz,
      generated: formatDateTime(report.generatedAt, tz),
      generatedIso: formatIso(report.generatedAt, tz),
    }),
  );

  if (multi) {
    await writer.write(render['toc-start']({ labels: tl }));
    let total = 0;
    for await (const { thread } of report.conversations()) {
      total += thread.messageCount;
      await writer.write(
        render['toc-entry']({
          threadId: thread.id,
          waId: formatWaId(thread.waId),
          contactName: thread.contactName,
          lastActivity: formatDateTime(thread.lastMessageAt, tz),
          messageCount: thread.messageCount,
          messagesWord: labels.messages.toLowerCase(),
        }),
      );
    }
    await writer.write(render['toc-end']({ labels: tl, totalMessages: total }));
  }

  const cache = new QuoteCache();
  let conversations = 0;
  let messages = 0;
  for await (const source of report.conversations()) {
    const t = source.thread;
    conversations += 1;
    await writer.write(
      render['conversation-start']({
        labels: tl,
        threadId: t.id,
        clientName: report.client.name,
        waId: formatWaId(t.waId),
        contactName: t.contactName,
        created: formatDateTime(t.createdAt, tz),
        createdIso: formatIso(t.createdAt, tz),
        last: formatDateTime(t.lastMessageAt, tz),
        lastIso: formatIso(t.lastMessageAt, tz),
        messageCount: t.messageCount,
        timeZone: tz,
        single: report.conversationCount === 1,
        clientPhone: report.client.phoneNumber,
        range: describeRange(report, labels),
        generated: formatDateTime(report.generatedAt, tz),
        generatedIso: formatIso(report.generatedAt, tz),
      }),
    );
    const count = await walkTranscript(source, report, labels, cache, {
      day: (day, label) => writer.write(render.day({ day, label })),
      message: (view) => writer.write(render.message(view)),
    });
    messages += count;
    await writer.write(render['conversation-end']({ labels: tl, empty: count === 0 }));
  }

  await writer.write(render['layout-end']({ labels: tl, empty: conversations === 0, timeZone: tz }));
  await writer.flush();
  return { conversations, messages };
}
