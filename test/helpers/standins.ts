// Stand-ins for the external APIs: real HTTP servers on 127.0.0.1 (port 0) speaking the WhatsApp
// Graph API and the OpenAI API in their own JSON shapes, so the real clients (fetch, the openai SDK)
// are exercised over real sockets, failures included.
//
// Behaviours. `behave(plan)` decides how the next requests are answered; `behave(null)` restores
// the default (`{kind: 'ok'}`). A plan is one of
//   - a behaviour object               → used for every request, e.g. {kind: 'hang'}
//   - an array of behaviours           → consumed one per request, in order; then the default again
//   - a function (n, req) => behaviour → n counts requests since behave() was called, from 1;
//                                        returning null/undefined means the default
// e.g. behave([{kind: 'error', status: 500, …}]) fails the first request and lets the retry succeed.
// Authentication is checked before the plan (a wrong token never consumes a planned behaviour).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body is not JSON ('' when empty). */
  body: unknown;
  /** Date.now() when the request was complete. */
  at: number;
  /** Graph only: the wamid answered when this request was accepted as a message send. */
  wamid?: string;
}

export type BehaviorPlan<B> = B | B[] | ((n: number, req: RecordedRequest) => B | null | undefined);

// Both stand-ins also know:
//   {kind: 'hang'}              never answer (the client times out); close() destroys the socket
//   {kind: 'close'}             read the request, then destroy the socket without answering
//   {kind: 'delay', ms, then}   wait, then behave as `then`
//   {kind: 'stall'}             send a 200's status line and headers, then nothing (a body that never comes)
export type GraphBehavior =
  | { kind: 'hang' }
  | { kind: 'close' }
  | { kind: 'delay'; ms: number; then: GraphBehavior }
  | { kind: 'stall' }
  /**
   * Accept: {messaging_product, contacts: [{input, wa_id}], messages: [{id: 'wamid.standin.<n>'}]};
   * `body` replaces the answer (e.g. one without messages).
   */
  | { kind: 'ok'; body?: unknown }
  /**
   * A Graph error answer
   * {error: {message: "(#code) title", type, code, error_subcode, error_data: {details}, fbtrace_id}};
   * `retryAfter` in seconds.
   */
  | {
      kind: 'error';
      status: number;
      code: number;
      subcode?: number;
      title: string;
      details?: string;
      retryAfter?: number;
    }
  /** Not JSON: by default 200 with an HTML page. */
  | { kind: 'garbage'; status?: number; contentType?: string; body?: string };

export type ModelBehavior =
  | { kind: 'hang' }
  | { kind: 'close' }
  | { kind: 'delay'; ms: number; then: ModelBehavior }
  | { kind: 'stall' }
  /** A normal answer; `text` overrides reply(), `finishReason` the finish_reason (chat) / status (responses). */
  | { kind: 'ok'; text?: string | null; finishReason?: string }
  /** An OpenAI error answer {error: {message, type, param, code}}; `retryAfterMs` sets the retry-after-ms header. */
  | { kind: 'error'; status: number; type?: string; code?: string | null; message?: string; retryAfterMs?: number }
  /** 200 with a body that is not valid JSON; by default declared as application/json. */
  | { kind: 'garbage'; contentType?: string; body?: string }
  /** 200 with choices: [] (chat) or output: [] (responses). */
  | { kind: 'empty' };

export interface GraphStandIn {
  /** Base URL, like https://graph.facebook.com/v26.0. */
  url: string;
  /** Every request received, in order (clear with `requests.length = 0`). */
  requests: RecordedRequest[];
  /** The requests accepted as message sends (a subset of `requests`; mark-read calls excluded). */
  sent(): RecordedRequest[];
  behave(plan: BehaviorPlan<GraphBehavior> | null): void;
  close(): Promise<void>;
}

