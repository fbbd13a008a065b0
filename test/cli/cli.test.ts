// The first CLI, driven as a process: help and version, the default embedded database, clients
// management, and every bad input the foundation promises a clear answer to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { databaseKinds, postgresUrl } from '../helpers/databases.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wa-report-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('help and version', () => {
  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('documents commands, flags, environment variables, exit codes and examples', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of [
      'clients',
      'db',
      '--db',
      '--list',
      '--json',
      'DATABASE_URL',
      'XDG_DATA_HOME',
      'WHATSAPP_APP_SECRET',
      'Exit codes',
      '130 cancelled',
      'Examples',
    ]) {
      expect(r.stdout).toContain(word);
    }
    const sub = await runCli(['clients', 'add', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--phone-number-id');
  });

  it('without a command and without a terminal prints help on stderr and exits 2 (never waits for input)', async () => {
    const r = await runCli([], { env: { XDG_DATA_HOME: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: wa-report');
    expect(r.stdout).toBe('');
  });

  it('an unknown option is a usage error with exit 2', async () => {
    const r = await runCli(['clients', 'list', '--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--colour'/);
  });
});

describe('the embedded database on first use', () => {
  it(
    'creates ${XDG_DATA_HOME}/wa-report/wa-report.db in a 0700 directory, ' + 'migrated, and lists no clients',
    async () => {
      const home = tempDir();
      const r = await runCli(['--list'], { env: { XDG_DATA_HOME: home } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const dir = join(home, 'wa-report');
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const db = new Database(join(dir, 'wa-report.db'), { readonly: true });
      const applied = db.prepare('SELECT migration_name, finished_at FROM _prisma_migrations').all() as {
        finished_at: number | null;
      }[];
      expect(applied.length).toBeGreaterThan(0);
      expect(applied.every((m) => m.finished_at !== null)).toBe(true);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    },
  );

  it('falls back to ~/.local/share when XDG_DATA_HOME is not set', async () => {
    const home = tempDir();
    const r = await runCli(['--list'], { env: { HOME: home } });
    expect(r.code).toBe(0);
    expect(existsSync(join(home, '.local/share/wa-report/wa-report.db'))).toBe(true);
  });
});

describe.each(databaseKinds)('clients on $name', (kind) => {
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await kind.create();
    url = db.url;
    drop = db.drop;
  });
  afterAll(async () => drop());
  const cli = (...args: string[]) => runCli(['--db', url, ...args]);

  it('adds, lists (TSV when piped, JSON), updates, disables and enables clients', async () => {
    const add = await cli(
      'clients',
      'add',
      '--name',
      'Released',
      '--phone-number',
      '+1 555-638-3785',
      '--phone-number-id',
      '106540352242922',
      '--waba-id',
      '102290129340398',
    );
    expect(add.code).toBe(0);
    // The confirmation is for the person, on stderr; stdout stays clean for pipes.
    expect(add.stderr).toMatch(/Added client 1 \(Released, \+15556383785\)/);
    expect(add.stdout).toBe('');
    const second = await runCli(
      [
        'clients',
        'add',
        '--name',
        'Tienda Ñandú',
        '--phone-number',
        '+34600111222',
        '--phone-number-id',
        '200000000000001',
        '--assistant',
        '--json',
      ],
      { env: { DATABASE_URL: url } },
    );
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      id: 2,
      name: 'Tienda Ñandú',
      assistant_enabled: true,
      active: true,
    });

    const tsv = await cli('--list');
    expect(tsv.code).toBe(0);
    const lines = tsv.stdout.trimEnd().split('\n');
    expect(lines[0]!.split('\t').slice(0, 4)).toEqual(['id', 'name', 'phone_number', 'phone_number_id']);
    expect(lines.slice(1).map((l) => l.split('\t')[1])).toEqual(['Released', 'Tienda Ñandú']);

    const upd = await cli('clients', 'update', '1', '--name', 'Released Inc', '--assistant', '--json');
    expect(upd.code).toBe(0);
    expect(JSON.parse(upd.stdout)).toMatchObject({ id: 1, name: 'Released Inc', assistant_enabled: true });

    expect((await cli('clients', 'disable', '2')).code).toBe(0);
    const active = JSON.parse((await cli('--list', '--json')).stdout) as { clients: { id: number }[] };
    expect(active.clients.map((c) => c.id)).toEqual([1]);
    const all = JSON.parse((await cli('clients', 'list', '--all', '--json')).stdout) as {
      clients: { id: number; active: boolean }[];
    };
    expect(all.clients.map((c) => [c.id, c.active])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect((await cli('clients', 'enable', '2')).code).toBe(0);
    expect(JSON.parse((await cli('--list', '--json')).stdout).clients).toHaveLength(2);
  });

  it('reads the system prompt from a file', async () => {
    const file = join(tempDir(), 'prompt.txt');
    writeFileSync(file, 'Eres el asistente de Released.\nResponde en español.\n');
    const r = await cli('clients', 'update', '1', '--system-prompt-file', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).system_prompt).toBe('Eres el asistente de Released.\nResponde en español.');
  });

  it('refuses a duplicate phone_number_id with exit 2 naming the field, and stores nothing', async () => {
    const r = await cli(
      'clients',
      'add',
      '--name',
      'Copy',
      '--phone-number',
      '+15550000000',
      '--phone-number-id',
      '106540352242922',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/phone.number.id/);
    expect(r.stderr).toContain('106540352242922');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const all = JSON.parse((await cli('clients', 'list', '--all', '--json')).stdout) as { clients: unknown[] };
    expect(all.clients).toHaveLength(2);
  });

  it.each([
    ['+1 555', '--phone-number'],
    ['call me', '--phone-number'],
    ['+1234567890123456789', '--phone-number'],
  ])('refuses the malformed phone number %j with exit 2 naming %s', async (phone, flag) => {
    const r = await cli(
      'clients',
      'add',
      '--name',
      'Bad',
      '--phone-number',
      phone,
      '--phone-number-id',
      '300000000000001',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain('international form');
  });

  it('refuses a non-numeric phone number id and missing required flags with exit 2', async () => {
    const bad = await cli(
      'clients',
      'add',
      '--name',
      'Bad',
      '--phone-number',
      '+15550000001',
      '--phone-number-id',
      'abc',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--phone-number-id');
    const missing = await cli('clients', 'add', '--name', 'Bad');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--phone-number/);
  });

  it('answers exit 3 for a client that does not exist and exit 2 for an id that is not a number', async () => {
    const nf = await cli('clients', 'disable', '999');
    expect(nf.code).toBe(3);
    expect(nf.stderr).toContain('No client with id 999');
    const bad = await cli('clients', 'update', 'abc', '--name', 'x');
    expect(bad.code).toBe(2);
  });

  it('db status lists the applied migrations and exits 0', async () => {
    const r = await cli('db', 'status', '--json');
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.pending).toEqual([]);
    expect(status.applied.length).toBeGreaterThan(0);
  });
});

