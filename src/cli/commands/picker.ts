// `wa-report` on a terminal: choose a client, a conversation (or all of them) and what to do with
// it, in a loop until Quit. Every action is an existing command (export, summary, stats) run with
// the chosen ids, so the picker adds no reporting logic of its own.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { text as streamText } from 'node:stream/consumers';
import type * as prompts from '@inquirer/prompts';
import type { ConversationPage, Store } from '../../db/store.js';
import { formatWaId } from '../../domain/phone.js';
import type { ClientRecord } from '../../domain/types.js';
import { WaReportError } from '../../errors.js';
import { dayKey, formatDateTime } from '../../reports/format.js';
import { DETAILED_FORMATS } from '../../reports/index.js';
import type { DetailedFormat } from '../../reports/types.js';
import type { CommandContext } from '../context.js';
import { count } from '../output.js';
import { parseReportOptions, type RawReportOptions, type ReportOptions } from '../../reports/query-options.js';

type Prompts = typeof prompts;
type Conversation = ConversationPage['conversations'][number];

export interface PickerDeps {
  /** Root flags given with the bare command (`wa-report --tz Europe/Madrid --lang es`). */
  reportOptions?: Pick<RawReportOptions, 'tz' | 'lang'>;
  /** Where prompts read keys and draw (default: the process's stdin and the context's stdout). */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  now?: () => Date;
}

interface Session {
  ctx: CommandContext;
  prompts: Prompts;
  promptContext: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream };
  store: Store;
  options: ReportOptions;
  now: () => Date;
}

/** One conversation (its wa_id, digits only) or, with waId null, all of the client's. */
interface Selection {
  client: ClientRecord;
  waId: string | null;
  contactName: string | null;
}

const PAGE = 1000;
/** Beyond this many conversations a search looks up exact numbers instead of loading every page. */
const SEARCH_LOAD_LIMIT = 50_000;

export async function runPicker(ctx: CommandContext, deps: PickerDeps = {}): Promise<void> {
  try {
    await pick(ctx, deps);
  } catch (error) {
    // main maps Ctrl-C (inquirer's ExitPromptError) to exit 130 silently; one short line says why.
    if (isExitPrompt(error)) ctx.io.stderr.write('Cancelled.\n');
    throw error;
  }
}

function isExitPrompt(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ExitPromptError';
}

async function pick(ctx: CommandContext, deps: PickerDeps): Promise<void> {
  const raw = { tz: deps.reportOptions?.tz, lang: deps.reportOptions?.lang };
  const options = parseReportOptions(raw, ctx.io.env);
  // Opening (and perhaps migrating) the database takes a few hundred milliseconds: say so at once.
  const loaded = await withStatus(ctx, 'Loading clients…', async () => {
    const [prompts, store] = await Promise.all([import('@inquirer/prompts'), ctx.store()]);
    return { prompts, store, clients: await store.clients.list() };
  });
  const { prompts, store, clients } = loaded;
  if (clients.length === 0) {
    ctx.io.stderr.write(
      `No clients in ${ctx.target().display} yet.\n` +
        'Try the picker on sample data with `wa-report demo`, or add a client:\n' +
        '  wa-report clients add --name "My business" --phone-number +15556383785 --phone-number-id 106540352242922\n',
    );
    return;
  }
  const session: Session = {
    ctx,
    prompts,
    promptContext: { input: deps.input ?? process.stdin, output: deps.output ?? ctx.io.stdout },
    store,
    options,
    now: deps.now ?? (() => new Date()),
  };

  for (;;) {
    const client = await chooseClient(session, clients);
    let next: 'client' | 'quit' = 'client';
    for (;;) {
      const selection = await chooseConversation(session, client);
      if (selection === null) break;
      const after = await actions(session, selection);
      if (after === 'conversation') continue;
      next = after;
      break;
    }
    if (next === 'quit') return;
  }
}

async function withStatus<T>(ctx: CommandContext, message: string, work: () => Promise<T>): Promise<T> {
  const err = ctx.io.stderr;
  err.write(err.isTTY ? message : `${message}\n`);
  try {
    return await work();
  } finally {
    if (err.isTTY) err.write('\r\x1b[2K');
  }
}

