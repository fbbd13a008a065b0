// Every command of `wa-report`, in the order `--help` lists them. A command's module (flags, help,
// handler) is loaded only when that command runs, so `wa-report --help` and `--list` stay fast.
import type { CommandModule } from './command.js';

export interface CommandEntry {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  load?: () => Promise<CommandModule>;
  /** Subcommands (`clients list`, `db status`, …). */
  children?: CommandEntry[];
}

type Loaded = Promise<{ command: CommandModule }>;
const module = (load: () => Loaded) => async () => (await load()).command;

export const COMMANDS: CommandEntry[] = [
  {
    name: 'clients',
    summary: 'manage business clients (WhatsApp Business phone numbers)',
    children: [
      {
        name: 'list',
        summary: 'list active clients: a table on a terminal, tab-separated when piped',
        load: module(() => import('./commands/clients-list.js')),
      },
      { name: 'add', summary: 'add a client', load: module(() => import('./commands/clients-add.js')) },
      { name: 'update', summary: 'change a client', load: module(() => import('./commands/clients-update.js')) },
      {
        name: 'disable',
        summary: 'hide a client from lists and silence its assistant (its messages are still stored)',
        load: async () => (await import('./commands/clients-enable.js')).disable,
      },
      {
        name: 'enable',
        summary: 'show a disabled client again in lists and let its assistant answer again',
        load: async () => (await import('./commands/clients-enable.js')).enable,
      },
    ],
  },
  {
    name: 'ingest',
    summary: 'run the webhook daemon: store WhatsApp messages and statuses, answer with the assistant, serve the API',
    load: module(() => import('./commands/ingest.js')),
  },
  {
    name: 'conversations',
    summary:
      "a client's conversations: thread, wa_id, contact, created, last message, messages (--sessions: each " +
      'conversation inside them, with its start, end and first response)',
    load: module(() => import('./commands/conversations.js')),
    children: [
      {
        name: 'close',
        summary: "end a user's open conversation now (the next message starts a new one)",
        load: module(() => import('./commands/conversations-close.js')),
      },
    ],
  },
  {
    name: 'export',
    summary: "a detailed report of one conversation (--wa-id) or of all of a client's conversations",
    load: module(() => import('./commands/export.js')),
  },
  {
    name: 'stats',
    summary:
      'per client: conversations, messages by role, activity, failures, delivery and read rates, response times, ' +
      'messages per day',
    load: module(() => import('./commands/stats.js')),
  },
  {
    name: 'failed',
    summary: 'failed messages, newest first (with their error)',
    load: module(() => import('./commands/failed.js')),
  },
  {
    name: 'context',
    summary: "the assistant's memory of a user",
    children: [
      {
        name: 'clear',
        summary:
          'start the assistant afresh with a user: earlier messages are no longer sent to the model (they stay ' +
          'for reports)',
        load: module(() => import('./commands/context-clear.js')),
      },
    ],
  },
  {
    name: 'history',
    summary: "a user's conversation history (the last messages, oldest first)",
    load: module(() => import('./commands/history.js')),
  },
  {
    name: 'demo',
    summary: 'fill the database with sample conversations through the real ingest pipeline (no network, no keys)',
    load: module(() => import('./commands/demo.js')),
  },
  {
    name: 'dashboard',
    summary: 'serve the web dashboard on this database (no webhooks) and print a one-time sign-in link',
    load: module(() => import('./commands/dashboard.js')),
  },
  {
    name: 'db',
    summary: 'the database: migration status, explicit migration, encryption of what is stored',
    children: [
      {
        name: 'status',
        summary: 'show applied and pending migrations (changes nothing)',
        load: module(() => import('./commands/db-status.js')),
      },
      {
        name: 'encrypt',
        summary:
          'encrypt the content already stored (message text, raw payloads) with WA_REPORT_ENCRYPTION_KEY, in batches',
        load: module(() => import('./commands/db-encrypt.js')),
      },
      {
        name: 'migrate',
        summary: 'create the database if needed and apply pending migrations (every command does this on first use)',
        load: module(() => import('./commands/db-migrate.js')),
      },
      {
        name: 'rebuild-rollups',
        summary: 'recount the message rollups behind the dashboard and stats from the messages (--check compares)',
        load: module(() => import('./commands/db-rebuild-rollups.js')),
      },
    ],
  },
  {
    name: 'contact',
    summary: "a WhatsApp user's data rights: export everything stored about them, or erase it",
    children: [
      {
        name: 'export',
        summary:
          'everything stored about one WhatsApp user across all clients, as one JSON document (docs/contact-export.md)',
        load: module(() => import('./commands/contact-export.js')),
      },
      {
        name: 'erase',
        summary:
          "delete a user's conversations, messages, status events and raw payloads, leaving an audit record " +
          'without content',
        load: module(() => import('./commands/contact-erase.js')),
      },
    ],
  },
  {
    name: 'keys',
    summary: 'encryption of message content at rest (AES-256-GCM)',
    children: [
      {
        name: 'generate',
        summary: 'print a new random key (base64) for WA_REPORT_ENCRYPTION_KEY',
        load: module(() => import('./commands/keys-generate.js')),
      },
      {
        name: 'status',
        summary: 'which keys are configured, and how many stored values are plaintext or sealed with each key id',
        load: module(() => import('./commands/keys-status.js')),
      },
      {
        name: 'rotate',
        summary:
          're-encrypt everything with WA_REPORT_ENCRYPTION_KEY; the old keys are read from ' +
          'WA_REPORT_ENCRYPTION_KEYS_OLD',
        load: module(() => import('./commands/keys-rotate.js')),
      },
    ],
  },
  {
    name: 'archive',
    summary: 'move conversations last active before a date into a verified .jsonl.gz archive, then delete them',
    load: module(() => import('./commands/archive.js')),
    children: [
      {
        name: 'restore',
        summary: 'import an archive back (idempotent: restoring twice changes nothing; erased contacts stay erased)',
        load: module(() => import('./commands/archive-restore.js')),
      },
    ],
  },
  {
    name: 'webhooks',
    summary: 'event webhooks: signed notifications of conversations, messages and failures (Standard Webhooks)',
    children: [
      {
        name: 'add',
        summary: 'add an endpoint and print its signing secret (once)',
        load: async () => (await import('./commands/webhooks-endpoints.js')).add,
      },
      {
        name: 'list',
        summary: 'endpoints: url, events, client, state',
        load: async () => (await import('./commands/webhooks-endpoints.js')).list,
      },
      {
        name: 'remove',
        summary: 'remove an endpoint and its deliveries',
        load: async () => (await import('./commands/webhooks-endpoints.js')).remove,
      },
      {
        name: 'enable',
        summary: 'send to a disabled endpoint again (its waiting deliveries too)',
        load: async () => (await import('./commands/webhooks-endpoints.js')).enable,
      },
      {
        name: 'disable',
        summary: 'stop sending to an endpoint for now (events still wait for it)',
        load: async () => (await import('./commands/webhooks-endpoints.js')).disable,
      },
      {
        name: 'test',
        summary: 'send a webhook.test event to an endpoint now',
        load: async () => (await import('./commands/webhooks-deliveries.js')).test,
      },
      {
        name: 'deliveries',
        summary: 'the delivery log: each attempt with its time, event, webhook-id, HTTP status or error, latency',
        load: async () => (await import('./commands/webhooks-deliveries.js')).deliveries,
      },
      {
        name: 'redeliver',
        summary: 'send a delivery again now (same webhook-id)',
        load: async () => (await import('./commands/webhooks-deliveries.js')).resend,
      },
      {
        name: 'rotate-secret',
        summary: 'a new signing secret; the old one also signs for 24 hours',
        load: async () => (await import('./commands/webhooks-endpoints.js')).rotate,
      },
    ],
  },
  {
    name: 'sentiment',
    summary: 'sentiment of user messages (offline, Spanish and English)',
    children: [
      {
        name: 'score',
        summary: 'score lines of text read on stdin: one JSON object per line (label, score, lang)',
        load: async () => (await import('./commands/sentiment.js')).score,
      },
      {
        name: 'backfill',
        summary: 'score the messages stored before sentiment existed (resumable; run again to go on)',
        load: async () => (await import('./commands/sentiment.js')).backfill,
      },
    ],
  },
  {
    name: 'tokens',
    summary: 'tokens of the reporting HTTP API (only their hashes are stored)',
    children: [
      {
        name: 'create',
        summary: 'create a token and print it (once)',
        load: module(() => import('./commands/tokens-create.js')),
      },
      {
        name: 'list',
        summary: 'tokens: name, scope, created, last used',
        load: module(() => import('./commands/tokens-list.js')),
      },
      {
        name: 'revoke',
        summary: 'refuse a token from now on',
        load: module(() => import('./commands/tokens-revoke.js')),
      },
    ],
  },
];
