// What every command gets: where to write, the environment, and how to open the store.
import type { Readable, Writable } from 'node:stream';
import { Chalk, type ChalkInstance } from 'chalk';
import type { Store } from '../db/store.js';
import type { DbTarget } from '../db/target.js';

export interface GlobalOptions {
  db?: string;
  debug?: boolean;
  color?: boolean;
}

export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** What commands that read input read (default: the process's stdin). */
  stdin?: Readable;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: Boolean(process.stdin.isTTY), env: process.env };
}

/**
 * One colour policy for the whole CLI: off when the stream is not a terminal, NO_COLOR is set and
 * non-empty, TERM=dumb or --no-color; FORCE_COLOR (non-zero) forces it on.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

export function makeChalk(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? 1 : 0 });
}

/** Failures the test suite injects to interrupt long runs half-way (never set by the shipped CLI). */
export interface TestFaults {
  /** `archive` stops after this many delete batches. */
  archiveFailAfterBatches?: number;
  /** `db encrypt` / `keys rotate` stop after this many batches. */
  encryptFailAfterBatches?: number;
}

export interface CommandContext {
  io: CliIo;
  global: GlobalOptions;
  /** Colours for stdout / stderr, each following the policy for its own stream. */
  out: ChalkInstance;
  err: ChalkInstance;
  target(): DbTarget;
  /** Opens (creating and migrating on first use) the database; closed by main after the command. */
  store(): Promise<Store>;
  /** The running command's help text. */
  help(): string;
  faults: TestFaults;
}