/** Lower case without accents, so "nandu" finds "Ñandú". */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Every word of the search must appear somewhere in the haystack. */
function matches(term: string | undefined, haystack: string): boolean {
  if (!term?.trim()) return true;
  const hay = fold(haystack);
  return fold(term)
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => hay.includes(word));
}

function pageSize(ctx: CommandContext): number {
  const rows = (ctx.io.stdout as { rows?: number }).rows ?? 24;
  return Math.max(5, Math.min(15, rows - 8));
}

async function chooseClient(s: Session, clients: ClientRecord[]): Promise<ClientRecord> {
  const dim = s.ctx.out.dim;
  return s.prompts.search<ClientRecord>(
    {
      message: 'Client (type to search by name, phone or id)',
      pageSize: pageSize(s.ctx),
      source: (term) =>
        clients
          .filter((c) =>
            matches(term, `${c.name} ${c.phoneNumber} ${c.phoneNumber.replace(/\D/g, '')} id ${c.id} #${c.id}`),
          )
          .map((c) => ({
            value: c,
            name: `${c.name}  ${dim(`${c.phoneNumber} · id ${c.id}`)}`,
            short: `${c.name} (id ${c.id})`,
          })),
    },
    s.promptContext,
  );
}

/**
 * The client's conversations, newest first. The first page is loaded before the prompt; a search
 * loads the rest (up to SEARCH_LOAD_LIMIT) so an old conversation can still be found by typing.
 */
class ConversationList {
  readonly loaded: Conversation[] = [];
  total = 0;
  private cursor: string | null = null;
  private rest: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clientId: number,
  ) {}

  async first(): Promise<void> {
    const page = await this.store.threads.list({ clientId: this.clientId }, { limit: PAGE });
    this.total = page.total;
    this.loaded.push(...page.conversations);
    this.cursor = page.nextCursor;
  }

  get complete(): boolean {
    return this.cursor === null;
  }

  loadMore(): Promise<void> {
    this.rest ??= (async () => {
      while (this.cursor && this.loaded.length < SEARCH_LOAD_LIMIT) {
        const page = await this.store.threads.list({ clientId: this.clientId }, { limit: PAGE, cursor: this.cursor });
        this.loaded.push(...page.conversations);
        this.cursor = page.nextCursor;
      }
    })();
    return this.rest;
  }

  /** The conversation with exactly this number, loaded or not. */
  async find(digits: string): Promise<Conversation | undefined> {
    const known = this.loaded.find((c) => c.waId === digits);
    if (known || this.complete) return known;
    const page = await this.store.threads.list({ clientId: this.clientId, waId: digits }, { limit: 1 });
    return page.conversations[0];
  }
}

type ConversationChoice = { kind: 'all' } | { kind: 'one'; conversation: Conversation } | { kind: 'back' };

async function chooseConversation(s: Session, client: ClientRecord): Promise<Selection | null> {
  const list = new ConversationList(s.store, client.id);
  await list.first();
  const { dim } = s.ctx.out;
  const tz = s.options.timeZone;
  const describe = (c: Conversation) =>
    [
      formatWaId(c.waId),
      c.contactName ?? dim('(no name)'),
      formatDateTime(c.lastMessageAt, tz).slice(0, 16),
      `${count(c.messageCount)} message${c.messageCount === 1 ? '' : 's'}`,
    ].join(dim(' · '));
  const choice = (c: Conversation) => ({
    value: { kind: 'one', conversation: c } as ConversationChoice,
    name: describe(c),
    short: `${formatWaId(c.waId)}${c.contactName ? ` (${c.contactName})` : ''}`,
  });
  const { Separator } = s.prompts;

  const picked = await s.prompts.search<ConversationChoice>(
    {
      message: `Conversation of ${client.name} (type a number or a name)`,
      pageSize: pageSize(s.ctx),
      source: async (term) => {
        const all = {
          value: { kind: 'all' } as ConversationChoice,
          name: `All conversations (${count(list.total)})`,
          short: 'All conversations',
        };
        const back = {
          value: { kind: 'back' } as ConversationChoice,
          name: dim('← Another client'),
          short: 'Another client',
        };
        if (!term?.trim()) {
          const items: (
            | InstanceType<Prompts['Separator']>
            | { value: ConversationChoice; name: string; short: string; disabled?: string | boolean }
          )[] = [all];
          if (list.total === 0)
            items.push({ value: { kind: 'back' }, name: 'No conversations yet', short: '', disabled: ' ' });
          items.push(...list.loaded.map(choice));
          if (!list.complete)
            items.push(
              new Separator(
                dim(`… the newest ${count(list.loaded.length)} of ${count(list.total)}; type to search them all`),
              ),
            );
          items.push(back);
          return items;
        }
        const phoneLike = /^[+\d\s\-.()]+$/.test(term.trim());
        const digits = term.replace(/\D/g, '');
        if (!list.complete) await list.loadMore();
        const found = list.loaded.filter((c) =>
          phoneLike && digits ? c.waId.includes(digits) : matches(term, `${c.contactName ?? ''} ${formatWaId(c.waId)}`),
        );
        if (phoneLike && digits.length >= 6 && !found.some((c) => c.waId === digits)) {
          const exact = await list.find(digits);
          if (exact) found.unshift(exact);
        }
        return [...(matches(term, 'all conversations') ? [all] : []), ...found.map(choice)];
      },
    },
    s.promptContext,
  );
  if (picked.kind === 'back') return null;
  if (picked.kind === 'all') return { client, waId: null, contactName: null };
  return { client, waId: picked.conversation.waId, contactName: picked.conversation.contactName };
}

