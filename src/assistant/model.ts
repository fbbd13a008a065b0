// The assistant's model, over the official openai SDK: Chat Completions by default (OpenAI and the
// OpenAI-compatible servers: Ollama, vLLM, LM Studio…), or the Responses API.
//
// Retries are the SDK's: 408/409/429/5xx and connection failures, exponential backoff, `maxRetries`
// times, `timeout` per attempt. Repeating a model call is harmless (nothing reaches the user), unlike
// a WhatsApp send. Two gaps of the SDK are closed here:
//   - it obeys any Retry-After, even an hour: longer than MAX_RETRY_AFTER_MS fails at once instead
//     (retryable, the message says how long OpenAI asked to wait); it also retries every 429, even
//     insufficient_quota, which waiting never fixes;
//   - its timeout stops at the response headers: a body that stalls is caught by an overall deadline.
// Everything thrown is a ModelError (never the SDK's classes), and no message carries the API key.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAI } from 'openai';
import { WaReportError } from '../errors.js';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelClientOptions {
  apiKey: string;
  /** An OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 for Ollama. Default: OpenAI. */
  baseURL?: string;
  model: string;
  /** 'chat' (default, works everywhere) or 'responses' (OpenAI's Responses API). */
  api?: 'chat' | 'responses';
  /** Per attempt. Default 30000. */
  timeoutMs?: number;
  /** SDK retries after the first attempt. Default 3. */
  maxRetries?: number;
  temperature?: number;
  maxOutputTokens?: number;
  fetch?: typeof fetch;
}

export interface Completion {
  text: string;
  model: string;
  latencyMs: number;
  usage?: { input: number; output: number };
}

export class ModelError extends WaReportError {
  readonly service = 'openai';
  /** HTTP status of the API's answer; null when there was none (timeout, connection) or it was unusable. */
  status: number | null;
  /**
   * OpenAI's error code (`rate_limit_exceeded`, `invalid_api_key`…) or ours: timeout, connection_error,
   * invalid_response, empty_answer, max_output_tokens, content_filter, cancelled.
   */
  code: string | null;
  /** The same request may succeed later (rate limit, server error, timeout). */
  retryable: boolean;

  constructor(
    message: string,
    fields: { status: number | null; code: string | null; retryable: boolean },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = fields.status;
    this.code = fields.code;
    this.retryable = fields.retryable;
  }
}

/** One line, e.g. "OpenAI 429 rate_limit_exceeded: Rate limit reached for gpt-4o-mini … (after 4 attempts)". */
export function describeModelError(e: ModelError): string {
  if (e.message.startsWith('OpenAI')) return e.message;
  return `OpenAI${e.status !== null ? ` ${e.status}` : ''}${e.code ? ` ${e.code}` : ''}: ${e.message}`;
}

/** Longest Retry-After the SDK is allowed to sleep on. */
const MAX_RETRY_AFTER_MS = 20_000;
/** The SDK's longest default backoff between attempts. */
const SDK_MAX_BACKOFF_MS = 8_000;

type Json = Record<string, unknown>;

export class ModelClient {
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly api: 'chat' | 'responses';
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly deadlineMs: number;
  /**
   * OpenAI itself wants max_completion_tokens (reasoning models reject max_tokens); compatible servers
   * know max_tokens.
   */
  private readonly officialOpenAI: boolean;

