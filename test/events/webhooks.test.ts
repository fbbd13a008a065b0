// Event webhooks end to end, in-process: the real daemon on loopback (SQLite file and PostgreSQL),
// WhatsApp webhooks in, events out to a receiver that verifies every signature with the
// `standardwebhooks` package; the Graph API and OpenAI stand-ins behind the real clients.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startDaemon, type Daemon } from '../../src/server/main.js';
import { openStore, type Store } from '../../src/db/store.js';
import { addEndpoint } from '../../src/events/admin.js';
import { webhookSettingsFromEnv } from '../../src/events/policy.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { startGraphStandIn, startModelStandIn, type GraphStandIn, type ModelStandIn } from '../helpers/standins.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import {
  PHONE_NUMBER_ID,
  batch,
  echoMessage,
  postWebhook,
  statusUpdate,
  textMessage,
  wamid,
} from '../helpers/webhooks.js';
import { sql } from '../helpers/store.js';
import { daemonConfig } from '../helpers/daemon-config.js';
import { analyse } from '../../src/domain/sentiment/index.js';

const silent = pino({ level: 'silent' });

const ENV = {
  WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '1',
  WA_REPORT_WEBHOOK_RETRY: '200ms,200ms,200ms',
};

function config(graph: GraphStandIn | null, model: ModelStandIn | null, extra: Record<string, string> = {}) {
  return daemonConfig(graph, model, {
    WA_REPORT_API_TOKEN: 'admin-token',
    WA_REPORT_API_TOKEN_SCOPE: 'admin',
    ...ENV,
    ...extra,
  });
}

