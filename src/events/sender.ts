// One HTTP POST of an event to a receiver: keep-alive connections, a 15-second limit on the whole
// exchange, no redirects followed, the answer read up to 64 kB, and the destination checked on
// the address actually connected to (destination.ts).
import * as http from 'node:http';
import * as https from 'node:https';
import { DELIVERY_TIMEOUT_MS, RESPONSE_LIMIT_BYTES } from '../domain/webhooks.js';
import { checkLiteralHost, guardedLookup } from './destination.js';

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  allowHttp: boolean;
}

export interface PostResult {
  /** The HTTP status, or null when no answer came (network error, timeout, refused destination). */
  status: number | null;
  error: string | null;
  latencyMs: number;
  /** The answer's body, truncated to 64 kB. */
  response: string | null;
  retryAfter: string | null;
}

export interface SenderOptions {
  /** WA_REPORT_WEBHOOKS_ALLOW_PRIVATE=1: loopback and private destinations allowed (tests, intranets). */
  allowPrivate: boolean;
  timeoutMs?: number;
  userAgent: string;
}

export class Sender {
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly timeoutMs: number;
  private readonly lookup: http.RequestOptions['lookup'];

  constructor(private readonly options: SenderOptions) {
    this.lookup = guardedLookup(options.allowPrivate) as unknown as http.RequestOptions['lookup'];
    const common = { keepAlive: true, maxSockets: 32, keepAliveMsecs: 10_000 };
    this.agents = { http: new http.Agent(common), https: new https.Agent(common) };
    this.timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  }

  async post(request: PostRequest): Promise<PostResult> {
    const started = performance.now();
    const done = (partial: Omit<PostResult, 'latencyMs'>): PostResult => ({
      ...partial,
      latencyMs: Math.round(performance.now() - started),
    });
    let url: URL;
    try {
      url = new URL(request.url);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && request.allowHttp)) {
        return done({
          status: null,
          error: `refused: ${url.protocol} is not allowed for this endpoint`,
          response: null,
          retryAfter: null,
        });
      }
      checkLiteralHost(url, this.options.allowPrivate);
    } catch (error) {
      return done({ status: null, error: `refused: ${(error as Error).message}`, response: null, retryAfter: null });
    }
    const secure = url.protocol === 'https:';
    return new Promise<PostResult>((resolve) => {
      let settled = false;
      const finish = (r: Omit<PostResult, 'latencyMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(done(r));
      };
      const req = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? this.agents.https : this.agents.http,
        lookup: this.lookup,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body),
          'user-agent': this.options.userAgent,
          ...request.headers,
        },
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code && !error.message.includes(error.code) ? `${error.code}: ` : '';
        finish({ status: null, error: `${code}${error.message}`, response: null, retryAfter: null });
      });
      req.on('response', (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const status = res.statusCode ?? null;
        const retryAfter = headerText(res.headers['retry-after']);
        const location = headerText(res.headers.location);
        const answer = () => {
          const response = Buffer.concat(chunks).subarray(0, RESPONSE_LIMIT_BYTES).toString('utf8');
          const redirect =
            status !== null && status >= 300 && status < 400
              ? `redirect${location ? ` to ${location}` : ''} not followed (give the final URL)`
              : null;
          finish({ status, error: redirect, response: response || null, retryAfter });
        };
        res.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_LIMIT_BYTES) chunks.push(chunk);
          size += chunk.length;
          // Enough read: the rest is not kept, and the connection is not worth keeping.
          if (size > RESPONSE_LIMIT_BYTES) {
            answer();
            res.destroy();
          }
        });
        res.on('end', answer);
        res.on('error', () => answer());
        res.on('close', answer);
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function headerText(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
