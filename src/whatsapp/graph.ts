// Sends messages through the WhatsApp Cloud API (Graph API). Plain fetch, no SDK.
//
// The one rule that shapes everything here: WhatsApp has no idempotency key for sends. A request
// that timed out or lost its connection after it was written may well have been delivered, and a
// retry would send the user the same answer twice. So a failure is only retried when we know the
// message was NOT sent (an error answer from Graph, or no connection at all); an unknown outcome
// becomes GraphError{ambiguous: true} and the caller reconciles later (status webhooks).
//
// Retry table (codes per Meta's error-code page, https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes):
//   HTTP 5xx with a Graph error body; 5xx other than       retried (Graph answered: not sent)
//     502/504 without one
//   codes 1 (unknown, "maybe once"), 2, 131000, 131016,     retried (code 1 only once)
//     133004
//   HTTP 429, codes 4, 80007, 130429, 131056 (pair rate),   retried with a longer backoff, and
//     131057 (maintenance)                                   Retry-After honoured (capped)
//   ECONNREFUSED, DNS failure, connect timeout               retried (nothing reached Graph)
//   any other error code: 131047 (24 h window), 131026,     not retried, retryable: false
//     100, 190 (token), 131030 (not in allowed list), …
//   timeout, connection reset/closed after the request was   NOT retried: ambiguous
//     written, 502/504 from a proxy (no Graph body), 2xx
//     without messages[0].id, caller abort in flight
// markRead is idempotent (marking twice is harmless), so there ambiguous failures are retried too.
import { WaReportError } from '../errors.js';
import { GraphError, type GraphErrorFields } from './graph-error.js';
import { splitMessageText } from './text-parts.js';

export interface GraphClientOptions {
  /** e.g. https://graph.facebook.com/v26.0 (or a test server); a trailing slash is fine. */
  baseUrl: string;
  accessToken: string;
  /** Per attempt, including reading the answer. Default 15000. */
  timeoutMs?: number;
  /** Attempts per request (per message part). Default 4. */
  maxAttempts?: number;
  /** Exponential backoff with full jitter. Default {base: 500, max: 8000}. */
  backoffMs?: { base: number; max: number };
  /** Longest wait accepted from a Retry-After header. Default 30000. */
  maxRetryAfterMs?: number;
  /** A longer text is split into at most this many messages; the rest is cut with a marker. Default 4. */
  maxParts?: number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export interface SendTextInput {
  phoneNumberId: string;
  /**
   * Sent as given. Meta recommends a leading + with the country code: without it Graph may prepend
   * the business number's country code. A wa_id from a webhook has the country code but no +.
   */
  to: string;
  body: string;
  /** Makes the (first) message a reply to this inbound wamid. */
  replyToWamid?: string | null;
  signal?: AbortSignal;
}

export interface SendTextResult {
  /** The wamid of the first (usually only) message. */
  wamid: string;
  /** Every message sent, in order; more than one when the body was split. */
  wamids: string[];
  /** HTTP requests made, over all parts. */
  attempts: number;
  latencyMs: number;
}

// Throughput, pair-rate and app/WABA call limits: Graph refused the message, wait longer.
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131056, 131057]);
// Transient server-side failures Graph reports as errors (the message was not accepted).
const TRANSIENT_CODES = new Set([1, 2, 131000, 131016, 133004]);
// Meta: code 1 "possible server error, maybe retry once".
const RETRY_ONCE_CODES = new Set([1]);
// Failures where the request never reached Graph: safe to retry.
// (Not ETIMEDOUT: the OS also reports it for an established connection that went silent.)
const NOT_SENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface GraphBody {
  error?: {
    message?: unknown;
    type?: unknown;
    code?: unknown;
    error_subcode?: unknown;
    error_user_title?: unknown;
    error_user_msg?: unknown;
    error_data?: { details?: unknown } | unknown;
    fbtrace_id?: unknown;
  };
  messages?: Array<{ id?: unknown }>;
  success?: unknown;
}

/** What one HTTP attempt produced, classified. */
type Attempt =
  | { ok: true; json: GraphBody }
  | {
      ok: false;
      fields: Omit<GraphErrorFields, 'attempts' | 'retryable' | 'ambiguous'>;
      retry: 'no' | 'yes' | 'once' | 'rate-limit' | 'if-idempotent';
      retryAfterMs: number | null;
      cause?: unknown;
    };