type Action = 'read' | 'export' | 'summary' | 'stats' | 'conversation' | 'client' | 'quit';

/** The actions menu and, after each action, Back / Quit. Returns where to go next. */
async function actions(s: Session, selection: Selection): Promise<'conversation' | 'client' | 'quit'> {
  const { Separator } = s.prompts;
  const what = selection.waId
    ? `${formatWaId(selection.waId)}${selection.contactName ? ` (${selection.contactName})` : ''}`
    : `all conversations of ${selection.client.name}`;
  for (;;) {
    const action = await s.prompts.select<Action>(
      {
        message: `What to do with ${what}?`,
        pageSize: 10,
        choices: [
          ...(selection.waId ? [{ value: 'read' as const, name: 'Read it here' }] : []),
          {
            value: 'export',
            name: 'Export…',
            description: 'Write the detailed report to a file: text, HTML, JSON or CSV',
          },
          {
            value: 'summary',
            name: 'Summary',
            description: selection.waId
              ? 'Totals of this conversation'
              : 'A table of the conversations and messages per day',
          },
          {
            value: 'stats',
            name: 'Statistics',
            description: `Messages, delivery, response times of ${selection.client.name}`,
          },
          new Separator(),
          { value: 'conversation', name: 'Another conversation' },
          { value: 'client', name: 'Another client' },
          { value: 'quit', name: 'Quit' },
        ],
      },
      s.promptContext,
    );
    if (action === 'conversation' || action === 'client' || action === 'quit') return action;
    try {
      await perform(s, selection, action);
    } catch (error) {
      // A failed action (a file that cannot be written, a conversation gone) ends that action, not the session.
      if (!(error instanceof WaReportError)) throw error;
      s.ctx.io.stderr.write(`${s.ctx.err.red('error:')} ${error.message}\n`);
    }
    const next = await s.prompts.select<'back' | 'quit'>(
      {
        message: 'Next?',
        choices: [
          { value: 'back', name: 'Back' },
          { value: 'quit', name: 'Quit' },
        ],
      },
      s.promptContext,
    );
    if (next === 'quit') return 'quit';
  }
}