describe('bad database configuration', () => {
  it.skipIf(!postgresUrl)(
    'exits 4 (authentication) when PostgreSQL rejects the user of the URL (on postgres)',
    async () => {
      const url = new URL(postgresUrl as string);
      url.username = 'no_such_wa_report_user';
      url.password = 'wrong';
      const r = await runCli(['--db', url.toString(), 'db', 'status']);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('rejected the credentials');
      expect(r.stderr).not.toContain('wrong');
    },
  );

  it(
    'rejects a DATABASE_URL that is neither a path nor a PostgreSQL URL ' + 'with exit 2 and the accepted forms',
    async () => {
      const r = await runCli(['--list'], { env: { DATABASE_URL: 'mysql://root@localhost/wa' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('mysql:');
      expect(r.stderr).toContain('Accepted forms');
      expect(r.stderr).toContain('postgresql://');
      expect(r.stderr).toContain('file:');
    },
  );

  it('names host and port when PostgreSQL refuses connections, exit 1, no stack trace', async () => {
    const r = await runCli(['--list'], { env: { DATABASE_URL: 'postgresql://root@127.0.0.1:1/test' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('127.0.0.1:1');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCli(['--debug', '--list'], { env: { DATABASE_URL: 'postgresql://root@127.0.0.1:1/test' } });
    expect(debug.code).toBe(1);
  });

  describe('a PostgreSQL server that accepts but never answers', () => {
    let server: Server;
    let port = 0;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );

    it('gives up within 10 s with exit 1 naming host and port', async () => {
      const r = await runCli(['--list'], {
        env: { DATABASE_URL: `postgresql://root@127.0.0.1:${port}/test` },
        timeoutMs: 15_000,
      });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }, 20_000);
  });

  it('refuses a file that is not a SQLite database with exit 1, leaving it untouched', async () => {
    const file = join(tempDir(), 'notes.db');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(file);
    const r = await runCli(['--db', file, '--list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a wa-report database, or it is damaged/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

describe('two processes migrating the same new database at once', () => {
  it.each(databaseKinds)('on $name: both succeed, each migration is applied once', async (kind) => {
    const db = await kind.create();
    try {
      const results = await Promise.all([
        runCli(['--db', db.url, 'db', 'migrate']),
        runCli(['--db', db.url, 'db', 'migrate']),
        runCli(['--db', db.url, '--list']),
      ]);
      for (const r of results)
        expect({ code: r.code, stderr: r.stderr.includes('rror') ? r.stderr : '' }).toEqual({ code: 0, stderr: '' });
      const status = JSON.parse((await runCli(['--db', db.url, 'db', 'status', '--json'])).stdout);
      expect(status.pending).toEqual([]);
      expect(status.applied.length).toBe(new Set(status.applied.map((m: { name: string }) => m.name)).size);
    } finally {
      await db.drop();
    }
  });
});

// Read-only and full disks need a filesystem we control: root mounts a small tmpfs. Elsewhere
// (not root), chmod makes the directory read-only; a full disk cannot be simulated, so that test
// says it was skipped rather than pretending.
const isRoot = process.getuid?.() === 0;
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
function umount(dir: string) {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}
const canMount =
  isRoot &&
  (() => {
    const probe = tempDir();
    const ok = mountTmpfs(probe, '1m');
    if (ok) umount(probe);
    return ok;
  })();

function integrityOk(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('the SQLite file on a read-only or full disk', () => {
  it('on a read-only filesystem: exit 1 with a clear message, the file intact', async () => {
    const dir = tempDir();
    const mounted = canMount && mountTmpfs(dir, '16m');
    try {
      const file = join(dir, 'wa.db');
      const ok = await runCli([
        '--db',
        file,
        'clients',
        'add',
        '--name',
        'A',
        '--phone-number',
        '+15550000001',
        '--phone-number-id',
        '1001',
      ]);
      expect(ok.code).toBe(0);
      if (mounted) execFileSync('mount', ['-o', 'remount,ro', dir]);
      else execFileSync('chmod', ['a-w', dir, file]);
      const r = await runCli([
        '--db',
        file,
        'clients',
        'add',
        '--name',
        'B',
        '--phone-number',
        '+15550000002',
        '--phone-number-id',
        '1002',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/read-only|not writable|permission/i);
      expect(r.stderr).toContain(file);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      if (mounted) execFileSync('mount', ['-o', 'remount,rw', dir]);
      else execFileSync('chmod', ['-R', 'u+w', dir]);
      expect(integrityOk(file)).toBe('ok');
      const list = await runCli(['--db', file, 'clients', 'list', '--json']);
      expect(JSON.parse(list.stdout).clients.map((c: { name: string }) => c.name)).toEqual(['A']);
    } finally {
      if (mounted) umount(dir);
      else execFileSync('chmod', ['-R', 'u+w', dir]);
    }
  });

  it.skipIf(!canMount)('on a full filesystem: exit 1 with a clear message, the file intact', async () => {
    const dir = tempDir();
    // Room for the migrations (their write-ahead log passes 1 MB); the rest is filled below.
    expect(mountTmpfs(dir, '4m')).toBe(true);
    try {
      const file = join(dir, 'wa.db');
      const ok = await runCli([
        '--db',
        file,
        'clients',
        'add',
        '--name',
        'A',
        '--phone-number',
        '+15550000001',
        '--phone-number-id',
        '1001',
      ]);
      expect(ok.code).toBe(0);
      // Fill the rest of the filesystem.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        /* dd stops with ENOSPC: that is the point */
      }
      const prompt = join(tempDir(), 'big-prompt.txt');
      writeFileSync(prompt, 'x'.repeat(60_000));
      const r = await runCli(['--db', file, 'clients', 'update', '1', '--system-prompt-file', prompt]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/full|no space/i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      rmSync(join(dir, 'filler'));
      expect(integrityOk(file)).toBe('ok');
      const list = await runCli(['--db', file, 'clients', 'list', '--json']);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout).clients).toMatchObject([{ name: 'A', system_prompt: null }]);
    } finally {
      umount(dir);
    }
  });
});