export class GraphClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: { base: number; max: number };
  private readonly maxRetryAfterMs: number;
  private readonly maxParts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: GraphClientOptions) {
    if (!options.accessToken) throw new WaReportError('GraphClient needs an access token (WHATSAPP_ACCESS_TOKEN).');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.backoff = options.backoffMs ?? { base: 500, max: 8_000 };
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.maxParts = Math.max(1, options.maxParts ?? 4);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetchImpl = options.fetch ?? fetch;
  }

  /**
   * POST {baseUrl}/{phoneNumberId}/messages with a text message. A body over 4096 characters is
   * sent as several messages in order (see splitMessageText); only the first one is a reply.
   * Resolves when WhatsApp accepted every part (accepted, not delivered: delivery and failures such
   * as 131047 may still arrive later as status webhooks).
   */
  async sendText(input: SendTextInput): Promise<SendTextResult> {
    const started = performance.now();
    const parts = splitMessageText(input.body, { maxParts: this.maxParts });
    if (parts.length === 0) {
      throw new GraphError({
        status: null,
        code: null,
        title: 'Empty message',
        details: 'refusing to send an empty text body',
        retryable: false,
        ambiguous: false,
        attempts: 0,
      });
    }
    const wamids: string[] = [];
    let attempts = 0;
    for (const [i, body] of parts.entries()) {
      const payload: Record<string, unknown> = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: input.to,
        type: 'text',
        text: { body, preview_url: false },
      };
      if (i === 0 && input.replyToWamid) payload.context = { message_id: input.replyToWamid };
      const part = parts.length > 1 ? { index: i + 1, total: parts.length } : null;
      // A GraphError thrown here counts the attempts of the failing part and lists the parts already sent.
      const { json, attempts: used } = await this.post(input.phoneNumberId, payload, {
        signal: input.signal,
        idempotent: false,
        sentWamids: wamids,
        part,
      });
      attempts += used;
      wamids.push(json.messages?.[0]?.id as string); // checked by isSendAccepted
    }
    return { wamid: wamids[0] as string, wamids, attempts, latencyMs: Math.round(performance.now() - started) };
  }

  /**
   * Sends one message of another type (interactive, template): `message` holds its `type` and the
   * object of that type, e.g. {type: 'interactive', interactive: {…}}. Not retried once Graph may
   * have accepted it (as text sends).
   */
  async sendMessage(input: {
    phoneNumberId: string;
    to: string;
    message: { type: string } & Record<string, unknown>;
    signal?: AbortSignal;
  }): Promise<SendTextResult> {
    const started = performance.now();
    const payload = { messaging_product: 'whatsapp', recipient_type: 'individual', to: input.to, ...input.message };
    const { json, attempts } = await this.post(input.phoneNumberId, payload, {
      signal: input.signal,
      idempotent: false,
      sentWamids: [],
      part: null,
    });
    const wamid = json.messages?.[0]?.id as string; // checked by isSendAccepted
    return { wamid, wamids: [wamid], attempts, latencyMs: Math.round(performance.now() - started) };
  }

  /** Marks an inbound message as read (blue ticks). Best effort: callers should catch and log. */
  async markRead(input: { phoneNumberId: string; wamid: string; signal?: AbortSignal }): Promise<void> {
    await this.post(
      input.phoneNumberId,
      { messaging_product: 'whatsapp', status: 'read', message_id: input.wamid },
      { signal: input.signal, idempotent: true, sentWamids: [], part: null },
    );
  }

  private async post(
    phoneNumberId: string,
    payload: Record<string, unknown>,
    ctx: {
      signal: AbortSignal | undefined;
      idempotent: boolean;
      sentWamids: string[];
      part: { index: number; total: number } | null;
    },
  ): Promise<{ json: GraphBody; attempts: number }> {
    const url = `${this.baseUrl}/${encodeURIComponent(phoneNumberId)}/messages`;
    const isSend = payload.type !== undefined;
    for (let attempt = 1; ; attempt++) {
      if (ctx.signal?.aborted) {
        // Nothing is in flight: the previous attempt (if any) failed definitively.
        throw new GraphError({
          status: null,
          code: null,
          title: 'Cancelled',
          details: 'the send was cancelled before it started',
          retryable: true,
          ambiguous: false,
          attempts: attempt - 1,
          sentWamids: [...ctx.sentWamids],
          part: ctx.part,
        });
      }
      const result = await this.attempt(url, payload, isSend, ctx.signal);
      if (result.ok) return { json: result.json, attempts: attempt };

      const retry = result.retry === 'if-idempotent' ? (ctx.idempotent ? 'yes' : 'no') : result.retry;
      const ambiguous = result.retry === 'if-idempotent' && !ctx.idempotent;
      const willRetry =
        attempt < this.maxAttempts &&
        (retry === 'yes' || retry === 'rate-limit' || (retry === 'once' && attempt === 1));
      if (!willRetry) {
        throw new GraphError(
          {
            ...result.fields,
            retryable: retry !== 'no' && !ambiguous,
            ambiguous,
            attempts: attempt,
            sentWamids: [...ctx.sentWamids],
            part: ctx.part,
          },
          { cause: result.cause },
        );
      }
      await this.sleep(this.delay(attempt, retry === 'rate-limit', result.retryAfterMs));
    }
  }

  /**
   * Full jitter; rate limits grow 4× per attempt (Meta suggests 4^X s for 131056) and wait at least
   * half the ceiling.
   */
  private delay(attempt: number, rateLimited: boolean, retryAfterMs: number | null): number {
    const { base, max } = this.backoff;
    const ceiling = Math.min(max, base * (rateLimited ? 4 ** attempt : 2 ** (attempt - 1)));
    const jittered = rateLimited ? ceiling / 2 + Math.random() * (ceiling / 2) : Math.random() * ceiling;
    const wait = retryAfterMs !== null ? Math.max(retryAfterMs, jittered) : jittered;
    return Math.round(Math.min(wait, Math.max(max, this.maxRetryAfterMs)));
  }

  private async attempt(
    url: string,
    payload: Record<string, unknown>,
    isSend: boolean,
    callerSignal: AbortSignal | undefined,
  ): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(payload),
        signal,
      });
    } catch (error) {
      return this.networkFailure(error, timeout, callerSignal);
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // The status line arrived but the body did not: for a 2xx the message was probably accepted.
      if (!response.ok) return this.fromResponse(response, '', isSend);
      const lost = this.networkFailure(error, timeout, callerSignal);
      return {
        ...lost,
        retry: 'if-idempotent',
        fields: {
          ...lost.fields,
          status: response.status,
          title: 'Answer lost',
          details: `HTTP ${response.status} arrived but its body did not (${lost.fields.details ?? 'connection lost'})`,
        },
      };
    }
    return this.fromResponse(response, text, isSend);
  }

  private fromResponse(response: Response, text: string, isSend: boolean): Attempt {
    const status = response.status;
    const json = parseJson(text);
    if (response.ok) {
      if (json && (isSend ? isSendAccepted(json) : true)) return { ok: true, json };
      // 2xx but no message id: Graph may well have accepted the message.
      return {
        ok: false,
        retry: 'if-idempotent',
        retryAfterMs: null,
        fields: {
          status,
          code: null,
          title: 'No message id',
          details: `HTTP ${status} without messages[0].id (${describeBody(text, response, this.redact)})`,
        },
      };
    }

    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const err = json?.error;
    if (err && typeof err === 'object') {
      const code = toInt(err.code);
      const data =
        err.error_data && typeof err.error_data === 'object' ? (err.error_data as { details?: unknown }) : null;
      const fields = {
        status,
        code,
        subcode: toInt(err.error_subcode),
        title: this.redact(graphTitle(err.error_user_title, err.message, code)),
        details: this.redact(
          typeof data?.details === 'string'
            ? data.details
            : typeof err.error_user_msg === 'string'
              ? err.error_user_msg
              : null,
        ),
        fbtraceId: typeof err.fbtrace_id === 'string' ? err.fbtrace_id : null,
      };
      let retry: 'no' | 'yes' | 'once' | 'rate-limit' = 'no';
      if (status === 429 || (code !== null && RATE_LIMIT_CODES.has(code))) retry = 'rate-limit';
      else if (code !== null && RETRY_ONCE_CODES.has(code)) retry = 'once';
      else if (status >= 500 || (code !== null && TRANSIENT_CODES.has(code))) retry = 'yes';
      return { ok: false, retry, retryAfterMs, fields };
    }

    // Not a Graph error body (HTML from a proxy, empty, truncated).
    const fields = {
      status,
      code: null,
      title: response.statusText || null,
      details: describeBody(text, response, this.redact),
    };
    if (status === 429) return { ok: false, retry: 'rate-limit', retryAfterMs, fields };
    // A gateway that timed out or lost Graph's answer cannot say whether Graph processed the message.
    if (status === 502 || status === 504) {
      return {
        ok: false,
        retry: 'if-idempotent',
        retryAfterMs,
        fields: {
          ...fields,
          title: `HTTP ${status} from a proxy`,
          details: `no Graph answer behind it (${fields.details})`,
        },
      };
    }
    if (status >= 500) return { ok: false, retry: 'yes', retryAfterMs, fields };
    return { ok: false, retry: 'no', retryAfterMs, fields };
  }

  private networkFailure(
    error: unknown,
    timeout: AbortSignal,
    callerSignal: AbortSignal | undefined,
  ): Extract<Attempt, { ok: false }> {
    if (callerSignal?.aborted) {
      return {
        ok: false,
        retry: 'if-idempotent',
        retryAfterMs: null,
        cause: error,
        fields: { status: null, code: null, title: 'Cancelled', details: 'cancelled while the request was in flight' },
      };
    }
    if (timeout.aborted) {
      return {
        ok: false,
        retry: 'if-idempotent',
        retryAfterMs: null,
        cause: error,
        fields: {
          status: null,
          code: null,
          title: 'Timeout',
          details: `no answer from Graph within ${this.timeoutMs} ms`,
        },
      };
    }
    const { code, message } = rootCause(error);
    const detail = this.redact(code && !message.includes(code) ? `${code} ${message}` : message);
    if (code && NOT_SENT_NETWORK_CODES.has(code)) {
      const title =
        code === 'ECONNREFUSED'
          ? 'Connection refused'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'DNS lookup failed'
            : 'Connection failed';
      return {
        ok: false,
        retry: 'yes',
        retryAfterMs: null,
        cause: error,
        fields: { status: null, code: null, title, details: detail },
      };
    }
    if (
      (code && /^(CERT_|ERR_TLS_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code)) ||
      /bad port|invalid url/i.test(message)
    ) {
      // Nothing was sent and trying again will not help: configuration.
      return {
        ok: false,
        retry: 'no',
        retryAfterMs: null,
        cause: error,
        fields: { status: null, code: null, title: 'Cannot connect', details: detail },
      };
    }
    // Reset/closed after the request may have been written (UND_ERR_SOCKET, ECONNRESET, EPIPE, …).
    return {
      ok: false,
      retry: 'if-idempotent',
      retryAfterMs: null,
      cause: error,
      fields: { status: null, code: null, title: 'Connection lost', details: `${detail} after the request was sent` },
    };
  }

  private readonly redact = (text: string | null): string | null => {
    if (text === null) return null;
    const token = this.options.accessToken;
    return token ? text.split(token).join('[redacted]') : text;
  };
}