async function perform(
  s: Session,
  selection: Selection,
  action: 'read' | 'export' | 'summary' | 'stats',
): Promise<void> {
  const clientId = String(selection.client.id);
  const waId = selection.waId ? `+${selection.waId}` : undefined;
  switch (action) {
    case 'read': {
      const text = await renderTextReport(s, selection);
      await showInPager(s.ctx, text);
      return;
    }
    case 'export': {
      const format = await s.prompts.select<DetailedFormat>(
        {
          message: 'Format',
          choices: [
            { value: 'html', name: 'HTML', description: 'A page to open in a browser or print' },
            { value: 'text', name: 'Text' },
            { value: 'json', name: 'JSON' },
            { value: 'pdf', name: 'PDF', description: 'A printable transcript' },
            { value: 'xlsx', name: 'Excel', description: 'A workbook: conversations, messages, summary' },
            { value: 'csv', name: 'CSV', description: 'One row per message (spreadsheets)' },
          ],
        },
        s.promptContext,
      );
      const output = await askFileName(s, selection, format);
      if (output === null) return;
      const { runExport } = await import('./export.js');
      await runExport({ clientId, waId, format, output, tz: s.options.timeZone, lang: s.options.lang }, s.ctx);
      return;
    }
    case 'summary': {
      const { runSummary } = await import('./export.js');
      await runSummary({ clientId, waId, tz: s.options.timeZone, lang: s.options.lang }, s.ctx);
      return;
    }
    case 'stats': {
      const { runStats, printStats } = await import('./stats.js');
      printStats(await runStats({ clientId, tz: s.options.timeZone }, s.ctx), false, s.ctx);
      return;
    }
  }
}

/** The file to export to, or null when the user would rather not replace an existing one. */
async function askFileName(s: Session, selection: Selection, format: DetailedFormat): Promise<string | null> {
  const day = dayKey(s.now(), s.options.timeZone);
  const base = selection.waId ? `conversation-${selection.waId}-${day}` : `client-${selection.client.id}-${day}`;
  const file = await s.prompts.input(
    {
      message: 'File name',
      default: `${base}.${DETAILED_FORMATS[format].extension}`,
      validate: (value) => {
        const path = resolve(value.trim());
        if (!value.trim()) return 'Type a file name.';
        if (!existsSync(dirname(path))) return `There is no directory ${dirname(path)}.`;
        if (existsSync(path) && statSync(path).isDirectory())
          return `${value.trim()} is a directory; type a file name.`;
        return true;
      },
    },
    s.promptContext,
  );
  const output = file.trim();
  if (existsSync(output)) {
    const replace = await s.prompts.confirm(
      { message: `${output} exists. Replace it?`, default: false },
      s.promptContext,
    );
    if (!replace) return null;
  }
  return output;
}

async function renderTextReport(s: Session, selection: Selection): Promise<string> {
  const { buildDetailedReport } = await import('../../reports/build.js');
  const { renderDetailed } = await import('../../reports/index.js');
  const report = await buildDetailedReport(s.store, {
    clientId: selection.client.id,
    waId: selection.waId ?? undefined,
    timeZone: s.options.timeZone,
    lang: s.options.lang,
  });
  const sink = new PassThrough();
  const collected = streamText(sink);
  try {
    await renderDetailed('text', report, sink);
  } catch (error) {
    sink.destroy();
    collected.catch(() => {});
    throw error;
  }
  sink.end();
  return collected;
}

/** Lines the text takes on a terminal this wide (long lines wrap). */
function screenLines(text: string, columns: number): number {
  let lines = 0;
  for (const line of text.split('\n')) lines += Math.max(1, Math.ceil([...line].length / columns));
  return lines;
}

/**
 * Shows the text through $PAGER (default `less -R`) when it does not fit on the screen; prints it
 * when it fits, when PAGER is empty, or when the pager cannot be started.
 */
export async function showInPager(ctx: CommandContext, text: string): Promise<void> {
  const out = ctx.io.stdout as typeof ctx.io.stdout & { rows?: number };
  const body = text.endsWith('\n') ? text : `${text}\n`;
  const command = (ctx.io.env.PAGER ?? 'less -R').trim().split(/\s+/).filter(Boolean);
  const [file, ...args] = command;
  if (!file || !out.isTTY || screenLines(body, out.columns ?? 80) < (out.rows ?? 24)) {
    out.write(body);
    return;
  }
  // Ctrl-C in less reaches the whole foreground process group: the pager handles it, we must not die.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  try {
    const paged = await new Promise<boolean>((done) => {
      let spawned = false;
      const child = spawn(file, args, { stdio: ['pipe', 'inherit', 'inherit'], env: ctx.io.env });
      child.once('spawn', () => (spawned = true));
      child.once('error', () => done(spawned));
      child.once('close', () => done(spawned));
      // EPIPE when the user quits the pager before reading everything.
      child.stdin?.on('error', () => {});
      child.stdin?.end(body);
    });
    if (!paged) out.write(body);
  } finally {
    process.off('SIGINT', ignore);
  }
}
