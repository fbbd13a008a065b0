// The data-protection commands as a user runs them: exit codes, messages, files; an archive run
// killed with SIGKILL at a random point and rerun.
import { execFileSync, spawn } from 'node:child_process';
import ExcelJS from 'exceljs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/store.js';
import type { NewMessage } from '../../src/domain/types.js';
import type { TestFaults } from '../../src/cli/context.js';
import { BIN, baseEnv, runCli } from '../helpers/cli.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { recordMessages, sql } from '../helpers/store.js';

describe.each(databaseKinds)('privacy commands on $name', (kind) => {
  let db: TestDatabase;
  let dir: string;
  const cli = (args: string[], env: Record<string, string | undefined> = {}, faults?: TestFaults) =>
    runCli(['--db', db.url, ...args], { env, faults, timeoutMs: 60_000 });

  beforeAll(async () => {
    db = await kind.create();
    dir = mkdtempSync(join(tmpdir(), 'wa-privacy-cli-'));
    const store = await openStore(db.target);
    const a = await store.clients.create({ name: 'Released', phoneNumber: '+15556383785', phoneNumberId: 'PNID1' });
    const messages: NewMessage[] = [];
    // 120 conversations from 2023, 5 messages each; one recent conversation.
    for (let t = 0; t < 120; t++) {
      for (let m = 0; m < 5; m++) {
        messages.push({
          clientId: a.id,
          phoneNumberId: 'PNID1',
          waId: `346000${String(t).padStart(5, '0')}`,
          role: m % 2 ? 'assistant' : 'user',
          type: 'text',
          content: `Mensaje ${t}.${m} con ñ y 😊`,
          wamid: `wamid.cli.${t}.${m}`,
          createdAt: new Date(Date.UTC(2023, 2, 1, 0, t, m)),
        });
      }
    }
    messages.push({
      clientId: a.id,
      phoneNumberId: 'PNID1',
      waId: '34699999999',
      role: 'user',
      type: 'text',
      content: 'Reciente',
      wamid: 'wamid.cli.recent',
      createdAt: new Date(),
    });
    await recordMessages(store, messages);
    await store.close();
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const count = async () => {
    const store = await openStore(db.target);
    try {
      return (await sql(store).all<{ wamid: string }>('SELECT wamid FROM messages ORDER BY wamid')).map((r) => r.wamid);
    } finally {
      await store.close();
    }
  };

  it(
    'archive: killed with SIGKILL mid-way, rerun finishes; ' + 'restore twice changes nothing the second time',
    async () => {
      const original = await count();
      const out = join(dir, 'archive-2023.jsonl.gz');
      const args = [
        '--db',
        db.url,
        'archive',
        '--before',
        '2024-01-01',
        '--out',
        out,
        '--batch-size',
        '1',
        '--tz',
        'UTC',
      ];
      // Killed while deleting (after the archive is verified), at the 7th batch.
      const child = spawn(process.execPath, [BIN, ...args], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      await new Promise<void>((resolve) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          if (/Deleted 7 of/.test(stderr)) child.kill('SIGKILL');
        });
        child.on('close', () => resolve());
      });
      expect(child.signalCode).toBe('SIGKILL');
      expect(existsSync(out)).toBe(true);
      const mid = await count();
      expect(mid.length).toBeLessThan(original.length);
      expect(mid.length).toBeGreaterThan(1);

      const rerun = await cli(['archive', '--before', '2024-01-01', '--out', out, '--tz', 'UTC', '--json']);
      expect(rerun.code).toBe(0);
      expect(JSON.parse(rerun.stdout)).toMatchObject({
        resumed: true,
        threads: 120,
        messages: 600,
        kept_changed: 0,
        remaining: 0,
      });
      expect(await count()).toEqual(['wamid.cli.recent']);

      const restore = await cli(['archive', 'restore', out, '--json']);
      expect(restore.code).toBe(0);
      expect(JSON.parse(restore.stdout)).toMatchObject({ messages_inserted: 600, messages_present: 0 });
      expect(await count()).toEqual(original);
      const again = await cli(['archive', 'restore', out]);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('Restored 0 messages into 120 conversations (600 were already there)');
      expect(await count()).toEqual(original);
    },
    120_000,
  );

  it('archive: simulated failure after N batches exits 1 saying how to finish; bad flags exit 2', async () => {
    const out = join(dir, 'fail.jsonl.gz');
    const failed = await cli(
      ['archive', '--before', '2024-01-01', '--out', out, '--batch-size', '10'],
      {},
      {
        archiveFailAfterBatches: 2,
      },
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Rerun the same command to finish');
    expect((await count()).length).toBe(601 - 100);
    const done = await cli(['archive', '--before', '2024-01-01', '--out', out, '--batch-size', '10']);
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/Archived to .*fail\.jsonl\.gz: 120 conversations, 600 messages/);
    expect(await cli(['archive', 'restore', out])).toMatchObject({ code: 0 });

    const future = await cli(['archive', '--before', '2999-01-01', '--out', join(dir, 'x.jsonl.gz')]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('is in the future');
    const missing = await cli(['archive', '--before', '2024-01-01']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--out: required');
    const badDate = await cli(['archive', '--before', 'yesterday', '--out', join(dir, 'y.jsonl.gz')]);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--before');
    const nothing = await cli(['archive', '--before', '2020-01-01', '--out', join(dir, 'none.jsonl.gz')]);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain('nothing archived, no file written');
    expect(existsSync(join(dir, 'none.jsonl.gz'))).toBe(false);
    const notArchive = await cli(['archive', 'restore', BIN]);
    expect(notArchive.code).toBe(1);
    expect(notArchive.stderr).toContain('cannot be read as a gzipped archive');
  }, 120_000);

  it('contact export and erase: --force required without a terminal, audit, second erase a no-op', async () => {
    const file = join(dir, 'contact.json');
    const exported = await cli(['contact', 'export', '--wa-id', '+34 600 000 003', '-o', file]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('1 conversation, 5 messages');
    expect(JSON.parse(readFileSync(file, 'utf8')).conversations[0].messages[0].content).toBe('Mensaje 3.0 con ñ y 😊');

    const refused = await cli(['contact', 'erase', '--wa-id', '+34600000003']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Add --force');
    expect((await count()).filter((w) => w.startsWith('wamid.cli.3.'))).toHaveLength(5);
    const erased = await cli(['contact', 'erase', '--wa-id', '+34600000003', '--force', '--json'], { USER: 'dpo' });
    expect(erased.code).toBe(0);
    expect(JSON.parse(erased.stdout)).toMatchObject({ wa_id: '+34600000003', threads: 1, messages: 5 });
    expect((await count()).filter((w) => w.startsWith('wamid.cli.3.'))).toHaveLength(0);
    const again = await cli(['contact', 'erase', '--wa-id', '+34600000003', '--force']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing erased');
    const audit = JSON.parse((await cli(['contact', 'export', '--wa-id', '+34600000003'])).stdout);
    expect(audit.conversations).toEqual([]);
    expect(audit.erasures).toHaveLength(1);
    expect((await cli(['contact', 'erase', '--wa-id', 'abc', '--force'])).code).toBe(2);
    expect((await cli(['contact', 'erase', '--wa-id', '+34600000004', '--client-id', '99', '--force'])).code).toBe(3);
  }, 60_000);

  it(
    'keys generate, db encrypt (resumable), keys status, rotate; ' + 'wrong or missing keys exit 2 naming the key id',
    async () => {
      const gen = await cli(['keys', 'generate']);
      expect(gen.code).toBe(0);
      expect(gen.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      const keyA = gen.stdout.trim();
      const idA = /Key id ([0-9a-f]{16})/.exec(gen.stderr)?.[1] as string;
      const keyB = (await cli(['keys', 'generate'])).stdout.trim();

      const noKey = await cli(['db', 'encrypt']);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain('WA_REPORT_ENCRYPTION_KEY is not set');
      const badKey = await cli(['--list'], { WA_REPORT_ENCRYPTION_KEY: 'hunter2' });
      expect(badKey.code).toBe(2);
      expect(badKey.stderr).toContain('WA_REPORT_ENCRYPTION_KEY: not a key');

      const interrupted = await cli(
        ['db', 'encrypt', '--batch-size', '50'],
        { WA_REPORT_ENCRYPTION_KEY: keyA },
        { encryptFailAfterBatches: 3 },
      );
      expect(interrupted.code).toBe(2);
      expect(interrupted.stderr).toContain('Rerun the same command to finish');
      const encrypted = await cli(['db', 'encrypt'], { WA_REPORT_ENCRYPTION_KEY: keyA });
      expect(encrypted.code).toBe(0);
      const status = JSON.parse((await cli(['keys', 'status', '--json'], { WA_REPORT_ENCRYPTION_KEY: keyA })).stdout);
      expect(status).toMatchObject({ current_key_id: idA, database_key_id: idA, plaintext_values: 0 });

      // Reading without the key: exit 2, naming the key id; writing without it is refused the same way.
      const report = await cli(['export', '--client-id', '1', '--wa-id', '+34600000005', '--format', 'text']);
      expect(report.code).toBe(2);
      expect(report.stderr).toContain(`encrypted with key id ${idA}`);
      const withKey = await cli(['export', '--client-id', '1', '--wa-id', '+34600000005', '--format', 'text'], {
        WA_REPORT_ENCRYPTION_KEY: keyA,
      });
      expect(withKey.code).toBe(0);
      expect(withKey.stdout).toContain('Mensaje 5.0 con ñ y 😊');
      // PDF and workbooks decrypt the same way (and say the same without the key).
      for (const format of ['pdf', 'xlsx']) {
        const file = join(tmpdir(), `wa-report-encrypted-${process.pid}.${format}`);
        const args = ['export', '--client-id', '1', '--wa-id', '+34600000005', '--format', format, '-o', file];
        expect((await cli(args)).code).toBe(2);
        expect((await cli(args, { WA_REPORT_ENCRYPTION_KEY: keyA })).code).toBe(0);
        const shown =
          format === 'pdf'
            ? execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' })
            : await (async () => {
                const wb = new ExcelJS.Workbook();
                await wb.xlsx.readFile(file);
                return JSON.stringify(wb.getWorksheet(2)!.getSheetValues());
              })();
        expect(shown).toContain('Mensaje 5.0 con ñ y 😊');
        rmSync(file, { force: true });
      }

      const rotateWithout = await cli(['keys', 'rotate'], { WA_REPORT_ENCRYPTION_KEY: keyB });
      expect(rotateWithout.code).toBe(2);
      const rotated = await cli(['keys', 'rotate'], {
        WA_REPORT_ENCRYPTION_KEY: keyB,
        WA_REPORT_ENCRYPTION_KEYS_OLD: keyA,
      });
      expect(rotated.code).toBe(0);
      expect(rotated.stderr).toContain('Re-encrypted with key');
      const after = JSON.parse((await cli(['keys', 'status', '--json'], { WA_REPORT_ENCRYPTION_KEY: keyB })).stdout);
      expect(after.plaintext_values).toBe(0);
      expect(Object.keys(after.encrypted_values)).toEqual([after.current_key_id]);
      expect(
        (await cli(['export', '--client-id', '1', '--wa-id', '+34600000005'], { WA_REPORT_ENCRYPTION_KEY: keyB })).code,
      ).toBe(0);
      expect(
        (await cli(['export', '--client-id', '1', '--wa-id', '+34600000005'], { WA_REPORT_ENCRYPTION_KEY: keyA }))
          .stderr,
      ).toContain(`key id ${after.current_key_id}`);
    },
    120_000,
  );

  it('tokens: create prints the token once, list shows it without the secret, revoke', async () => {
    const created = await cli(['tokens', 'create', '--name', 'grafana', '--scope', 'read']);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^war_/);
    expect(created.stderr).toContain('shown only now');
    const list = await cli(['tokens', 'list', '--json']);
    expect(JSON.parse(list.stdout).tokens).toMatchObject([
      { name: 'grafana', scope: 'read', last_used_at: null, revoked_at: null },
    ]);
    expect(list.stdout).not.toContain(token);
    expect((await cli(['tokens', 'list'])).stdout).toMatch(/^\d+\tgrafana\tread\twar_\S{6}…\t/m);
    expect((await cli(['tokens', 'create', '--name', 'x', '--scope', 'root'])).code).toBe(2);
    expect((await cli(['tokens', 'create', '--name', 'grafana'])).code).toBe(2);
    expect((await cli(['tokens', 'revoke', 'grafana'])).code).toBe(0);
    expect((await cli(['tokens', 'revoke', 'nobody'])).code).toBe(3);
    expect(JSON.parse((await cli(['tokens', 'list', '--json'])).stdout).tokens).toEqual([]);
  }, 60_000);
});
