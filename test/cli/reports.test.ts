// The report commands as a user runs them: seed flags, conversations, export, stats, failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { openStore } from '../../src/db/store.js';
import { runCli, BIN, baseEnv } from '../helpers/cli.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { seedReports } from '../helpers/seed.js';
import { recordMessages } from '../helpers/store.js';

describe.each(databaseKinds)('report commands on $name', (kind) => {
  let db: TestDatabase;
  let dir: string;
  let clientId: number;
  const cli = (...args: string[]) =>
    runCli(['--db', db.url, ...args], { env: { TZ: 'Europe/Madrid', LANG: 'es_ES.UTF-8' } });

  beforeAll(async () => {
    db = await kind.create();
    dir = mkdtempSync(join(tmpdir(), 'wa-report-reports-'));
    const store = await openStore(db.target);
    ({ clientId } = await seedReports(store));
    await store.close();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('reproduces the original detailed text report with --client-id --wa-id --format detailed', async () => {
    const r = await cli('--client-id', String(clientId), '--wa-id', '+34123456789', '--format', 'detailed');
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'REPORTE DE CONVERSACIÓN',
      'Cliente: Released',
      'Usuario WhatsApp: +34123456789',
      'Fecha inicio: 2024-01-15 10:30:00',
      'Última actividad: 2024-01-16 00:01:00',
    ]);
    expect(r.stdout).toContain('Total mensajes: 4');
    expect(r.stdout).toContain('='.repeat(50));
    expect(r.stdout).toContain('[2024-01-15 10:30:00] Usuario:\nHola, quisiera información sobre el alquiler');
    expect(r.stdout).toContain('[2024-01-15 10:30:05] Asistente:\n¡Hola! Soy Released');
    expect(r.stdout).toContain('131047');
  });

  it('prints a summary with --format summary, and as JSON', async () => {
    const r = await cli('--client-id', String(clientId), '--format', 'summary');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Released');
    expect(r.stdout).toContain('+34123456789');
    const j = await cli('--client-id', String(clientId), '--format', 'summary', '--json');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toBeTypeOf('object');
  });

  it('lists conversations as TSV and JSON, with date filters at Madrid day boundaries', async () => {
    const tsv = await cli('conversations', '--client-id', String(clientId));
    expect(tsv.code).toBe(0);
    const rows = tsv.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows[0]).toEqual(['thread', 'wa_id', 'contact', 'created', 'last_message', 'messages']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['+5215512345678', '+447700900123', '+34123456789']);
    const j = JSON.parse(
      (
        await cli(
          'conversations',
          '--client-id',
          String(clientId),
          '--start-date',
          '2024-01-15',
          '--end-date',
          '2024-01-15',
          '--json',
        )
      ).stdout,
    );
    expect(j.total_conversations).toBe(1);
    expect(j.conversations[0]).toMatchObject({ wa_id: '+34123456789', message_count: 3 });
    const utc = JSON.parse(
      (
        await cli(
          'conversations',
          '--client-id',
          String(clientId),
          '--start-date',
          '2024-01-15',
          '--end-date',
          '2024-01-15',
          '--tz',
          'UTC',
          '--json',
        )
      ).stdout,
    );
    expect(utc.conversations[0]).toMatchObject({ message_count: 4 });
  });

  it('exports every format to a file with a confirmation on stderr, and to stdout', async () => {
    for (const format of ['json', 'text', 'html', 'csv']) {
      const file = join(dir, `all.${format}`);
      const r = await cli('export', '--client-id', String(clientId), '--format', format, '-o', file);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`Wrote .*all\\.${format}: 3 conversations, 7 messages`));
      expect(existsSync(file)).toBe(true);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
    const doc = JSON.parse(readFileSync(join(dir, 'all.json'), 'utf8'));
    expect(doc.conversations).toHaveLength(3);
    const csv = parse(readFileSync(join(dir, 'all.csv')), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(7);
    expect(csv.find((r) => r.wamid === 'wamid.b1')!.content).toContain(
      '<script>window.__pwned=1</script> & "quotes", commas\nnew line',
    );
    const html = readFileSync(join(dir, 'all.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toContain('<script>window.__pwned');
    const out = await cli('export', '--client-id', String(clientId), '--wa-id', '447700900123', '--format', 'html');
    expect(out.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('accepts wa_id with +, spaces or dashes', async () => {
    for (const form of ['+34 123 456 789', '34-123-456-789', '34123456789']) {
      const r = await cli('export', '--client-id', String(clientId), '--wa-id', form, '--format', 'json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).conversations[0].wa_id).toBe('+34123456789');
    }
  });

  it('computes statistics and lists failed messages', async () => {
    const s = JSON.parse((await cli('stats', '--client-id', String(clientId), '--json')).stdout);
    expect(s.clients[0]).toMatchObject({
      conversations: 3,
      messages: 7,
      failed: 1,
      messages_by_role: { user: 4, assistant: 2, agent: 1 },
    });
    expect(s.clients[0].response_time_seconds).toMatchObject({ median: 5, p90: 120, answers: 2 });
    expect(s.clients[0].messages_per_day.length).toBeGreaterThan(10);
    const text = await cli('stats');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Response time');
    expect(text.stdout).toMatch(/█/);
    const failed = JSON.parse((await cli('failed', '--client-id', String(clientId), '--json')).stdout);
    expect(failed.messages.map((m: { wamid: string }) => m.wamid)).toEqual(['wamid.r4']);
  });

  it('bad inputs: exit 2 naming the flag, 3 for what does not exist', async () => {
    const cases: [string[], number, RegExp][] = [
      [['export', '--client-id', String(clientId), '--format', 'docx'], 2, /--format/],
      [['export', '--client-id', String(clientId), '--start-date', '2024-02-30'], 2, /--start-date/],
      [
        ['export', '--client-id', String(clientId), '--start-date', '2024-02-01', '--end-date', '2024-01-01'],
        2,
        /--end-date/,
      ],
      [['export', '--client-id', String(clientId), '--tz', 'Moon/Base'], 2, /--tz/],
      [['export', '--client-id', String(clientId), '--lang', 'fr'], 2, /--lang/],
      [['export', '--client-id', 'x'], 2, /--client-id/],
      [['export', '--format', 'json'], 2, /--client-id is required/],
      [['export', '--client-id', '999'], 3, /No client with id 999/],
      [['export', '--client-id', String(clientId), '--wa-id', '+1 555 000 0000'], 3, /No conversation/],
      [['export', '--client-id', String(clientId), '--wa-id', 'bob'], 2, /--wa-id/],
      [['export', '--client-id', String(clientId), '-o', join(dir, 'missing-dir', 'x.html')], 2, /--output/],
      [['stats', '--since', 'yesterday'], 2, /--since/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('exports stream', () => {
  it('exports a 20,000-message conversation in every format with a 48 MB heap', async () => {
    const kind = databaseKinds[0]!;
    const db = await kind.create();
    try {
      const store = await openStore(db.target);
      const client = await store.clients.create({
        name: 'Big',
        phoneNumber: '+15550000009',
        phoneNumberId: '900000000000009',
      });
      const start = Date.UTC(2024, 0, 1);
      for (let b = 0; b < 20; b++) {
        await recordMessages(
          store,
          Array.from({ length: 1000 }, (_, i) => {
            const n = b * 1000 + i;
            return {
              clientId: client.id,
              phoneNumberId: '900000000000009',
              waId: '34600111222',
              role: n % 2 ? ('assistant' as const) : ('user' as const),
              type: 'text',
              content: `Mensaje número ${n} — ${'texto '.repeat(20)}`,
              wamid: `wamid.big.${n}`,
              createdAt: new Date(start + n * 30_000),
              status: n % 2 ? 'read' : null,
            };
          }),
        );
      }
      await store.close();
      for (const format of ['text', 'html', 'json', 'csv']) {
        const r = spawnSync(
          process.execPath,
          [
            '--max-old-space-size=48',
            BIN,
            '--db',
            db.url,
            'export',
            '--client-id',
            String(client.id),
            '--wa-id',
            '34600111222',
            '--format',
            format,
            '-o',
            join(tmpdir(), `big-${process.pid}.${format}`),
          ],
          { env: baseEnv(), encoding: 'utf8', timeout: 120_000 },
        );
        expect({ format, code: r.status, stderr: r.status ? r.stderr : '' }).toEqual({ format, code: 0, stderr: '' });
        expect(r.stderr).toContain('20,000 messages');
        rmSync(join(tmpdir(), `big-${process.pid}.${format}`), { force: true });
      }
    } finally {
      await db.drop();
    }
  }, 240_000);

  it('stops quietly with exit 0 when the reader of stdout goes away (| head)', async () => {
    const kind = databaseKinds[0]!;
    const db = await kind.create();
    try {
      const store = await openStore(db.target);
      const client = await store.clients.create({
        name: 'Pipe',
        phoneNumber: '+15550000008',
        phoneNumberId: '900000000000008',
      });
      await recordMessages(
        store,
        Array.from({ length: 3000 }, (_, n) => ({
          clientId: client.id,
          phoneNumberId: '900000000000008',
          waId: '34600111333',
          role: 'user' as const,
          type: 'text',
          content: `línea ${n} ${'x'.repeat(100)}`,
          wamid: `wamid.pipe.${n}`,
          createdAt: new Date(Date.UTC(2024, 0, 1) + n * 1000),
        })),
      );
      await store.close();
      const child = spawn(
        process.execPath,
        [BIN, '--db', db.url, 'export', '--client-id', String(client.id), '--format', 'text'],
        { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await db.drop();
    }
  });
});
