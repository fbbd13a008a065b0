// The CLI's entry: builds the commander program, runs one command, and is the only place that
// turns errors into exit codes. Command modules are imported lazily so `--help` stays fast.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, UsageError, WaReportError } from '../errors.js';
import type { Store } from '../db/store.js';
import { resolveDbTarget, type DbTarget } from '../db/target.js';
import { colorEnabled, makeChalk, processIo, type CliIo, type CommandContext, type GlobalOptions } from './context.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const ENVIRONMENT_HELP = `
Environment variables (flags override them):
  DATABASE_URL                 Database: a SQLite file path, file:…, or postgresql://user@host:5432/db
                               (default: \${XDG_DATA_HOME:-~/.local/share}/wa-report/wa-report.db)
  XDG_DATA_HOME                Where the default SQLite database lives
  PORT, HOST                   Where \`wa-report ingest\` listens (default 8082, all interfaces)
  WHATSAPP_VERIFY_TOKEN        Token Meta sends in the webhook verification handshake
  WHATSAPP_APP_SECRET          App secret that signs webhooks (X-Hub-Signature-256)
  WHATSAPP_ACCESS_TOKEN        Token for sending replies through the Graph API
  WHATSAPP_GRAPH_URL           Graph API base URL (default https://graph.facebook.com/v24.0)
  OPENAI_API_KEY               Key for the assistant's model
  OPENAI_BASE_URL              OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio, …)
  OPENAI_MODEL                 Default model of the assistant
  WA_REPORT_API_TOKEN          Bearer token for the reporting HTTP API (see also \`wa-report tokens\`)
  WA_REPORT_API_TOKEN_SCOPE    read (default) or admin: may that token export and erase contacts
  WA_REPORT_TRUST_PROXY        Behind a reverse proxy: Express "trust proxy" (loopback, hop count, addresses)
  WA_REPORT_ENCRYPTION_KEY     Key (base64, 32 bytes) that encrypts message content at rest (\`wa-report keys generate\`)
  WA_REPORT_ENCRYPTION_KEYS_OLD  Older keys still accepted for reading, during a rotation (comma-separated)
  WA_REPORT_ARCHIVE_AFTER, WA_REPORT_ARCHIVE_DIR  Daemon retention (--archive-after 365d, --archive-dir …)
  WA_REPORT_CONTEXT_MESSAGES   Messages of history sent to the model (default 10)
  WA_REPORT_MODEL_API          chat (Chat Completions, default) or responses (OpenAI Responses API)
  WA_REPORT_OPENAI_TIMEOUT_MS  Time limit of one model call (default 60000)
  WA_REPORT_QUEUE_MAX_ROWS     Rows waiting to be written before webhooks get 503 (default 50000)
  WA_REPORT_REPLY_CONCURRENCY  Conversations answered at the same time (default 32)
  LOG_LEVEL                    Daemon log level: fatal, error, warn, info, debug, trace
  NO_COLOR, FORCE_COLOR        Turn colours off / on

Exit codes:
  0 ok · 1 failure · 2 usage error · 3 not found · 4 authentication · 130 cancelled

Examples:
  wa-report                                          Interactive picker (on a terminal)
  wa-report demo                                     Sample data through the real pipeline
  wa-report --list                                   Active clients
  wa-report --client-id 1 --format summary           Summary of a client's conversations
  wa-report --client-id 1 --wa-id +34123456789 --format detailed
  wa-report export --client-id 1 --format html -o report.html
  wa-report stats --since 7d
  wa-report clients add --name Released --phone-number +15556383785 --phone-number-id 106540352242922
  wa-report clients update 1 --assistant --system-prompt-file prompt.txt
  wa-report clients list --json | jq '.clients[].name'
  wa-report contact erase --wa-id +34612345678 --force
  wa-report archive --before 2024-01-01 --out archive-2023.jsonl.gz
  wa-report tokens create --name grafana --scope read
  wa-report --db postgresql://wa@db.internal:5432/wa_report db status
  DATABASE_URL=./wa-report.db wa-report db migrate
`;

