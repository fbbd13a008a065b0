// Data-protection commands: contact export/erase, encryption keys, archiving, API tokens.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { formatWaId, normalizeContactId } from '../../domain/phone.js';
import { parseDateBound, systemTimeZone } from '../../domain/dates.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { parseOptions } from '../validate.js';
import { withOutput } from './export.js';

const waIdField = z
  .string({ error: 'required: the WhatsApp number, e.g. --wa-id +34612345678' })
  .transform((s, ctx) => {
    try {
      return normalizeContactId(s, '--wa-id');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^--wa-id: /, '') });
      return z.NEVER;
    }
  });
const clientIdField = z.coerce
  .number({ error: 'must be a client id (a number)' })
  .int('must be a client id (a number)')
  .positive('must be a client id (a number)')
  .optional();
const FLAGS = { waId: '--wa-id', clientId: '--client-id', before: '--before', out: '--out', batchSize: '--batch-size' };

/** Who is acting, for the audit: the OS user running the CLI. */
export function cliActor(env: NodeJS.ProcessEnv): string {
  let name = env.SUDO_USER || env.USER || env.LOGNAME || '';
  try {
    name ||= userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `cli:${name || `uid ${process.getuid?.() ?? '?'}`}`;
}

// ----------------------------------------------------------------------------------------------
// contact export / erase

export async function runContactExport(
  options: { waId?: string; output?: string },
  ctx: CommandContext,
): Promise<void> {
  const { waId } = parseOptions(z.object({ waId: waIdField }), options, FLAGS);
  const store = await ctx.store();
  const { exportContact } = await import('../../privacy/contact.js');
  // A personal-data dump: readable by its owner only.
  const { result, file } = await withOutput(ctx, options.output, (out) => exportContact(store, waId, out), 0o600);
  const where = file ? `Wrote ${file}` : 'Exported';
  ctx.io.stderr.write(
    `${where}: everything stored about ${formatWaId(waId)} — ${result.conversations} conversation${result.conversations === 1 ? '' : 's'}, ${result.messages} messages, ${result.statusEvents} status events, ${result.rawEvents} raw events.\n`,
  );
}

export interface EraseOutcome {
  waId: string;
  erased: import('../../privacy/contact.js').ContactErasure;
}

export async function runContactErase(
  options: { waId?: string; clientId?: string; force?: boolean; json?: boolean },
  ctx: CommandContext,
): Promise<EraseOutcome> {
  const { waId, clientId } = parseOptions(z.object({ waId: waIdField, clientId: clientIdField }), options, FLAGS);
  const store = await ctx.store();
  if (clientId !== undefined) await store.clients.get(clientId);
  const { contactSummary, eraseContact } = await import('../../privacy/contact.js');
  const summary = await contactSummary(store, waId, clientId);
  const scope = clientId === undefined ? 'all clients' : `client ${clientId}`;
  const nothing = summary.conversations.length === 0 && summary.statusEvents === 0 && summary.rawEvents === 0;
  if (!nothing && !options.force) {
    if (!(ctx.io.stdinIsTTY && ctx.io.stderr.isTTY)) {
      throw new UsageError(
        `Erasing ${formatWaId(waId)} (${scope}) deletes ${summary.messages} messages in ${summary.conversations.length} conversations for good. Add --force to confirm when there is no terminal to ask on.`,
      );
    }
    const lines = summary.conversations.map(
      (c) => `  client ${c.clientId} (${c.clientName}): conversation ${c.threadId}, ${c.messages} messages`,
    );
    ctx.io.stderr.write(
      `About to erase everything stored about ${formatWaId(waId)} (${scope}):\n${lines.join('\n')}${lines.length ? '\n' : ''}  ${summary.statusEvents} status events, ${summary.rawEvents} raw events\nThis cannot be undone (archives written earlier still hold their copy).\n`,
    );
    const { input } = await import('@inquirer/prompts');
    const typed = await input(
      { message: `Type the number (${formatWaId(waId)}) to confirm:` },
      { input: process.stdin, output: ctx.io.stderr },
    );
    let same = false;
    try {
      same = normalizeContactId(typed, 'number') === waId;
    } catch {
      same = false;
    }
    if (!same) {
      const { CancelledError } = await import('../../errors.js');
      throw new CancelledError('Not confirmed: nothing was erased.');
    }
  }
  const erased = await eraseContact(store, waId, { clientId, actor: cliActor(ctx.io.env) });
  return { waId, erased };
}

export function printErase(r: EraseOutcome, json: boolean, ctx: CommandContext): void {
  if (json) {
    const e = r.erased;
    ctx.io.stdout.write(
      `${JSON.stringify({ wa_id: formatWaId(r.waId), threads: e.threads, messages: e.messages, status_events: e.statusEvents, raw_events: e.rawEvents, audit_id: e.auditId }, null, 2)}\n`,
    );
    return;
  }
  const e = r.erased;
  if (e.auditId === null) {
    ctx.io.stderr.write(`Nothing stored about ${formatWaId(r.waId)}: nothing erased.\n`);
    return;
  }
  ctx.io.stderr.write(
    `Erased ${formatWaId(r.waId)}: ${e.threads} conversation${e.threads === 1 ? '' : 's'}, ${e.messages} messages, ${e.statusEvents} status events, ${e.rawEvents} raw events (audit record ${e.auditId}). Redelivered webhooks of these messages will not be stored again.\n`,
  );
}

// ----------------------------------------------------------------------------------------------
// keys and encryption

export async function runKeysGenerate(ctx: CommandContext): Promise<void> {
  const { generateKey } = await import('../../domain/key-ring.js');
  const { key, id } = generateKey();
  ctx.io.stdout.write(`${key}\n`);
  ctx.io.stderr.write(
    `Key id ${id}. Keep the key secret and backed up: without it the encrypted messages are lost.\n` +
      `Use it with WA_REPORT_ENCRYPTION_KEY=<key> (e.g. in the systemd EnvironmentFile), then run \`wa-report db encrypt\` for existing rows.\n`,
  );
}

export async function runKeysStatus(json: boolean, ctx: CommandContext): Promise<void> {
  const store = await ctx.store();
  const { encryptionCensus } = await import('../../privacy/reencrypt.js');
  const census = await encryptionCensus(store);
  const keys = store.keys;
  const doc = {
    current_key_id: keys.current?.id ?? null,
    accepted_key_ids: keys.ids,
    database_key_id: store.encryptionKeyId,
    plaintext_values: census.plaintext,
    encrypted_values: census.byKey,
  };
  if (json) {
    ctx.io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const lines = [
    `Current key:        ${doc.current_key_id ?? '(none: WA_REPORT_ENCRYPTION_KEY is not set)'}`,
    `Also accepted:      ${keys.ids.filter((k) => k !== doc.current_key_id).join(', ') || '–'}`,
    `Database marked:    ${doc.database_key_id ?? 'never encrypted'}`,
    `Plaintext values:   ${census.plaintext}`,
    ...Object.entries(census.byKey).map(
      ([k, n]) => `Sealed, key ${k}: ${n}${keys.knows(k) ? '' : '  (key not configured!)'}`,
    ),
  ];
  ctx.io.stdout.write(`${lines.join('\n')}\n`);
}

export async function runReencrypt(
  kind: 'encrypt' | 'rotate',
  options: { batchSize?: string },
  ctx: CommandContext,
): Promise<void> {
  const store = await ctx.store();
  const batchSize = options.batchSize === undefined ? 500 : Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new UsageError(`--batch-size: "${options.batchSize}" is not a whole number from 1 to 10000.`);
  if (kind === 'rotate' && store.keys.ids.length < 2) {
    throw new UsageError(
      'Nothing to rotate from: set WA_REPORT_ENCRYPTION_KEY to the new key and WA_REPORT_ENCRYPTION_KEYS_OLD to the old one(s), then run `wa-report keys rotate`.',
    );
  }
  const { reencrypt } = await import('../../privacy/reencrypt.js');
  const fail = ctx.io.env.WA_REPORT_ENCRYPT_FAIL_AFTER_BATCHES;
  const result = await reencrypt(store, {
    batchSize,
    progress: (m) => ctx.io.stderr.isTTY && ctx.io.stderr.write(`\r${m}`),
    failAfterBatches: fail ? Number(fail) : undefined,
  });
  if (ctx.io.stderr.isTTY) ctx.io.stderr.write('\n');
  const changed = Object.entries(result.changed)
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
  ctx.io.stderr.write(
    `${kind === 'encrypt' ? 'Encrypted' : 'Re-encrypted'} with key ${store.keys.current?.id}: ${changed} (of ${result.examined} rows examined). ` +
      (kind === 'rotate'
        ? 'Restart every process with the new key (old key in WA_REPORT_ENCRYPTION_KEYS_OLD), run `wa-report keys rotate` once more, and check `wa-report keys status` shows nothing under the old key. Keep the old key as long as an archive you may restore uses it.\n'
        : 'New content is encrypted from now on.\n'),
  );
}

// ----------------------------------------------------------------------------------------------
// archive

export async function runArchive(
  options: { before?: string; clientId?: string; out?: string; batchSize?: string; tz?: string; json?: boolean },
  ctx: CommandContext,
): Promise<void> {
  const tz = options.tz ?? ctx.io.env.TZ ?? systemTimeZone();
  const parsed = parseOptions(
    z.object({
      before: z.string({
        error: 'required: archive conversations last active before this date, e.g. --before 2024-01-01',
      }),
      clientId: clientIdField,
      out: z
        .string({ error: 'required: the archive file to write, e.g. --out archive-2023.jsonl.gz' })
        .min(1, 'required'),
      batchSize: z.coerce
        .number()
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(10_000, 'must be at most 10000')
        .optional(),
    }),
    options,
    FLAGS,
  );
  const before = parseDateBound(parsed.before, tz, 'start', '--before');
  if (before.getTime() > Date.now())
    throw new UsageError(`--before: ${parsed.before} is in the future; archiving would take every conversation.`);
  const out = resolve(parsed.out);
  const store = await ctx.store();
  if (parsed.clientId !== undefined) await store.clients.get(parsed.clientId);
  const { archive } = await import('../../privacy/archive.js');
  const fail = ctx.io.env.WA_REPORT_ARCHIVE_FAIL_AFTER_BATCHES;
  const r = await archive(store, {
    before,
    clientId: parsed.clientId,
    out,
    batchSize: parsed.batchSize,
    failAfterBatches: fail ? Number(fail) : undefined,
    progress: (m) => ctx.io.stderr.write(`${m}\n`),
  });
  if (options.json) {
    ctx.io.stdout.write(
      `${JSON.stringify({ file: r.file, resumed: r.resumed, threads: r.threads, messages: r.messages, status_events: r.statusEvents, raw_events: r.rawEvents, deleted_threads: r.deletedThreads, kept_changed: r.keptChanged, remaining: r.remaining }, null, 2)}\n`,
    );
    return;
  }
  if (!r.file) {
    ctx.io.stderr.write(
      `No conversation was last active before ${before.toISOString()}${parsed.clientId === undefined ? '' : ` for client ${parsed.clientId}`}: nothing archived, no file written.\n`,
    );
    return;
  }
  ctx.io.stderr.write(
    `Archived to ${r.file}: ${r.threads} conversations, ${r.messages} messages, ${r.statusEvents} status events, ${r.rawEvents} raw events; ${r.deletedThreads} conversations deleted from the database.\n` +
      (r.keptChanged
        ? `${r.keptChanged} conversations changed after they were archived and were kept in the database.\n`
        : '') +
      (r.remaining
        ? `${r.remaining} more conversations qualify but are not in this archive: run again with another --out.\n`
        : '') +
      `Restore with: wa-report archive restore ${r.file}\n`,
  );
}

export async function runRestore(file: string, options: { json?: boolean }, ctx: CommandContext): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`${file}: no such file.`);
  const store = await ctx.store();
  const { restoreArchive } = await import('../../privacy/archive.js');
  const r = await restoreArchive(store, path, { progress: (m) => ctx.io.stderr.write(`${m}\n`) });
  if (options.json) {
    ctx.io.stdout.write(
      `${JSON.stringify({ threads: r.threads, messages_inserted: r.messagesInserted, messages_present: r.messagesPresent, messages_erased: r.messagesErased, status_events_inserted: r.statusEventsInserted, raw_events_inserted: r.rawEventsInserted, clients_created: r.clientsCreated }, null, 2)}\n`,
    );
    return;
  }
  ctx.io.stderr.write(
    `Restored ${r.messagesInserted} messages into ${r.threads} conversations (${r.messagesPresent} were already there), ${r.statusEventsInserted} status events, ${r.rawEventsInserted} raw events` +
      (r.clientsCreated ? `; created ${r.clientsCreated} clients` : '') +
      (r.messagesErased ? `; ${r.messagesErased} messages of contacts erased since were not brought back` : '') +
      '.\n',
  );
}

