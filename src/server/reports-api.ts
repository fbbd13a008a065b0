// The reporting HTTP API, behind a bearer token (auth.ts). Served by `wa-report ingest`. The JSON of
// clients, conversation lists and statistics is the CLI's (reports/documents.ts); every answer
// that carries personal data is marked `Cache-Control: no-store`.
import type { Express, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { Store } from '../db/store.js';
import { formatWaId, normalizeContactId } from '../domain/phone.js';
import { NotFoundError, UsageError } from '../errors.js';
import { eraseContact, exportContact } from '../privacy/contact.js';
import type { Scope } from '../privacy/tokens.js';
import { buildDetailedReport, buildStatistics } from '../reports/build.js';
import { clientDocument, conversationListDocument, statisticsDocument } from '../reports/documents.js';
import { DETAILED_FORMAT_NAMES, DETAILED_FORMATS, isDetailedFormat } from '../reports/index.js';
import { parseReportOptions, parseSince, type RawReportOptions } from '../reports/query-options.js';
import { Authenticator, type Principal } from './auth.js';
import { HttpError } from './http-error.js';

export interface ReportsApiDeps {
  store: Store;
  /** See AuthDeps: WA_REPORT_API_TOKEN, or null (tokens of `wa-report tokens create` only). */
  apiToken: string | null;
  apiTokenScope?: Scope;
  env?: NodeJS.ProcessEnv;
  /** Failed authentications allowed per address and window before 429 (default 10 per 5 minutes). */
  failures?: { limit: number; windowMs: number };
}

const QUERY_NAMES: Record<keyof RawReportOptions, string> = {
  clientId: 'client_id',
  waId: 'wa_id',
  startDate: 'start_date',
  endDate: 'end_date',
  tz: 'tz',
  lang: 'lang',
};

const clientIdText = z
  .string()
  .regex(/^\d{1,12}$/, 'is not a client id')
  .transform(Number)
  .refine((n) => n >= 1, 'is not a client id');

const limitText = z
  .string()
  .optional()
  .transform((s) => (s === undefined ? 100 : Number(s)))
  .refine((n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'must be a whole number from 1 to 1000');

function query(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'bad_parameter', `${name}: give it once, as a single value.`);
  return v;
}

/** A path or query value checked by its schema; a problem is a 400 naming the parameter and the value. */
function param<S extends z.ZodType>(schema: S, value: string | undefined, name: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new HttpError(400, 'bad_parameter', `${name}: "${value}" ${result.error.issues[0]?.message}.`);
}

/** Personal data: never kept by a browser or a proxy. */
function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  next();
}

/** Mounts the report endpoints; call before the app's 404 and error handlers. */
export function mountReportsApi(app: Express, deps: ReportsApiDeps): void {
  const env = deps.env ?? process.env;
  const authenticator = new Authenticator(deps);
  const auth = [authenticator.bearer('read'), noStore];
  const admin = [authenticator.bearer('admin'), noStore];
  const report = (req: Request, waId: string | undefined) => {
    try {
      return parseReportOptions(
        {
          waId,
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
  const clientId = (req: Request) => param(clientIdText, String(req.params.clientId ?? ''), 'client_id');
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
    ...auth,
    wrap(async (_req, res) => {
      res.json({ clients: (await deps.store.clients.list()).map(clientDocument) });
    }),
  );

  app.get(
    '/clients/:clientId/conversations',
    ...auth,
    wrap(async (req, res) => {
      const id = clientId(req);
      const o = report(req, query(req, 'wa_id'));
      const limit = param(limitText, query(req, 'limit'), 'limit');
      const client = await deps.store.clients.get(id);
      const page = await deps.store.threads.list(
        { clientId: id, waId: o.waId, start: o.start, end: o.end },
        { limit, cursor: query(req, 'cursor') ?? null },
      );
      res.json({ ...conversationListDocument(client, page.total, page.conversations), next_cursor: page.nextCursor });
    }),
  );

  app.get(
    '/clients/:clientId/conversations/:waId/messages',
    ...auth,
    wrap(async (req, res) => {
      const id = clientId(req);
      const format = query(req, 'format') ?? 'json';
      if (!isDetailedFormat(format)) {
        const names = DETAILED_FORMAT_NAMES;
        const choices = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
        throw new HttpError(400, 'bad_parameter', `format: "${format}" must be ${choices}.`);
      }
      const o = report(req, String(req.params.waId));
      const built = await buildDetailedReport(deps.store, { ...o, clientId: id });
      const info = DETAILED_FORMATS[format];
      res.status(200).type(info.mediaType);
      res.set('Content-Disposition', `${info.disposition}; filename="conversation-${id}-${o.waId}.${info.extension}"`);
      res.set('X-Content-Type-Options', 'nosniff');
      if (format === 'html') {
        res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      }
      const { renderDetailed } = await import('../reports/index.js');
      await renderDetailed(format, built, res, { bom: query(req, 'bom') === '1' });
      res.end();
    }),
  );

  app.get(
    '/clients/:clientId/stats',
    ...auth,
    wrap(async (req, res) => {
      const id = clientId(req);
      const o = report(req, undefined);
      const sinceText = query(req, 'since');
      let since: Date | undefined;
      try {
        since = sinceText ? parseSince(sinceText, o.timeZone, new Date()) : undefined;
      } catch (error) {
        throw new HttpError(400, 'bad_parameter', (error as Error).message.replace('--since', 'since'));
      }
      const [s] = await buildStatistics(deps.store, { clientId: id, since, timeZone: o.timeZone });
      if (!s) throw new NotFoundError(`No client with id ${id}.`);
      const { client_id, client_name, ...figures } = statisticsDocument(s);
      res.json({ client_id, client_name, time_zone: o.timeZone, since: since?.toISOString() ?? null, ...figures });
    }),
  );

  const contact = (req: Request): string => {
    try {
      return normalizeContactId(String(req.params.waId ?? ''), 'wa_id');
    } catch (error) {
      throw new HttpError(400, 'bad_parameter', (error as Error).message);
    }
  };

  // Data rights (admin scope): everything stored about a user, and its erasure.
  app.get(
    '/contacts/:waId/export',
    ...admin,
    wrap(async (req, res) => {
      const waId = contact(req);
      res.status(200).type('application/json; charset=utf-8');
      res.set('Content-Disposition', `attachment; filename="contact-${waId}.json"`);
      await exportContact(deps.store, waId, res);
      res.end();
    }),
  );

  app.delete(
    '/contacts/:waId',
    ...admin,
    wrap(async (req, res) => {
      const waId = contact(req);
      const clientText = query(req, 'client_id');
      const only = clientText === undefined ? undefined : param(clientIdText, clientText, 'client_id');
      if (only !== undefined) await deps.store.clients.get(only);
      const principal = res.locals.principal as Principal;
      const e = await eraseContact(deps.store, waId, { clientId: only, actor: `api:${principal.name}` });
      res.json({
        wa_id: formatWaId(waId),
        client_id: only ?? null,
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
