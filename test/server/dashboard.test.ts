// The web dashboard in Debian's Chromium (playwright-core), on SQLite and PostgreSQL: sign in and
// out, wrong tokens, CSRF refusals, every page with axe-core (0 serious or critical violations),
// filters and keyset pages, chart → conversations links, figures equal to `wa-report stats --json`
// (in a quarter-hour zone), no request leaving 127.0.0.1, a phone-width screenshot kept in
// test-artifacts/, and the same pages with JavaScript off. The data is `wa-report demo`'s.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { openStore, type Store } from '../../src/db/store.js';
import { createToken } from '../../src/privacy/tokens.js';
import { startDashboardServer, type DashboardServer } from '../../src/server/dashboard-server.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { runCli } from '../helpers/cli.js';
import { sql } from '../helpers/store.js';

const CHROMIUM = process.env.WA_REPORT_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
const mustHaveBrowser = process.env.CI || process.env.WA_REPORT_REQUIRE_BROWSER === '1';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const AXE = readFileSync(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');
const ZONE = 'Asia/Kathmandu';

// Browser globals used inside page.evaluate (this project type-checks without the DOM library).
declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null; textContent: string | null }>;
};
declare const axe: { run(context?: unknown, options?: unknown): Promise<{ violations: AxeViolation[] }> };
// `stats --json`'s clients, as far as these tests read them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Stats = Record<string, any>;
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

if (!haveBrowser && mustHaveBrowser) {
  it('has Chromium to test the dashboard in', () => {
    throw new Error(`Chromium not found at ${CHROMIUM}; install it with \`apt-get install -y chromium\`.`);
  });
}

