// `wa-report webhooks …`, `conversations --sessions|close` and the clients' conversation flags as
// a user runs them: exit codes, messages, what reaches a receiver (verified with standardwebhooks).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import type { NewMessage } from '../../src/domain/types.js';
import { runCli } from '../helpers/cli.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { recordMessages, sql } from '../helpers/store.js';

const PRIVATE = { WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '1', WA_REPORT_WEBHOOK_RETRY: '1s' };

describe.each(databaseKinds)('webhooks commands on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let receiver: Receiver;
  let clientId: number;
  const cli = (args: string[], env: Record<string, string> = PRIVATE) =>
    runCli(['--db', db.url, ...args], { env, timeoutMs: 60_000 });

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    clientId = (
      await store.clients.create({ name: 'Released', phoneNumber: '+15556383785', phoneNumberId: '106540352242922' })
    ).id;
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await store.close();
    await db.drop();
  });
  beforeEach(() => {
    receiver.answer = () => ({ status: 200 });
  });

  it('refuses bad endpoints with a message that says how to fix them', async () => {
    const privateAddress = await cli(['webhooks', 'add', '--url', 'https://127.0.0.1:9/hooks'], {});
    expect(privateAddress.code).toBe(2);
    expect(privateAddress.stderr).toMatch(/loopback, private or link-local.*WA_REPORT_WEBHOOKS_ALLOW_PRIVATE=1/s);
    const local = await cli(['webhooks', 'add', '--url', 'https://localhost:9/hooks'], {});
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/localhost resolves to .*private/);
    const http = await cli(['webhooks', 'add', '--url', receiver.url]);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/plain http.*https:\/\/.*--allow-http/s);
    const events = await cli([
      'webhooks',
      'add',
      '--url',
      receiver.url,
      '--allow-http',
      '--events',
      'message.recieved',
    ]);
    expect(events.code).toBe(2);
    expect(events.stderr).toMatch(/unknown event "message.recieved".*message\.received/s);
    const notUrl = await cli(['webhooks', 'add', '--url', 'hooks.example.com']);
    expect(notUrl.stderr).toMatch(/not a URL/);
    const credentials = await cli(['webhooks', 'add', '--url', 'https://user:pw@example.com/x']);
    expect(credentials.stderr).toMatch(/credentials in the URL/);
    const client = await cli(['webhooks', 'add', '--url', receiver.url, '--allow-http', '--client-id', '999']);
    expect(client.code).toBe(3);
    expect(await store.webhooks.list()).toEqual([]);
  });

  it('adds an endpoint (secret once), tests it, logs each attempt, redelivers with the same id', async () => {
    const added = await cli(['webhooks', 'add', '--url', receiver.url, '--allow-http', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const { endpoint, secret } = JSON.parse(added.stdout) as {
      endpoint: { id: number; events: string[] };
      secret: string;
    };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint.events).toEqual(['*']);
    expect(added.stderr).toMatch(/shown only now/);
    receiver.secrets.push(secret);
    // The secret is never shown again.
    const list = await cli(['webhooks', 'list', '--json']);
    expect(list.stdout).not.toContain(secret.slice(6));

    const test = await cli(['webhooks', 'test', String(endpoint.id)]);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stderr).toMatch(/delivered \(HTTP 200, \d+ ms\)/);
    expect(receiver.deliveries).toHaveLength(1);
    expect(receiver.deliveries[0]!.verifiedWith).toBe(0);
    expect(receiver.deliveries[0]!.event).toMatchObject({ type: 'webhook.test', data: { endpoint_id: endpoint.id } });

    // A receiver that fails: exit 1, the delivery stays for the daemon's retries.
    receiver.answer = () => ({ status: 503, body: 'maintenance' });
    const failing = await cli(['webhooks', 'test', String(endpoint.id)]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/not delivered: HTTP 503.*tries again/s);

    const log = await cli(['webhooks', 'deliveries', String(endpoint.id)]);
    const lines = log.stdout.trim().split('\n');
    expect(lines[0]).toBe('delivery\tendpoint\tevent\twebhook-id\tattempted\tresult\tlatency\tstate');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/\twebhook\.test\tevt_[\w-]{24}\t\S+Z\t503\t\d+\tpending$/);
    expect(lines[2]).toMatch(/\twebhook\.test\tevt_[\w-]{24}\t\S+Z\t200\t\d+\tdelivered$/);
    const json = JSON.parse((await cli(['webhooks', 'deliveries', '--json'])).stdout) as {
      deliveries: { id: number; webhook_id: string; attempt_log: { http_status: number; response: string }[] }[];
    };
    expect(json.deliveries[0]!.attempt_log[0]).toMatchObject({ http_status: 503, response: 'maintenance' });

    // Redeliver the delivered one: the same webhook-id again.
    receiver.answer = () => ({ status: 200 });
    const delivered = json.deliveries[1]!;
    const again = await cli(['webhooks', 'redeliver', String(delivered.id)]);
    expect(again.code, again.stderr).toBe(0);
    expect(receiver.deliveries.at(-1)!.webhookId).toBe(delivered.webhook_id);
    expect((await cli(['webhooks', 'redeliver', '424242'])).code).toBe(3);
    expect((await cli(['webhooks', 'redeliver', 'x'])).stderr).toMatch(/delivery id/);

    // Rotation: the new secret is printed once; both sign for a day.
    const rotated = await cli(['webhooks', 'rotate-secret', String(endpoint.id)]);
    expect(rotated.code).toBe(0);
    const fresh = rotated.stdout.trim();
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(secret);
    expect(rotated.stderr).toMatch(/For 24 hours/);
    await cli(['webhooks', 'test', String(endpoint.id)]);
    const last = receiver.deliveries.at(-1)!;
    expect(last.signature.split(' ')).toHaveLength(2);
    expect(last.verifiedWith).toBe(0);
    const { Webhook } = await import('standardwebhooks');
    const headers = {
      'webhook-id': last.webhookId,
      'webhook-timestamp': last.timestamp,
      'webhook-signature': last.signature,
    };
    expect(() => new Webhook(fresh).verify(last.body, headers)).not.toThrow();
    expect(() => new Webhook(secret).verify(last.body, headers)).not.toThrow();

    // Disable, enable, remove.
    expect((await cli(['webhooks', 'disable', String(endpoint.id)])).code).toBe(0);
    expect((await store.webhooks.get(endpoint.id)).disabledReason).toBe('disabled by hand');
    expect((await cli(['webhooks', 'enable', String(endpoint.id)])).code).toBe(0);
    expect((await store.webhooks.get(endpoint.id)).disabledAt).toBeNull();
    const removed = await cli(['webhooks', 'remove', String(endpoint.id)]);
    expect(removed.stderr).toMatch(/Removed webhook endpoint/);
    expect((await cli(['webhooks', 'test', String(endpoint.id)])).code).toBe(3);
  });

  it('lists sessions, closes a conversation (conversation.ended, reason closed), validates client flags', async () => {
    const idle = await cli([
      'clients',
      'update',
      String(clientId),
      '--conversation-idle',
      '30m',
      '--quote-replies',
      'never',
      '--handoff',
      '2h',
      '--json',
    ]);
    expect(idle.code, idle.stderr).toBe(0);
    expect(JSON.parse(idle.stdout)).toMatchObject({
      conversation_idle_seconds: 1800,
      quote_replies: 'never',
      handoff: '2h',
    });
    const bad = await cli([
      'clients',
      'update',
      String(clientId),
      '--conversation-idle',
      '10x',
      '--quote-replies',
      'sometimes',
      '--handoff',
      'later',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--conversation-idle.*"10x" is not a period/);
    expect(bad.stderr).toMatch(/--quote-replies.*"sometimes" must be auto, always or never/);
    expect(bad.stderr).toMatch(/--handoff.*"later" must be off, until-end or a period/);

    const added = await cli([
      'webhooks',
      'add',
      '--url',
      receiver.url,
      '--allow-http',
      '--events',
      'conversation.ended,contact.erased',
      '--json',
    ]);
    const endpointId = (JSON.parse(added.stdout) as { endpoint: { id: number } }).endpoint.id;
    const t0 = Date.now() - 50 * 60_000;
    const m = (waId: string, minutes: number, role: NewMessage['role'] = 'user'): NewMessage => ({
      clientId,
      phoneNumberId: '106540352242922',
      waId,
      role,
      type: 'text',
      content: `hola ${minutes}`,
      wamid: `wamid.sessions.${waId}.${minutes}.${role}`,
      createdAt: new Date(t0 + minutes * 60_000),
    });
    // One user: two sessions (a gap of 40 min > 30 min), the second still open (its last message is recent).
    await recordMessages(store, [
      m('34600000001', 0),
      m('34600000001', 1, 'agent'),
      m('34600000001', 41),
      m('34600000001', 45),
    ]);
    const sessions = await cli(['conversations', '--client-id', String(clientId), '--sessions', '--json']);
    expect(sessions.code, sessions.stderr).toBe(0);
    const doc = JSON.parse(sessions.stdout) as { total_sessions: number; sessions: Record<string, unknown>[] };
    expect(doc.total_sessions).toBe(2);
    expect(doc.sessions[1]).toMatchObject({
      end_reason: 'idle',
      messages: { user: 1, assistant: 0, agent: 1 },
      first_response_seconds: 60,
    });
    expect(doc.sessions[0]).toMatchObject({ ended_at: null, end_reason: null });
    const text = await cli(['conversations', '--client-id', String(clientId), '--sessions']);
    expect(text.stdout.split('\n')[0]).toBe(
      'session\twa_id\tcontact\tstarted\tended\twhy\tlength\tuser\tassistant\tagent\tfirst_response\thandoff',
    );

    const closed = await cli(['conversations', 'close', '--client-id', String(clientId), '--wa-id', '+34 600 000 001']);
    expect(closed.code, closed.stderr).toBe(0);
    expect(closed.stderr).toMatch(/Closed conversation \d+ with \+34600000001/);
    const again = await cli(['conversations', 'close', '--client-id', String(clientId), '--wa-id', '34600000001']);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/No open conversation/);
    const nobody = await cli(['conversations', 'close', '--client-id', String(clientId), '--wa-id', 'nadie']);
    expect(nobody.code).toBe(2);
    // The CLI queued the events (the daemon would send them): idle end and close, in order.
    const queued = await sql(store).all<{ type: string; payload: string }>(
      `SELECT ev.type, ev.payload FROM events ev JOIN webhook_deliveries d ON d.event_id = ev.id
       WHERE d.endpoint_id = ? ORDER BY ev.id`,
      [endpointId],
    );
    expect(queued.map((q) => q.type)).toEqual(['conversation.ended', 'conversation.ended']);
    expect(queued.map((q) => (JSON.parse(q.payload) as { reason: string }).reason)).toEqual(['idle', 'closed']);

    // Erase: the contact's undelivered events lose their data and are cancelled; contact.erased carries a hash.
    const erased = await cli(['contact', 'erase', '--wa-id', '34600000001', '--force']);
    expect(erased.code, erased.stderr).toBe(0);
    const after = await sql(store).all<{ type: string; payload: string | null; state: string }>(
      `SELECT ev.type, ev.payload, d.state FROM events ev JOIN webhook_deliveries d ON d.event_id = ev.id
       WHERE d.endpoint_id = ? ORDER BY ev.id`,
      [endpointId],
    );
    expect(after.slice(0, 2)).toEqual([
      { type: 'conversation.ended', payload: null, state: 'cancelled' },
      { type: 'conversation.ended', payload: null, state: 'cancelled' },
    ]);
    expect(after[2]!.type).toBe('contact.erased');
    expect(after[2]!.state).toBe('pending');
    expect(after[2]!.payload).not.toContain('34600000001');
    expect(JSON.parse(after[2]!.payload!)).toMatchObject({
      wa_id_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      erased: { messages: 4 },
    });
  });
  it('keeps webhook secrets and event data sealed at rest with an encryption key', async () => {
    const own = await kind.create();
    const key = (await runCli(['keys', 'generate'])).stdout.trim();
    const env = { ...PRIVATE, WA_REPORT_ENCRYPTION_KEY: key };
    const run = (args: string[]) => runCli(['--db', own.url, ...args], { env, timeoutMs: 60_000 });
    try {
      const added = await run(['webhooks', 'add', '--url', receiver.url, '--allow-http', '--json']);
      expect(added.code, added.stderr).toBe(0);
      const { endpoint, secret } = JSON.parse(added.stdout) as { endpoint: { id: number }; secret: string };
      receiver.secrets.push(secret);
      const before = receiver.deliveries.length;
      expect((await run(['webhooks', 'test', String(endpoint.id)])).code).toBe(0);
      expect(receiver.deliveries[before]!.verifiedWith).not.toBeNull();
      const check = await openStore(own.target);
      try {
        const [row] = await sql(check).all<{ secret: string }>('SELECT secret FROM webhook_endpoints');
        expect(row!.secret).toMatch(/^enc:v1:/);
        expect(row!.secret).not.toContain(secret.slice(6, 20));
        const [event] = await sql(check).all<{ payload: string }>('SELECT payload FROM events');
        expect(event!.payload).toMatch(/^enc:v1:/);
      } finally {
        await check.close();
      }
      // Without the key: refused with a message naming it, not garbage.
      const without = await runCli(['--db', own.url, 'webhooks', 'test', String(endpoint.id)], { env: PRIVATE });
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(/WA_REPORT_ENCRYPTION_KEY/);
    } finally {
      await own.drop();
    }
  });
});
