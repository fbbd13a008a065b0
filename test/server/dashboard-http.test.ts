// The dashboard over plain HTTP: served by `wa-report ingest` at /dashboard and by `wa-report
// dashboard` alone; cookies (Secure behind a proxy that says HTTPS), the sign-in failures shared with
// the API's limit, idle sessions, strict headers, and bad requests answered with what to fix.
import { spawn } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { createToken } from '../../src/privacy/tokens.js';
import { SessionStore } from '../../src/server/dashboard/sessions.js';
import { startDaemon, type Daemon } from '../../src/server/main.js';
import { baseEnv, BIN, runCli } from '../helpers/cli.js';
import { daemonConfig } from '../helpers/daemon-config.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';

const silent = pino({ level: 'silent' });

/** The sign-in form's hidden CSRF token and its cookie. */
async function loginForm(origin: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${origin}/dashboard/login`, { headers });
  const html = await res.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const cookie = (res.headers.getSetCookie().find((c) => c.startsWith('wa_report_login=')) ?? '').split(';')[0] ?? '';
  return { csrf, cookie, html, status: res.status };
}

async function signIn(origin: string, token: string, headers: Record<string, string> = {}) {
  const form = await loginForm(origin, headers);
  return fetch(`${origin}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...headers, cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: form.csrf, token }),
  });
}

const sessionCookie = (res: Response) =>
  (res.headers.getSetCookie().find((c) => c.startsWith('wa_report_session=')) ?? '').split(';')[0] ?? '';

