// How a command is written: one module owns its flags (each declared once, with the zod schema that
// checks and types it), its help text and its handler. `main` registers it under the name the
// registry gives, parses, validates every flag at once and calls `run` with typed options.
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';

/** A flag and how its value is checked (no schema: commander's value as given, string or boolean). */
export interface Flag<T> {
  flags: string;
  description: string;
  schema?: z.ZodType;
  /** The type of the value once checked (never set: only for the compiler). */
  readonly value?: T;
  hidden?: boolean;
  /** Must be given (checked with the rest, so every missing flag is named at once). */
  required?: boolean;
  /** Also accepts `--no-x`, which sets the same value to false. */
  negate?: { flags: string; description: string };
}

/** A flag whose value a zod schema checks and types. */
export function flag<S extends z.ZodType>(flags: string, description: string, schema: S): Flag<z.output<S>> {
  return { flags, description, schema };
}

/** The same flag, required: its value is never undefined. */
export function required<T>(f: Flag<T>): Flag<Exclude<T, undefined>> {
  return { ...f, required: true } as Flag<Exclude<T, undefined>>;
}

/** A flag with a value, as typed (checked by the command itself, or by a shared parser). */
export function text(flags: string, description: string): Flag<string | undefined> {
  return { flags, description };
}

/** A flag without a value. */
export function bool(
  flags: string,
  description: string,
  negate?: { flags: string; description: string },
): Flag<boolean | undefined> {
  return { flags, description, negate };
}

/** A positional argument: `<client-id>` (required) or `[file]`; checked with the flags. */
export interface Arg<T> {
  syntax: string;
  description?: string;
  schema?: z.ZodType;
  /** The type of the value once checked (never set: only for the compiler). */
  readonly value?: T;
}

export function arg<S extends z.ZodType>(syntax: string, schema: S, description?: string): Arg<z.output<S>> {
  return { syntax, schema, description };
}

export type FlagValues<F> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };
export type ArgValues<A> = { [K in keyof A]: A[K] extends Arg<infer T> ? T : never };

export interface CommandSpec<F extends Record<string, Flag<unknown>>, A extends Record<string, Arg<unknown>>> {
  /** Positional arguments, in order. */
  args?: A;
  flags: F;
  /** Shown after the options in `--help` (examples, notes). */
  help?: string;
  /** Returns the exit code when the command completed but must report failure (default 0). */
  run(input: { args: ArgValues<A>; options: FlagValues<F> }, ctx: CommandContext): Promise<number | void>;
}

export interface CommandModule {
  /** Declares the command's arguments, flags and help on `cmd`. */
  configure(cmd: Command): void;
  /** Checks the arguments and parsed flags, and runs. */
  execute(args: unknown[], raw: Record<string, unknown>, ctx: CommandContext): Promise<number>;
}

export function defineCommand<
  F extends Record<string, Flag<unknown>>,
  A extends Record<string, Arg<unknown>> = Record<never, Arg<unknown>>,
>(spec: CommandSpec<F, A>): CommandModule {
  const args = Object.entries(spec.args ?? {}) as [string, Arg<unknown>][];
  return {
    configure(cmd) {
      for (const [, a] of args) cmd.argument(a.syntax, a.description);
      for (const [key, f] of Object.entries(spec.flags)) {
        const option = new Option(f.flags, f.description);
        // The key is where commander puts the value: a mismatch is a bug in the command module.
        if (option.attributeName() !== key)
          throw new Error(`flag ${f.flags} must be declared as "${option.attributeName()}"`);
        if (f.hidden) option.hideHelp();
        cmd.addOption(option);
        if (f.negate) cmd.addOption(new Option(f.negate.flags, f.negate.description));
      }
      if (spec.help) cmd.addHelpText('after', spec.help);
    },
    async execute(values, raw, ctx) {
      const given = Object.fromEntries(args.map(([key], i) => [key, values[i]]));
      const checked = await check(spec.flags, raw, Object.fromEntries(args), given);
      return (await spec.run(checked as { args: ArgValues<A>; options: FlagValues<F> }, ctx)) ?? 0;
    },
  };
}

/** Every argument and flag with a schema checked at once (`--flag: message` per problem). */
async function check(
  flags: Record<string, Flag<unknown>>,
  raw: Record<string, unknown>,
  args: Record<string, Arg<unknown>>,
  given: Record<string, unknown>,
): Promise<{ args: Record<string, unknown>; options: Record<string, unknown> }> {
  const options: Record<string, unknown> = {};
  for (const key of Object.keys(flags)) options[key] = raw[key];
  const problems = Object.entries(flags)
    .filter(([key, f]) => f.required && options[key] === undefined)
    .map(([, f]) => `required option '${f.flags}' not specified`);
  // Arguments and flags share one object for zod (argument keys prefixed, they may repeat a flag's).
  const entries: [string, z.ZodType, string][] = [
    ...Object.entries(args).flatMap(([k, a]): [string, z.ZodType, string][] =>
      a.schema ? [[`arg:${k}`, a.schema, a.syntax]] : [],
    ),
    ...Object.entries(flags).flatMap(([k, f]): [string, z.ZodType, string][] =>
      f.schema && !(f.required && options[k] === undefined) ? [[k, f.schema, longName(f.flags)]] : [],
    ),
  ];
  const values: Record<string, unknown> = { ...options };
  for (const [k, v] of Object.entries(given)) values[`arg:${k}`] = v;
  if (entries.length) {
    // zod is loaded only by commands that check something (`--list` stays fast).
    const { z } = await import('zod');
    const result = z.object(Object.fromEntries(entries.map(([k, schema]) => [k, schema]))).safeParse(values);
    if (result.success) Object.assign(values, result.data);
    else {
      const names = Object.fromEntries(entries.map(([k, , name]) => [k, name]));
      problems.push(
        ...result.error.issues.map((i) => `${names[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`),
      );
    }
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  const parsedArgs = Object.fromEntries(Object.keys(args).map((k) => [k, values[`arg:${k}`]]));
  return { args: parsedArgs, options: Object.fromEntries(Object.keys(flags).map((k) => [k, values[k]])) };
}

/** `--client-id` of `--client-id <id>`, `-o` of `-o, --output <file>` gives `--output`. */
function longName(flags: string): string {
  return /--[\w-]+/.exec(flags)?.[0] ?? flags;
}