export interface ModelStandIn {
  /** baseURL for the SDK, ending in /v1. */
  url: string;
  requests: RecordedRequest[];
  behave(plan: BehaviorPlan<ModelBehavior> | null): void;
  /** How `ok` answers are written; default `Echo: <last user message>`. */
  reply(fn: ((req: RecordedRequest) => string) | null): void;
  close(): Promise<void>;
}

/** Either stand-in's behaviours; startServer itself handles the kinds they share (hang, close, stall, delay). */
type AnyBehavior = GraphBehavior | ModelBehavior;

interface Base<B extends AnyBehavior> {
  url: string;
  requests: RecordedRequest[];
  behave(plan: BehaviorPlan<B> | null): void;
  close(): Promise<void>;
}

type Responder<B extends AnyBehavior> = (req: RecordedRequest, behavior: B, res: http.ServerResponse) => void;

/**
 * The HTTP plumbing both stand-ins share: recording, plans, hang/close/delay, and a close() that never waits on a
 * hung socket.
 */
async function startServer<B extends AnyBehavior>(
  pathPrefix: string,
  authorize: (req: RecordedRequest, res: http.ServerResponse) => boolean,
  respond: Responder<B>,
  /** The default behaviour, `{kind: 'ok'}`. */
  fallback: B,
): Promise<Base<B>> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let plan: BehaviorPlan<B> | null = null;
  let planCount = 0;

  const next = (req: RecordedRequest): B => {
    planCount++;
    if (plan === null) return fallback;
    if (typeof plan === 'function') return plan(planCount, req) ?? fallback;
    if (Array.isArray(plan)) return plan.shift() ?? fallback;
    return plan;
  };

  const act = (recorded: RecordedRequest, behavior: B, res: http.ServerResponse): void => {
    switch (behavior.kind) {
      case 'hang':
        return;
      case 'close':
        res.socket?.destroy();
        return;
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.flushHeaders();
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          // A delay's `then` is a behaviour of the same stand-in.
          act(recorded, behavior.then as B, res);
        }, behavior.ms);
        timers.add(timer);
        return;
      }
      default:
        respond(recorded, behavior, res);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : '';
      } catch {
        // keep the raw text
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      };
      requests.push(recorded);
      if (!authorize(recorded, res)) return;
      act(recorded, next(recorded), res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${pathPrefix}`,
    requests,
    behave(p) {
      plan = Array.isArray(p) ? [...p] : p;
      planCount = 0;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hung requests and idle keep-alive sockets would otherwise keep close() waiting.
      server.closeAllConnections();
      await closed;
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendRaw(res: http.ServerResponse, status: number, contentType: string, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function bearer(req: RecordedRequest): string | null {
  const value = req.headers.authorization;
  return typeof value === 'string' && value.startsWith('Bearer ') ? value.slice(7) : null;
}

// ---------------------------------------------------------------------------------------------
// WhatsApp Graph API
// ---------------------------------------------------------------------------------------------

const GRAPH_VERSION = 'v26.0';

function graphError(
  code: number,
  title: string,
  extra: { type?: string; subcode?: number; details?: string } = {},
): unknown {
  return {
    error: {
      message: `(#${code}) ${title}`,
      type: extra.type ?? 'OAuthException',
      code,
      ...(extra.subcode !== undefined ? { error_subcode: extra.subcode } : {}),
      ...(extra.details !== undefined ? { error_data: { messaging_product: 'whatsapp', details: extra.details } } : {}),
      fbtrace_id: `AStandIn${Math.random().toString(36).slice(2, 12)}`,
    },
  };
}

/**
 * Serves POST /v26.0/{phone-number-id}/messages (text sends and mark-as-read). A wrong Bearer token gets 401 /
 * Graph 190.
 */
