// The reporting HTTP API, behind a bearer token (auth.ts). Served by `wa-report ingest`. The JSON of
// clients, conversation lists and statistics is the CLI's (reports/documents.ts); every answer
// that carries personal data is marked `Cache-Control: no-store`.
import type { Express, Request, Response } from 'express';
import type { Store } from '../db/store.js';
import { formatWaId } from '../domain/phone.js';
import { NotFoundError, UsageError } from '../errors.js';
import { eraseContact, exportContact } from '../privacy/contact.js';
import { buildDetailedReport, buildStatistics, buildSummaryReport } from '../reports/build.js';
import {
  clientDocument,
  conversationListDocument,
  sessionListDocument,
  statisticsDocument,
} from '../reports/documents.js';
import {
  DETAILED_FORMAT_NAMES,
  DETAILED_FORMATS,
  isDetailedFormat,
  isSummaryFormat,
  renderSummary,
  SUMMARY_FORMAT_NAMES,
  SUMMARY_FORMATS,
  type FormatInfo,
} from '../reports/index.js';
import { parseReportOptions, parseSince, type RawReportOptions } from '../reports/query-options.js';
import { clientId, clientIdText, contact, limitText, noStore, param, query, wrap } from './api-helpers.js';
import type { Authenticator, Principal } from './auth.js';
import { HttpError } from './http-error.js';

export interface ReportsApiDeps {
  store: Store;
  authenticator: Authenticator;
  env?: NodeJS.ProcessEnv;
}

const QUERY_NAMES: Record<keyof RawReportOptions, string> = {
  clientId: 'client_id',
  waId: 'wa_id',
  startDate: 'start_date',
  endDate: 'end_date',
  tz: 'tz',
  lang: 'lang',
};

const choices = (names: readonly string[]) => `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;

/** Headers of a report download: its media type, file name, and a strict CSP for HTML. */
function startDownload(res: Response, info: FormatInfo, fileName: string): void {
  res.status(200).type(info.mediaType);
  res.set('Content-Disposition', `${info.disposition}; filename="${fileName}"`);
  res.set('X-Content-Type-Options', 'nosniff');
  if (info.extension === 'html') {
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  }
}

/** Mounts the report endpoints; call before the app's 404 and error handlers. */
export function mountReportsApi(app: Express, deps: ReportsApiDeps): void {
  const env = deps.env ?? process.env;
  const auth = [deps.authenticator.bearer('read'), noStore];
  const admin = [deps.authenticator.bearer('admin'), noStore];
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

  // The conversations inside the threads (sessions), started in the period, newest first.
  app.get(
    '/clients/:clientId/sessions',
    ...auth,
    wrap(async (req, res) => {
      const id = clientId(req);
      const o = report(req, query(req, 'wa_id'));
      const limit = param(limitText, query(req, 'limit'), 'limit');
      const client = await deps.store.clients.get(id);
      await deps.store.conversations.sweep();
      const sessions = await deps.store.conversations.list(
        { clientId: id, waId: o.waId, start: o.start, end: o.end },
        limit,
      );
      res.json(sessionListDocument(client, sessions));
    }),
  );

  // A detailed report in any format: one conversation, or all of a client's in the period.
  const detailed = (waIdOf: (req: Request) => string | undefined) =>
    wrap(async (req, res) => {
      const id = clientId(req);
      const format = query(req, 'format') ?? 'json';
      if (!isDetailedFormat(format)) {
        throw new HttpError(400, 'bad_parameter', `format: "${format}" must be ${choices(DETAILED_FORMAT_NAMES)}.`);
      }
      const o = report(req, waIdOf(req));
      const built = await buildDetailedReport(deps.store, { ...o, clientId: id });
      const info = DETAILED_FORMATS[format];
      const name = o.waId ? `conversation-${id}-${o.waId}` : `client-${id}-conversations`;
      startDownload(res, info, `${name}.${info.extension}`);
      const { renderDetailed } = await import('../reports/index.js');
      await renderDetailed(format, built, res, { bom: query(req, 'bom') === '1' });
      res.end();
    });
  app.get(
    '/clients/:clientId/conversations/:waId/messages',
    ...auth,
    detailed((req) => String(req.params.waId)),
  );
  app.get(
    '/clients/:clientId/export',
    ...auth,
    detailed((req) => query(req, 'wa_id')),
  );

  app.get(
    '/clients/:clientId/summary',
    ...auth,
    wrap(async (req, res) => {
      const id = clientId(req);
      const format = query(req, 'format') ?? 'json';
      if (!isSummaryFormat(format)) {
        throw new HttpError(400, 'bad_parameter', `format: "${format}" must be ${choices(SUMMARY_FORMAT_NAMES)}.`);
      }
      const o = report(req, query(req, 'wa_id'));
      const built = await buildSummaryReport(deps.store, { ...o, clientId: id });
      const info = SUMMARY_FORMATS[format];
      startDownload(res, info, `summary-${id}.${info.extension}`);
      await renderSummary(format, built, res);
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
      const format = query(req, 'format') ?? 'json';
      if (format !== 'json' && format !== 'pdf' && format !== 'xlsx') {
        throw new HttpError(400, 'bad_parameter', `format: "${format}" must be json, pdf or xlsx.`);
      }
      const now = new Date();
      const [s] = await buildStatistics(deps.store, { clientId: id, since, timeZone: o.timeZone, now });
      if (!s) throw new NotFoundError(`No client with id ${id}.`);
      if (format !== 'json') {
        startDownload(res, DETAILED_FORMATS[format], `stats-${id}.${format}`);
        const { renderStatistics } = await import('../reports/index.js');
        const doc = { stats: [s], timeZone: o.timeZone, since: since ?? null, lang: o.lang, generatedAt: now };
        await renderStatistics(format, doc, res);
        res.end();
        return;
      }
      const { client_id, client_name, ...figures } = statisticsDocument(s);
      res.json({ client_id, client_name, time_zone: o.timeZone, since: since?.toISOString() ?? null, ...figures });
    }),
  );

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
