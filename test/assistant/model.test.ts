// The model client through the real openai SDK, over HTTP, against the OpenAI stand-in.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  describeModelError,
  ModelClient,
  ModelError,
  type ChatTurn,
  type ModelClientOptions,
} from '../../src/assistant/model.js';
import { startModelStandIn, type ModelStandIn } from '../helpers/standins.js';

const API_KEY = 'sk-test-right-key-0123456789';

let openai: ModelStandIn;

function client(overrides: Partial<ModelClientOptions> = {}): ModelClient {
  return new ModelClient({
    apiKey: API_KEY,
    baseURL: openai.url,
    model: 'test-model',
    timeoutMs: 2_000,
    maxRetries: 2,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }
  throw new Error('expected a ModelError');
}

const turns: ChatTurn[] = [
  { role: 'system', content: 'You are the Released assistant.' },
  { role: 'user', content: 'Me llamo Ana' },
  { role: 'assistant', content: 'Hola, Ana' },
  { role: 'user', content: '¿Cómo me llamo?' },
];

beforeAll(async () => {
  openai = await startModelStandIn({ apiKey: API_KEY });
});
afterAll(async () => {
  await openai.close();
});
afterEach(() => {
  openai.requests.length = 0;
  openai.behave(null);
  openai.reply(null);
});

describe('ModelClient (chat completions)', () => {
  it('sends the system prompt and the turns in order, and returns text, model and usage', async () => {
    const result = await client({ temperature: 0.2, maxOutputTokens: 300 }).complete(turns);
    expect(result.text).toBe('Echo: ¿Cómo me llamo?');
    expect(result.model).toBe('test-model');
    expect(result.usage).toEqual({ input: expect.any(Number), output: expect.any(Number) });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(openai.requests).toHaveLength(1);
    const req = openai.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect((req.body as { messages: unknown }).messages).toEqual(turns);
    expect(req.body).toMatchObject({ model: 'test-model', temperature: 0.2, max_tokens: 300 });
    expect(req.body).not.toHaveProperty('stream', true);
  });

  it('uses the model given per call', async () => {
    const result = await client().complete(turns, { model: 'other-model' });
    expect((openai.requests[0]!.body as { model: unknown }).model).toBe('other-model');
    expect(result.model).toBe('other-model');
  });

  it('retries a 429 through the SDK, then answers', async () => {
    openai.behave([
      {
        kind: 'error',
        status: 429,
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: 'Rate limit reached for test-model',
        retryAfterMs: 20,
      },
    ]);
    const result = await client().complete(turns);
    expect(result.text).toBe('Echo: ¿Cómo me llamo?');
    expect(openai.requests).toHaveLength(2);
    expect(openai.requests[1]!.headers['x-stainless-retry-count']).toBe('1');
  });

  it('gives up on a persistent 500 after maxRetries with a retryable ModelError', async () => {
    openai.behave({
      kind: 'error',
      status: 500,
      type: 'server_error',
      code: 'internal',
      message: 'boom',
      retryAfterMs: 10,
    });
    const e = await failure(client({ maxRetries: 2 }).complete(turns));
    expect(openai.requests).toHaveLength(3);
    expect(e).toMatchObject({ service: 'openai', status: 500, code: 'internal', retryable: true });
    expect(describeModelError(e)).toBe('OpenAI 500 internal: boom (after 3 attempts)');
  });

  it('reports a rate limit in the form "OpenAI 429 rate_limit_exceeded: …"', async () => {
    openai.behave({
      kind: 'error',
      status: 429,
      type: 'requests',
      code: 'rate_limit_exceeded',
      message: 'Rate limit reached for test-model',
      retryAfterMs: 5,
    });
    const e = await failure(client({ maxRetries: 1 }).complete(turns));
    expect(describeModelError(e)).toMatch(/^OpenAI 429 rate_limit_exceeded: Rate limit reached for test-model/);
    expect(e.retryable).toBe(true);
  });

  it('does not retry insufficient_quota, nor sleep on a Retry-After of an hour', async () => {
    openai.behave({
      kind: 'error',
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      message: 'You exceeded your current quota.',
    });
    let e = await failure(client().complete(turns));
    expect(e).toMatchObject({ status: 429, code: 'insufficient_quota', retryable: false });
    expect(openai.requests).toHaveLength(1);
    expect(describeModelError(e)).toMatch(/billing/);

    openai.requests.length = 0;
    openai.behave({
      kind: 'error',
      status: 503,
      type: 'server_error',
      code: null,
      message: 'Overloaded',
      retryAfterMs: 3_600_000,
    });
    const started = Date.now();
    e = await failure(client().complete(turns));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(openai.requests).toHaveLength(1);
    expect(e).toMatchObject({ status: 503, code: 'server_error', retryable: true });
    expect(describeModelError(e)).toMatch(/asked to retry after 3600 s/);
  });

  it('times out quickly on a hanging server (retried by the SDK, then a timeout ModelError)', async () => {
    openai.behave({ kind: 'hang' });
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 200, maxRetries: 1 }).complete(turns));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3_000); // 2 × 200 ms plus one SDK backoff (≤ 0.5 s)
    expect(openai.requests).toHaveLength(2);
    expect(e).toMatchObject({ status: null, code: 'timeout', retryable: true });
    expect(describeModelError(e)).toBe('OpenAI timeout: no answer within 200 ms (2 attempts)');
  });

  it('does not wait forever for a body that stalls after the headers (the SDK timeout stops at headers)', async () => {
    openai.behave({ kind: 'stall' });
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 100, maxRetries: 0 }).complete(turns));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(e).toMatchObject({ code: 'timeout', retryable: true });
    expect(describeModelError(e)).toMatch(/no complete answer within 1 s/);
  });

  it('maps a dropped connection to connection_error', async () => {
    openai.behave({ kind: 'close' });
    const e = await failure(client({ maxRetries: 0 }).complete(turns));
    expect(e).toMatchObject({ status: null, code: 'connection_error', retryable: true });
    expect(describeModelError(e)).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/v1: other side closed/);
  });

  it('turns garbage into a clear invalid_response error, not a crash', async () => {
    openai.behave({ kind: 'garbage' });
    let e = await failure(client().complete(turns));
    expect(e).toMatchObject({ code: 'invalid_response', retryable: false, status: null });
    expect(describeModelError(e)).toMatch(/not a valid API response.*OPENAI_BASE_URL/);
    expect(openai.requests).toHaveLength(1);

    // An HTML page (a base URL without /v1 pointing at a web UI, say).
    openai.behave({ kind: 'garbage', contentType: 'text/html', body: '<html><body>LM Studio</body></html>' });
    e = await failure(client().complete(turns));
    expect(e.code).toBe('invalid_response');
    expect(describeModelError(e)).toMatch(/did not answer with a chat completion \(got: LM Studio\)/);
  });

  it('rejects an answer without choices or with empty content', async () => {
    openai.behave({ kind: 'empty' });
    let e = await failure(client().complete(turns));
    expect(e).toMatchObject({ code: 'invalid_response', retryable: false });
    expect(describeModelError(e)).toMatch(/no choices/);

    openai.behave({ kind: 'ok', text: '' });
    e = await failure(client().complete(turns));
    expect(e).toMatchObject({ code: 'empty_answer', retryable: false });

    openai.behave({ kind: 'ok', text: null, finishReason: 'length' });
    e = await failure(client({ maxOutputTokens: 50 }).complete(turns));
    expect(e.code).toBe('max_output_tokens');
    expect(describeModelError(e)).toMatch(/\(50\)/);
    expect(openai.requests).toHaveLength(3);
  });

  it('fails a wrong API key with a 401 that is not retried and never shows the key', async () => {
    const wrong = 'sk-test-wrong-key-9876543210';
    const e = await failure(client({ apiKey: wrong }).complete(turns));
    expect(openai.requests).toHaveLength(1);
    expect(e).toMatchObject({ status: 401, code: 'invalid_api_key', retryable: false });
    const text = describeModelError(e);
    expect(text).toMatch(/^OpenAI 401 invalid_api_key: Incorrect API key provided: \[redacted\].*check OPENAI_API_KEY/);
    const everything = `${text} ${e.message} ${JSON.stringify(e)} ${e.stack}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(wrong.slice(-4));
    expect(everything).not.toContain(API_KEY);
  });

  it('stops when the caller aborts', async () => {
    openai.behave({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const e = await failure(client().complete(turns, { signal: controller.signal }));
    expect(e).toMatchObject({ code: 'cancelled', retryable: false });
  });

  it('describes errors built elsewhere too', () => {
    expect(
      describeModelError(
        new ModelError('the model returned an empty answer', { status: null, code: 'empty_answer', retryable: false }),
      ),
    ).toBe('OpenAI empty_answer: the model returned an empty answer');
  });
});

describe('ModelClient (responses API)', () => {
  it('sends system turns as instructions and the rest as input, in order', async () => {
    openai.reply((req) => `Te llamas Ana (${(req.body as { input: unknown[] }).input.length} turns)`);
    const result = await client({ api: 'responses', maxOutputTokens: 200 }).complete(turns);
    expect(result.text).toBe('Te llamas Ana (3 turns)');
    expect(result.usage).toEqual({ input: expect.any(Number), output: expect.any(Number) });
    const req = openai.requests[0]!;
    expect(req.path).toBe('/v1/responses');
    expect(req.body).toMatchObject({
      model: 'test-model',
      instructions: 'You are the Released assistant.',
      store: false,
      max_output_tokens: 200,
    });
    expect((req.body as { input: unknown }).input).toEqual(turns.slice(1));
  });

  it('maps empty output, garbage and errors like the chat API', async () => {
    openai.behave({ kind: 'empty' });
    expect((await failure(client({ api: 'responses' }).complete(turns))).code).toBe('empty_answer');
    openai.behave({ kind: 'ok', text: null, finishReason: 'incomplete' });
    expect((await failure(client({ api: 'responses' }).complete(turns))).code).toBe('max_output_tokens');
    openai.behave({ kind: 'garbage' });
    expect((await failure(client({ api: 'responses' }).complete(turns))).code).toBe('invalid_response');
    openai.behave({
      kind: 'error',
      status: 400,
      type: 'invalid_request_error',
      code: 'model_not_found',
      message: 'The model `nope` does not exist',
    });
    const e = await failure(client({ api: 'responses' }).complete(turns));
    expect(e).toMatchObject({ status: 400, code: 'model_not_found', retryable: false });
    expect(describeModelError(e)).toMatch(/check OPENAI_MODEL/);
  });
});
