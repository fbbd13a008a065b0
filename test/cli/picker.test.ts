// The interactive picker, driven as a person would: the built CLI in a real terminal (tmux), keys
// sent one step at a time, the screen read back until what a person would wait for appears.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.js';

function commandVersion(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const tmuxVersion = commandVersion('tmux', ['-V']);
const hasLess = commandVersion('less', ['--version']) !== null;
// In CI a missing tmux must fail the run, not quietly skip the only test of the picker.
const tmuxRequired = Boolean(process.env.CI) || process.env.WA_REPORT_REQUIRE_TMUX === '1';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One tmux server on a private socket; each test runs the CLI in a session of its own. */
class Tmux {
  readonly socket = `wa-report-test-${process.pid}`;
  private sessions = 0;

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /**
   * Runs `node bin/wa-report.js <args>` in a fresh 120×40 terminal with exactly this environment.
   * The shell then prints EXIT=<code> and stays, so the screen can still be read.
   */
  start(args: string[], env: Record<string, string>, cwd: string): Terminal {
    const name = `picker-${++this.sessions}`;
    const assignments = Object.entries({ PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'screen', ...env }).map(
      ([k, v]) => `${k}=${quote(v)}`,
    );
    const command =
      `env -i ${assignments.join(' ')} ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}` +
      `; echo EXIT=$?; exec sleep 3600`;
    this.run('new-session', '-d', '-s', name, '-x', '120', '-y', '40', '-c', cwd, command);
    return new Terminal(this, name);
  }

  stop(): void {
    const socketPath = spawnSync('tmux', ['-L', this.socket, 'display-message', '-p', '#{socket_path}'], {
      encoding: 'utf8',
    }).stdout?.trim();
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    // tmux leaves the socket file behind.
    if (socketPath) rmSync(socketPath, { force: true });
  }
}

class Terminal {
  constructor(
    private readonly tmux: Tmux,
    readonly name: string,
  ) {}

  /** Named keys (Enter, Down, C-c) as tmux understands them. */
  press(...keys: string[]): void {
    this.tmux.run('send-keys', '-t', this.name, ...keys);
  }

  /** Literal text, as typed. */
  type(text: string): void {
    this.tmux.run('send-keys', '-t', this.name, '-l', text);
  }

  /** Everything printed so far, scrollback included, wrapped lines joined. */
  screen(): string {
    return this.tmux.run('capture-pane', '-p', '-J', '-S', '-', '-t', this.name);
  }

  /** Waits until `ready(screen)` holds; on timeout fails with the screen as it was. */
  async waitFor(what: string, ready: (screen: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (ready(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. The terminal shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  waitForText(text: string | RegExp, timeoutMs?: number): Promise<string> {
    return this.waitFor(String(text), (s) => (typeof text === 'string' ? s.includes(text) : text.test(s)), timeoutMs);
  }

  /** The highlighted choice of the prompt on screen (the last line starting with the pointer). */
  static active(screen: string): string | undefined {
    return screen
      .split('\n')
      .filter((l) => l.startsWith('❯ '))
      .at(-1)
      ?.slice(2)
      .trim();
  }

  /** Moves down the current list until `label` is highlighted, then waits for it to show. */
  async highlight(label: string | RegExp): Promise<void> {
    const is = (s: string) => {
      const a = Terminal.active(s);
      return a !== undefined && (typeof label === 'string' ? a.startsWith(label) : label.test(a));
    };
    for (let i = 0; i < 12; i++) {
      if (is(this.screen())) return;
      this.press('Down');
      await new Promise((r) => setTimeout(r, 80));
    }
    await this.waitFor(`"${label}" highlighted`, is, 2000);
  }

  async choose(label: string | RegExp): Promise<void> {
    await this.highlight(label);
    this.press('Enter');
  }

  async exitCode(): Promise<number> {
    const screen = await this.waitForText(/^EXIT=\d+$/m);
    return Number(/^EXIT=(\d+)$/m.exec(screen)?.[1]);
  }
}

const noStackTrace = (screen: string) => {
  expect(screen).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(screen).not.toMatch(/^\w*Error\b|ExitPromptError|unexpected failure/m);
};

describe.skipIf(!tmuxVersion && !tmuxRequired)(
  `the interactive picker in a terminal (${tmuxVersion ?? 'tmux is missing'})`,
  () => {
    const tmux = new Tmux();
    let dir: string;
    let db: string;
    let env: Record<string, string>;

    beforeAll(() => {
      if (!tmuxVersion)
        throw new Error(
          'tmux is not installed, and CI / WA_REPORT_REQUIRE_TMUX=1 requires the terminal tests: install tmux.',
        );
      dir = mkdtempSync(join(tmpdir(), 'wa-report-picker-'));
      db = join(dir, 'picker.db');
      env = { HOME: dir, NO_COLOR: '1', TZ: 'UTC', LANG: 'C.UTF-8', PAGER: 'cat' };
      const demo = spawnSync(process.execPath, [BIN, '--db', db, 'demo', '--conversations', '2'], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (demo.status !== 0) throw new Error(`wa-report demo failed (${demo.status}):\n${demo.stderr}`);
    });
    afterAll(() => {
      tmux.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('searches a client, picks a conversation and exports it as HTML, then quits with 0', async () => {
      const t = tmux.start(['--db', db], env, dir);
      await t.waitForText('Tienda Ñandú');
      t.type('north');
      // Enter only once the list is filtered: a person sees the list before pressing it.
      await t.waitFor(
        'the list filtered to Northwind',
        (s) => Terminal.active(s)?.startsWith('Northwind Dental') === true && !s.includes('Café Released'),
      );
      t.press('Enter');
      await t.waitForText('Conversation of Northwind Dental');
      await t.waitForText('❯ All conversations (2)');
      await t.choose(/^\+\d+ · /);
      const actions = await t.waitForText(/What to do with \+\d+/);
      const waId = /What to do with \+(\d+)/.exec(actions)?.[1];
      await t.choose('Export…');
      await t.waitForText('? Format');
      await t.choose('HTML');
      const prompt = await t.waitForText('File name');
      expect(prompt).toMatch(new RegExp(`conversation-${waId}-\\d{4}-\\d{2}-\\d{2}\\.html`));
      const file = join(dir, 'northwind export.html');
      t.type(file);
      t.press('Enter');
      await t.waitForText(`Wrote ${file}`);
      expect(existsSync(file)).toBe(true);
      const html = readFileSync(file, 'utf8');
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(html).toContain('Northwind Dental');
      await t.waitForText('? Next?');
      await t.choose('Quit');
      expect(await t.exitCode()).toBe(0);
      noStackTrace(t.screen());
    });

    it('reads a conversation in the terminal, goes back to the actions, and quits', async () => {
      const t = tmux.start(['--db', db], env, dir);
      await t.waitForText('Tienda Ñandú');
      await t.choose('Café Released');
      // The prompt's title can be drawn before its choices: wait for the listed conversations.
      const listed = (s: string) => [
        ...(s.split('Conversation of Café Released')[1] ?? '').matchAll(/^ {2}\+(\d+) · (.+?) · /gm),
      ];
      const list = await t.waitFor('the conversations of Café Released', (s) => listed(s).length >= 1);
      // The older of the two conversations, found by typing its number.
      const older = listed(list).at(-1);
      expect(older).toBeDefined();
      const [, waId, contact] = older as RegExpMatchArray;
      t.type(`+${waId}`);
      await t.waitFor(
        `only +${waId} listed`,
        (s) =>
          Terminal.active(s)?.startsWith(`+${waId} · `) === true &&
          (s.split('Conversation of')[1]?.match(/^[ ❯] \+\d+ · /gm)?.length ?? 0) === 1,
      );
      t.press('Enter');
      await t.waitForText(`What to do with +${waId} (${contact})?`);
      await t.choose('Read it here');
      const screen = await t.waitForText('? Next?');
      expect(screen).toMatch(/CONVERSATION REPORT|REPORTE DE CONVERSACIÓN/);
      expect(screen).toMatch(/^Client: Café Released$/m);
      expect(screen).toContain(`WhatsApp user: +${waId}`);
      expect(screen).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] (User|Assistant):$/m);
      await t.choose('Back');
      await t.waitFor('the actions again', (s) => s.split('What to do with').length === 3);
      await t.choose('Quit');
      expect(await t.exitCode()).toBe(0);
      noStackTrace(t.screen());
    });

    it('Ctrl-C at the client prompt exits 130 with one short line and no stack trace', async () => {
      const t = tmux.start(['--db', db], env, dir);
      await t.waitForText('Tienda Ñandú');
      t.press('C-c');
      expect(await t.exitCode()).toBe(130);
      const screen = t.screen();
      expect(screen).toMatch(/^Cancelled\.$/m);
      noStackTrace(screen);
    });

    it.skipIf(!hasLess)('Ctrl-C and Esc in the pager (less) do not end the session', async () => {
      const { PAGER: _cat, ...withoutPager } = env;
      const t = tmux.start(['--db', db], withoutPager, dir);
      await t.waitForText('Tienda Ñandú');
      await t.choose('Northwind Dental');
      await t.waitForText('Conversation of Northwind Dental');
      await t.choose(/^\+\d+ · /);
      await t.waitForText(/What to do with \+\d+/);
      await t.choose('Read it here');
      // Longer than 40 rows, so it opens in `less -R` (its prompt is a lone ':' on the last row).
      await t.waitFor('less', (s) => /^:\s*$/m.test(s.trimEnd().split('\n').at(-1) ?? ''));
      // Ctrl-C reaches the whole foreground process group, the CLI included; it must outlive it.
      t.press('Escape');
      await new Promise((r) => setTimeout(r, 200));
      t.press('C-c');
      await new Promise((r) => setTimeout(r, 200));
      t.press('q');
      await t.waitForText('? Next?');
      expect(t.screen()).not.toContain('EXIT=');
      await t.choose('Quit');
      expect(await t.exitCode()).toBe(0);
    });

    it('with no clients, says how to get some and exits 0', async () => {
      const t = tmux.start(['--db', join(dir, 'empty.db')], env, dir);
      const screen = await t.waitForText(/^EXIT=\d+$/m);
      expect(screen).toContain('No clients in');
      expect(screen).toContain('wa-report demo');
      expect(screen).toContain('wa-report clients add');
      expect(await t.exitCode()).toBe(0);
    });
    it('contact erase asks on a terminal: a wrong answer erases nothing (130), the number erases', async () => {
      const exported = () =>
        JSON.parse(
          execFileSync(process.execPath, [BIN, '--db', db, 'contact', 'export', '--wa-id', '+34601000000'], {
            env: { PATH: process.env.PATH, ...env },
            encoding: 'utf8',
          }),
        ) as { conversations: unknown[] };
      const before = exported().conversations.length;
      expect(before).toBeGreaterThan(0);
      const no = tmux.start(['--db', db, 'contact', 'erase', '--wa-id', '+34601000000'], env, dir);
      await no.waitForText('Type the number');
      expect(no.screen()).toMatch(/About to erase everything stored about \+34601000000 \(all clients\)/);
      no.type('+34 600 000 000');
      no.press('Enter');
      expect(await no.exitCode()).toBe(130);
      expect(no.screen()).toContain('Not confirmed: nothing was erased.');
      noStackTrace(no.screen());
      expect(exported().conversations.length).toBe(before);

      const yes = tmux.start(['--db', db, 'contact', 'erase', '--wa-id', '+34601000000'], env, dir);
      await yes.waitForText('Type the number');
      yes.type('+34 601 000 000');
      yes.press('Enter');
      expect(await yes.exitCode()).toBe(0);
      expect(yes.screen()).toMatch(/Erased \+34601000000: \d+ conversations?, \d+ messages/);
      expect(exported().conversations).toEqual([]);
    });
  },
);

if (!tmuxVersion && !tmuxRequired) {
  it.skip(
    'the interactive picker in a terminal: tmux is not installed ' +
      '(set CI or WA_REPORT_REQUIRE_TMUX=1 to fail instead)',
    () => {},
  );
}

it('without a terminal, exits 2 with the help on stderr at once (never waits for input)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'wa-report-picker-pipes-'));
  try {
    // stdin stays open: a CLI that waited for input would hang here until the timer kills it.
    const child = spawn(process.execPath, [BIN, '--db', join(home, 'wa-report.db')], {
      env: { PATH: process.env.PATH, HOME: home, TZ: 'UTC', LANG: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(killer);
    child.stdin.end();
    expect(signal).toBeNull();
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: wa-report');
    expect(stderr).toContain('No command given');
    expect(stdout).toBe('');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