describe.skipIf(!haveBrowser).each(databaseKinds)('dashboard on $name', { timeout: 90_000 }, (kind) => {
  let db: TestDatabase;
  let store: Store;
  let server: DashboardServer;
  let browser: Browser;
  let readToken: string;
  let adminToken: string;
  let clients: { id: number; name: string }[];
  const requests: string[] = [];
  const problems: string[] = [];

  const url = (path: string) => `${server.origin}${path}`;

  async function context(options: { javaScriptEnabled?: boolean; locale?: string; width?: number } = {}) {
    const ctx = await browser.newContext({
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      locale: options.locale ?? 'en-GB',
      viewport: { width: options.width ?? 1280, height: 900 },
    });
    ctx.on('request', (r) => requests.push(r.url()));
    ctx.on('page', (p) => watch(p));
    return ctx;
  }

  function watch(page: Page) {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
  }

  async function signIn(ctx: BrowserContext, token: string): Promise<Page> {
    const page = await ctx.newPage();
    await page.goto(url('/dashboard'));
    await page.fill('input[name="token"]', token);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/dashboard\/?(\?.*)?$/);
    return page;
  }

  async function expectAccessible(page: Page, what: string) {
    // axe is injected through a second context that ignores the CSP (inline scripts are refused).
    const ctx = await browser.newContext({ bypassCSP: true, storageState: await page.context().storageState() });
    const p = await ctx.newPage();
    await p.goto(page.url());
    await p.addScriptTag({ content: AXE });
    const { violations } = await p.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
    await ctx.close();
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      what,
    ).toEqual([]);
  }

  const figure = async (page: Page, name: string) =>
    page.locator(`.figures [data-figure="${name}"]`).getAttribute('data-value');

  beforeAll(async () => {
    db = await kind.create();
    await runDemo({ target: db.target, conversations: 5, days: 20, seed: 7 });
    store = await openStore(db.target);
    clients = (await store.clients.list()).map((c) => ({ id: c.id, name: c.name }));
    readToken = (await createToken(store, { name: 'reader', scope: 'read' })).token;
    adminToken = (await createToken(store, { name: 'admin', scope: 'admin' })).token;
    server = await startDashboardServer({
      store,
      port: 0,
      host: '127.0.0.1',
      env: { TZ: 'UTC' },
      liveIntervalMs: 200,
      liveMinReloadMs: 1000,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    await db?.drop();
  });

  it('sends a visitor to the sign-in form, refuses a wrong token and signs in with a right one', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    const first = await page.goto(url('/dashboard'));
    expect(page.url()).toMatch(/\/dashboard\/login\?next=/);
    expect(first?.status()).toBe(200);
    await expect(page.locator('input[type="password"][name="token"]').count()).resolves.toBe(1);
    await expectAccessible(page, 'sign-in page');

    await page.fill('input[name="token"]', 'war_not-a-token');
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('button[type="submit"]');
    expect((await refused).status()).toBe(401);
    await expect(page.locator('p.error').textContent()).resolves.toContain('not valid');

    await page.fill('input[name="token"]', readToken);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/dashboard\/?$/);
    for (const c of clients) await expect(page.locator('.per-client').textContent()).resolves.toContain(c.name);
    const cookie = (await ctx.cookies()).find((c) => c.name === 'wa_report_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
    await ctx.close();
  });

  it('shows every page to an admin, accessible, in English and Spanish, with nothing leaving 127.0.0.1', async () => {
    requests.length = 0;
    problems.length = 0;
    const ctx = await context();
    const page = await signIn(ctx, adminToken);
    await expectAccessible(page, 'overview');
    const c = clients[0] as { id: number };
    const [thread] = await sql(store).all<{ wa_id: string }>(
      'SELECT wa_id FROM threads WHERE client_id = ? ORDER BY id LIMIT 1',
      [c.id],
    );
    const pages = [
      `/dashboard/?client=${c.id}&period=90d`,
      '/dashboard/conversations?period=90d',
      `/dashboard/conversations/${c.id}/${thread?.wa_id}?period=90d`,
      '/dashboard/failed?period=90d',
      '/dashboard/webhooks',
      '/dashboard/clients',
      '/dashboard/conversations?period=bogus',
    ];
    for (const path of pages) {
      const res = await page.goto(url(path));
      expect(res?.status(), path).toBe(path.includes('bogus') ? 400 : 200);
      await expectAccessible(page, path);
    }
    await expect(page.locator('main').textContent()).resolves.toContain('period: "bogus" must be one of');

    // The conversation page: the chat view (the HTML report) in its frame, and every export.
    await page.goto(url(`/dashboard/conversations/${c.id}/${thread?.wa_id}?period=90d`));
    const frame = page.frameLocator('iframe.transcript');
    await expect(frame.locator('article, .message, .bubble').first().isVisible()).resolves.toBe(true);
    for (const format of ['json', 'text', 'html', 'csv', 'pdf', 'xlsx']) {
      const res = await page.request.get(
        url(`/dashboard/conversations/${c.id}/${thread?.wa_id}/export?format=${format}&period=90d`),
      );
      expect(res.status(), format).toBe(200);
      expect(res.headers()['content-disposition'], format).toMatch(/^attachment; filename="conversation-/);
      expect((await res.body()).length, format).toBeGreaterThan(100);
    }

    await page.goto(url('/dashboard/?lang=es'));
    await expect(page.locator('h1').textContent()).resolves.toBe('Resumen');
    await page.goto(url('/dashboard/conversations'));
    await expect(page.locator('h1').textContent()).resolves.toBe('Conversaciones');
    await page.click('a[hreflang="en"]');
    await expect(page.locator('h1').textContent()).resolves.toBe('Conversations');

    const foreign = requests.filter((r) => !r.startsWith(`${server.origin}/`) && !r.startsWith('data:'));
    expect(foreign).toEqual([]);
    // (The one error expected: the 400 of the bogus period.)
    expect(
      problems.filter((p) => !p.includes('status of 400')),
      'console errors (CSP violations included)',
    ).toEqual([]);
    await ctx.close();
  });

  it('shows the figures of `wa-report stats --json`, for one client and all, in a quarter-hour zone', async () => {
    const ctx = await context();
    const page = await signIn(ctx, readToken);
    for (const client of [clients[1], undefined]) {
      const q = new URLSearchParams({ period: '30d', tz: ZONE, grain: 'day' });
      if (client) q.set('client', String(client.id));
      await page.goto(url(`/dashboard/?${q}`));
      const start = await page.locator('time[data-bound="start"]').getAttribute('datetime');
      const end = await page.locator('time[data-bound="end"]').getAttribute('datetime');
      const cli = await runCli(
        [
          'stats',
          '--json',
          '--since',
          String(start),
          '--until',
          String(end),
          '--tz',
          ZONE,
          ...(client ? ['--client-id', String(client.id)] : []),
        ],
        { env: { DATABASE_URL: db.url } },
      );
      expect(cli.code, cli.stderr).toBe(0);
      const stats = JSON.parse(cli.stdout) as { clients: Stats[] };
      const sum = (f: (s: Stats) => number) => stats.clients.reduce((a, s) => a + f(s), 0);
      expect(await figure(page, 'conversations')).toBe(String(sum((s) => s.conversations)));
      expect(await figure(page, 'messages')).toBe(String(sum((s) => s.messages)));
      expect(await figure(page, 'messages_user')).toBe(String(sum((s) => s.messages_by_role.user)));
      expect(await figure(page, 'messages_assistant')).toBe(String(sum((s) => s.messages_by_role.assistant)));
      expect(await figure(page, 'messages_agent')).toBe(String(sum((s) => s.messages_by_role.agent)));
      expect(await figure(page, 'failed')).toBe(String(sum((s) => s.failed)));
      expect(await figure(page, 'sessions')).toBe(String(sum((s) => s.sessions.total)));
      expect(Number(await figure(page, 'messages'))).toBeGreaterThan(0);
      if (client) {
        const s = stats.clients[0] as Stats;
        const same = async (name: string, value: number | null) =>
          expect(await figure(page, name), name).toBe(value === null ? '' : String(value));
        await same('delivery_rate', s.delivery_rate);
        await same('read_rate', s.read_rate);
        await same('first_response_median', s.sessions.first_response_seconds.median);
        await same('first_response_p90', s.sessions.first_response_seconds.p90);
        await same('resolution_median', s.sessions.duration_seconds.median);
        await same('resolution_p90', s.sessions.duration_seconds.p90);
        await same('handoff_rate', s.sessions.handoff_rate);
        await same('bot_only_rate', s.sessions.bot_only_resolution_rate);
        await same('csat_score', s.csat.satisfaction_score);
        await same('csat_response_rate', s.csat.response_rate);
      } else {
        // Every client is named, with its own figures.
        for (const s of stats.clients) {
          const row = page.locator(`.per-client tr[data-client-id="${s.client_id}"]`);
          await expect(row.locator('th').textContent()).resolves.toBe(s.client_name);
          await expect(row.locator('[data-figure="messages"]').textContent()).resolves.toBe(
            s.messages.toLocaleString('en-GB'),
          );
        }
      }
      // The messages chart's days (in Kathmandu, UTC+5:45) are `stats`' messages per day.
      const rows = await page.evaluate(() =>
        Array.from(document.querySelectorAll('#chart-messages tbody tr')).map((tr) => ({
          key: tr.getAttribute('data-key'),
          text: tr.textContent,
        })),
      );
      const perDay = new Map<string, number>();
      for (const s of stats.clients) {
        for (const d of s.messages_per_day as { day: string; messages: number }[]) {
          perDay.set(d.day, (perDay.get(d.day) ?? 0) + d.messages);
        }
      }
      const cells = await page.locator('#chart-messages tbody tr').evaluateAll((trs) =>
        trs.map((tr) =>
          Array.from(
            (tr as unknown as { querySelectorAll(s: string): ArrayLike<{ textContent: string }> }).querySelectorAll(
              'td',
            ),
          )
            .map((td) => Number(td.textContent.replace(/\D/g, '')))
            .reduce((a, b) => a + b, 0),
        ),
      );
      const shown = new Map(rows.map((r, i) => [r.key as string, cells[i] as number]));
      for (const [day, n] of perDay) expect(shown.get(day) ?? 0, day).toBe(n);
      expect([...shown.values()].reduce((a, b) => a + b, 0)).toBe(sum((s) => s.messages));
    }
    await ctx.close();
  });

  it('links a chart bar to the conversations behind it, filters, pages by keyset, and back/forward work', async () => {
    const ctx = await context();
    const page = await signIn(ctx, readToken);
    await page.goto(url('/dashboard/?period=30d&grain=day&tz=UTC'));
    await page.click('#chart-messages summary');
    const rowTotals = await page.locator('#chart-messages tbody tr').evaluateAll((trs) =>
      trs.map((tr) =>
        Array.from(
          (tr as unknown as { querySelectorAll(s: string): ArrayLike<{ textContent: string }> }).querySelectorAll('td'),
        )
          .map((td) => Number(td.textContent.replace(/\D/g, '')))
          .reduce((a, b) => a + b, 0),
      ),
    );
    const busy = rowTotals.findIndex((n) => n > 0);
    const link = page.locator('#chart-messages tbody tr').nth(busy).locator('a');
    const href = String(await link.getAttribute('href'));
    const q = new URL(href, server.origin).searchParams;
    await link.click();
    await page.waitForURL(/\/dashboard\/conversations\?/);
    const [expected] = await sql(store).all<{ n: unknown }>(
      'SELECT COUNT(DISTINCT thread_id) AS n FROM messages WHERE created_at >= ? AND created_at < ?',
      [new Date(String(q.get('from'))), new Date(String(q.get('to')))],
    );
    expect(Number(await page.locator('[data-total]').getAttribute('data-total'))).toBe(Number(expected?.n));
    expect(Number(expected?.n)).toBeGreaterThan(0);

    // Keyset pages of 4: every conversation once, newest activity first; back and forward.
    await page.goto(url('/dashboard/conversations?period=90d&limit=4'));
    const total = Number(await page.locator('[data-total]').getAttribute('data-total'));
    const seen: string[] = [];
    const times: string[] = [];
    const urls: string[] = [];
    for (let i = 0; i < 100; i++) {
      urls.push(page.url());
      seen.push(
        ...(await page
          .locator('table.list tbody th a')
          .evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''))),
      );
      times.push(
        ...(await page
          .locator('table.list tbody time')
          .evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime') ?? ''))),
      );
      const next = page.locator('a[rel="next"]');
      if ((await next.count()) === 0) break;
      await next.click();
      await page.waitForURL((u) => u.href !== urls.at(-1));
    }
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
    expect([...times].sort().reverse()).toEqual(times);
    expect(urls.length).toBeGreaterThan(2);
    await page.goBack();
    expect(page.url()).toBe(urls.at(-2));
    await page.goForward();
    expect(page.url()).toBe(urls.at(-1));

    // Filters: name search, failures, handoffs; each agrees with the database.
    const [named] = await sql(store).all<{ contact_name: string }>(
      'SELECT contact_name FROM threads WHERE contact_name IS NOT NULL ORDER BY id LIMIT 1',
    );
    const part = String(named?.contact_name).split(' ')[0]?.toLowerCase() ?? '';
    await page.goto(url(`/dashboard/conversations?period=90d&q=${encodeURIComponent(part)}`));
    const names = await page.locator('table.list tbody th a').allTextContents();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n.toLowerCase()).toContain(part);
    await page.goto(url('/dashboard/conversations?period=90d'));
    await page.check('#f-failed');
    await page.waitForURL(/failed=1/);
    const [failing] = await sql(store).all<{ n: unknown }>(
      "SELECT COUNT(DISTINCT thread_id) AS n FROM messages WHERE status = 'failed' AND created_at >= ?",
      [new Date(Date.now() - 90 * 86_400_000 - 60_000)],
    );
    expect(Number(await page.locator('[data-total]').getAttribute('data-total'))).toBe(Number(failing?.n));
    await ctx.close();
  });

  it('refuses a POST without the session’s CSRF token, signs out, and keeps read tokens off admin pages', async () => {
    const ctx = await context();
    const page = await signIn(ctx, readToken);
    await expect(page.locator('nav').textContent()).resolves.not.toContain('Event webhooks');
    expect((await page.goto(url('/dashboard/webhooks')))?.status()).toBe(403);
    await expectAccessible(page, 'forbidden page');
    const forged = await page.request.post(url('/dashboard/logout'), { form: { _csrf: 'forged' } });
    expect(forged.status()).toBe(403);
    await page.goto(url('/dashboard/'));
    expect(page.url()).toMatch(/\/dashboard\/$/);
    await page.click('header form button[type="submit"]');
    await page.waitForURL(/\/dashboard\/login\?out=1/);
    await page.goto(url('/dashboard/conversations'));
    expect(page.url()).toMatch(/\/dashboard\/login\?next=/);
    // The sign-in form's own token: a POST from elsewhere is refused.
    const crossSite = await ctx.request.post(url('/dashboard/login'), { form: { token: readToken, _csrf: 'x' } });
    expect(crossSite.status()).toBe(403);
    await ctx.close();
  });

  it('lets an admin redeliver a webhook delivery from the page', async () => {
    const endpoint = await store.webhooks.create({
      url: 'http://127.0.0.1:9/hook',
      events: '*',
      clientId: null,
      includeContent: false,
      allowHttp: true,
      secret: 'whsec_' + Buffer.alloc(24, 7).toString('base64'),
    });
    await store.deliveries.queueEvent({
      type: 'webhook.test',
      clientId: null,
      threadId: null,
      occurredAt: new Date(),
      data: {},
      endpointId: endpoint.id,
    });
    const ctx = await context();
    const page = await signIn(ctx, adminToken);
    await page.goto(url('/dashboard/webhooks'));
    // Still pending: nothing to redeliver yet (and a forced POST says why).
    await expect(page.locator('tr[data-delivery] button').count()).resolves.toBe(0);
    const [pending] = await sql(store).all<{ id: unknown }>('SELECT MAX(id) AS id FROM webhook_deliveries');
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const early = await page.request.post(url(`/dashboard/webhooks/deliveries/${pending?.id}/redeliver`), {
      form: { _csrf: csrf },
    });
    expect(early.status()).toBe(400);
    expect(await early.text()).toContain('is still pending');
    // The receiver failed for good: now it can be sent again.
    await sql(store).run(
      "UPDATE webhook_deliveries SET state = 'failed', last_error = 'connection refused' WHERE id = ?",
      [Number(pending?.id)],
    );
    await page.goto(url('/dashboard/webhooks'));
    await expectAccessible(page, 'webhooks page');
    await page.locator('tr[data-delivery] button').first().click();
    await page.waitForURL(/\/dashboard\/webhooks\?done=/);
    await expect(page.locator('p.notice').textContent()).resolves.toMatch(/queued again/);
    await ctx.close();
  });

  it('reloads a live overview when a message is stored, and not before', async () => {
    const ctx = await context();
    const page = await signIn(ctx, readToken);
    await page.goto(url('/dashboard/?period=7d'));
    await page.check('input[data-live]');
    await page.waitForURL(/live=1/);
    const before = Number(await figure(page, 'messages'));
    let loads = 0;
    page.on('load', () => (loads += 1));
    // The stream is open and nothing was stored: no reload (the feed reads every 200 ms here).
    await page.waitForTimeout(1_500);
    expect(loads).toBe(0);
    const [client] = await store.clients.list();
    const reloaded = page.waitForEvent('load', { timeout: 20_000 });
    await store.ingest.write({
      messages: [
        {
          clientId: client?.id as number,
          waId: '34600999002',
          role: 'user',
          type: 'text',
          content: 'Hola, ¿seguís abiertos?',
          wamid: `wamid.browser-live.${kind.name}`,
          phoneNumberId: client?.phoneNumberId as string,
          createdAt: new Date(),
        },
      ],
    });
    await reloaded;
    expect(page.url()).toMatch(/live=1/);
    expect(Number(await figure(page, 'messages'))).toBe(before + 1);
    await ctx.close();
  });

  it('works with JavaScript disabled, and fits a phone-width screen (screenshot kept)', async () => {
    const ctx = await context({ javaScriptEnabled: false, width: 390 });
    const page = await signIn(ctx, readToken);
    await expect(page.locator('.chart svg').count()).resolves.toBeGreaterThan(5);
    await page.selectOption('#f-period', '7d');
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/period=7d/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(392);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-phone-${kind.name}.png`, fullPage: true });
    await page.goto(url('/dashboard/conversations?period=90d'));
    await expect(page.locator('table.list tbody tr').count()).resolves.toBeGreaterThan(0);
    await page.click('table.list tbody th a');
    await expect(page.locator('iframe.transcript').count()).resolves.toBe(1);
    await ctx.close();
  });

  it('signs in once with the link `wa-report dashboard` prints', async () => {
    const link = server.signInLink();
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(link);
    expect(page.url()).toMatch(/\/dashboard\/$/);
    await expect(page.locator('.who').textContent()).resolves.toContain('admin');
    const other = await context();
    const again = await other.newPage();
    expect((await again.goto(link))?.status()).toBe(401);
    await ctx.close();
    await other.close();
  });
});