// ----------------------------------------------------------------------------------------------
// API tokens

export async function runTokensCreate(
  options: { name?: string; scope?: string; json?: boolean },
  ctx: CommandContext,
): Promise<void> {
  const store = await ctx.store();
  const { createToken } = await import('../../privacy/tokens.js');
  const { token, record } = await createToken(store, options);
  if (options.json) {
    ctx.io.stdout.write(
      `${JSON.stringify({ id: record.id, name: record.name, scope: record.scope, token }, null, 2)}\n`,
    );
  } else {
    ctx.io.stdout.write(`${token}\n`);
  }
  ctx.io.stderr.write(
    `Created API token ${record.id} "${record.name}" (scope ${record.scope}). It is shown only now: store it safely. Send it as Authorization: Bearer <token>.\n`,
  );
}

export async function runTokensList(options: { all?: boolean; json?: boolean }, ctx: CommandContext): Promise<void> {
  const store = await ctx.store();
  const { listTokens } = await import('../../privacy/tokens.js');
  const tokens = await listTokens(store, options);
  if (options.json) {
    ctx.io.stdout.write(
      `${JSON.stringify({ tokens: tokens.map((t) => ({ id: t.id, name: t.name, scope: t.scope, prefix: t.prefix, created_at: t.createdAt.toISOString(), last_used_at: t.lastUsedAt?.toISOString() ?? null, revoked_at: t.revokedAt?.toISOString() ?? null })) }, null, 2)}\n`,
    );
    return;
  }
  if (tokens.length === 0) {
    ctx.io.stderr.write('No API tokens. Create one with `wa-report tokens create --name grafana --scope read`.\n');
    return;
  }
  const { default: Table } = (await import('cli-table3')) as unknown as { default: typeof import('cli-table3') };
  const when = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '–');
  if (ctx.io.stdout.isTTY) {
    const table = new Table({
      head: ['id', 'name', 'scope', 'token', 'created', 'last used', ...(options.all ? ['revoked'] : [])].map((h) =>
        ctx.out.bold(h),
      ),
    });
    for (const t of tokens)
      table.push([
        t.id,
        t.name,
        t.scope,
        `${t.prefix}…`,
        when(t.createdAt),
        when(t.lastUsedAt),
        ...(options.all ? [when(t.revokedAt)] : []),
      ]);
    ctx.io.stdout.write(`${table.toString()}\n`);
  } else {
    for (const t of tokens)
      ctx.io.stdout.write(
        `${[t.id, t.name, t.scope, `${t.prefix}…`, when(t.createdAt), when(t.lastUsedAt), ...(options.all ? [when(t.revokedAt)] : [])].join('\t')}\n`,
      );
  }
}

export async function runTokensRevoke(nameOrId: string, ctx: CommandContext): Promise<void> {
  const store = await ctx.store();
  const { revokeToken } = await import('../../privacy/tokens.js');
  const { record, changed } = await revokeToken(store, nameOrId);
  ctx.io.stderr.write(
    changed
      ? `Revoked API token ${record.id} "${record.name}": it is refused from now on.\n`
      : `API token ${record.id} "${record.name}" was already revoked.\n`,
  );
}
