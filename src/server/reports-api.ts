// The reporting HTTP API (the seed's endpoints), behind a bearer token. Served by `wa-report ingest`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Store } from '../db/store.js';
import { NotFoundError, UsageError } from '../errors.js';
import { formatWaId } from '../domain/phone.js';
import { buildDetailedReport, buildStatistics } from '../reports/build.js';
import type { DetailedFormat } from '../reports/types.js';
import { parseReportOptions, parseSince } from '../reports/query-options.js';
import { HttpError } from './app.js';
import { authenticateToken, type Scope } from '../privacy/tokens.js';
import { eraseContact, exportContact } from '../privacy/contact.js';
import { normalizeContactId } from '../domain/phone.js';

export interface ReportsApiDeps {
  store: Store;
  /**
   * WA_REPORT_API_TOKEN (scope WA_REPORT_API_TOKEN_SCOPE, read by default); tokens made with `wa-report tokens create` are accepted too.
   * With neither, the endpoints answer 503 (never open by default).
   */
  apiToken: string | null;
  /** What WA_REPORT_API_TOKEN may do (WA_REPORT_API_TOKEN_SCOPE); default read. */
  apiTokenScope?: Scope;
  env?: NodeJS.ProcessEnv;
  /** Failed authentications allowed per address and window before 429 (default 10 per 5 minutes). */
  failures?: { limit: number; windowMs: number };
}

/**
 * Failed authentications per client address, in fixed windows. Written here rather than with
 * express-rate-limit: that library counts every request up front and forgives successes afterwards,
 * so a dashboard's burst of valid concurrent requests could lock its own address out.
 */
class FailureLimiter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();
  private readonly checking = new Map<string, Promise<unknown>>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Runs the checks of one address one after another: a failure is counted before the next check
   * from that address starts, so concurrent guesses cannot all pass before the first is counted.
   * Valid requests are never counted (a dashboard's burst does not lock itself out); they only
   * queue behind each other's token lookup.
   */
  serially<T>(address: string, check: () => Promise<T>): Promise<T> {
    const before = this.checking.get(address) ?? Promise.resolve();
    const run = before.then(check, check);
    const tail = run.catch(() => {});
    this.checking.set(address, tail);
    void tail.then(() => {
      if (this.checking.get(address) === tail) this.checking.delete(address);
    });
    return run;
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const e = this.entries.get(address);
    if (!e || e.resetAt <= now) return 0;
    return e.count >= this.limit ? Math.ceil((e.resetAt - now) / 1000) : 0;
  }

  fail(address: string, now = Date.now()): void {
    const e = this.entries.get(address);
    if (!e || e.resetAt <= now) {
      if (this.entries.size >= 100_000) this.prune(now);
      this.entries.set(address, { count: 1, resetAt: now + this.windowMs });
    } else {
      e.count += 1;
    }
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.resetAt <= now) this.entries.delete(k);
    // Still full (a wide attack): forget the oldest half rather than grow without bound.
    if (this.entries.size >= 100_000) [...this.entries.keys()].slice(0, 50_000).forEach((k) => this.entries.delete(k));
  }
}

export interface Principal {
  name: string;
  scope: Scope;
}

const QUERY_NAMES = {
  clientId: 'client_id',
  waId: 'wa_id',
  startDate: 'start_date',
  endDate: 'end_date',
  tz: 'tz',
  lang: 'lang',
};
const CONTENT_TYPES: Record<DetailedFormat, string> = {
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

function tokenMatches(given: string, expected: string): boolean {
  // Hash both sides first: equal lengths for timingSafeEqual, and no length leak.
  const a = createHmac('sha256', 'wa-report-api').update(given).digest();
  const b = createHmac('sha256', 'wa-report-api').update(expected).digest();
  return timingSafeEqual(a, b);
}

function query(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'bad_parameter', `${name}: give it once, as a single value.`);
  return v;
}

function clientIdParam(req: Request): number {
  const raw = String(req.params.clientId ?? '');
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < 1)
    throw new HttpError(400, 'bad_parameter', `client_id: "${raw}" is not a client id.`);
  return Number(raw);
}

