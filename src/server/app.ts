// The HTTP app: WhatsApp webhooks, health and metrics (the reporting API mounts here too).
// createApp never listens; src/server/main.ts owns the socket, signals and shutdown.
import express, { type NextFunction, type Request, type Response } from 'express';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { constantTimeEqual } from '../domain/hashing.js';
import type { Logger } from 'pino';
import { HttpError } from './http-error.js';
import { withTimeout } from './timeout.js';
import type { Store } from '../db/store.js';
import { parseWebhook } from '../whatsapp/parse.js';
import { summarizeError } from '../errors.js';
import { QueueFullError, StoreUnavailableError, type WriteQueue } from '../ingest/write-queue.js';
import type { IngestMetrics } from './metrics.js';

/** Meta sends up to 1,000 updates and 3 MB in one POST; anything larger is refused with 413. */
export const WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024;

export interface AppDeps {
  store: Store;
  queue: WriteQueue;
  logger: Logger;
  metrics: IngestMetrics;
  /** Token of Meta's verification handshake; without it the handshake is always refused. */
  verifyToken: string | null;
  /** App secret for X-Hub-Signature-256; null only with --insecure-skip-signature. */
  appSecret: string | null;
  /** Extra health facts (the reply scheduler's backlog, the outbox). */
  health?: () => Record<string, unknown>;
  /** What else makes the daemon unhealthy (the outbox not moving); empty when fine. */
  problems?: () => string[];
  /** More routes (the reporting API), mounted before the error handler. */
  extend?: (app: express.Express) => void;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.get('/webhook', (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (
      mode === 'subscribe' &&
      typeof token === 'string' &&
      deps.verifyToken &&
      constantTimeEqual(token, deps.verifyToken) &&
      typeof challenge === 'string'
    ) {
      deps.logger.info('webhook verification handshake accepted');
      res.status(200).type('text/plain').send(challenge);
      return;
    }
    deps.logger.warn({ mode: typeof mode === 'string' ? mode : null }, 'webhook verification handshake refused');
    res
      .status(403)
      .type('text/plain')
      .send('Forbidden: hub.mode must be "subscribe" and hub.verify_token must equal WHATSAPP_VERIFY_TOKEN.');
  });

