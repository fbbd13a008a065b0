// Runs the built CLI as a user would: a child process of `node bin/wa-report.js`, with its own
// environment, capturing stdout, stderr and the exit code.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestFaults } from '../../src/cli/context.js';

export const BIN = fileURLToPath(new URL('../../bin/wa-report.js', import.meta.url));
const WITH_FAULTS = fileURLToPath(new URL('./cli-with-faults.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
  /** Interruptions injected through main's test seam (see cli-with-faults.mjs). */
  faults?: TestFaults;
}

/** A clean environment: no DATABASE_URL or colour settings leaking in from the developer's shell. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', TZ: 'UTC' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const entry = options.faults ? WITH_FAULTS : BIN;
    const env = options.faults
      ? { ...options.env, WA_REPORT_TEST_FAULTS: JSON.stringify(options.faults) }
      : options.env;
    const child = spawn(process.execPath, [entry, ...args], {
      env: baseEnv(env),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.end(options.input ?? '');
  });
}