export interface MainDeps {
  io?: CliIo;
}

export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const io = deps.io ?? processIo();
  if (!deps.io) {
    // `wa-report export … | head`: the reader left, which is not an error of ours. Stop quietly.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  let openedStore: Store | null = null;
  // A command that completes but must report failure (e.g. `db status` on a database it cannot use).
  let completedWith: number = ExitCode.ok;
  let global: GlobalOptions = {};
  const errChalk = () => makeChalk(colorEnabled(io.stderr, io.env, global.color));

  const program = new Command('wa-report');
  const context = (cmd: Command): CommandContext => {
    global = cmd.optsWithGlobals() as GlobalOptions;
    let target: DbTarget | null = null;
    const ctx: CommandContext = {
      io,
      global,
      out: makeChalk(colorEnabled(io.stdout, io.env, global.color)),
      err: makeChalk(colorEnabled(io.stderr, io.env, global.color)),
      target: () => (target ??= resolveDbTarget(global.db ?? io.env.DATABASE_URL, io.env)),
      store: async () => {
        if (!openedStore) {
          const [{ openStore }, { KeyRing }] = await Promise.all([
            import('../db/store.js'),
            import('../domain/key-ring.js'),
          ]);
          openedStore = await openStore(ctx.target(), { keys: KeyRing.fromEnv(io.env) });
        }
        return openedStore;
      },
    };
    return ctx;
  };

  program
    .description('Keeps every WhatsApp Business conversation and turns it into reports.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option(
      '--db <url>',
      'database: SQLite file path, file:…, or postgresql://… (default: DATABASE_URL, else the embedded SQLite file)',
    )
    .option('--debug', 'print stack traces of unexpected errors')
    .option('--no-color', 'no colours in the output')
    .option('--list', 'list active clients (same as `clients list`)')
    .option('--json', 'with --list or a summary: JSON instead of a table')
    .option('--client-id <id>', "with --format: the client to report on (the seed's generate_report flags)")
    .option('--wa-id <number>', 'with --format detailed: one conversation (+34 612…, 34612…)')
    .option('--format <format>', 'summary (default), detailed (the text report), or json, text, html, csv')
    .option('--start-date <date>', 'from this ISO 8601 date or time (inclusive)')
    .option('--end-date <date>', 'until this date (a bare date includes the whole day)')
    .option('--tz <zone>', "IANA time zone reports are shown in (default: the system's)")
    .option('--lang <lang>', 'es or en (default from LANG / LC_ALL)')
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(errChalk().red(s)),
    })
    .action(async (options: { list?: boolean; json?: boolean }, cmd: Command) => {
      if (options.list) {
        const ctx = context(cmd);
        const { runClientsList, printClients } = await import('./commands/clients-list.js');
        printClients(await runClientsList({}, ctx), { json: options.json }, ctx);
        return;
      }
      const o = options as { clientId?: string; format?: string; wa_id?: string };
      if (o.clientId !== undefined || o.format !== undefined) {
        const ctx = context(cmd);
        const all = cmd.optsWithGlobals();
        const format = (o.format ?? 'summary').toLowerCase();
        if (format === 'summary') {
          const { runSummary } = await import('./commands/export.js');
          await runSummary(all, ctx);
        } else {
          const { runExport } = await import('./commands/export.js');
          await runExport({ ...all, format: format === 'detailed' ? 'text' : format }, ctx);
        }
        return;
      }
      if (io.stdinIsTTY && io.stdout.isTTY) {
        const ctx = context(cmd);
        const { runPicker } = await import('./commands/picker.js');
        const root = options as { tz?: string; lang?: string };
        await runPicker(ctx, { reportOptions: { tz: root.tz, lang: root.lang } });
        return;
      }
      // No terminal to ask on: never wait for input.
      io.stderr.write(program.helpInformation());
      throw new UsageError('No command given (and no terminal for the interactive picker).');
    });

  const clients = program.command('clients').description('manage business clients (WhatsApp Business phone numbers)');
  clients
    .command('list')
    .description('list active clients: a table on a terminal, tab-separated when piped')
    .option('--all', 'include disabled clients')
    .option('--json', 'JSON output: {"clients":[{id, name, phone_number, phone_number_id, …}]}')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      // --json is also a root option (for `--list --json`); take it from wherever it was given.
      const options = cmd.optsWithGlobals() as { all?: boolean; json?: boolean };
      const { runClientsList, printClients } = await import('./commands/clients-list.js');
      printClients(await runClientsList(options, ctx), options, ctx);
    });

  const clientFields = (cmd: Command, required: boolean) => {
    const opt = (flags: string, description: string) =>
      required ? cmd.requiredOption(flags, description) : cmd.option(flags, description);
    opt('--name <name>', 'business name shown in reports');
    opt('--phone-number <number>', 'display phone number, international form: +15556383785');
    opt('--phone-number-id <id>', 'Cloud API phone number ID webhooks are routed on (digits)');
    return cmd
      .option('--waba-id <id>', 'WhatsApp Business Account ID (digits)')
      .option('--assistant', 'answer users with the AI assistant')
      .option('--no-assistant', 'do not answer users automatically')
      .option('--model <model>', 'model for this client (default: OPENAI_MODEL)')
      .option('--system-prompt-file <file>', 'system prompt for the assistant, read from a UTF-8 file')
      .option('--json', 'print the client as JSON');
  };

  clientFields(
    clients
      .command('add')
      .description('add a client')
      .addHelpText(
        'after',
        '\nExample:\n  wa-report clients add --name Released --phone-number +15556383785 --phone-number-id 106540352242922 --assistant\n',
      ),
    true,
  ).action(async (_options: unknown, cmd: Command) => {
    const ctx = context(cmd);
    const options = cmd.optsWithGlobals();
    const { runClientsAdd } = await import('./commands/clients-add.js');
    const client = await runClientsAdd(options, ctx);
    await printClientResult(
      ctx,
      client,
      options.json,
      `Added client ${client.id} (${client.name}, ${client.phoneNumber}).`,
    );
  });

  clientFields(clients.command('update <client-id>').description('change a client'), false)
    .option('--clear-system-prompt', 'remove the system prompt')
    .addOption(new Option('--active', 'enable the client').hideHelp())
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals();
      const { runClientsUpdate } = await import('./commands/clients-update.js');
      const client = await runClientsUpdate(id, options, ctx);
      await printClientResult(ctx, client, options.json, `Updated client ${client.id} (${client.name}).`);
    });

  for (const [name, active] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    clients
      .command(`${name} <client-id>`)
      .description(
        active
          ? 'show a disabled client again in lists and accept its webhooks'
          : 'hide a client from lists (its data is kept)',
      )
      .option('--json', 'print the client as JSON')
      .action(async (id: string, _options: unknown, cmd: Command) => {
        const ctx = context(cmd);
        const options = cmd.optsWithGlobals() as { json?: boolean };
        const { runClientsSetActive } = await import('./commands/clients-update.js');
        const client = await runClientsSetActive(id, active, ctx);
        await printClientResult(
          ctx,
          client,
          options.json,
          `${active ? 'Enabled' : 'Disabled'} client ${client.id} (${client.name}).`,
        );
      });
  }

  program
    .command('ingest')
    .description(
      'run the webhook daemon: store WhatsApp messages and statuses, answer with the assistant, serve the API',
    )
    .option('--port <port>', 'port to listen on (default: PORT, else 8082)')
    .option('--host <host>', 'address to listen on (default: HOST, else all interfaces)')
    .option('--shutdown-timeout <seconds>', 'on SIGTERM, how long answers in progress may take (default 10)')
    .option(
      '--insecure-skip-signature',
      'accept webhooks without verifying X-Hub-Signature-256 (local experiments only)',
    )
    .option(
      '--archive-after <period>',
      'retention: once a day, archive conversations idle longer than this (365d, 52w), then delete them',
    )
    .option('--archive-dir <dir>', 'with --archive-after: where the daily archives (.jsonl.gz) go')
    .option('--print-systemd-unit', 'print a systemd unit for this installation and exit')
    .option('--user <name>', 'with --print-systemd-unit: the service user (default wa-report)')
    .option(
      '--environment-file <path>',
      'with --print-systemd-unit: the EnvironmentFile (default /etc/wa-report/wa-report.env)',
    )
    .addHelpText(
      'after',
      `
Needs WHATSAPP_APP_SECRET (webhook signatures) and, to answer users, OPENAI_API_KEY and
WHATSAPP_ACCESS_TOKEN; without them it archives only. Logs are JSON lines on stdout (pretty on a
terminal); SIGTERM/SIGINT stop it cleanly. Endpoints: GET/POST /webhook, GET /healthz, GET /metrics.

Examples:
  WHATSAPP_APP_SECRET=… WHATSAPP_VERIFY_TOKEN=… wa-report ingest --port 8082
  wa-report ingest --print-systemd-unit | sudo tee /etc/systemd/system/wa-report.service
`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runIngest } = await import('./commands/ingest.js');
      completedWith = await runIngest(cmd.optsWithGlobals(), ctx);
    });

  const reportFlags = (cmd: Command, withWaId = true) => {
    cmd.option('--client-id <id>', 'the client (see `wa-report --list`)');
    if (withWaId) cmd.option('--wa-id <number>', 'one WhatsApp user: +34 612 345 678, 34612345678, …');
    return cmd
      .option('--start-date <date>', 'from this ISO 8601 date or time, e.g. 2024-01-15 or 2024-01-15T10:30 (inclusive)')
      .option('--end-date <date>', 'until this date or time (a bare date includes the whole day)')
      .option('--tz <zone>', "IANA time zone for dates and times (default: the system's)")
      .option('--lang <lang>', 'es or en (default from LANG / LC_ALL)');
  };

  reportFlags(
    program
      .command('conversations')
      .description("a client's conversations: thread, wa_id, contact, created, last message, messages"),
  )
    .option('--json', "JSON in the seed's shape: {client, total_conversations, conversations[]}")
    .addHelpText(
      'after',
      '\nExample:\n  wa-report conversations --client-id 1 --start-date 2024-01-01 --end-date 2024-01-31\n',
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals();
      const { runConversations, printConversations } = await import('./commands/conversations.js');
      printConversations(await runConversations(options, ctx), Boolean(options.json), ctx);
    });

  reportFlags(
    program
      .command('export')
      .description("a detailed report of one conversation (--wa-id) or of all of a client's conversations"),
  )
    .option('--format <format>', 'json, text, html or csv (default text)')
    .option('-o, --output <file>', 'write to this file (default: stdout; - is stdout)')
    .option('--bom', 'csv: start with a UTF-8 byte order mark (for Excel)')
    .addHelpText(
      'after',
      `
Examples:
  wa-report export --client-id 1 --wa-id +34612345678 --format html > conversation.html
  wa-report export --client-id 1 --start-date 2024-01-01 --format csv --bom -o january.csv
  wa-report export --client-id 1 --format json | jq '.conversations[].message_count'
`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runExport } = await import('./commands/export.js');
      await runExport(cmd.optsWithGlobals(), ctx);
    });

  reportFlags(
    program
      .command('stats')
      .description(
        'per client: conversations, messages by role, activity, failures, delivery and read rates, response times, messages per day',
      ),
    false,
  )
    .option('--since <when>', 'only what happened since: 7d, 24h, 2w or an ISO date')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals();
      const { runStats, printStats } = await import('./commands/stats.js');
      printStats(await runStats(options, ctx), Boolean(options.json), ctx);
    });

  program
    .command('failed')
    .description('failed messages, newest first (with their error)')
    .option('--client-id <id>', 'only this client')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals();
      const { runFailed, printFailed } = await import('./commands/stats.js');
      printFailed(await runFailed(options, ctx), Boolean(options.json), ctx);
    });

  const contextCmd = program.command('context').description("the assistant's memory of a user");
  contextCmd
    .command('clear')
    .description(
      'start the assistant afresh with a user: earlier messages are no longer sent to the model (they stay for reports)',
    )
    .requiredOption('--wa-id <number>', "the user's WhatsApp number, e.g. +34612345678")
    .option('--client-id <id>', 'only the conversation with this client (default: all of them)')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runContextClear } = await import('./commands/context.js');
      const r = await runContextClear(cmd.optsWithGlobals(), ctx);
      io.stderr.write(
        `Cleared the assistant's context for +${r.waId} in ${r.threads.length} conversation${r.threads.length === 1 ? '' : 's'} (${r.threads.join(', ')}).\n`,
      );
    });

  program
    .command('history')
    .description("a user's conversation history (the last messages, oldest first)")
    .requiredOption('--wa-id <number>', "the user's WhatsApp number, e.g. +34612345678")
    .option('--client-id <id>', 'only the conversation with this client')
    .option('--limit <n>', 'messages per conversation (default 50)')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals();
      const { runHistory, printHistory } = await import('./commands/context.js');
      printHistory(await runHistory(options, ctx), Boolean(options.json), ctx);
    });

  program
    .command('demo')
    .description('fill the database with sample conversations through the real ingest pipeline (no network, no keys)')
    .option('--conversations <n>', 'conversations per client (default 14)')
    .option('--seed <n>', 'random seed: the same seed gives the same data')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runDemoCommand } = await import('./commands/demo.js');
      await runDemoCommand(cmd.optsWithGlobals(), ctx);
    });

  const db = program
    .command('db')
    .description('the database: migration status, explicit migration, encryption of what is stored');
  db.command('status')
    .description('show applied and pending migrations (changes nothing)')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals() as { json?: boolean };
      const { runDbStatus, printDbStatus } = await import('./commands/db.js');
      const result = await runDbStatus(ctx);
      printDbStatus(result, Boolean(options.json), ctx);
      const s = result.status;
      if (s.unknown.length || s.failed.length) completedWith = ExitCode.failure;
    });
  db.command('encrypt')
    .description(
      'encrypt the content already stored (message text, raw payloads) with WA_REPORT_ENCRYPTION_KEY, in batches',
    )
    .option('--batch-size <n>', 'rows per transaction (default 500)')
    .addHelpText(
      'after',
      `
Resumable: an interrupted run is finished by running it again. From the first batch on, the database
is marked encrypted and refuses plaintext writes from processes without the key.

Example:
  export WA_REPORT_ENCRYPTION_KEY=$(wa-report keys generate)   # keep a copy somewhere safe
  wa-report db encrypt
`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runReencrypt } = await import('./commands/privacy.js');
      await runReencrypt('encrypt', cmd.optsWithGlobals(), ctx);
    });
  db.command('migrate')
    .description('create the database if needed and apply pending migrations (every command does this on first use)')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runDbMigrate } = await import('./commands/db.js');
      const result = await runDbMigrate(ctx);
      io.stderr.write(
        result.applied.length
          ? `Applied ${result.applied.join(', ')} to ${result.database}.\n`
          : `${result.database} is up to date.\n`,
      );
    });

  const contact = program
    .command('contact')
    .description("a WhatsApp user's data rights: export everything stored about them, or erase it");
  contact
    .command('export')
    .description(
      'everything stored about one WhatsApp user across all clients, as one JSON document (docs/contact-export.md)',
    )
    .requiredOption('--wa-id <number>', "the user's WhatsApp number, e.g. +34612345678")
    .option('-o, --output <file>', 'write to this file (default: stdout)')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runContactExport } = await import('./commands/privacy.js');
      await runContactExport(cmd.optsWithGlobals(), ctx);
    });
  contact
    .command('erase')
    .description(
      "delete a user's conversations, messages, status events and raw payloads, leaving an audit record without content",
    )
    .requiredOption('--wa-id <number>', "the user's WhatsApp number, e.g. +34612345678")
    .option('--client-id <id>', 'only their conversation with this client (default: all clients)')
    .option('--force', 'do not ask for confirmation (required when there is no terminal)')
    .option('--json', 'print what was erased as JSON')
    .addHelpText(
      'after',
      `
Asks for confirmation on a terminal (type the number). Erased messages leave tombstones (hashes of
their ids), so a redelivered webhook does not bring them back; a new message from the user is stored
as usual. Erasing again is a no-op. Archives written before keep their copy; restoring them skips
erased data.

Example:
  wa-report contact erase --wa-id +34612345678 --force
`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const options = cmd.optsWithGlobals();
      const { runContactErase, printErase } = await import('./commands/privacy.js');
      printErase(await runContactErase(options, ctx), Boolean(options.json), ctx);
    });

  const keys = program.command('keys').description('encryption of message content at rest (AES-256-GCM)');
  keys
    .command('generate')
    .description('print a new random key (base64) for WA_REPORT_ENCRYPTION_KEY')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runKeysGenerate } = await import('./commands/privacy.js');
      await runKeysGenerate(ctx);
    });
  keys
    .command('status')
    .description('which keys are configured, and how many stored values are plaintext or sealed with each key id')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runKeysStatus } = await import('./commands/privacy.js');
      await runKeysStatus(Boolean(cmd.optsWithGlobals().json), ctx);
    });
  keys
    .command('rotate')
    .description(
      're-encrypt everything with WA_REPORT_ENCRYPTION_KEY; the old keys are read from WA_REPORT_ENCRYPTION_KEYS_OLD',
    )
    .option('--batch-size <n>', 'rows per transaction (default 500)')
    .addHelpText(
      'after',
      `
Resumable: an interrupted run is finished by running it again. Keep the old key in
WA_REPORT_ENCRYPTION_KEYS_OLD for every process until this has completed.

Example:
  WA_REPORT_ENCRYPTION_KEY=<new> WA_REPORT_ENCRYPTION_KEYS_OLD=<old> wa-report keys rotate
`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runReencrypt } = await import('./commands/privacy.js');
      await runReencrypt('rotate', cmd.optsWithGlobals(), ctx);
    });

  const archiveCmd = program
    .command('archive')
    .description('move conversations last active before a date into a verified .jsonl.gz archive, then delete them')
    .option('--before <date>', 'conversations whose last message is before this date (ISO 8601, in --tz)')
    .option('--client-id <id>', 'only this client')
    .option('--out <file>', 'the archive to write (gzipped JSON lines, docs/archive-format.md)')
    .option('--batch-size <n>', 'conversations deleted per transaction (default 100)')
    .option('--tz <zone>', "IANA time zone of --before (default: the system's)")
    .option('--json', 'print the outcome as JSON')
    .addOption(new Option('--db <url>', 'database').hideHelp())
    .addOption(new Option('--debug', 'stack traces').hideHelp())
    .addOption(new Option('--no-color', 'no colours').hideHelp())
    .addHelpText(
      'after',
      `
The file is written, fsynced, read back and verified (counts and SHA-256) before anything is deleted.
Interrupted at any point, nothing is lost: rerun the same command to finish. A conversation that
changed after it was archived (a new message or status) stays in the database.

Examples:
  wa-report archive --before 2024-01-01 --out archive-2023.jsonl.gz
  wa-report archive restore archive-2023.jsonl.gz
`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runArchive } = await import('./commands/privacy.js');
      await runArchive(cmd.optsWithGlobals(), ctx);
    });
  archiveCmd
    .command('restore <file>')
    .description('import an archive back (idempotent: restoring twice changes nothing; erased contacts stay erased)')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, _options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runRestore } = await import('./commands/privacy.js');
      await runRestore(file, cmd.optsWithGlobals(), ctx);
    });

  const tokens = program
    .command('tokens')
    .description('tokens of the reporting HTTP API (only their hashes are stored)');
  tokens
    .command('create')
    .description('create a token and print it (once)')
    .requiredOption('--name <name>', 'who or what uses it, e.g. grafana')
    .option('--scope <scope>', 'read (reports) or admin (also contact export and erase); default read')
    .option('--json', 'print {id, name, scope, token} as JSON')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runTokensCreate } = await import('./commands/privacy.js');
      await runTokensCreate(cmd.optsWithGlobals(), ctx);
    });
  tokens
    .command('list')
    .description('tokens: name, scope, created, last used')
    .option('--all', 'include revoked tokens')
    .option('--json', 'JSON output')
    .action(async (_options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runTokensList } = await import('./commands/privacy.js');
      await runTokensList(cmd.optsWithGlobals(), ctx);
    });
  tokens
    .command('revoke <name-or-id>')
    .description('refuse a token from now on')
    .action(async (nameOrId: string, _options: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { runTokensRevoke } = await import('./commands/privacy.js');
      await runTokensRevoke(nameOrId, ctx);
    });

  // The seed's report flags live on the root command too (`wa-report --client-id 1 --wa-id …`), so
  // root options are read only before a subcommand; the options that apply everywhere are repeated,
  // hidden, on every subcommand so `wa-report clients list --db x` works as well.
  program.enablePositionalOptions();
  const everywhere = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (sub.commands.length) {
        everywhere(sub);
        continue;
      }
      const has = (flag: string) => sub.options.some((o) => o.long === flag);
      if (!has('--db')) sub.addOption(new Option('--db <url>', 'database').hideHelp());
      if (!has('--debug')) sub.addOption(new Option('--debug', 'stack traces').hideHelp());
      if (!has('--no-color')) sub.addOption(new Option('--no-color', 'no colours').hideHelp());
    }
  };
  everywhere(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return completedWith;
  } catch (error) {
    return reportError(error, io, global.debug || argv.includes('--debug'), errChalk());
  } finally {
    if (openedStore) await (openedStore as Store).close().catch(() => {});
  }
}