/** A live-refresh stream's events as they come: each `stored` event's watermark, and all the text seen. */
function liveEvents(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let seen = '';
  return {
    seen: () => seen,
    /** The next `stored` watermark, or null when the stream ended. */
    async next(): Promise<string | null> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (/^event: stored$/m.test(event) && data !== undefined) return JSON.parse(data) as string;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) return null;
        const text = decoder.decode(value, { stream: true });
        seen += text;
        buffer += text;
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe.each(databaseKinds)('the dashboard in wa-report ingest on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let daemon: Daemon;
  let token: string;

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    await store.clients.create({ name: 'Café <Released>', phoneNumber: '+15550783881', phoneNumberId: '1065403' });
    token = (await createToken(store, { name: 'reader', scope: 'read' })).token;
    daemon = await startDaemon(daemonConfig(null, null, { WA_REPORT_TRUST_PROXY: 'loopback' }), {
      target: db.target,
      logger: silent,
    });
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.close();
    await db?.drop();
  });

  it('redirects to the sign-in form, then shows the overview naming each client (escaped)', async () => {
    const first = await fetch(`${daemon.url}/dashboard`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/dashboard/login?next=%2Fdashboard');
    const form = await loginForm(daemon.url);
    expect(form.html).toMatch(/<input id="token" name="token" type="password"/);
    const signedIn = await signIn(daemon.url, token);
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.getSetCookie().find((c) => c.startsWith('wa_report_session=')) ?? '';
    expect(cookie).toMatch(/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    const overview = await fetch(`${daemon.url}/dashboard/`, { headers: { cookie: sessionCookie(signedIn) } });
    expect(overview.status).toBe(200);
    const html = await overview.text();
    expect(html).toContain('Café &lt;Released&gt;');
    expect(html).not.toContain('<Released>');
    const csp = overview.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(overview.headers.get('cache-control')).toBe('no-store');
    expect(overview.headers.get('x-frame-options')).toBe('DENY');
  });

  it('streams live refresh to signed-in pages only: the watermark, and another once a message is stored', async () => {
    const anonymous = await fetch(`${daemon.url}/dashboard/live`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    const cookie = sessionCookie(await signIn(daemon.url, token));
    const res = await fetch(`${daemon.url}/dashboard/live`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    const events = liveEvents(res);
    const first = await events.next();
    expect(first).toBe(await store.messages.watermark());
    // Stored by another process than the one streaming (as a second daemon would).
    const [client] = await store.clients.list();
    const storeOne = (content: string, wamid: string) =>
      store.ingest.write({
        messages: [
          {
            clientId: client?.id as number,
            waId: '34600999001',
            role: 'user',
            type: 'text',
            content,
            wamid,
            phoneNumberId: '1065403',
            createdAt: new Date(),
          },
        ],
      });
    await storeOne('a private message about the live feed', `wamid.live.${kind.name}`);
    const second = await events.next();
    expect(second).not.toBe(first);
    expect(second).toBe(await store.messages.watermark());
    // Ids only: nothing of the message itself.
    expect(events.seen()).not.toMatch(/private|34600999001/);
    // Signed out: the next change ends the stream instead of being told.
    const overview = await (await fetch(`${daemon.url}/dashboard/`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(overview)?.[1] ?? '';
    const out = await fetch(`${daemon.url}/dashboard/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(out.status).toBe(303);
    await storeOne('another one', `wamid.live.${kind.name}.2`);
    expect(await events.next()).toBeNull();
  });

  it('marks the cookie Secure behind a trusted proxy that says HTTPS', async () => {
    const res = await signIn(daemon.url, token, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('wa_report_session='))).toMatch(/; Secure/);
  });

  it('answers bad requests with what to fix, and unknown pages with 404', async () => {
    const cookie = sessionCookie(await signIn(daemon.url, token));
    const get = (path: string) => fetch(`${daemon.url}${path}`, { headers: { cookie } });
    const bad = await get('/dashboard/?period=forever&tz=Mars/Olympus&grain=century');
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('period: &#34;forever&#34; must be one of 24h, 7d, 30d, 90d, 12m, custom.');
    expect(text).toContain('is not a time zone');
    expect(text).toContain('grain: &#34;century&#34; must be one of hour, day, week, month.');
    expect((await get('/dashboard/?period=custom&from=2025-02-01&to=2025-01-01')).status).toBe(400);
    expect((await get('/dashboard/conversations?csat=9&limit=0')).status).toBe(400);
    expect((await get('/dashboard/conversations?cursor=garbage')).status).toBe(400);
    expect((await get('/dashboard/conversations/1/34600000000')).status).toBe(404);
    expect((await get('/dashboard/conversations/1/not-a-phone')).status).toBe(400);
    expect((await get('/dashboard/nothing-here')).status).toBe(404);
    expect((await get('/dashboard/conversations/1/34600000000/export?format=docx')).status).toBe(400);
    // A form body far larger than any form: refused, nothing else happens.
    const huge = await fetch(`${daemon.url}/dashboard/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${'x'.repeat(100_000)}`,
    });
    expect(huge.status).toBe(413);
  });

  it('counts failed sign-ins against the API’s limit on failures', async () => {
    const ip = { 'x-forwarded-for': '203.0.113.9' };
    for (let i = 0; i < 10; i++) expect((await signIn(daemon.url, 'war_wrong', ip)).status).toBe(401);
    const blocked = await signIn(daemon.url, token, ip);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The API sees the same address as blocked, even with a good token.
    const api = await fetch(`${daemon.url}/clients`, { headers: { authorization: `Bearer ${token}`, ...ip } });
    expect(api.status).toBe(429);
  });
});

describe('dashboard sessions', () => {
  it('end after idle time and after their maximum age; codes sign in once', () => {
    let now = 0;
    const sessions = new SessionStore({ idleMs: 1000, maxAgeMs: 5000, clock: () => now });
    const { id } = sessions.create({ name: 'r', scope: 'read' });
    now = 900;
    expect(sessions.touch(id)).not.toBeNull();
    now = 1800;
    expect(sessions.touch(id)).not.toBeNull();
    now = 2900;
    expect(sessions.touch(id)).toBeNull();
    const again = sessions.create({ name: 'r', scope: 'read' }).id;
    for (now = 3000; now < 8000; now += 900) {
      if (now - 2900 > 5000) expect(sessions.touch(again)).toBeNull();
      else expect(sessions.touch(again)).not.toBeNull();
    }
    expect(sessions.touch('made-up')).toBeNull();
    const code = sessions.issueCode({ name: 'cli', scope: 'admin' }, 1000);
    expect(sessions.redeemCode(code)).toEqual({ name: 'cli', scope: 'admin' });
    expect(sessions.redeemCode(code)).toBeNull();
    const late = sessions.issueCode({ name: 'cli', scope: 'admin' }, 1000);
    now += 2000;
    expect(sessions.redeemCode(late)).toBeNull();
  });
});

describe('wa-report dashboard', () => {
  it('serves the local database, prints a one-time link, and stops on SIGTERM', async () => {
    const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/wa-report-dash-`);
    const env = { DATABASE_URL: `${dir}/wa.db` };
    expect(
      (
        await runCli(['clients', 'add', '--name', 'Shop', '--phone-number', '+15550001111', '--phone-number-id', '7'], {
          env,
        })
      ).code,
    ).toBe(0);
    const child = spawn(process.execPath, [BIN, 'dashboard', '--port', '0'], { env: baseEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const link = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = /^(http:\/\/127\.0\.0\.1:\d+\/dashboard\/login\?code=[\w-]+)$/m.exec(stdout);
        if (m) resolve(m[1] as string);
      });
      child.on('exit', () => reject(new Error(`exited: ${stderr}`)));
    });
    expect(stderr).toContain('/dashboard (Ctrl-C stops it)');
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = sessionCookie(first);
    const overview = await fetch(new URL('/dashboard/', link), { headers: { cookie } });
    expect(await overview.text()).toContain('Shop');
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
    // An open live-refresh stream does not hold the server up: it ends when the server stops.
    const live = liveEvents(await fetch(new URL('/dashboard/live', link), { headers: { cookie } }));
    expect(await live.next()).toMatch(/^\d+\.\d+$/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await live.next()).toBeNull();
    expect(await exited).toBe(0);
    expect(stderr).toContain('Dashboard stopped.');
    const badPort = await runCli(['dashboard', '--port', 'eighty'], { env });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port: "eighty" is not a port number');
  });
});