  app.post(
    '/webhook',
    (req, _res, next) => {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        refuseUnread(req, () =>
          next(new HttpError(415, 'unsupported_media_type', 'Webhooks must be sent as application/json.')),
        );
        return;
      }
      // Without a signature there is nothing to verify: refuse without buffering the body.
      if (deps.appSecret !== null && !req.headers['x-hub-signature-256']) {
        deps.metrics.webhooks.inc({ outcome: 'bad_signature' });
        refuseUnread(req, () =>
          next(
            new HttpError(
              401,
              'invalid_signature',
              'Missing X-Hub-Signature-256 header (sha256=<hex HMAC of the body with the app secret>).',
            ),
          ),
        );
        return;
      }
      next();
    },
    // The signature covers the exact bytes Meta sent: keep them raw, verify, and only then parse.
    // inflate: false — the signature covers the bytes on the wire; Meta does not compress webhooks.
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT, inflate: false }),
    async (req: Request, res: Response) => {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (deps.appSecret !== null) {
        const verdict = verifySignature(body, req.headers['x-hub-signature-256'], deps.appSecret);
        if (verdict !== 'ok') {
          deps.metrics.webhooks.inc({ outcome: 'bad_signature' });
          throw new HttpError(
            401,
            'invalid_signature',
            verdict === 'missing'
              ? 'Missing X-Hub-Signature-256 header (sha256=<hex HMAC of the body with the app secret>).'
              : 'X-Hub-Signature-256 does not match the body: check WHATSAPP_APP_SECRET.',
          );
        }
      }
      let payload: unknown;
      const text = body.toString('utf8');
      try {
        payload = JSON.parse(text);
      } catch {
        deps.metrics.webhooks.inc({ outcome: 'bad_json' });
        throw new HttpError(400, 'invalid_json', 'The body is not valid JSON.');
      }
      const parsed = parseWebhook(payload, { receivedAt: new Date() });
      try {
        if (!parsed.isWhatsApp) {
          // Not a WhatsApp notification: keep it (Meta would otherwise retry it for days) and say so.
          deps.logger.warn(
            { object: typeof parsed.object === 'string' ? parsed.object.slice(0, 64) : null },
            'kept a webhook that is not a whatsapp_business_account notification',
          );
          await deps.queue.submit(parsed, [{ kind: 'not-whatsapp', payload: text }], text);
          deps.metrics.webhooks.inc({ outcome: 'not_whatsapp' });
          res.status(200).type('text/plain').send('EVENT_RECEIVED');
          return;
        }
        // Thousands of parts the parser does not understand: keep the body once instead of a row each.
        const result =
          parsed.unknown.length > 500
            ? await deps.queue.submit({ ...parsed, unknown: [] }, [{ kind: 'bulk-unknown', payload: text }], text)
            : await deps.queue.submit(parsed, [], text);
        deps.metrics.webhooks.inc({ outcome: 'stored' });
        deps.logger.debug(
          {
            messages: parsed.messages.length,
            statuses: parsed.statuses.length,
            unknown: parsed.unknown.length,
            duplicates: result.duplicates,
          },
          'webhook stored',
        );
        res.status(200).type('text/plain').send('EVENT_RECEIVED');
      } catch (error) {
        if (error instanceof QueueFullError || error instanceof StoreUnavailableError) {
          deps.metrics.webhooks.inc({ outcome: error instanceof QueueFullError ? 'queue_full' : 'store_unavailable' });
          throw new HttpError(
            503,
            error instanceof QueueFullError ? 'busy' : 'store_unavailable',
            `${error.message} Nothing of this request was stored.`,
            {
              'Retry-After': String(error.retryAfterSeconds),
            },
          );
        }
        throw error;
      }
    },
  );

  app.get('/healthz', async (_req, res) => {
    const facts: Record<string, unknown> = { queue_depth: deps.queue.depth(), ...(deps.health?.() ?? {}) };
    let database = 'ok';
    try {
      await withTimeout(deps.store.ping(), 2_000);
    } catch (error) {
      database = `unreachable: ${summarizeError(error).message}`;
    }
    const problems = deps.problems?.() ?? [];
    const healthy = database === 'ok' && deps.queue.healthy() && problems.length === 0;
    res.status(healthy ? 200 : 503).json({
      status: healthy ? 'ok' : 'unhealthy',
      database,
      writes: deps.queue.healthy() ? 'ok' : 'failing',
      ...facts,
      ...(problems.length ? { problems } : {}),
    });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  deps.extend?.(app);

  app.use((_req: Request, _res: Response, next: NextFunction) =>
    next(new HttpError(404, 'not_found', 'No such endpoint.')),
  );

  // One error handler: a JSON body { error: { code, message } }; 5xx never leak internals.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let code = 'internal';
    let message = 'Internal error; see the daemon log.';
    let headers: Record<string, string> = {};
    if (error instanceof HttpError) {
      ({ status, code, message, headers } = error);
    } else {
      const e = error as { status?: number; type?: string; expose?: boolean; message?: string };
      if (e?.type === 'entity.too.large') {
        status = 413;
        code = 'payload_too_large';
        message = `The body is larger than ${WEBHOOK_BODY_LIMIT / 1024 / 1024} MB.`;
        deps.metrics.webhooks.inc({ outcome: 'too_large' });
      } else if (e?.type === 'request.aborted' || e?.type === 'stream.not.readable') {
        status = 400;
        code = 'aborted';
        message = 'The request body was not received completely.';
      } else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
        status = e.status;
        code = e.type?.replace(/\W+/g, '_') ?? 'bad_request';
        message = e.expose && e.message ? e.message : 'Bad request.';
      }
    }
    if (status >= 500)
      deps.logger.error({ err: summarizeError(error), method: req.method, path: req.path, status }, 'request failed');
    else deps.logger.debug({ method: req.method, path: req.path, status, code }, 'request refused');
    // A report that failed half-way through streaming: cut the connection so the client sees an
    // incomplete transfer instead of a truncated file that looks whole.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).set(headers).json({ error: { code, message } });
  });

  return app;
}

/**
 * Refuses a request without keeping its body: the bytes are read and dropped first, so the client
 * (still sending) receives the answer instead of a reset connection. Far past the size limit
 * the connection is simply closed.
 */
function refuseUnread(req: Request, answer: () => void): void {
  if (req.complete || req.readableEnded) {
    answer();
    return;
  }
  let seen = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    answer();
  };
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    // Dropping bytes costs no memory; far past any real webhook, stop listening (requestTimeout
    // bounds the time either way).
    if (seen > 16 * WEBHOOK_BODY_LIMIT) {
      done = true;
      req.destroy();
    }
  });
  req.on('end', finish);
  req.on('error', () => {
    done = true;
  });
  req.resume();
}

export type SignatureVerdict = 'ok' | 'missing' | 'mismatch';

/** HMAC-SHA256 of the raw bytes with the app secret, compared in constant time. */
export function verifySignature(body: Buffer, header: string | string[] | undefined, secret: string): SignatureVerdict {
  if (typeof header !== 'string' || header.length === 0) return 'missing';
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return 'mismatch';
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from((match[1] as string).toLowerCase(), 'hex');
  // Both are 32 bytes (64 hex digits, a SHA-256 digest): compared directly in constant time, without
  // constantTimeEqual's two extra HMACs, there for secrets of any length (~2 % of the daemon's CPU under load).
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'mismatch';
}
