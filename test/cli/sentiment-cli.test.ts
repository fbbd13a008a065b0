// `wa-report sentiment score|backfill` and `clients update --language` as a user runs them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { analyse } from '../../src/domain/sentiment/index.js';
import { runCli } from '../helpers/cli.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { sql } from '../helpers/store.js';

describe('sentiment score', () => {
  it('prints one JSON object per input line, in order, with the language it detected or was given', async () => {
    const input = 'no me gusta nada\nthanks, great service!\n\n¿a qué hora abren?\r\nmal servicio 😡\n';
    const r = await runCli(['sentiment', 'score'], { input });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: string; score: number; lang: string });
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.label)).toEqual(['negative', 'positive', 'neutral', 'neutral', 'negative']);
    expect(lines[0]).toEqual({ ...analyse('no me gusta nada'), lang: 'es' });
    expect(lines[1]!.lang).toBe('en');
    expect(Object.keys(lines[0]!)).toEqual(['label', 'score', 'lang']);
    const forced = await runCli(['sentiment', 'score', '--lang', 'en'], { input: 'genial\n' });
    expect(JSON.parse(forced.stdout)).toMatchObject({ lang: 'en' });
    // Never opens a database, and never reads a .env file (nothing but JSON on stdout).
    expect(r.stderr).toBe('');
  });

  it('refuses an unknown language with a clear message', async () => {
    const r = await runCli(['sentiment', 'score', '--lang', 'fr'], { input: 'bonjour\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lang.*"fr" must be es, en or auto/);
  });

  it('scores 20,000 lines as a stream', async () => {
    const input = Array.from({ length: 20_000 }, (_, i) =>
      i % 2 ? `excelente servicio ${i}` : `it broke again ${i}`,
    ).join('\n');
    const r = await runCli(['sentiment', 'score'], { input, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(20_000);
    expect(JSON.parse(lines[1]!)).toMatchObject({ label: 'positive', lang: 'es' });
  });
});

describe.each(databaseKinds)('sentiment backfill on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let clientId: number;
  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    clientId = (
      await store.clients.create({ name: 'Tienda', phoneNumber: '+15556383785', phoneNumberId: '106540352242922' })
    ).id;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('sets a client’s CSAT survey: on, scale, question, template, comment; refuses bad values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-csat-'));
    const question = join(dir, 'q.txt');
    writeFileSync(question, '¿Qué tal te atendimos hoy?\n');
    const on = await runCli([
      '--db',
      db.url,
      'clients',
      'update',
      String(clientId),
      '--csat',
      '--csat-scale',
      '3',
      '--csat-question-file',
      question,
      '--csat-template',
      'csat_survey:es',
      '--csat-comment',
      '--json',
    ]);
    expect(on.code, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout).csat).toEqual({
      enabled: true,
      scale: 3,
      question: '¿Qué tal te atendimos hoy?',
      template: 'csat_survey:es',
      comment: true,
    });
    const bad = await runCli([
      '--db',
      db.url,
      'clients',
      'update',
      String(clientId),
      '--csat-scale',
      '4',
      '--csat-template',
      'no spaces allowed',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--csat-scale.*"4" must be 3 or 5/);
    expect(bad.stderr).toMatch(/--csat-template.*name:language/);
    const off = await runCli([
      '--db',
      db.url,
      'clients',
      'update',
      String(clientId),
      '--no-csat',
      '--csat-template',
      'none',
      '--json',
    ]);
    expect(JSON.parse(off.stdout).csat).toMatchObject({ enabled: false, template: null });
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores old messages and says how many; a second run finds nothing; --language is kept per client', async () => {
    const update = await runCli(['--db', db.url, 'clients', 'update', String(clientId), '--language', 'es', '--json']);
    expect(update.code, update.stderr).toBe(0);
    expect(JSON.parse(update.stdout)).toMatchObject({ language: 'es' });
    const bad = await runCli(['--db', db.url, 'clients', 'update', String(clientId), '--language', 'de']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"de" must be es, en or auto/);

    await store.ingest.write({
      messages: ['ok', 'genial, gracias', 'un desastre'].map((content, i) => ({
        clientId,
        waId: '34600000009',
        role: 'user' as const,
        type: 'text',
        content,
        wamid: `wamid.bf.${i}`,
        phoneNumberId: '106540352242922',
        createdAt: new Date(Date.UTC(2025, 0, 1, 10, i)),
      })),
    });
    await sql(store).run('UPDATE messages SET sentiment = NULL');
    const run = await runCli(['--db', db.url, 'sentiment', 'backfill', '--batch', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ scored: 3, looked_at: 3, remaining: 0, resumed_after_message_id: null });
    const again = await runCli(['--db', db.url, 'sentiment', 'backfill']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/0 messages scored \(0 looked at, resumed after message \d+\); 0 left/);
    const rows = await sql(store).all<{ sentiment: unknown }>('SELECT sentiment FROM messages ORDER BY id');
    expect(rows.map((r) => Number(r.sentiment))).toEqual(
      ['ok', 'genial, gracias', 'un desastre'].map((t) => analyse(t, 'es').score),
    );
    const badBatch = await runCli(['--db', db.url, 'sentiment', 'backfill', '--batch', '0']);
    expect(badBatch.code).toBe(2);
    expect(badBatch.stderr).toMatch(/--batch.*at least 1/);
  });
});