export async function startGraphStandIn(options: { token?: string } = {}): Promise<GraphStandIn> {
  let sends = 0;
  const messagesPath = new RegExp(`^/${GRAPH_VERSION.replace('.', '\\.')}/[^/]+/messages$`);

  const base = await startServer(
    `/${GRAPH_VERSION}`,
    (req, res) => {
      if (options.token === undefined || bearer(req) === options.token) return true;
      sendJson(res, 401, {
        error: {
          message: 'Invalid OAuth access token - Cannot parse access token',
          type: 'OAuthException',
          code: 190,
          fbtrace_id: 'AStandInAuth',
        },
      });
      return false;
    },
    (req, behavior: GraphBehavior, res) => {
      if (req.method !== 'POST' || !messagesPath.test(req.path.split('?')[0] ?? '')) {
        sendJson(
          res,
          400,
          graphError(100, `Unsupported ${req.method.toLowerCase()} request.`, {
            type: 'GraphMethodException',
            subcode: 33,
          }),
        );
        return;
      }
      switch (behavior.kind) {
        case 'error':
          sendJson(
            res,
            behavior.status,
            graphError(behavior.code, behavior.title, { subcode: behavior.subcode, details: behavior.details }),
            behavior.retryAfter !== undefined ? { 'retry-after': String(behavior.retryAfter) } : {},
          );
          return;
        case 'garbage':
          sendRaw(
            res,
            behavior.status ?? 200,
            behavior.contentType ?? 'text/html; charset=utf-8',
            behavior.body ?? '<html><body><h1>Sorry, something went wrong.</h1></body></html>',
          );
          return;
        case 'ok': {
          const body = req.body as { status?: unknown; to?: unknown; type?: unknown } | string;
          if (typeof body === 'object' && body.status === 'read') {
            sendJson(res, 200, behavior.body ?? { success: true });
            return;
          }
          if (typeof body !== 'object' || typeof body.to !== 'string' || body.type === undefined) {
            sendJson(
              res,
              400,
              graphError(100, 'Invalid parameter', { details: 'Parameter "to" or "type" is missing' }),
            );
            return;
          }
          if (behavior.body !== undefined) {
            sendJson(res, 200, behavior.body);
            return;
          }
          // Recorded as sent even if the client has gone away meanwhile: like WhatsApp, the message went out.
          req.wamid = `wamid.standin.${++sends}`;
          sendJson(res, 200, {
            messaging_product: 'whatsapp',
            contacts: [{ input: body.to, wa_id: body.to.replace(/\D/g, '') }],
            messages: [{ id: req.wamid }],
          });
          return;
        }
      }
    },
    { kind: 'ok' },
  );
  return { ...base, sent: () => base.requests.filter((r) => r.wamid !== undefined) };
}

// ---------------------------------------------------------------------------------------------
// OpenAI API
// ---------------------------------------------------------------------------------------------

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/** A property of a parsed JSON body; undefined when the body is not an object (raw text, '', null). */
function field(body: unknown, key: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
}

/** The last user message of a chat.completions or responses request. */
export function lastUserText(body: unknown): string {
  const list: unknown = field(body, 'messages') ?? field(body, 'input');
  if (typeof list === 'string') return list;
  if (!Array.isArray(list)) return '';
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i] as { role?: unknown; content?: unknown };
    if (m?.role === 'user') return textOf(m.content);
  }
  return '';
}

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/**
 * Serves POST /v1/chat/completions and POST /v1/responses. A wrong API key gets 401 invalid_api_key, with the key
 * masked as OpenAI does.
 */