async function printClientResult(
  ctx: CommandContext,
  client: import('../domain/types.js').ClientRecord,
  json: boolean | undefined,
  message: string,
) {
  if (json) {
    const { clientJson } = await import('./commands/clients-shared.js');
    ctx.io.stdout.write(`${JSON.stringify(clientJson(client), null, 2)}\n`);
  } else {
    ctx.io.stderr.write(`${message}\n`);
  }
}

function reportError(error: unknown, io: CliIo, debug: boolean, chalk: ReturnType<typeof makeChalk>): number {
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    )
      return ExitCode.ok;
    io.stderr.write(`Run \`wa-report --help\` for usage.\n`);
    return ExitCode.usage;
  }
  if ((error as Error)?.name === 'ExitPromptError') return ExitCode.cancelled;
  if (error instanceof WaReportError) {
    io.stderr.write(`${chalk.red('error:')} ${error.message}\n`);
    if (error instanceof UsageError) io.stderr.write(`Run \`wa-report --help\` for usage.\n`);
    if (debug && error.cause instanceof Error) io.stderr.write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${chalk.red('error:')} unexpected failure: ${message.split('\n')[0]}\n`);
  if (debug && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  else
    io.stderr.write(
      'Run again with --debug for the details, and report them to the wa-report maintainers if this looks like a bug.\n',
    );
  return ExitCode.failure;
}
