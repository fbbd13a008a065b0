// The reporting HTTP API served by the daemon: tokens, the original shapes, formats, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startDaemon, type Daemon } from '../../src/server/main.js';
import { loadIngestConfig } from '../../src/server/config.js';
import { openStore } from '../../src/db/store.js';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { seedReports } from '../helpers/seed.js';
import { APP_SECRET } from '../helpers/webhooks.js';

const TOKEN = 'report-token-0123456789abcdef';

describe.each(databaseKinds)('report API on $name', (kind) => {
  let db: TestDatabase;
  let daemon: Daemon;
  let noToken: Daemon;
  let clientId: number;
  const get = (path: string, token: string | null = TOKEN, on = () => daemon) =>
    fetch(`${on().url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    db = await kind.create();
    const store = await openStore(db.target);
    ({ clientId } = await seedReports(store));
    await store.close();
    const env = { WHATSAPP_APP_SECRET: APP_SECRET, WA_REPORT_API_TOKEN: TOKEN };
    daemon = await startDaemon(loadIngestConfig(env, { port: '0', host: '127.0.0.1' }), {
      target: db.target,
      logger: pino({ level: 'silent' }),
    });
    noToken = await startDaemon(
      loadIngestConfig({ WHATSAPP_APP_SECRET: APP_SECRET }, { port: '0', host: '127.0.0.1' }),
      { target: db.target, logger: pino({ level: 'silent' }) },
    );
  });
  afterAll(async () => {
    await daemon.close();
    await noToken.close();
    await db.drop();
  });

  it('is closed without a configured token, 401 without or with a wrong token', async () => {
    const closed = await get('/clients', TOKEN, () => noToken);
    expect(closed.status).toBe(503);
    expect(((await closed.json()) as { error: { message: string } }).error.message).toContain('WA_REPORT_API_TOKEN');
    const none = await get('/clients', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect((await get('/clients', 'wrong')).status).toBe(401);
    expect((await get(`/clients/${clientId}/conversations/+34123456789/messages?format=html`, 'wrong')).status).toBe(
      401,
    );
    expect((await get('/clients')).status).toBe(200);
  });

  it('serves clients, conversations and statistics as the CLI prints them, never cached', async () => {
    const paths = [
      '/clients',
      `/clients/${clientId}/conversations`,
      `/clients/${clientId}/conversations/+34123456789/messages?format=csv`,
      `/clients/${clientId}/stats`,
    ];
    for (const path of paths) {
      const res = await get(path);
      expect({ path, status: res.status, cache: res.headers.get('cache-control') }).toEqual({
        path,
        status: 200,
        cache: 'no-store',
      });
    }
    const { clients } = (await (await get('/clients')).json()) as { clients: Record<string, unknown>[] };
    expect(Object.keys(clients[0]!)).toEqual([
      'id',
      'name',
      'phone_number',
      'phone_number_id',
      'waba_id',
      'active',
      'assistant_enabled',
      'assistant_model',
      'system_prompt',
      'conversation_idle_seconds',
      'quote_replies',
      'handoff',
      'language',
      'csat',
      'created_at',
      'updated_at',
    ]);
    const stats = (await (await get(`/clients/${clientId}/stats`)).json()) as Record<string, unknown>;
    expect(Object.keys(stats).slice(0, 5)).toEqual(['client_id', 'client_name', 'time_zone', 'since', 'conversations']);
    expect(stats.response_time_seconds).toEqual({ median: 5, p90: 120, answers: 2 });
  });

  it('lists conversations in the original shape, newest first, with filters and cursor paging', async () => {
    const res = await get(`/clients/${clientId}/conversations`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      client: unknown;
      total_conversations: number;
      conversations: { wa_id: string; message_count: number; thread_id: number }[];
      next_cursor: string | null;
    };
    expect(body.client).toEqual({ id: clientId, name: 'Released', phone_number: '+15556383785' });
    expect(body.total_conversations).toBe(3);
    expect(body.conversations.map((c) => c.wa_id)).toEqual(['+5215512345678', '+447700900123', '+34123456789']);
    expect(body.conversations[2]!.message_count).toBe(4);
    expect(body.next_cursor).toBeNull();
    // January 15th in Madrid: Ana's 4 messages (the 23:59 one counts, 00:01 on the 16th does not).
    const day = (await (
      await get(`/clients/${clientId}/conversations?start_date=2024-01-15&end_date=2024-01-15&tz=Europe/Madrid`)
    ).json()) as typeof body;
    expect(day.conversations.map((c) => [c.wa_id, c.message_count])).toEqual([['+34123456789', 3]]);
    const one = (await (
      await get(`/clients/${clientId}/conversations?wa_id=%2B34%20123%20456%20789`)
    ).json()) as typeof body;
    expect(one.total_conversations).toBe(1);
    const page1 = (await (await get(`/clients/${clientId}/conversations?limit=2`)).json()) as typeof body;
    expect(page1.conversations).toHaveLength(2);
    expect(page1.next_cursor).toBeTruthy();
    const page2 = (await (
      await get(`/clients/${clientId}/conversations?limit=2&cursor=${page1.next_cursor}`)
    ).json()) as typeof body;
    expect(page2.conversations.map((c) => c.wa_id)).toEqual(['+34123456789']);
    expect(page2.next_cursor).toBeNull();
  });

  it('answers 400 naming the parameter and 404 for unknown clients or conversations', async () => {
    const cases: [string, number, RegExp][] = [
      [`/clients/${clientId}/conversations?start_date=2024-13-45`, 400, /start_date/],
      [`/clients/${clientId}/conversations?limit=5000`, 400, /limit/],
      [`/clients/${clientId}/conversations?tz=Mars/Base`, 400, /tz/],
      [`/clients/${clientId}/conversations/+34123456789/messages?format=docx`, 400, /format/],
      [`/clients/abc/conversations`, 400, /client_id/],
      [`/clients/999/conversations`, 404, /999/],
      [`/clients/${clientId}/conversations/+34999999999/messages`, 404, /34999999999/],
      [`/clients/${clientId}/conversations/not-a-number/messages`, 400, /wa_id/],
    ];
    for (const [path, status, message] of cases) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.message).toMatch(message);
    }
  });

  it('serves a conversation as json, text, html and csv with the right types', async () => {
    const base = `/clients/${clientId}/conversations/+34123456789/messages`;
    const json = await get(`${base}?tz=Europe/Madrid`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await json.json()) as {
      conversations: { messages: { wamid: string; created_at: string; status: string | null }[] }[];
    };
    expect(doc.conversations[0]!.messages.map((m) => m.wamid)).toEqual([
      'wamid.r1',
      'wamid.r2',
      'wamid.r3',
      'wamid.r4',
    ]);
    expect(doc.conversations[0]!.messages[0]!.created_at).toMatch(/^2024-01-15T10:30:00(\.000)?\+01:00$/);
    const text = await get(`${base}?format=text&lang=es&tz=Europe/Madrid`);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain; charset=utf-8/);
    const body = await text.text();
    expect(body).toContain('REPORTE DE CONVERSACIÓN');
    expect(body).toContain('[2024-01-15 10:30:00] Usuario:');
    const html = await get(`/clients/${clientId}/conversations/447700900123/messages?format=html`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await html.text();
    expect(page).not.toContain('<script>window.__pwned');
    expect(page).toContain('&lt;script&gt;');
    const csv = await get(`${base}?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename=".+\.csv"/);
    const rows = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.wamid)).toEqual(['wamid.r1', 'wamid.r2', 'wamid.r3', 'wamid.r4']);
  });

  it('serves statistics', async () => {
    const res = await get(`/clients/${clientId}/stats?tz=Europe/Madrid`);
    expect(res.status).toBe(200);
    const s = (await res.json()) as {
      conversations: number;
      messages: number;
      failed: number;
      messages_by_role: Record<string, number>;
      response_time_seconds: { median: number | null };
    };
    expect(s).toMatchObject({
      conversations: 3,
      messages: 7,
      failed: 1,
      messages_by_role: { user: 4, assistant: 2, agent: 1 },
    });
    expect(s.response_time_seconds.median).toBe(5);
  });

  it('serves conversations, summaries and statistics as PDF and XLSX downloads, behind the token', async () => {
    const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const cases: [string, string, RegExp][] = [
      [
        `/clients/${clientId}/conversations/+34123456789/messages?format=pdf`,
        'application/pdf',
        /conversation-\d+-34123456789\.pdf/,
      ],
      [
        `/clients/${clientId}/conversations/+34123456789/messages?format=xlsx`,
        xlsxType,
        /conversation-\d+-34123456789\.xlsx/,
      ],
      [`/clients/${clientId}/export?format=xlsx&tz=Europe/Madrid`, xlsxType, /client-\d+-conversations\.xlsx/],
      [`/clients/${clientId}/export?format=pdf`, 'application/pdf', /client-\d+-conversations\.pdf/],
      [`/clients/${clientId}/summary?format=pdf&lang=en`, 'application/pdf', /summary-\d+\.pdf/],
      [`/clients/${clientId}/summary?format=xlsx`, xlsxType, /summary-\d+\.xlsx/],
      [`/clients/${clientId}/stats?format=pdf`, 'application/pdf', /stats-\d+\.pdf/],
      [`/clients/${clientId}/stats?format=xlsx`, xlsxType, /stats-\d+\.xlsx/],
    ];
    // Without the token: 401 (once: failed attempts count towards the sign-in rate limit).
    expect((await get(cases[0]![0], null)).status).toBe(401);
    for (const [path, type, name] of cases) {
      const res = await get(path);
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 200, type });
      expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${name.source}"$`));
      expect(res.headers.get('cache-control')).toBe('no-store');
      const bytes = Buffer.from(await res.arrayBuffer());
      if (type === 'application/pdf') {
        expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        expect(bytes.subarray(-6).toString('latin1')).toMatch(/%%EOF/);
      } else {
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(bytes as unknown as ArrayBuffer);
        expect(wb.worksheets.length).toBeGreaterThan(0);
      }
    }
    const summary = new ExcelJS.Workbook();
    await summary.xlsx.load(
      (await (await get(`/clients/${clientId}/summary?format=xlsx&lang=en`)).arrayBuffer()) as ArrayBuffer,
    );
    const figures = summary.worksheets[0]!.getSheetValues().flatMap((r) => (Array.isArray(r) ? [r.slice(1)] : []));
    expect(figures).toContainEqual(['Messages', 7]);
    const json = (await (await get(`/clients/${clientId}/summary`)).json()) as { totals: { messages: number } };
    expect(json.totals.messages).toBe(7);
    for (const bad of [
      `/clients/${clientId}/summary?format=csv`,
      `/clients/${clientId}/stats?format=csv`,
      `/clients/${clientId}/export?format=docx`,
    ]) {
      const res = await get(bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^format: /);
    }
  });
});