export async function startModelStandIn(options: { apiKey?: string } = {}): Promise<ModelStandIn> {
  let writer: ((req: RecordedRequest) => string) | null = null;
  let ids = 0;

  const base = await startServer(
    '/v1',
    (req, res) => {
      const key = bearer(req);
      if (options.apiKey === undefined || key === options.apiKey) return true;
      const masked = key ? `${key.slice(0, 3)}${'*'.repeat(Math.max(0, key.length - 7))}${key.slice(-4)}` : '';
      sendJson(res, 401, {
        error: {
          message: key
            ? `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`
            : "You didn't provide an API key.",
          type: 'invalid_request_error',
          param: null,
          code: key ? 'invalid_api_key' : null,
        },
      });
      return false;
    },
    (req, behavior: ModelBehavior, res) => {
      const path = req.path.split('?')[0];
      const api = path === '/v1/chat/completions' ? 'chat' : path === '/v1/responses' ? 'responses' : null;
      if (req.method !== 'POST' || api === null) {
        sendJson(res, 404, {
          error: {
            message: `Invalid URL (${req.method} ${path})`,
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
        });
        return;
      }
      const requested = field(req.body, 'model');
      const model = typeof requested === 'string' ? requested : 'unknown';
      const id = ++ids;
      const headers = { 'x-request-id': `req_standin_${id}` };
      switch (behavior.kind) {
        case 'error':
          sendJson(
            res,
            behavior.status,
            {
              error: {
                message: behavior.message ?? 'The server had an error while processing your request.',
                type: behavior.type ?? 'server_error',
                param: null,
                code: behavior.code ?? null,
              },
            },
            {
              ...headers,
              ...(behavior.retryAfterMs !== undefined ? { 'retry-after-ms': String(behavior.retryAfterMs) } : {}),
            },
          );
          return;
        case 'garbage':
          sendRaw(
            res,
            200,
            behavior.contentType ?? 'application/json',
            behavior.body ?? '<html><body>upstream error</body></html>',
          );
          return;
        case 'empty':
          if (api === 'chat')
            sendJson(
              res,
              200,
              {
                id: `chatcmpl-standin-${id}`,
                object: 'chat.completion',
                created: Math.floor(Date.now() / 1000),
                model,
                choices: [],
                usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 },
              },
              headers,
            );
          else
            sendJson(
              res,
              200,
              {
                id: `resp_standin_${id}`,
                object: 'response',
                created_at: Math.floor(Date.now() / 1000),
                status: 'completed',
                model,
                output: [],
                usage: { input_tokens: 1, output_tokens: 0, total_tokens: 1 },
              },
              headers,
            );
          return;
        case 'ok': {
          const text =
            behavior.text !== undefined ? behavior.text : writer ? writer(req) : `Echo: ${lastUserText(req.body)}`;
          const input = tokens(JSON.stringify(field(req.body, 'messages') ?? field(req.body, 'input') ?? ''));
          const output = text ? tokens(text) : 0;
          if (api === 'chat') {
            sendJson(
              res,
              200,
              {
                id: `chatcmpl-standin-${id}`,
                object: 'chat.completion',
                created: Math.floor(Date.now() / 1000),
                model,
                choices: [
                  {
                    index: 0,
                    message: { role: 'assistant', content: text, refusal: null, annotations: [] },
                    logprobs: null,
                    finish_reason: behavior.finishReason ?? 'stop',
                  },
                ],
                usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
                service_tier: 'default',
                system_fingerprint: 'fp_standin',
              },
              headers,
            );
          } else {
            const status = behavior.finishReason ?? 'completed';
            sendJson(
              res,
              200,
              {
                id: `resp_standin_${id}`,
                object: 'response',
                created_at: Math.floor(Date.now() / 1000),
                status,
                model,
                error: null,
                incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
                instructions: field(req.body, 'instructions') ?? null,
                output:
                  text === null
                    ? []
                    : [
                        {
                          type: 'message',
                          id: `msg_standin_${id}`,
                          status: 'completed',
                          role: 'assistant',
                          content: [{ type: 'output_text', text, annotations: [] }],
                        },
                      ],
                usage: { input_tokens: input, output_tokens: output, total_tokens: input + output },
              },
              headers,
            );
          }
          return;
        }
      }
    },
    { kind: 'ok' },
  );
  return { ...base, reply: (fn) => void (writer = fn) };
}