const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = 'condition') => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} not met in time`);
};

const types = (r: Receiver) => r.unique().map((d) => d.event.type);

describe.each(databaseKinds)('event webhooks on $name', (kind) => {
  let db: TestDatabase;
  let graph: GraphStandIn;
  let model: ModelStandIn;
  let receiver: Receiver;
  let daemon: Daemon | null;
  let store: Store;
  let clientId: number;
  const settings = webhookSettingsFromEnv({ ...ENV, WA_REPORT_WEBHOOK_RETRY: '200ms,200ms,200ms' }).settings;

  beforeAll(async () => {
    graph = await startGraphStandIn({ token: 'graph-token' });
    model = await startModelStandIn({ apiKey: 'sk-test' });
  });
  afterAll(async () => {
    await graph.close();
    await model.close();
  });

  beforeEach(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    receiver = await startReceiver();
    clientId = (
      await store.clients.create({
        name: 'Released',
        phoneNumber: '+15550783881',
        phoneNumberId: PHONE_NUMBER_ID,
        assistantEnabled: true,
        conversationIdleSeconds: 2,
      })
    ).id;
    graph.requests.length = 0;
    model.requests.length = 0;
    graph.behave(null);
    model.behave(null);
    daemon = null;
  });
  afterEach(async () => {
    await daemon?.close();
    await receiver.close();
    await store.close();
    await db.drop();
  });

  const start = async (extra: Record<string, string> = {}, withAssistant = true) => {
    daemon = await startDaemon(config(withAssistant ? graph : null, withAssistant ? model : null, extra), {
      target: db.target,
      logger: silent,
      graph: { backoffMs: { base: 5, max: 20 }, timeoutMs: 2000 },
      replier: { retryDelayMs: 50 },
      background: { sweepMs: 100, watchMs: 100, pollMs: 100 },
    });
    return daemon;
  };

  const subscribe = async (events = '*', extra: { includeContent?: boolean; clientId?: number } = {}) => {
    const { endpoint, secret } = await addEndpoint(
      store,
      { url: receiver.url, events, allowHttp: true, ...extra },
      settings,
    );
    receiver.secrets.push(secret);
    return endpoint;
  };

  it('notifies a conversation in order, signed: started, received, sent, handoff, failed, ended', async () => {
    await subscribe();
    const d = await start();
    const user = '34600000001';
    const first = wamid();
    expect((await postWebhook(d.url, textMessage({ from: user, text: 'Hola', id: first }))).status).toBe(200);
    // The assistant answers (message.sent), then a person answers from the Business app (handoff).
    await until(() => types(receiver).includes('message.sent'), 15_000, 'the answer');
    await postWebhook(d.url, echoMessage({ to: user, text: 'Soy Ana, te ayudo yo' }));
    await until(() => types(receiver).includes('conversation.handoff'), 15_000, 'the handoff');
    // WhatsApp reports the person's message failed.
    const echoWamid = (await sql(store).all<{ wamid: string }>(`SELECT wamid FROM messages WHERE role = 'agent'`))[0]!
      .wamid;
    await postWebhook(
      d.url,
      statusUpdate([
        {
          id: echoWamid,
          status: 'failed',
          recipient: user,
          timestamp: Math.floor(Date.now() / 1000),
          error: { code: 131047, title: 'Re-engagement message', details: 'More than 24 hours' },
        },
      ]),
    );
    // Idle for 2 s: the sweep ends it.
    await until(() => types(receiver).includes('conversation.ended'), 15_000, 'the idle end');
    expect(types(receiver)).toEqual([
      'conversation.started',
      'message.received',
      'message.sent',
      'message.sent',
      'conversation.handoff',
      'message.failed',
      'conversation.ended',
    ]);
    for (const r of receiver.deliveries) expect(r.verifiedWith, r.event.type).toBe(0);
    const [started, received, , agent, handoff, failed, ended] = receiver.unique().map((x) => x.event);
    expect(started!.data).toMatchObject({ client_id: clientId, wa_id: '+34600000001' });
    const conversationId = started!.data.conversation_id;
    expect(received!.data).toMatchObject({ wamid: first, role: 'user', conversation_id: conversationId });
    expect(received!.data).not.toHaveProperty('content'); // thin by default
    expect(agent!.data).toMatchObject({ role: 'agent', conversation_id: conversationId });
    expect(handoff!.data).toMatchObject({ conversation_id: conversationId });
    expect(failed!.data).toMatchObject({
      wamid: echoWamid,
      service: 'whatsapp',
      error: { code: 131047, title: 'Re-engagement message', details: 'More than 24 hours' },
    });
    expect(ended!.data).toMatchObject({
      conversation_id: conversationId,
      reason: 'idle',
      messages: { user: 1, assistant: 1, agent: 1 },
      handed_off: true,
    });
    expect(typeof ended!.data.first_response_seconds).toBe('number');
    // Standard Webhooks headers, and nothing secret in any body.
    const one = receiver.deliveries[0]!;
    expect(one.headers['content-type']).toBe('application/json');
    expect(one.webhookId).toMatch(/^evt_[\w-]{24}$/);
    expect(Math.abs(Number(one.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    for (const r of receiver.deliveries) {
      expect(r.body).not.toContain('graph-token');
      expect(r.body).not.toContain('sk-test');
      expect(r.body).not.toContain('Hola');
    }
    // The user's message was scored as it was stored; the business's messages are not.
    const scores = await sql(store).all<{ role: string; sentiment: unknown }>(
      'SELECT role, sentiment FROM messages ORDER BY id',
    );
    expect(scores.map((r) => [r.role, r.sentiment === null ? null : Number(r.sentiment)])).toEqual([
      ['user', analyse('Hola').score],
      ['assistant', null],
      ['agent', null],
    ]);
    expect(ended!.data).toMatchObject({ sentiment: { scored_messages: 1 } });
  });

  it('scores with the client’s language when it has one, and not at all with WA_REPORT_SENTIMENT=off', async () => {
    await store.clients.update(clientId, { language: 'en' });
    let d = await start({}, false);
    // "pésimo" is negative in Spanish and not an English word the lexicon knows.
    await postWebhook(d.url, textMessage({ from: '34600000009', text: 'pésimo', id: wamid() }));
    await until(async () => (await sql(store).all('SELECT id FROM messages')).length === 1);
    await d.close();
    d = await start({ WA_REPORT_SENTIMENT: 'off' }, false);
    await postWebhook(d.url, textMessage({ from: '34600000009', text: 'pésimo', id: wamid() }));
    await until(async () => (await sql(store).all('SELECT id FROM messages')).length === 2);
    const rows = await sql(store).all<{ sentiment: unknown }>('SELECT sentiment FROM messages ORDER BY id');
    expect(rows.map((r) => (r.sentiment === null ? null : Number(r.sentiment)))).toEqual([
      analyse('pésimo', 'en').score,
      null,
    ]);
    expect(analyse('pésimo', 'en').score).not.toBe(analyse('pésimo', 'es').score);
  });

  it('keeps the assistant silent after a person answered, until the conversation ends', async () => {
    await start();
    const user = '34600000002';
    await postWebhook(daemon!.url, textMessage({ from: user, text: 'Primera pregunta' }));
    await until(() => graph.sent().length === 1, 15_000, 'the first answer');
    await postWebhook(daemon!.url, echoMessage({ to: user, text: 'Hola, soy una persona' }));
    await until(
      async () =>
        (await store.conversations.latest((await store.threads.find(clientId, user))!.id))?.handoffAt !== null,
    );
    await postWebhook(daemon!.url, textMessage({ from: user, text: 'Segunda pregunta' }));
    await until(async () =>
      (
        (
          await store.messages.byWamid(
            (
              await sql(store).all<{ wamid: string }>(`SELECT wamid FROM messages WHERE content = 'Segunda pregunta'`)
            )[0]?.wamid ?? '',
          )
        )?.errorMessage ?? ''
      ).includes('handoff'),
    );
    expect(graph.sent()).toHaveLength(1);
    // After the idle period the next message starts a new conversation, which the assistant answers.
    await new Promise((r) => setTimeout(r, 2_300));
    await postWebhook(daemon!.url, textMessage({ from: user, text: 'Tercera, otro día' }));
    await until(() => graph.sent().length === 2, 15_000, 'the answer in the new conversation');
  });

  it('quotes only when it helps: a plain reply is not quoted, an answer covering several messages is', async () => {
    await start();
    const user = '34600000003';
    await postWebhook(daemon!.url, textMessage({ from: user, text: 'Una' }));
    await until(() => graph.sent().length === 1);
    expect((graph.sent()[0]!.body as { context?: unknown }).context).toBeUndefined();
    // Two messages at once: one answer covers both and quotes the last.
    model.behave({ kind: 'ok', text: 'Respuesta a las dos' });
    const a = wamid();
    const b = wamid();
    await postWebhook(
      daemon!.url,
      batch([
        { from: user, text: 'Dos', id: a },
        { from: user, text: 'Tres', id: b },
      ]),
    );
    await until(() => graph.sent().length === 2);
    expect((graph.sent()[1]!.body as { context?: { message_id: string } }).context).toEqual({ message_id: b });
    const [answer] = await sql(store).all<{ reply_to_wamid: string; answers_wamid: string }>(
      `SELECT reply_to_wamid, answers_wamid FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1`,
    );
    expect(answer).toEqual({ reply_to_wamid: b, answers_wamid: b });
  });

  it('delivers everything once the receiver is back, with the same webhook-id, in order per conversation', async () => {
    await subscribe('message.received');
    await start({ WA_REPORT_WEBHOOK_RETRY: '300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms' });
    await receiver.stop();
    const users = ['34600000010', '34600000011'];
    for (let i = 0; i < 5; i++) {
      for (const u of users) await postWebhook(daemon!.url, textMessage({ from: u, text: `m${i}` }));
    }
    await new Promise((r) => setTimeout(r, 700)); // a few attempts fail meanwhile
    const failedSoFar = await sql(store).all<{ n: unknown }>(
      `SELECT count(*) AS n FROM webhook_attempts WHERE http_status IS NULL`,
    );
    expect(Number(failedSoFar[0]?.n)).toBeGreaterThan(0);
    await receiver.start();
    await until(() => receiver.unique().length === 10, 20_000, 'all ten events');
    for (const u of users) {
      const wa = `+${u}`;
      const mine = receiver.unique().filter((d) => d.event.data.wa_id === wa);
      const ids = mine.map((d) => Number(d.event.data.message_id));
      expect(ids, `order for ${u}`).toEqual([...ids].sort((x, y) => x - y));
    }
    // Every retry carried the webhook-id of the first attempt.
    const attempts = await sql(store).all<{ n: unknown }>(
      `SELECT count(DISTINCT d.event_id) AS n FROM webhook_deliveries d WHERE d.attempts > 1`,
    );
    expect(Number(attempts[0]?.n)).toBeGreaterThan(0);
    expect(new Set(receiver.deliveries.map((d) => d.webhookId)).size).toBe(10);
  });

  it('disables an endpoint that answers 410 Gone, and dead-letters after the last retry', async () => {
    const gone = await subscribe('message.received');
    receiver.answer = () => ({ status: 410 });
    await start();
    await postWebhook(daemon!.url, textMessage({ from: '34600000020', text: 'x' }));
    await until(async () => (await store.webhooks.get(gone.id)).disabledAt !== null);
    expect((await store.webhooks.get(gone.id)).disabledReason).toMatch(/410 Gone/);
    // Another endpoint that keeps failing with 500: retried three times, then failed for good.
    const other = await startReceiver();
    try {
      const { endpoint, secret } = await addEndpoint(
        store,
        { url: other.url, events: 'message.received', allowHttp: true },
        settings,
      );
      other.secrets.push(secret);
      other.answer = () => ({ status: 500, body: 'x'.repeat(100_000) });
      await postWebhook(daemon!.url, textMessage({ from: '34600000021', text: 'y' }));
      await until(async () => (await store.deliveries.list({ endpointId: endpoint.id, failed: true })).length === 1);
      const [dead] = await store.deliveries.list({ endpointId: endpoint.id, failed: true });
      expect(dead!.attempts).toBe(4);
      expect(dead!.attemptLog.map((a) => a.httpStatus)).toEqual([500, 500, 500, 500]);
      expect(dead!.attemptLog[0]!.response!.length).toBe(64 * 1024);
      expect(new Set(other.deliveries.map((x) => x.webhookId)).size).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('honours Retry-After on 429', async () => {
    await subscribe('message.received');
    receiver.answer = (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
    await start();
    await postWebhook(daemon!.url, textMessage({ from: '34600000030', text: 'x' }));
    await until(() => receiver.deliveries.length === 2, 10_000);
    const gap = receiver.deliveries[1]!.receivedAt - receiver.deliveries[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(1_900);
  });

  it('signs with both secrets for a day after a rotation', async () => {
    const e = await subscribe('message.received');
    const { rotateSecret } = await import('../../src/events/admin.js');
    const { secret } = await rotateSecret(store, e.id);
    await start();
    await postWebhook(daemon!.url, textMessage({ from: '34600000040', text: 'x' }));
    await until(() => receiver.deliveries.length === 1);
    const d = receiver.deliveries[0]!;
    expect(d.signature.split(' ')).toHaveLength(2);
    // Either secret verifies it on its own.
    const { Webhook } = await import('standardwebhooks');
    const headers = { 'webhook-id': d.webhookId, 'webhook-timestamp': d.timestamp, 'webhook-signature': d.signature };
    expect(() => new Webhook(secret).verify(d.body, headers)).not.toThrow();
    expect(() => new Webhook(receiver.secrets[0]!).verify(d.body, headers)).not.toThrow();
    // After the 24 hours only the new one signs.
    await sql(store).run('UPDATE webhook_endpoints SET previous_secret_until = ? WHERE id = ?', [
      new Date(Date.now() - 1),
      e.id,
    ]);
    await postWebhook(daemon!.url, textMessage({ from: '34600000041', text: 'y' }));
    await until(() => receiver.deliveries.length === 2);
    expect(receiver.deliveries[1]!.signature.split(' ')).toHaveLength(1);
    expect(() =>
      new Webhook(secret).verify(receiver.deliveries[1]!.body, {
        'webhook-id': receiver.deliveries[1]!.webhookId,
        'webhook-timestamp': receiver.deliveries[1]!.timestamp,
        'webhook-signature': receiver.deliveries[1]!.signature,
      }),
    ).not.toThrow();
  });
  it('serves the same through the HTTP API to admin tokens only, with clear errors for bad requests', async () => {
    await start();
    const api = (path: string, init: RequestInit & { token?: string } = {}) =>
      fetch(`${daemon!.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${init.token ?? 'admin-token'}`, ...(init.headers ?? {}) },
      });
    const json = { 'content-type': 'application/json' };
    const { createToken } = await import('../../src/privacy/tokens.js');
    const { token: readToken } = await createToken(store, { name: 'grafana', scope: 'read' });
    expect((await api('/webhooks', { token: readToken })).status).toBe(403);
    expect((await api('/webhooks', { token: 'wrong' })).status).toBe(401);

    const bad = async (body: string, headers: Record<string, string> = json) => {
      const res = await api('/webhooks', { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
    };
    expect(await bad('{"url":')).toMatchObject({ status: 400, body: { error: { code: 'bad_json' } } });
    expect(await bad('url=x', { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({ status: 415 });
    expect(await bad(JSON.stringify({ url: receiver.url, allow_http: true, color: 'red' }))).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('unknown field color') } },
    });
    expect(await bad(JSON.stringify({ url: receiver.url }))).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/plain http/) } },
    });
    expect(await bad(JSON.stringify({ url: receiver.url, allow_http: true, include_content: 'yes' }))).toMatchObject({
      status: 400,
    });
    expect(await bad(JSON.stringify({ url: 'x'.repeat(70_000) }))).toMatchObject({ status: 413 });

    const created = await api('/webhooks', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        url: receiver.url,
        allow_http: true,
        events: ['message.received'],
        include_content: true,
      }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { endpoint, secret } = (await created.json()) as { endpoint: { id: number }; secret: string };
    receiver.secrets.push(secret);
    const listed = (await (await api('/webhooks')).json()) as { endpoints: Record<string, unknown>[] };
    expect(listed.endpoints).toEqual([
      expect.objectContaining({ id: endpoint.id, events: ['message.received'], include_content: true, enabled: true }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(secret.slice(6));

    const tested = (await (await api(`/webhooks/${endpoint.id}/test`, { method: 'POST' })).json()) as Record<
      string,
      unknown
    >;
    expect(tested).toMatchObject({ delivered: true, state: 'delivered', http_status: 200 });
    // With --include-content, message events carry the text.
    await postWebhook(daemon!.url, textMessage({ from: '34600000050', text: 'Texto completo' }));
    await until(() => receiver.unique().some((d) => d.event.type === 'message.received'));
    expect(receiver.unique().find((d) => d.event.type === 'message.received')!.event.data.content).toBe(
      'Texto completo',
    );

    // The receiver has it; the daemon records the attempt right after its answer.
    type Log = { deliveries: { id: number; webhook_id: string; state: string }[] };
    let log: Log = { deliveries: [] };
    await until(async () => {
      log = (await (await api(`/webhooks/${endpoint.id}/deliveries`)).json()) as Log;
      return log.deliveries.every((d) => d.state !== 'delivering');
    });
    expect(log.deliveries.map((d) => d.state)).toEqual(['delivered', 'delivered']);
    const again = (await (
      await api(`/webhooks/deliveries/${log.deliveries[0]!.id}/redeliver`, { method: 'POST' })
    ).json()) as Record<string, unknown>;
    expect(again).toMatchObject({ delivered: true, state: 'delivered' });
    expect(receiver.deliveries.at(-1)!.webhookId).toBe(log.deliveries[0]!.webhook_id);
    expect((await api('/webhooks/deliveries?failed=maybe')).status).toBe(400);
    expect((await api('/webhooks/9999/test', { method: 'POST' })).status).toBe(404);
    expect((await api('/webhooks/abc', { method: 'DELETE' })).status).toBe(400);
    const rotated = (await (await api(`/webhooks/${endpoint.id}/rotate-secret`, { method: 'POST' })).json()) as {
      secret: string;
    };
    expect(rotated.secret).toMatch(/^whsec_/);

    // Closing a conversation: admin only; 404 when none is open.
    const close = (waId: string, token?: string) =>
      api(`/clients/${clientId}/conversations/${waId}/close`, { method: 'POST', token });
    expect((await close('34600000050', readToken)).status).toBe(403);
    const closed = await close('34600000050');
    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({ closed: true, conversation: { end_reason: 'closed' } });
    expect((await close('34600000050')).status).toBe(404);
    const sessions = (await (await api(`/clients/${clientId}/sessions`, { token: readToken })).json()) as {
      total_sessions: number;
    };
    expect(sessions.total_sessions).toBe(1);
    expect((await api(`/webhooks/${endpoint.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api('/webhooks')).status).toBe(200);
  });

  it('refuses to deliver to a private address unless allowed, and filters by event and client', async () => {
    // Allowed when added (the test sets WA_REPORT_WEBHOOKS_ALLOW_PRIVATE), not when sent: the daemon refuses.
    const endpoint = await subscribe('message.received');
    await start({ WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '0', WA_REPORT_WEBHOOK_RETRY: '100ms' });
    await postWebhook(daemon!.url, textMessage({ from: '34600000060', text: 'x' }));
    await until(async () => (await store.deliveries.list({ endpointId: endpoint.id, failed: true })).length === 1);
    const [dead] = await store.deliveries.list({ endpointId: endpoint.id, failed: true });
    expect(dead!.attemptLog[0]!.error).toMatch(/refused: 127\.0\.0\.1 is a loopback, private or link-local address/);
    expect(receiver.deliveries).toHaveLength(0);
    await daemon!.close();
    daemon = null;

    // Another client's events and unsubscribed types never reach an endpoint.
    await store.webhooks.remove(endpoint.id);
    const other = await store.clients.create({
      name: 'Other',
      phoneNumber: '+15550000001',
      phoneNumberId: '999000111',
    });
    await subscribe('conversation.started', { clientId: other.id });
    await start();
    await postWebhook(daemon!.url, textMessage({ from: '34600000061', text: 'x' }));
    await postWebhook(daemon!.url, textMessage({ from: '34600000062', text: 'y', phoneNumberId: '999000111' }));
    await until(() => receiver.deliveries.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(types(receiver)).toEqual(['conversation.started']);
    expect(receiver.deliveries[0]!.event.data.client_id).toBe(other.id);
    // Nothing was written for events no endpoint wants.
    const events = await sql(store).all<{ type: string }>('SELECT type FROM events ORDER BY id');
    expect(events.map((e) => e.type)).toEqual(['message.received', 'conversation.started']);
  });

  it('notifies an answer the model could not produce (message.failed from openai)', async () => {
    await subscribe('message.failed');
    model.behave({ kind: 'error', status: 400, code: 'context_length_exceeded', message: 'too long' });
    await start();
    await postWebhook(daemon!.url, textMessage({ from: '34600000070', text: 'x' }));
    await until(() => receiver.deliveries.length === 1);
    expect(receiver.deliveries[0]!.event.data).toMatchObject({
      role: 'assistant',
      service: 'openai',
      error: { code: 400, title: 'context_length_exceeded' },
    });
  });

  it('reports the outbox in /metrics, and an outbox that does not move in /healthz', async () => {
    const e = await subscribe('message.received');
    receiver.answer = () => ({ status: 500 });
    await start({ WA_REPORT_WEBHOOK_RETRY: '100ms,100ms' });
    await postWebhook(daemon!.url, textMessage({ from: '34600000080', text: 'x' }));
    await until(async () => (await store.deliveries.list({ endpointId: e.id, failed: true })).length === 1);
    // The outbox gauges are refreshed by the daemon's watch (every 100 ms here, 5 s by default).
    await until(async () => /wa_report_outbox_depth 0/.test(await (await fetch(`${daemon!.url}/metrics`)).text()));
    const metrics = await (await fetch(`${daemon!.url}/metrics`)).text();
    expect(metrics).toMatch(/wa_report_webhook_deliveries_total\{outcome="retry"\} 2/);
    expect(metrics).toMatch(/wa_report_webhook_deliveries_total\{outcome="dead"\} 1/);
    expect(metrics).toMatch(/wa_report_webhook_delivery_seconds_count 3/);
    expect(metrics).toMatch(/wa_report_outbox_depth 0/);
    const healthy = (await (await fetch(`${daemon!.url}/healthz`)).json()) as Record<string, unknown>;
    expect(healthy).toMatchObject({ status: 'ok', outbox: 'ok', outbox_depth: 0 });
    // A delivery due for 11 minutes that nobody sends (the worker stopped): unhealthy.
    await daemon!.worker.close(1000);
    await sql(store).run(
      `INSERT INTO webhook_deliveries
         (event_id, endpoint_id, ordering_key, state, attempts, next_attempt_at, created_at)
       SELECT event_id, endpoint_id, 'stuck', 'pending', 0, ?, ? FROM webhook_deliveries LIMIT 1`,
      [new Date(Date.now() - 11 * 60_000), new Date(Date.now() - 11 * 60_000)],
    );
    await until(async () => (await fetch(`${daemon!.url}/healthz`)).status === 503);
    const sick = (await (await fetch(`${daemon!.url}/healthz`)).json()) as { problems: string[]; outbox: string };
    expect(sick.outbox).toBe('stuck');
    expect(sick.problems[0]).toMatch(/outbox: a delivery due since .* has not been sent/);
    expect(await (await fetch(`${daemon!.url}/metrics`)).text()).toMatch(/wa_report_outbox_depth 1/);
  });
});
