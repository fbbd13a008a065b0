// `wa-report ingest` as systemd runs it: configuration errors, a busy port, SIGTERM, the unit,
// logs without message bodies; plus `context clear`, `history` and `demo` through the CLI.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openStore } from '../../src/db/store.js';
import { resolveDbTarget } from '../../src/db/target.js';
import { BIN, baseEnv, runCli } from '../helpers/cli.js';
import { APP_SECRET, postWebhook, textMessage } from '../helpers/webhooks.js';
import { sql } from '../helpers/store.js';

const dirs: string[] = [];
const tempDb = () => {
  const d = mkdtempSync(join(tmpdir(), 'wa-report-ingest-cli-'));
  dirs.push(d);
  return join(d, 'wa.db');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function startDaemon(db: string, args: string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, '--db', db, 'ingest', '--host', '127.0.0.1', ...args], {
    env: baseEnv({ WHATSAPP_APP_SECRET: APP_SECRET, LOG_LEVEL: 'debug', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = (async () => {
    for (let i = 0; i < 400; i++) {
      const m = /"port":(\d+)[^\n]*"msg":"wa-report ingest listening"/.exec(stdout);
      if (m) return `http://127.0.0.1:${m[1]}`;
      if (child.exitCode !== null) return null;
      await new Promise((r) => setTimeout(r, 25));
    }
    return null;
  })();
  return { child, exited, listening, output: () => ({ stdout, stderr }) };
}

describe('wa-report ingest', () => {
  it('refuses to start without WHATSAPP_APP_SECRET or with a bad PORT, exit 2, listing every problem', async () => {
    const r = await runCli(['--db', tempDb(), 'ingest'], { env: { PORT: 'abc', LOG_LEVEL: 'loud' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WHATSAPP_APP_SECRET');
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('LOG_LEVEL');
  });

  it('a busy port is an error naming the port, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['--db', tempDb(), 'ingest', '--host', '127.0.0.1', '--port', String(port)], {
        env: { WHATSAPP_APP_SECRET: APP_SECRET, LOG_LEVEL: 'silent' },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Port ${port}`);
      expect(r.stderr).toContain('already in use');
    } finally {
      blocker.close();
    }
  });

  it('stores webhooks, logs JSON lines without message bodies or secrets, and exits 0 on SIGTERM', async () => {
    const db = tempDb();
    const d = startDaemon(db, ['--port', '0'], {
      OPENAI_API_KEY: 'sk-secret-key-123',
      WHATSAPP_ACCESS_TOKEN: 'EAAG-secret-token',
    });
    const url = await d.listening;
    expect(url, d.output().stderr).not.toBeNull();
    const posts = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        postWebhook(
          url!,
          textMessage({ from: '34612345678', text: `mi DNI es 12345678Z secreto ${i}`, id: `wamid.cli.${i}` }),
        ),
      ),
    );
    expect(posts.every((p) => p.status === 200)).toBe(true);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const { stdout } = d.output();
    const lines = stdout.trim().split('\n');
    expect(
      lines.every((l) => {
        try {
          JSON.parse(l);
          return true;
        } catch {
          return false;
        }
      }),
    ).toBe(true);
    expect(stdout).toContain('shutting down');
    expect(stdout).not.toContain('12345678Z');
    expect(stdout).not.toContain('sk-secret-key-123');
    expect(stdout).not.toContain('EAAG-secret-token');
    expect(stdout).not.toContain(APP_SECRET);
    const store = await openStore(resolveDbTarget(db));
    try {
      expect(Number((await sql(store).all<{ n: unknown }>('SELECT COUNT(*) AS n FROM messages'))[0]!.n)).toBe(30);
    } finally {
      await store.close();
    }
  });

  it(
    'groups a burst of webhooks into a few transactions (group commit), ' + 'acknowledging each after its commit',
    async () => {
      const db = tempDb();
      const d = startDaemon(db, ['--port', '0'], { LOG_LEVEL: 'info' });
      const url = await d.listening;
      expect(url, d.output().stderr).not.toBeNull();
      try {
        const posts = await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            postWebhook(
              url!,
              textMessage({ from: `3466${String(i).padStart(7, '0')}`, text: 'hola', id: `wamid.burst.${i}` }),
            ),
          ),
        );
        expect(posts.every((p) => p.status === 200)).toBe(true);
        const metrics = await (await fetch(`${url}/metrics`)).text();
        const commits = Number(/wa_report_commits_total (\d+)/.exec(metrics)?.[1]);
        expect(Number(/wa_report_messages_stored_total (\d+)/.exec(metrics)?.[1])).toBe(300);
        expect(commits).toBeGreaterThan(0);
        expect(commits).toBeLessThan(250);
        console.log(`group commit: 300 webhooks in ${commits} transactions`);
      } finally {
        d.child.kill('SIGTERM');
        await d.exited;
      }
    },
  );

  it('--insecure-skip-signature accepts unsigned webhooks and says so loudly', async () => {
    const db = tempDb();
    const d = startDaemon(db, ['--port', '0', '--insecure-skip-signature'], { WHATSAPP_APP_SECRET: '' });
    const url = await d.listening;
    expect(url).not.toBeNull();
    expect((await postWebhook(url!, textMessage({ from: '34612345678', text: 'hola' }), { secret: null })).status).toBe(
      200,
    );
    d.child.kill('SIGINT');
    expect(await d.exited).toBe(0);
    expect(d.output().stdout).toMatch(/"level":40[^\n]*INSECURE/);
  });

  it('prints a hardened systemd unit', async () => {
    const r = await runCli(['ingest', '--print-systemd-unit', '--user', 'wabot']);
    expect(r.code).toBe(0);
    for (const line of [
      'User=wabot',
      'EnvironmentFile=/etc/wa-report/wa-report.env',
      'Restart=on-failure',
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'StateDirectory=wa-report',
      'WantedBy=multi-user.target',
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toMatch(
      new RegExp(`ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\S+bin/wa-report\\.js ingest`),
    );
    let analyzer = true;
    try {
      execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    } catch {
      analyzer = false;
    }
    if (analyzer) {
      const dir = mkdtempSync(join(tmpdir(), 'unit-'));
      dirs.push(dir);
      const file = join(dir, 'wa-report.service');
      (await import('node:fs')).writeFileSync(file, r.stdout);
      // Unknown directives or syntax errors make verify complain about this file.
      let out: string;
      try {
        out = execFileSync('systemd-analyze', ['verify', file], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        out = String((error as { stderr?: string }).stderr ?? '');
      }
      expect(out).not.toMatch(/Unknown (key|section)|Invalid|Failed to parse/i);
    }
    // With retention, the archive directory is writable despite ProtectSystem=strict.
    const kept = await runCli([
      'ingest',
      '--print-systemd-unit',
      '--archive-after',
      '400d',
      '--archive-dir',
      '/var/lib/wa-report/archives',
    ]);
    expect(kept.stdout).toMatch(
      /^ExecStart=.* ingest --archive-after 400d --archive-dir \/var\/lib\/wa-report\/archives$/m,
    );
    expect(kept.stdout).toContain('ReadWritePaths=/var/lib/wa-report /var/lib/wa-report/archives');
    expect(r.stdout).toContain('ReadWritePaths=/var/lib/wa-report\n');
    const spaced = await runCli([
      'ingest',
      '--print-systemd-unit',
      '--archive-after',
      '365d',
      '--archive-dir',
      '/srv/my archives',
    ]);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain('--archive-dir: "/srv/my archives" has spaces');
    expect(
      (await runCli(['ingest', '--print-systemd-unit', '--archive-after', 'forever', '--archive-dir', '/srv/a'])).code,
    ).toBe(2);
  });
});

describe('context clear, history and demo through the CLI', () => {
  it(
    'demo fills the database through the pipeline; history shows a conversation; ' +
      'context clear moves the reset point',
    async () => {
      const db = tempDb();
      const demo = await runCli(['--db', db, 'demo', '--conversations', '2'], { timeoutMs: 120_000 });
      expect(demo.stderr).toContain('Done');
      expect(demo.code).toBe(0);
      expect(demo.stdout).toBe('');
      const store = await openStore(resolveDbTarget(db));
      let waId: string;
      try {
        const counts = await sql(store).all<{ role: string; status: string | null; n: unknown }>(
          `SELECT role, status, COUNT(*) AS n FROM messages GROUP BY role, status`,
        );
        const n = (role: string, status?: string | null) =>
          counts
            .filter((c) => c.role === role && (status === undefined || c.status === status))
            .reduce((a, c) => a + Number(c.n), 0);
        expect(n('user')).toBeGreaterThan(20);
        expect(n('assistant')).toBeGreaterThan(10);
        expect(n('agent')).toBeGreaterThan(0);
        expect(n('assistant', 'read') + n('assistant', 'delivered')).toBeGreaterThan(0);
        expect(await store.clients.list()).toHaveLength(3);
        waId = (
          await sql(store).all<{ wa_id: string }>(`SELECT wa_id FROM threads WHERE client_id = 1 ORDER BY id LIMIT 1`)
        )[0]!.wa_id;
      } finally {
        await store.close();
      }
      const history = await runCli([
        '--db',
        db,
        'history',
        '--wa-id',
        `+${waId}`,
        '--client-id',
        '1',
        '--limit',
        '5',
        '--json',
      ]);
      expect(history.code).toBe(0);
      const doc = JSON.parse(history.stdout);
      expect(doc.conversations[0].messages).toHaveLength(5);
      const text = await runCli(['--db', db, 'history', '--wa-id', waId, '--client-id', '1']);
      expect(text.stdout).toMatch(/\] (User|Assistant): /);

      const clear = await runCli(['--db', db, 'context', 'clear', '--wa-id', `+${waId.slice(0, 2)} ${waId.slice(2)}`]);
      expect(clear.code).toBe(0);
      expect(clear.stderr).toContain('Cleared');
      const after = JSON.parse((await runCli(['--db', db, 'history', '--wa-id', waId, '--json'])).stdout);
      expect(after.conversations[0].context_reset_at).not.toBeNull();

      const missing = await runCli(['--db', db, 'history', '--wa-id', '+999999999']);
      expect(missing.code).toBe(3);
      const bad = await runCli(['--db', db, 'context', 'clear', '--wa-id', 'hello']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--wa-id');
    },
    150_000,
  );
});
