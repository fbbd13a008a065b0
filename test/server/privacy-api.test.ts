// Data-rights endpoints and API tokens on the running daemon, and its retention policy.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startDaemon, type Daemon } from '../../src/server/main.js';
import { loadIngestConfig } from '../../src/server/config.js';
import { openStore, type Store } from '../../src/db/store.js';
import { createToken, revokeToken } from '../../src/privacy/tokens.js';
import { verifyArchive } from '../../src/privacy/archive-file.js';
import { generateKey, KeyRing, parseKey } from '../../src/domain/key-ring.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { APP_SECRET, PHONE_NUMBER_ID, postWebhook, textMessage } from '../helpers/webhooks.js';
import { recordMessages, sql } from '../helpers/store.js';

const ENV_TOKEN = 'env-admin-token-0123456789';
const silent = pino({ level: 'silent' });

describe.each(databaseKinds)('data rights over HTTP on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let daemon: Daemon;
  let limited: Daemon;
  let readToken: string;
  let adminToken: string;
  let revoked: string;
  const call = (path: string, token: string | null, init: RequestInit = {}, on = () => daemon) =>
    fetch(`${on().url}${path}`, { ...init, headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    await store.clients.create({ name: 'Released', phoneNumber: '+15556383785', phoneNumberId: PHONE_NUMBER_ID });
    readToken = (await createToken(store, { name: 'grafana', scope: 'read' })).token;
    adminToken = (await createToken(store, { name: 'dpo@example.com', scope: 'admin' })).token;
    revoked = (await createToken(store, { name: 'old', scope: 'admin' })).token;
    await revokeToken(store, 'old');
    const config = loadIngestConfig(
      { WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_API_TOKEN: ENV_TOKEN, WA_REPORT_API_TOKEN_SCOPE: 'admin' },
      { port: '0', host: '127.0.0.1' },
    );
    daemon = await startDaemon(config, { target: db.target, logger: silent });
    limited = await startDaemon(
      loadIngestConfig({ WHATSAPP_APP_SECRET: APP_SECRET }, { port: '0', host: '127.0.0.1' }),
      { target: db.target, logger: silent },
    );
  });
  afterAll(async () => {
    await daemon?.close();
    await limited?.close();
    await store?.close();
    await db?.drop();
  });

  it(
    'accepts stored tokens by scope; the env token reads (admin only when configured); ' +
      'revoked and unknown ones get 401',
    async () => {
      expect((await call('/clients', readToken)).status).toBe(200);
      expect((await call('/clients', adminToken)).status).toBe(200);
      expect((await call('/clients', ENV_TOKEN)).status).toBe(200);
      expect((await call('/contacts/+34600000001/export', ENV_TOKEN)).status).toBe(200);
      // Without WA_REPORT_API_TOKEN_SCOPE=admin the environment token only reads.
      const readOnly = await startDaemon(
        loadIngestConfig(
          { WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_API_TOKEN: ENV_TOKEN },
          { port: '0', host: '127.0.0.1' },
        ),
        { target: db.target, logger: silent },
      );
      try {
        expect((await call('/clients', ENV_TOKEN, {}, () => readOnly)).status).toBe(200);
        expect((await call('/contacts/+34600000001/export', ENV_TOKEN, {}, () => readOnly)).status).toBe(403);
      } finally {
        await readOnly.close();
      }
      expect(() => loadIngestConfig({ WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_API_TOKEN_SCOPE: 'root' })).toThrow(
        /WA_REPORT_API_TOKEN_SCOPE: "root" must be read or admin/,
      );
      const forbidden = await call('/contacts/+34600000001/export', readToken);
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { error: { message: string } }).error.message).toMatch(
        /scope read.*admin token/,
      );
      expect((await call('/contacts/+34600000001', readToken, { method: 'DELETE' })).status).toBe(403);
      expect((await call('/clients', revoked)).status).toBe(401);
      expect((await call('/clients', 'war_notatoken')).status).toBe(401);
      // Tokens exist in the database, so even the daemon without WA_REPORT_API_TOKEN is open to them.
      expect((await call('/clients', readToken, {}, () => limited)).status).toBe(200);
      expect((await call('/clients', null, {}, () => limited)).status).toBe(401);
      expect((await call('/contacts/not-a-number/export', adminToken)).status).toBe(400);
    },
  );

  it('exports and erases a contact; a redelivered webhook is not stored again', async () => {
    const user = '34600222333';
    const webhook = textMessage({ from: user, text: 'Mi DNI es 12345678Z', name: 'Eva' });
    expect((await postWebhook(daemon.url, webhook)).status).toBe(200);
    const exported = await call(`/contacts/+${user}/export`, adminToken);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toContain(`contact-${user}.json`);
    const doc = (await exported.json()) as { wa_id: string; conversations: { messages: { content: string }[] }[] };
    expect(doc.wa_id).toBe(`+${user}`);
    expect(doc.conversations[0]?.messages[0]?.content).toBe('Mi DNI es 12345678Z');

    const erase = await call(`/contacts/+${user}`, adminToken, { method: 'DELETE' });
    expect(erase.status).toBe(200);
    expect(await erase.json()).toMatchObject({ wa_id: `+${user}`, erased: true, threads: 1, messages: 1 });
    const [audit] = await sql(store).all<{ actor: string }>('SELECT actor FROM erasures ORDER BY id DESC');
    expect(audit?.actor).toBe('api:dpo@example.com');
    expect(await (await call(`/contacts/+${user}`, adminToken, { method: 'DELETE' })).json()).toMatchObject({
      erased: false,
      messages: 0,
      audit_id: null,
    });

    // Meta redelivers the same notification: acknowledged, and not stored.
    expect((await postWebhook(daemon.url, webhook)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(await sql(store).all('SELECT id FROM messages WHERE wa_id = ?', [user])).toEqual([]);
    expect(await sql(store).all('SELECT id FROM threads WHERE wa_id = ?', [user])).toEqual([]);
    expect((await call(`/contacts/+${user}?client_id=999`, adminToken, { method: 'DELETE' })).status).toBe(404);
  });

  it('rate-limits failed authentications per address: 429 with Retry-After', async () => {
    const strict = await startDaemon(
      loadIngestConfig({ WHATSAPP_APP_SECRET: APP_SECRET }, { port: '0', host: '127.0.0.1' }),
      { target: db.target, logger: silent },
    );
    try {
      // The limit applies to failures only: many valid requests at once are fine.
      const burst = await Promise.all(Array.from({ length: 30 }, () => call('/clients', readToken, {}, () => strict)));
      expect(burst.every((r) => r.status === 200)).toBe(true);
      // Guesses sent all at once are counted as they are checked: only the first 10 get an answer.
      const guesses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => call('/clients', `war_guess${i}`, {}, () => strict)),
      );
      expect(guesses.filter((r) => r.status === 401)).toHaveLength(10);
      expect(guesses.filter((r) => r.status === 429)).toHaveLength(30);
      const blocked = await call('/clients', 'war_guess-again', {}, () => strict);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(200);
      // While blocked, even a valid token from that address waits.
      expect((await call('/clients', readToken, {}, () => strict)).status).toBe(429);
    } finally {
      await strict.close();
    }
    // Behind a reverse proxy (WA_REPORT_TRUST_PROXY), each client address counts on its own.
    const proxied = await startDaemon(
      loadIngestConfig(
        { WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_TRUST_PROXY: 'loopback' },
        { port: '0', host: '127.0.0.1' },
      ),
      { target: db.target, logger: silent },
    );
    try {
      const from = (ip: string, token: string) =>
        fetch(`${proxied.url}/clients`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip } });
      for (let i = 0; i < 10; i++) expect((await from('203.0.113.7', `war_guess${i}`)).status).toBe(401);
      expect((await from('203.0.113.7', readToken)).status).toBe(429);
      expect((await from('198.51.100.9', readToken)).status).toBe(200);
    } finally {
      await proxied.close();
    }
  });
});