function isSendAccepted(json: GraphBody | null): boolean {
  const id = json?.messages?.[0]?.id;
  return typeof id === 'string' && id.length > 0;
}

function parseJson(text: string): GraphBody | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as GraphBody) : null;
  } catch {
    return null;
  }
}

/** "(#131047) Re-engagement message" → "Re-engagement message". */
function graphTitle(userTitle: unknown, message: unknown, code: number | null): string | null {
  if (typeof userTitle === 'string' && userTitle.trim()) return userTitle.trim();
  if (typeof message !== 'string' || !message.trim()) return null;
  return message.replace(code !== null ? new RegExp(`^\\(#${code}\\)\\s*`) : /^\(#\d+\)\s*/, '').trim() || null;
}

function describeBody(text: string, response: Response, redact: (s: string | null) => string | null): string {
  if (!text.trim()) return 'empty body';
  const type = response.headers.get('content-type')?.split(';')[0] ?? 'unknown type';
  const snippet = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
  return `unexpected ${type} body${snippet ? `: ${redact(snippet)}` : ''}`;
}

/** Seconds or an HTTP date → ms; null when absent or unreadable. */
function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function toInt(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : null;
}

/**
 * undici wraps the system error: TypeError('fetch failed', {cause: Error{code: 'ECONNREFUSED'}}),
 * sometimes an AggregateError.
 */
function rootCause(error: unknown): { code: string | null; message: string } {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof e.message === 'string' && e.message && e.message !== 'fetch failed') message = e.message;
    if (typeof e.code === 'string') return { code: e.code, message };
    current = e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return { code: null, message };
}
