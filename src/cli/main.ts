// The CLI's entry: the program with its global flags, the commands of the registry (only the one
// that runs is loaded), and the one place that turns errors into exit codes.
import { Command, CommanderError, Option } from 'commander';
import type { Store } from '../db/store.js';
import { resolveDbTarget, type DbTarget } from '../db/target.js';
import { ExitCode, UsageError, WaReportError } from '../errors.js';
import type { CommandModule } from './command.js';
import { command as root } from './commands/root.js';
import {
  colorEnabled,
  makeChalk,
  processIo,
  type CliIo,
  type CommandContext,
  type GlobalOptions,
  type TestFaults,
} from './context.js';
import { ENVIRONMENT_HELP } from './help.js';
import { COMMANDS, type CommandEntry } from './registry.js';
import { VERSION } from '../server/version.js';

export interface MainDeps {
  /** Test seam: interruptions injected into long runs (test/helpers/cli.ts). */
  faults?: TestFaults;
}

export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const io = processIo();
  // `wa-report export … | head`: the reader left, which is not an error of ours. Stop quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let store: Store | null = null;
  let global: GlobalOptions = {};
  // A command that completes but must report failure (e.g. `db status` on a database it cannot use).
  let completedWith: number = ExitCode.ok;
  const errChalk = () => makeChalk(colorEnabled(io.stderr, io.env, global.color));

  const context = (cmd: Command): CommandContext => {
    global = cmd.optsWithGlobals() as GlobalOptions;
    let target: DbTarget | null = null;
    const ctx: CommandContext = {
      io,
      global,
      out: makeChalk(colorEnabled(io.stdout, io.env, global.color)),
      err: errChalk(),
      target: () => (target ??= resolveDbTarget(global.db ?? io.env.DATABASE_URL, io.env)),
      store: async () => {
        if (!store) {
          const [{ openStore }, { KeyRing }, { idleFromEnv }] = await Promise.all([
            import('../db/store.js'),
            import('../domain/key-ring.js'),
            import('../domain/conversations.js'),
          ]);
          store = await openStore(ctx.target(), {
            keys: KeyRing.fromEnv(io.env),
            conversationIdleMs: idleFromEnv(io.env),
          });
        }
        return store;
      },
      help: () => cmd.helpInformation(),
      faults: deps.faults ?? {},
    };
    return ctx;
  };
  const runs = (cmd: Command, module: CommandModule) =>
    cmd.action(async (...args: unknown[]) => {
      const self = args.at(-1) as Command;
      completedWith = await module.execute(args.slice(0, -2), self.optsWithGlobals(), context(self));
    });

  const program = new Command('wa-report')
    .description('Keeps every WhatsApp Business conversation and turns it into reports.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option(
      '--db <url>',
      'database: SQLite file path, file:…, or postgresql://… (default: DATABASE_URL, else the embedded SQLite file)',
    )
    .option('--debug', 'print stack traces of unexpected errors')
    .option('--no-color', 'no colours in the output')
    .addHelpText('after', ENVIRONMENT_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(errChalk().red(s)),
    });
  root.configure(program);
  runs(program, root);
  // Root flags are read before a command only: `wa-report --db x clients list` and the original
  // `wa-report --client-id 1 --format summary` both work.
  program.enablePositionalOptions();
  const invoked = invokedCommand(argv, program);
  for (const entry of COMMANDS) await register(program, entry, entry.name === invoked, runs);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return completedWith;
  } catch (error) {
    return exitCode(error, io, Boolean(global.debug) || argv.includes('--debug'), errChalk());
  } finally {
    if (store) await (store as Store).close().catch(() => {});
  }
}

/** Declares a command (and its subcommands); loads and configures it only when it is the one to run. */
async function register(
  parent: Command,
  entry: CommandEntry,
  load: boolean,
  runs: (cmd: Command, module: CommandModule) => void,
): Promise<void> {
  const cmd = parent.command(entry.name).description(entry.summary);
  if (load && entry.load) {
    const module = await entry.load();
    module.configure(cmd);
    runs(cmd, module);
    // The global flags work after the command name too (`wa-report clients list --db x`).
    const has = (flag: string) => cmd.options.some((o) => o.long === flag);
    if (!has('--db')) cmd.addOption(new Option('--db <url>', 'database').hideHelp());
    if (!has('--debug')) cmd.addOption(new Option('--debug', 'stack traces').hideHelp());
    if (!has('--no-color')) cmd.addOption(new Option('--no-color', 'no colours').hideHelp());
  }
  for (const child of entry.children ?? []) await register(cmd, child, load, runs);
}

/** The top-level command `argv` names (after the root flags and their values), if any. */
function invokedCommand(argv: string[], program: Command): string | undefined {
  const withValue = new Set(
    program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter(Boolean)),
  );
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') return argv[i + 1];
    if (token.startsWith('-')) {
      if (withValue.has(token)) i++;
      continue;
    }
    // `wa-report help export` shows export's help.
    return token === 'help' ? argv.slice(i + 1).find((t) => !t.startsWith('-')) : token;
  }
  return undefined;
}

/** The one place errors become exit codes (documented in `--help` and the README). */
function exitCode(error: unknown, io: CliIo, debug: boolean, chalk: ReturnType<typeof makeChalk>): number {
  if (error instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return ExitCode.ok;
    io.stderr.write('Run `wa-report --help` for usage.\n');
    return ExitCode.usage;
  }
  if ((error as Error)?.name === 'ExitPromptError') return ExitCode.cancelled;
  if (error instanceof WaReportError) {
    io.stderr.write(`${chalk.red('error:')} ${error.message}\n`);
    if (error instanceof UsageError) io.stderr.write('Run `wa-report --help` for usage.\n');
    if (debug && error.cause instanceof Error) io.stderr.write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${chalk.red('error:')} unexpected failure: ${message.split('\n')[0]}\n`);
  if (debug && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  else {
    io.stderr.write(
      'Run again with --debug for the details, and report them to the wa-report maintainers if this looks ' +
        'like a bug.\n',
    );
  }
  return ExitCode.failure;
}