  constructor(private readonly options: ModelClientOptions) {
    if (!options.apiKey) throw new WaReportError('ModelClient needs an API key (OPENAI_API_KEY).');
    this.model = options.model;
    this.api = options.api ?? 'chat';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.deadlineMs =
      this.timeoutMs * (this.maxRetries + 1) +
      Math.max(SDK_MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS) * this.maxRetries +
      1_000;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: this.timeoutMs,
      maxRetries: this.maxRetries,
      fetch: boundRetryAfter(options.fetch ?? fetch),
      // stdout belongs to the daemon's JSON logs; failures reach the caller as ModelError.
      logLevel: 'off',
    });
    this.officialOpenAI = isOfficialOpenAI(this.client.baseURL);
  }

  async complete(turns: ChatTurn[], options: { model?: string; signal?: AbortSignal } = {}): Promise<Completion> {
    const model = options.model ?? this.model;
    const started = performance.now();
    const deadline = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
    const timer = setTimeout(() => deadline.abort(), this.deadlineMs);
    try {
      const result =
        this.api === 'responses'
          ? await this.viaResponses(turns, model, signal)
          : await this.viaChat(turns, model, signal);
      return { ...result, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      if (error instanceof ModelError) throw error;
      throw this.toModelError(error, {
        cancelled: options.signal?.aborted === true,
        overDeadline: deadline.signal.aborted,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private async viaChat(turns: ChatTurn[], model: string, signal: AbortSignal): Promise<Omit<Completion, 'latencyMs'>> {
    const params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: turns.map((t) => ({ role: t.role, content: t.content })),
    };
    if (this.options.temperature !== undefined) params.temperature = this.options.temperature;
    if (this.options.maxOutputTokens !== undefined) {
      if (this.officialOpenAI) params.max_completion_tokens = this.options.maxOutputTokens;
      else params.max_tokens = this.options.maxOutputTokens;
    }
    const body: unknown = await withDeadline(this.client.chat.completions.create(params, { signal }), signal);
    if (!isObject(body)) throw this.notAnAnswer(body, 'chat completion');
    const choices = body.choices;
    if (!Array.isArray(choices)) throw this.notAnAnswer(body, 'chat completion');
    const choice: unknown = choices[0];
    if (!isObject(choice) || !isObject(choice.message)) {
      throw new ModelError('OpenAI invalid_response: the model returned no choices', {
        status: null,
        code: 'invalid_response',
        retryable: false,
      });
    }
    const message = choice.message;
    const text =
      typeof message.content === 'string' && message.content.trim()
        ? message.content
        : // A refusal is the model's answer to the user ("I can't help with that"): send it.
          typeof message.refusal === 'string' && message.refusal.trim()
          ? message.refusal
          : '';
    if (!text)
      throw emptyAnswer(
        typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
        this.options.maxOutputTokens,
      );
    const usage = isObject(body.usage) ? toUsage(body.usage.prompt_tokens, body.usage.completion_tokens) : undefined;
    return { text, model: typeof body.model === 'string' ? body.model : model, ...(usage ? { usage } : {}) };
  }

  private async viaResponses(
    turns: ChatTurn[],
    model: string,
    signal: AbortSignal,
  ): Promise<Omit<Completion, 'latencyMs'>> {
    const instructions = turns
      .filter((t) => t.role === 'system')
      .map((t) => t.content)
      .join('\n\n');
    const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
      model,
      input: turns
        .filter((t) => t.role !== 'system')
        .map((t) => ({ role: t.role as 'user' | 'assistant', content: t.content })),
      // The conversation lives in our database; OpenAI need not keep a copy.
      store: false,
    };
    if (instructions) params.instructions = instructions;
    if (this.options.temperature !== undefined) params.temperature = this.options.temperature;
    if (this.options.maxOutputTokens !== undefined) params.max_output_tokens = this.options.maxOutputTokens;
    const body: unknown = await withDeadline(this.client.responses.create(params, { signal }), signal);
    if (!isObject(body) || !Array.isArray(body.output)) throw this.notAnAnswer(body, 'response');
    if (body.status === 'failed') {
      const err = isObject(body.error) ? body.error : {};
      const code = typeof err.code === 'string' ? err.code : 'response_failed';
      const why = typeof err.message === 'string' ? err.message : 'the response failed';
      throw new ModelError(`OpenAI ${code}: ${redact(why, this.options.apiKey)}`, {
        status: null,
        code,
        retryable: code === 'server_error' || code === 'rate_limit_exceeded',
      });
    }
    const parts: string[] = [];
    for (const item of body.output as unknown[]) {
      if (!isObject(item) || item.type !== 'message' || !Array.isArray(item.content)) continue;
      for (const c of item.content as unknown[]) {
        if (isObject(c) && c.type === 'output_text' && typeof c.text === 'string') parts.push(c.text);
        else if (isObject(c) && c.type === 'refusal' && typeof c.refusal === 'string') parts.push(c.refusal);
      }
    }
    const text = parts.join('');
    if (!text.trim()) {
      const reason =
        isObject(body.incomplete_details) && typeof body.incomplete_details.reason === 'string'
          ? body.incomplete_details.reason
          : null;
      throw emptyAnswer(reason === 'max_output_tokens' ? 'length' : reason, this.options.maxOutputTokens);
    }
    const usage = isObject(body.usage) ? toUsage(body.usage.input_tokens, body.usage.output_tokens) : undefined;
    return { text, model: typeof body.model === 'string' ? body.model : model, ...(usage ? { usage } : {}) };
  }

  private notAnAnswer(body: unknown, what: string): ModelError {
    const shown =
      typeof body === 'string'
        ? body
            .replace(/<[^>]*>/g, ' ')
            .replace(/\s+/g, ' ')
            .trim()
            .slice(0, 100)
        : JSON.stringify(body)?.slice(0, 100);
    const got = shown ? ` (got: ${redact(shown, this.options.apiKey)})` : '';
    return new ModelError(
      `OpenAI invalid_response: ${this.client.baseURL} did not answer with a ${what}${got}; ` +
        'check OPENAI_BASE_URL (usually ending in /v1)',
      { status: null, code: 'invalid_response', retryable: false },
    );
  }

  private toModelError(error: unknown, ctx: { cancelled: boolean; overDeadline: boolean }): ModelError {
    const key = this.options.apiKey;
    const attempts = `${this.maxRetries + 1} attempt${this.maxRetries ? 's' : ''}`;
    if (ctx.cancelled)
      return new ModelError(
        'OpenAI cancelled: the request was cancelled',
        { status: null, code: 'cancelled', retryable: false },
        { cause: error },
      );
    if (ctx.overDeadline) {
      return new ModelError(
        `OpenAI timeout: no complete answer within ${Math.round(this.deadlineMs / 1000)} s`,
        { status: null, code: 'timeout', retryable: true },
        { cause: error },
      );
    }
    if (error instanceof APIConnectionTimeoutError) {
      return new ModelError(
        `OpenAI timeout: no answer within ${this.timeoutMs} ms (${attempts})`,
        { status: null, code: 'timeout', retryable: true },
        { cause: error },
      );
    }
    if (error instanceof APIUserAbortError) {
      return new ModelError(
        'OpenAI cancelled: the request was cancelled',
        { status: null, code: 'cancelled', retryable: false },
        { cause: error },
      );
    }
    if (error instanceof APIConnectionError) {
      return new ModelError(
        `OpenAI connection_error: cannot reach ${this.client.baseURL}: ${redact(rootMessage(error), key)} ` +
          `(${attempts})`,
        { status: null, code: 'connection_error', retryable: true },
        { cause: error },
      );
    }
    if (error instanceof APIError && typeof error.status === 'number') {
      const status = error.status;
      const body = isObject(error.error) ? error.error : {};
      const code =
        typeof error.code === 'string' && error.code
          ? error.code
          : typeof error.type === 'string' && error.type
            ? error.type
            : null;
      const detail =
        typeof body.message === 'string' && body.message ? body.message : `HTTP ${status} without an error message`;
      // insufficient_quota is a 429 that no amount of waiting fixes.
      const retryable =
        code !== 'insufficient_quota' && (status === 408 || status === 409 || status === 429 || status >= 500);
      const wait = error.headers ? retryAfterMs(error.headers) : null;
      const notes = [
        retryable
          ? wait !== null && wait > MAX_RETRY_AFTER_MS
            ? `asked to retry after ${Math.round(wait / 1000)} s`
            : `after ${attempts}`
          : null,
        HINTS[code ?? ''] ?? HINTS[String(status)] ?? null,
      ].filter(Boolean);
      return new ModelError(
        `OpenAI ${status}${code ? ` ${code}` : ''}: ${redact(detail, key)}` +
          (notes.length ? ` (${notes.join('; ')})` : ''),
        { status, code, retryable },
        { cause: error },
      );
    }
    // The SDK could not read the answer: JSON that does not parse, or a shape its helpers choke on.
    const message = error instanceof Error ? error.message : String(error);
    return new ModelError(
      `OpenAI invalid_response: ${this.client.baseURL} answered with something that is not a valid API response ` +
        `(${redact(message, key).slice(0, 160)}); check OPENAI_BASE_URL`,
      { status: null, code: 'invalid_response', retryable: false },
      { cause: error },
    );
  }
}

const HINTS: Record<string, string> = {
  invalid_api_key: 'check OPENAI_API_KEY',
  '401': 'check OPENAI_API_KEY',
  '403': 'the API key may not access this model or project',
  model_not_found: "check OPENAI_MODEL or the client's model",
  '404': 'check OPENAI_MODEL and OPENAI_BASE_URL',
  insufficient_quota: 'the account is out of credit; check billing',
};

function emptyAnswer(finishReason: string | null, maxOutputTokens: number | undefined): ModelError {
  if (finishReason === 'length') {
    return new ModelError(
      `OpenAI max_output_tokens: the model used all its output tokens` +
        `${maxOutputTokens ? ` (${maxOutputTokens})` : ''} before writing an answer; raise the limit`,
      { status: null, code: 'max_output_tokens', retryable: false },
    );
  }
  if (finishReason === 'content_filter') {
    return new ModelError('OpenAI content_filter: the answer was withheld by the content filter', {
      status: null,
      code: 'content_filter',
      retryable: false,
    });
  }
  return new ModelError(
    `OpenAI empty_answer: the model returned an empty answer${finishReason ? ` (finish_reason: ${finishReason})` : ''}`,
    { status: null, code: 'empty_answer', retryable: false },
  );
}

/**
 * Marks answers not worth retrying now with `x-should-retry: false`, which the SDK obeys, so the
 * caller fails fast instead of holding a conversation: a Retry-After beyond MAX_RETRY_AFTER_MS (the
 * SDK would sleep for an hour if told to), and a 429 insufficient_quota (no wait refills credit).
 */
function boundRetryAfter(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.ok) return response;
    const wait = retryAfterMs(response.headers);
    let stop = wait !== null && wait > MAX_RETRY_AFTER_MS;
    if (!stop && response.status === 429)
      stop = (
        await response
          .clone()
          .text()
          .catch(() => '')
      ).includes('"insufficient_quota"');
    if (!stop) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

function retryAfterMs(headers: Headers): number | null {
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms)) return ms;
  const value = headers.get('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : at - Date.now();
}

/**
 * Settles as soon as `signal` aborts, even while the SDK sleeps between retries (its sleep ignores the
 * signal; its next attempt sees the abort and does not start).
 */
function withDeadline<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isOfficialOpenAI(baseURL: string): boolean {
  try {
    return /(^|\.)openai\.com$/i.test(new URL(baseURL).hostname);
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toUsage(input: unknown, output: unknown): { input: number; output: number } | undefined {
  return typeof input === 'number' && typeof output === 'number' ? { input, output } : undefined;
}

/** "Connection error." says little; the system error under it (ECONNREFUSED …) says what happened. */
function rootMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let current: unknown = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message && current.message !== 'fetch failed') message = current.message;
    current = current.cause ?? (current instanceof AggregateError ? current.errors[0] : undefined);
  }
  return message;
}

/** Removes the key, and anything shaped like an OpenAI key (OpenAI echoes a masked copy of a wrong one). */
function redact(text: string, apiKey: string): string {
  const out = apiKey ? text.split(apiKey).join('[redacted]') : text;
  return out.replace(/\bsk-[A-Za-z0-9_*\-.]{3,}/g, '[redacted]');
}