describe.each(databaseKinds)('daemon on $name', (kind) => {
  it('applies its retention policy by itself and logs it', async () => {
    const db = await kind.create();
    const dir = mkdtempSync(join(tmpdir(), 'wa-retention-'));
    const store = await openStore(db.target);
    const client = await store.clients.create({
      name: 'Released',
      phoneNumber: '+15556383785',
      phoneNumberId: PHONE_NUMBER_ID,
    });
    const base = { clientId: client.id, phoneNumberId: PHONE_NUMBER_ID, role: 'user' as const, type: 'text' };
    await recordMessages(store, [
      {
        ...base,
        waId: '34600000001',
        content: 'hace dos años',
        wamid: 'wamid.ret.old',
        createdAt: new Date(Date.now() - 2 * 365 * 86_400_000),
      },
      {
        ...base,
        waId: '34600000002',
        content: 'ayer',
        wamid: 'wamid.ret.new',
        createdAt: new Date(Date.now() - 86_400_000),
      },
    ]);
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }),
    );
    const config = loadIngestConfig(
      { WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_ARCHIVE_AFTER: '365d', WA_REPORT_ARCHIVE_DIR: dir },
      { port: '0', host: '127.0.0.1' },
    );
    const daemon = await startDaemon(config, { target: db.target, logger, archiveFirstDelayMs: 50 });
    try {
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => l.includes('retention: archived')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const files = readdirSync(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^wa-report-archive-\d{8}T\d{6}Z-before-\d{8}T\d{6}Z\.jsonl\.gz$/);
      expect(await verifyArchive(join(dir, files[0] as string))).toMatchObject({ threads: 1, messages: 1 });
      expect((await sql(store).all<{ wamid: string }>('SELECT wamid FROM messages')).map((r) => r.wamid)).toEqual([
        'wamid.ret.new',
      ]);
      const logged = JSON.parse(lines.find((l) => l.includes('retention: archived')) as string);
      expect(logged).toMatchObject({ conversations: 1, messages: 1, deleted: 1 });
      expect(lines.join('')).not.toContain('hace dos años');
    } finally {
      await daemon.close();
      await store.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on an encrypted database without the key, and says why', async () => {
    const db = await kind.create();
    const key = parseKey(generateKey().key, 'k');
    const store = await openStore(db.target, { keys: new KeyRing(key) });
    const client = await store.clients.create({
      name: 'Released',
      phoneNumber: '+15556383785',
      phoneNumberId: PHONE_NUMBER_ID,
    });
    await recordMessages(store, [
      {
        clientId: client.id,
        phoneNumberId: PHONE_NUMBER_ID,
        waId: '34600000001',
        role: 'user',
        type: 'text',
        content: 'x',
        wamid: 'wamid.k1',
        createdAt: new Date(),
      },
    ]);
    await store.close();
    try {
      const config = loadIngestConfig({ WHATSAPP_APP_SECRET: APP_SECRET }, { port: '0', host: '127.0.0.1' });
      await expect(startDaemon(config, { target: db.target, logger: silent })).rejects.toThrow(
        new RegExp(`encrypted \\(key id ${key.id}\\) but WA_REPORT_ENCRYPTION_KEY is not set`),
      );
      const typo = new KeyRing(parseKey(generateKey().key, 'typo'));
      await expect(startDaemon(config, { target: db.target, logger: silent, keys: typo })).rejects.toThrow(
        new RegExp(`last encrypted with key id ${key.id}`),
      );
      // With the key: webhooks are stored sealed, and the report API decrypts transparently.
      const withKey = loadIngestConfig(
        { WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_API_TOKEN: ENV_TOKEN },
        { port: '0', host: '127.0.0.1' },
      );
      const ok = await startDaemon(withKey, { target: db.target, logger: silent, keys: new KeyRing(key) });
      try {
        expect(
          (await postWebhook(ok.url, textMessage({ from: '34600000002', text: 'Mi tarjeta termina en 4242' }))).status,
        ).toBe(200);
        const check = await openStore(db.target);
        const [row] = await sql(check).all<{ content: string }>('SELECT content FROM messages WHERE wa_id = ?', [
          '34600000002',
        ]);
        await check.close();
        expect(row?.content.startsWith(`enc:v1:${key.id}:`)).toBe(true);
        const res = await fetch(`${ok.url}/clients/${client.id}/conversations/+34600000002/messages?format=json`, {
          headers: { authorization: `Bearer ${ENV_TOKEN}` },
        });
        expect(res.status).toBe(200);
        expect(JSON.stringify(await res.json())).toContain('Mi tarjeta termina en 4242');
      } finally {
        await ok.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('checks the retention settings before starting', () => {
    expect(() => loadIngestConfig({ WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_ARCHIVE_AFTER: '365d' })).toThrow(
      /--archive-dir .*required/,
    );
    expect(() =>
      loadIngestConfig({
        WHATSAPP_APP_SECRET: APP_SECRET,
        WA_REPORT_ARCHIVE_AFTER: 'a year',
        WA_REPORT_ARCHIVE_DIR: tmpdir(),
      }),
    ).toThrow(/"a year" is not a period/);
    expect(() =>
      loadIngestConfig({
        WHATSAPP_APP_SECRET: APP_SECRET,
        WA_REPORT_ARCHIVE_AFTER: '365d',
        WA_REPORT_ARCHIVE_DIR: '/nonexistent/dir',
      }),
    ).toThrow(/not a writable directory/);
    expect(existsSync(tmpdir())).toBe(true);
  });
});
