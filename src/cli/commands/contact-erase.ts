// `wa-report contact erase`: a user's conversations, messages, status events and raw payloads
// deleted, with an audit record without content and tombstones against redeliveries.
import { userInfo } from 'node:os';
import type { ContactSummary } from '../../db/repositories/contacts.js';
import { formatWaId, normalizeContactId } from '../../domain/phone.js';
import { CancelledError, UsageError } from '../../errors.js';
import { bool, defineCommand, required } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';
import { contactWaId, optionalClientId } from './contact-flags.js';

export const command = defineCommand({
  flags: {
    waId: required(contactWaId()),
    clientId: optionalClientId('only their conversation with this client (default: all clients)'),
    force: bool('--force', 'do not ask for confirmation (required when there is no terminal)'),
    json: json('print what was erased as JSON'),
  },
  help: `
Asks for confirmation on a terminal (type the number). Erased messages leave tombstones (hashes of
their ids), so a redelivered webhook does not bring them back; a new message from the user is stored
as usual. Erasing again is a no-op. Archives written before keep their copy; restoring them skips
erased data.

Example:
  wa-report contact erase --wa-id +34612345678 --force
`,
  async run({ options }, ctx) {
    const { waId, clientId } = options;
    const store = await ctx.store();
    if (clientId !== undefined) await store.clients.get(clientId);
    const { contactSummary, eraseContact } = await import('../../privacy/contact.js');
    const summary = await contactSummary(store, waId, clientId);
    const nothing = summary.conversations.length === 0 && summary.statusEvents === 0 && summary.rawEvents === 0;
    if (!nothing && !options.force) await confirm(ctx, waId, clientId, summary);
    const e = await eraseContact(store, waId, { clientId, actor: cliActor(ctx.io.env) });
    if (options.json) {
      writeJson(ctx, {
        wa_id: formatWaId(waId),
        threads: e.threads,
        messages: e.messages,
        status_events: e.statusEvents,
        raw_events: e.rawEvents,
        audit_id: e.auditId,
      });
    } else if (e.auditId === null) {
      ctx.io.stderr.write(`Nothing stored about ${formatWaId(waId)}: nothing erased.\n`);
    } else {
      ctx.io.stderr.write(
        `Erased ${formatWaId(waId)}: ${e.threads} conversation${e.threads === 1 ? '' : 's'}, ${e.messages} messages, ` +
          `${e.statusEvents} status events, ${e.rawEvents} raw events (audit record ${e.auditId}). ` +
          'Redelivered webhooks of these messages will not be stored again.\n',
      );
    }
  },
});

/** Asks for the number on a terminal; without one, --force is the only way. */
async function confirm(
  ctx: CommandContext,
  waId: string,
  clientId: number | undefined,
  summary: ContactSummary,
): Promise<void> {
  const scope = clientId === undefined ? 'all clients' : `client ${clientId}`;
  if (!(ctx.io.stdinIsTTY && ctx.io.stderr.isTTY)) {
    throw new UsageError(
      `Erasing ${formatWaId(waId)} (${scope}) deletes ${summary.messages} messages in ` +
        `${summary.conversations.length} conversations for good. Add --force to confirm when there is no ` +
        'terminal to ask on.',
    );
  }
  const lines = summary.conversations.map(
    (c) => `  client ${c.clientId} (${c.clientName}): conversation ${c.threadId}, ${c.messages} messages\n`,
  );
  ctx.io.stderr.write(
    `About to erase everything stored about ${formatWaId(waId)} (${scope}):\n${lines.join('')}` +
      `  ${summary.statusEvents} status events, ${summary.rawEvents} raw events\n` +
      'This cannot be undone (archives written earlier still hold their copy).\n',
  );
  const { input } = await import('@inquirer/prompts');
  const typed = await input(
    { message: `Type the number (${formatWaId(waId)}) to confirm:` },
    { input: process.stdin, output: ctx.io.stderr },
  );
  const same = (() => {
    try {
      return normalizeContactId(typed, 'number') === waId;
    } catch {
      return false;
    }
  })();
  if (!same) throw new CancelledError('Not confirmed: nothing was erased.');
}

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
