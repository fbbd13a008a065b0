// The Graph client against a real HTTP stand-in: what it sends, what it retries, and above all
// what it refuses to retry because the user could get the same answer twice.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient, type GraphClientOptions } from '../../src/whatsapp/graph.js';
import { describeGraphError, GraphError } from '../../src/whatsapp/graph-error.js';
import { MAX_TEXT_LENGTH, splitMessageText } from '../../src/whatsapp/text-parts.js';
import { startGraphStandIn, type GraphStandIn } from '../helpers/standins.js';

const TOKEN = 'EAAG-secret-graph-token-123';
const PHONE_NUMBER_ID = '106540352242922';

let graph: GraphStandIn;
let sleeps: number[];

function client(overrides: Partial<GraphClientOptions> = {}): GraphClient {
  return new GraphClient({
    baseUrl: graph.url,
    accessToken: TOKEN,
    timeoutMs: 2_000,
    backoffMs: { base: 10, max: 100 },
    // Records the backoff instead of waiting it: the retry decisions are what is under test.
    sleep: async (ms) => void sleeps.push(ms),
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
  }
  throw new Error('expected a GraphError');
}

const send = (c: GraphClient, body = 'Hola, ¿en qué te ayudo?') =>
  c.sendText({ phoneNumberId: PHONE_NUMBER_ID, to: '+34612345678', body });
const messageRequests = () => graph.requests.filter((r) => r.path.endsWith('/messages'));

beforeAll(async () => {
  graph = await startGraphStandIn({ token: TOKEN });
});
afterAll(async () => {
  await graph.close();
});
afterEach(() => {
  graph.requests.length = 0;
  graph.behave(null);
  sleeps = [];
});
sleeps = [];

describe('GraphClient.sendText', () => {
  it('posts a text message with the Bearer token and returns the wamid', async () => {
    const result = await client().sendText({
      phoneNumberId: PHONE_NUMBER_ID,
      to: '+34612345678',
      body: 'Abrimos a las 9',
      replyToWamid: 'wamid.inbound.1',
    });
    expect(result.wamid).toMatch(/^wamid\.standin\.\d+$/);
    expect(result.wamids).toEqual([result.wamid]);
    expect(result.attempts).toBe(1);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(graph.sent()).toHaveLength(1);
    const [req] = graph.sent();
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(`/v26.0/${PHONE_NUMBER_ID}/messages`);
    expect(req!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+34612345678',
      type: 'text',
      text: { body: 'Abrimos a las 9', preview_url: false },
      context: { message_id: 'wamid.inbound.1' },
    });
  });

  it('sends no context when it is not a reply, and accepts a base URL with a trailing slash', async () => {
    await client({ baseUrl: `${graph.url}/` }).sendText({
      phoneNumberId: PHONE_NUMBER_ID,
      to: '34612345678',
      body: 'hola',
      replyToWamid: null,
    });
    expect(graph.sent()[0]!.path).toBe(`/v26.0/${PHONE_NUMBER_ID}/messages`);
    expect(graph.sent()[0]!.body).not.toHaveProperty('context');
  });

  it('does not retry 131047 (re-engagement window) and explains it', async () => {
    graph.behave({
      kind: 'error',
      status: 400,
      code: 131047,
      title: 'Re-engagement message',
      details:
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    });
    const e = await failure(send(client()));
    expect(messageRequests()).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(e).toMatchObject({
      service: 'whatsapp',
      status: 400,
      code: 131047,
      title: 'Re-engagement message',
      retryable: false,
      ambiguous: false,
      attempts: 1,
    });
    expect(e.fbtraceId).toMatch(/^AStandIn/);
    const text = describeGraphError(e);
    expect(text).toMatch(/^WhatsApp 131047 Re-engagement message: .*24 hours/);
    expect(text).toMatch(/template/);
    expect(e.message).toBe(text);
  });

  it.each([
    [131026, 'Message undeliverable'],
    [100, 'Invalid parameter'],
    [131030, 'Recipient phone number not in allowed list'],
    [131048, 'Spam rate limit hit'],
  ])('does not retry client error %i', async (code, title) => {
    graph.behave({ kind: 'error', status: 400, code, title });
    const e = await failure(send(client()));
    expect(e).toMatchObject({ code, retryable: false, ambiguous: false, attempts: 1 });
    expect(messageRequests()).toHaveLength(1);
  });

  it('retries a 500 and sends the message once', async () => {
    graph.behave([{ kind: 'error', status: 500, code: 131000, title: 'Something went wrong' }]);
    const result = await send(client());
    expect(result.attempts).toBe(2);
    expect(messageRequests()).toHaveLength(2);
    expect(graph.sent()).toHaveLength(1);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeLessThanOrEqual(10); // full jitter: between 0 and base
  });

  it('gives up after maxAttempts on a persistent 503 and says it may be retried later', async () => {
    graph.behave({ kind: 'error', status: 503, code: 2, title: 'Service temporarily unavailable' });
    const e = await failure(send(client({ maxAttempts: 3 })));
    expect(messageRequests()).toHaveLength(3);
    expect(e).toMatchObject({ status: 503, code: 2, retryable: true, ambiguous: false, attempts: 3 });
    expect(describeGraphError(e)).toMatch(/after 3 attempts/);
    // Exponential: ceilings 10, 20.
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeLessThanOrEqual(20);
  });

  it('waits as long as Retry-After asks on 130429 (capped), then sends', async () => {
    graph.behave([
      {
        kind: 'error',
        status: 400,
        code: 130429,
        title: 'Rate limit hit',
        details: 'Cloud API message throughput has been reached.',
        retryAfter: 2,
      },
    ]);
    const result = await send(client());
    expect(result.attempts).toBe(2);
    expect(graph.sent()).toHaveLength(1);
    expect(sleeps).toEqual([2_000]);

    graph.behave([{ kind: 'error', status: 400, code: 130429, title: 'Rate limit hit', retryAfter: 3600 }]);
    sleeps = [];
    await send(client({ maxRetryAfterMs: 5_000 }));
    expect(sleeps).toEqual([5_000]);
  });

  it('backs off longer on rate limits without Retry-After (HTTP 429, 131056 pair rate limit)', async () => {
    graph.behave([
      { kind: 'error', status: 400, code: 131056, title: '(Business Account, Consumer Account) pair rate limit hit' },
      { kind: 'error', status: 429, code: 80007, title: 'Rate limit issues' },
    ]);
    const result = await send(client({ backoffMs: { base: 10, max: 1_000 } }));
    expect(result.attempts).toBe(3);
    // Ceilings 40 then 160; never less than half of them.
    expect(sleeps[0]).toBeGreaterThanOrEqual(20);
    expect(sleeps[0]).toBeLessThanOrEqual(40);
    expect(sleeps[1]).toBeGreaterThanOrEqual(80);
    expect(sleeps[1]).toBeLessThanOrEqual(160);
  });

  it('retries a refused connection (nothing was sent), then fails with a clear error', async () => {
    const closed = await closedPort();
    const e = await failure(
      new GraphClient({
        baseUrl: `http://127.0.0.1:${closed}/v26.0`,
        accessToken: TOKEN,
        maxAttempts: 3,
        backoffMs: { base: 5, max: 20 },
        sleep: async (ms) => void sleeps.push(ms),
      }).sendText({ phoneNumberId: PHONE_NUMBER_ID, to: '+34612345678', body: 'hola' }),
    );
    expect(e).toMatchObject({
      status: null,
      code: null,
      title: 'Connection refused',
      retryable: true,
      ambiguous: false,
      attempts: 3,
    });
    expect(sleeps).toHaveLength(2);
    expect(describeGraphError(e)).toMatch(
      /^WhatsApp unreachable: Connection refused: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(after 3 attempts\)$/,
    );
  });

  it('does not resend after a timeout: the message may have gone out', async () => {
    // WhatsApp accepts the message but answers too late for the client.
    graph.behave({ kind: 'delay', ms: 600, then: { kind: 'ok' } });
    const started = Date.now();
    const e = await failure(send(client({ timeoutMs: 150 })));
    expect(Date.now() - started).toBeLessThan(550);
    expect(e).toMatchObject({ title: 'Timeout', retryable: false, ambiguous: true, attempts: 1 });
    expect(messageRequests()).toHaveLength(1);
    expect(describeGraphError(e)).toMatch(/outcome unknown.*within 150 ms.*may have been delivered/);
    await new Promise((r) => setTimeout(r, 600));
    expect(graph.sent()).toHaveLength(1); // exactly one message reached the user, none duplicated
  });

  it('does not resend when the request hangs', async () => {
    graph.behave({ kind: 'hang' });
    const e = await failure(send(client({ timeoutMs: 150 })));
    expect(e).toMatchObject({ ambiguous: true, retryable: false });
    expect(messageRequests()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not resend when the connection closes after the request', async () => {
    graph.behave({ kind: 'close' });
    const e = await failure(send(client()));
    expect(e).toMatchObject({ title: 'Connection lost', status: null, ambiguous: true, retryable: false, attempts: 1 });
    expect(describeGraphError(e)).toMatch(/other side closed after the request was sent/);
    expect(messageRequests()).toHaveLength(1);
  });

  it('does not resend when the 200 arrives but its body stalls', async () => {
    graph.behave({ kind: 'stall' });
    const e = await failure(send(client({ timeoutMs: 150 })));
    expect(e).toMatchObject({ status: 200, title: 'Answer lost', ambiguous: true, retryable: false });
    expect(messageRequests()).toHaveLength(1);
  });

  it('treats a 2xx without messages[0].id as ambiguous', async () => {
    graph.behave({
      kind: 'ok',
      body: { messaging_product: 'whatsapp', contacts: [{ input: '+34612345678', wa_id: '34612345678' }] },
    });
    const e = await failure(send(client()));
    expect(e).toMatchObject({ status: 200, ambiguous: true, retryable: false, title: 'No message id' });
    expect(messageRequests()).toHaveLength(1);
  });

  it(
    'handles garbage bodies: HTML with 200 is ambiguous, HTML with 503 is retried, ' + 'a proxy 504 is ambiguous',
    async () => {
      graph.behave({ kind: 'garbage' });
      let e = await failure(send(client()));
      expect(e).toMatchObject({ status: 200, ambiguous: true });
      expect(e.details).toMatch(/text\/html body: Sorry, something went wrong\./);

      graph.requests.length = 0;
      graph.behave([{ kind: 'garbage', status: 503, body: '' }]);
      expect((await send(client())).attempts).toBe(2);

      graph.requests.length = 0;
      graph.behave({ kind: 'garbage', status: 504, body: '<html>Gateway Time-out</html>' });
      e = await failure(send(client()));
      expect(e).toMatchObject({ status: 504, code: null, ambiguous: true, retryable: false });
      expect(messageRequests()).toHaveLength(1);
    },
  );

  it('never puts the access token in errors', async () => {
    // A wrong token: the stand-in answers 401 / Graph 190, not retried.
    const bad = 'EAAG-wrong-token-456';
    const e = await failure(
      client({ accessToken: bad }).sendText({ phoneNumberId: PHONE_NUMBER_ID, to: '+34612345678', body: 'hola' }),
    );
    expect(e).toMatchObject({ status: 401, code: 190, retryable: false });
    expect(describeGraphError(e)).toMatch(/WHATSAPP_ACCESS_TOKEN/);
    // A proxy echoing the request headers back.
    graph.behave({ kind: 'garbage', status: 400, body: `<pre>Authorization: Bearer ${TOKEN}</pre>` });
    const echoed = await failure(send(client()));
    for (const err of [e, echoed]) {
      const everything = `${err.message} ${describeGraphError(err)} ${JSON.stringify(err)} ${err.stack}`;
      expect(everything).not.toContain(bad);
      expect(everything).not.toContain(TOKEN);
    }
    expect(echoed.details).toContain('[redacted]');
  });

  it('splits a body over 4096 characters into numbered messages sent in order; only the first is a reply', async () => {
    const paragraph = 'Nuestro horario de verano es de lunes a viernes de 9 a 14 h. '.repeat(20).trim();
    const body = Array.from({ length: 6 }, (_, i) => `${i + 1}. ${paragraph}`).join('\n\n'); // ≈ 7.4k chars
    const result = await client().sendText({
      phoneNumberId: PHONE_NUMBER_ID,
      to: '+34612345678',
      body,
      replyToWamid: 'wamid.q',
    });
    const sent = graph.sent();
    expect(sent).toHaveLength(2);
    expect(result.wamids).toEqual(sent.map((r) => r.wamid));
    expect(result.wamid).toBe(result.wamids[0]);
    const bodies = sent.map((r) => (r.body as { text: { body: string } }).text.body);
    for (const b of bodies) expect(b.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(bodies[0]).toMatch(/^1\. Nuestro/);
    expect(bodies[0]).toMatch(/\n\n\(1\/2\)$/);
    expect(bodies[1]).toMatch(/\n\n\(2\/2\)$/);
    // Split at a paragraph boundary, nothing lost.
    expect(bodies.map((b) => b.replace(/\n\n\(\d\/2\)$/, '')).join('\n\n')).toBe(body);
    expect((sent[0]!.body as { context: unknown }).context).toEqual({ message_id: 'wamid.q' });
    expect(sent[1]!.body).not.toHaveProperty('context');
  });

  it('reports which parts were already sent when a later part fails', async () => {
    graph.behave((n) =>
      n === 2 ? { kind: 'error', status: 400, code: 131026, title: 'Message undeliverable' } : null,
    );
    const e = await failure(send(client(), 'x '.repeat(3000)));
    expect(e.sentWamids).toHaveLength(1);
    expect(e.part).toEqual({ index: 2, total: 2 });
    expect(describeGraphError(e)).toMatch(/part 2 of 2; 1 part\(s\) already sent/);
  });

  it('refuses an empty body without calling Graph', async () => {
    const e = await failure(send(client(), '   '));
    expect(e).toMatchObject({ retryable: false, ambiguous: false, attempts: 0 });
    expect(graph.requests).toHaveLength(0);
  });

  it('stops when the caller aborts; an abort in flight is ambiguous', async () => {
    graph.behave({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const e = await failure(
      client().sendText({
        phoneNumberId: PHONE_NUMBER_ID,
        to: '+34612345678',
        body: 'hola',
        signal: controller.signal,
      }),
    );
    expect(e).toMatchObject({ title: 'Cancelled', ambiguous: true });
    expect(messageRequests()).toHaveLength(1);
  });
});

describe('GraphClient.markRead', () => {
  it('marks a message as read', async () => {
    await client().markRead({ phoneNumberId: PHONE_NUMBER_ID, wamid: 'wamid.inbound.9' });
    expect(graph.requests[0]!.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.inbound.9',
    });
    expect(graph.sent()).toHaveLength(0);
  });

  it('retries a lost connection, since marking twice is harmless', async () => {
    graph.behave([{ kind: 'close' }]);
    await client().markRead({ phoneNumberId: PHONE_NUMBER_ID, wamid: 'wamid.inbound.9' });
    expect(graph.requests).toHaveLength(2);
  });
});

describe('splitMessageText', () => {
  it('keeps short texts as they are and drops empty ones', () => {
    expect(splitMessageText('hola')).toEqual(['hola']);
    expect(splitMessageText('x'.repeat(MAX_TEXT_LENGTH))).toHaveLength(1);
    expect(splitMessageText(' \n ')).toEqual([]);
  });

  it('cuts a single long word without breaking a surrogate pair', () => {
    const parts = splitMessageText('😀'.repeat(3000)); // 6000 UTF-16 units
    expect(parts).toHaveLength(2);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
      expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
  });

  it('caps the number of parts and marks the cut', () => {
    const parts = splitMessageText('palabra '.repeat(5000), { maxParts: 3 }); // 40k chars
    expect(parts).toHaveLength(3);
    expect(parts[2]).toMatch(/shortened: the answer was too long for WhatsApp\]\n\n\(3\/3\)$/);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
  });
});

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