/** Mounts the report endpoints; call before the app's 404 and error handlers. */
export function mountReportsApi(app: Express, deps: ReportsApiDeps): void {
  const env = deps.env ?? process.env;
  const limiter = new FailureLimiter(deps.failures?.limit ?? 10, deps.failures?.windowMs ?? 5 * 60_000);
  const anyTokens = () => deps.store.tokens.anyLive();
  const authorize = (need: Scope) => async (req: Request, res: Response, next: NextFunction) => {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    await limiter.serially(address, async () => {
      try {
        await check(address, need, req, res, next);
      } catch (error) {
        next(error);
      }
    });
  };
  const check = async (address: string, need: Scope, req: Request, res: Response, next: NextFunction) => {
    const wait = limiter.blockedFor(address);
    if (wait > 0) {
      next(
        new HttpError(
          429,
          'too_many_failures',
          `Too many failed authentications from this address; try again in ${wait} s.`,
          { 'Retry-After': String(wait) },
        ),
      );
      return;
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    let principal: Principal | null = null;
    if (m) {
      const given = m[1] as string;
      if (deps.apiToken && tokenMatches(given, deps.apiToken))
        principal = { name: 'WA_REPORT_API_TOKEN', scope: deps.apiTokenScope ?? 'read' };
      else {
        const record = await authenticateToken(deps.store, given);
        if (record) principal = { name: record.name, scope: record.scope };
      }
    }
    if (!principal) {
      if (!deps.apiToken && !(await anyTokens())) {
        next(
          new HttpError(
            503,
            'api_token_not_configured',
            'The report API is disabled until a token exists: run `wa-report tokens create --name <who> --scope read` (or set WA_REPORT_API_TOKEN and restart wa-report ingest).',
          ),
        );
        return;
      }
      limiter.fail(address);
      next(
        new HttpError(
          401,
          'unauthorized',
          m
            ? 'The bearer token is not valid (or was revoked).'
            : 'Send Authorization: Bearer <token> (see `wa-report tokens create`).',
          { 'WWW-Authenticate': 'Bearer realm="wa-report"' },
        ),
      );
      return;
    }
    if (need === 'admin' && principal.scope !== 'admin') {
      next(
        new HttpError(
          403,
          'forbidden',
          `The token "${principal.name}" has scope ${principal.scope}; this endpoint needs an admin token (\`wa-report tokens create --scope admin\`).`,
        ),
      );
      return;
    }
    res.locals.principal = principal;
    next();
  };
  const auth = authorize('read');
  const admin = authorize('admin');
  const options = (req: Request) => {
    try {
      return parseReportOptions(
        {
          waId: query(req, 'wa_id'),
          startDate: query(req, 'start_date'),
          endDate: query(req, 'end_date'),
          tz: query(req, 'tz'),
          lang: query(req, 'lang'),
        },
        env,
        QUERY_NAMES,
      );
    } catch (error) {
      if (error instanceof UsageError) throw new HttpError(400, 'bad_parameter', error.message);
      throw error;
    }
  };
  const wrap = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (error) {
      if (error instanceof NotFoundError) throw new HttpError(404, 'not_found', error.message);
      if (error instanceof UsageError) throw new HttpError(400, 'bad_parameter', error.message);
      throw error;
    }
  };

  app.get(
    '/clients',
    auth,
    wrap(async (_req, res) => {
      const clients = await deps.store.clients.list();
      res.json({
        clients: clients.map((c) => ({
          id: c.id,
          name: c.name,
          phone_number: c.phoneNumber,
          phone_number_id: c.phoneNumberId,
          assistant_enabled: c.assistantEnabled,
          created_at: c.createdAt.toISOString(),
        })),
      });
    }),
  );

  app.get(
    '/clients/:clientId/conversations',
    auth,
    wrap(async (req, res) => {
      const clientId = clientIdParam(req);
      const o = options(req);
      const limitText = query(req, 'limit');
      const limit = limitText === undefined ? 100 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new HttpError(400, 'bad_parameter', `limit: "${limitText}" must be a whole number from 1 to 1000.`);
      const client = await deps.store.clients.get(clientId);
      const page = await deps.store.threads.list(
        { clientId, waId: o.waId, start: o.start, end: o.end },
        { limit, cursor: query(req, 'cursor') ?? null },
      );
      res.json({
        client: { id: client.id, name: client.name, phone_number: client.phoneNumber },
        total_conversations: page.total,
        conversations: page.conversations.map((c) => ({
          thread_id: c.threadId,
          wa_id: formatWaId(c.waId),
          contact_name: c.contactName,
          created_at: c.createdAt.toISOString(),
          last_message_at: c.lastMessageAt.toISOString(),
          message_count: c.messageCount,
        })),
        next_cursor: page.nextCursor,
      });
    }),
  );

  app.get(
    '/clients/:clientId/conversations/:waId/messages',
    auth,
    wrap(async (req, res) => {
      const clientId = clientIdParam(req);
      const format = (query(req, 'format') ?? 'json') as DetailedFormat;
      if (!Object.hasOwn(CONTENT_TYPES, format))
        throw new HttpError(400, 'bad_parameter', `format: "${format}" must be json, text, html or csv.`);
      let o;
      try {
        o = parseReportOptions(
          {
            waId: String(req.params.waId),
            startDate: query(req, 'start_date'),
            endDate: query(req, 'end_date'),
            tz: query(req, 'tz'),
            lang: query(req, 'lang'),
          },
          env,
          QUERY_NAMES,
        );
      } catch (error) {
        if (error instanceof UsageError) throw new HttpError(400, 'bad_parameter', error.message);
        throw error;
      }
      const report = await buildDetailedReport(deps.store, {
        clientId,
        waId: o.waId,
        start: o.start,
        end: o.end,
        timeZone: o.timeZone,
        lang: o.lang,
      });
      const ext = { json: 'json', text: 'txt', html: 'html', csv: 'csv' }[format];
      res.status(200).type(CONTENT_TYPES[format]);
      res.set(
        'Content-Disposition',
        `${format === 'html' || format === 'json' ? 'inline' : 'attachment'}; filename="conversation-${clientId}-${o.waId}.${ext}"`,
      );
      res.set('X-Content-Type-Options', 'nosniff');
      if (format === 'html')
        res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      const { renderDetailed } = await import('../reports/index.js');
      await renderDetailed(format, report, res, { bom: query(req, 'bom') === '1' });
      res.end();
    }),
  );

  app.get(
    '/clients/:clientId/stats',
    auth,
    wrap(async (req, res) => {
      const clientId = clientIdParam(req);
      const o = options(req);
      const sinceText = query(req, 'since');
      let since: Date | undefined;
      try {
        since = sinceText ? parseSince(sinceText, o.timeZone, new Date()) : undefined;
      } catch (error) {
        throw new HttpError(400, 'bad_parameter', (error as Error).message.replace('--since', 'since'));
      }
      const [s] = await buildStatistics(deps.store, { clientId, since, timeZone: o.timeZone });
      if (!s) throw new NotFoundError(`No client with id ${clientId}.`);
      res.json({
        client_id: s.clientId,
        client_name: s.clientName,
        time_zone: o.timeZone,
        since: since?.toISOString() ?? null,
        conversations: s.conversations,
        active_last_24h: s.activeLast24h,
        messages: s.messages,
        messages_by_role: s.messagesByRole,
        outbound_by_status: s.outboundByStatus,
        failed: s.failed,
        delivery_rate: s.deliveryRate,
        read_rate: s.readRate,
        response_time_seconds: s.responseSeconds,
        messages_per_day: s.perDay,
      });
    }),
  );

  const contactParam = (req: Request): string => {
    try {
      return normalizeContactId(String(req.params.waId ?? ''), 'wa_id');
    } catch (error) {
      throw new HttpError(400, 'bad_parameter', (error as Error).message);
    }
  };

  // Data rights (admin scope): everything stored about a user, and its erasure.
  app.get(
    '/contacts/:waId/export',
    admin,
    wrap(async (req, res) => {
      const waId = contactParam(req);
      res.status(200).type('application/json; charset=utf-8');
      res.set('Content-Disposition', `attachment; filename="contact-${waId}.json"`);
      res.set('Cache-Control', 'no-store');
      await exportContact(deps.store, waId, res);
      res.end();
    }),
  );

  app.delete(
    '/contacts/:waId',
    admin,
    wrap(async (req, res) => {
      const waId = contactParam(req);
      const clientText = query(req, 'client_id');
      let clientId: number | undefined;
      if (clientText !== undefined) {
        if (!/^\d{1,12}$/.test(clientText) || Number(clientText) < 1)
          throw new HttpError(400, 'bad_parameter', `client_id: "${clientText}" is not a client id.`);
        clientId = Number(clientText);
        await deps.store.clients.get(clientId);
      }
      const principal = res.locals.principal as Principal;
      const e = await eraseContact(deps.store, waId, { clientId, actor: `api:${principal.name}` });
      res.json({
        wa_id: formatWaId(waId),
        client_id: clientId ?? null,
        erased: e.auditId !== null,
        threads: e.threads,
        messages: e.messages,
        status_events: e.statusEvents,
        raw_events: e.rawEvents,
        audit_id: e.auditId,
      });
    }),
  );
}
