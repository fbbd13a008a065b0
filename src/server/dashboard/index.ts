// The web dashboard at /dashboard: server-rendered pages (they all work without JavaScript), signed in
// with an API token through a form, then a server-side session. Served by `wa-report ingest` and by
// `wa-report dashboard` on its own. Every POST carries the session's CSRF token; read tokens see
// reports, admin tokens also the event webhooks and may redeliver.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Store } from '../../db/store.js';
import { formatWaId } from '../../domain/phone.js';
import { NotFoundError, UsageError, WaReportError } from '../../errors.js';
import { buildDetailedReport } from '../../reports/build.js';
import { DETAILED_FORMAT_NAMES, DETAILED_FORMATS, isDetailedFormat } from '../../reports/index.js';
import type { Authenticator, Principal } from '../auth.js';
import { HttpError } from '../http-error.js';
import { parseListFilters, parseView, viewQuery, waIdParam, type View } from './filters.js';
import { formatters } from './format.js';
import { dashboardLang, DASHBOARD_LABELS, fill, type DashboardLang, type DashboardLabels } from './labels.js';
import { LiveFeed } from './live.js';
import { overviewModel } from './overview-page.js';
import { conversationModel, listModel } from './conversation-pages.js';
import {
  clearCookie,
  DASHBOARD_PATH,
  LANG_COOKIE,
  LOGIN_CSRF_COOKIE,
  newToken,
  readCookie,
  sameToken,
  SESSION_COOKIE,
  SessionStore,
  setCookie,
  type Session,
} from './sessions.js';
import { ASSETS, asset, renderPage, securityHeaders, TRANSCRIPT_CSP } from './views.js';

export interface DashboardDeps {
  store: Store;
  authenticator: Authenticator;
  sessions?: SessionStore;
  env?: NodeJS.ProcessEnv;
  /** Sends a delivery again now (the daemon); without it, it is queued for the daemon's worker. */
  redeliver?: (deliveryId: number) => Promise<string>;
  clock?: () => Date;
  /** How often the live refresh reads the database's watermark (default 2 s). */
  liveIntervalMs?: number;
  /** The least time between two live reloads of a page (default 15 s). */
  liveMinReloadMs?: number;
}

/** The dashboard on an app: its sessions, and what must end before its server can close. */
export interface MountedDashboard {
  sessions: SessionStore;
  /** Ends the live-refresh streams (they would keep the server's connections open). */
  close(): void;
}

interface Page {
  /** This request's URL (for the language switch). */
  url: string;
  lang: DashboardLang;
  labels: DashboardLabels;
  session: Session | null;
}

const base = DASHBOARD_PATH;

/** Mounts /dashboard on the app (before its 404 and error handlers). */
export function mountDashboard(app: express.Express, deps: DashboardDeps): MountedDashboard {
  const sessions = deps.sessions ?? new SessionStore();
  const live = new LiveFeed({ watermark: () => deps.store.messages.watermark(), intervalMs: deps.liveIntervalMs });
  app.use(base, dashboardRouter({ ...deps, sessions }, live));
  return { sessions, close: () => live.close() };
}

function dashboardRouter(deps: DashboardDeps & { sessions: SessionStore }, live: LiveFeed): Router {
  const router = express.Router({ strict: false });
  const env = deps.env ?? process.env;
  const now = () => deps.clock?.() ?? new Date();
  router.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));

  // Language: ?lang= switches and is remembered.
  router.use((req, res, next) => {
    const lang = dashboardLang(req);
    if (typeof req.query.lang === 'string' && req.query.lang === lang) {
      setCookie(req, res, LANG_COOKIE, lang, { maxAgeSeconds: 365 * 86_400 });
    }
    const page: Page = { url: req.originalUrl, lang, labels: DASHBOARD_LABELS[lang], session: null };
    res.locals.page = page;
    next();
  });

  router.get('/assets/:name', (req, res) => {
    const name = String(req.params.name);
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) throw new HttpError(404, 'not_found', 'No such file.');
    res.set('Cache-Control', 'public, max-age=3600');
    res.set('X-Content-Type-Options', 'nosniff');
    res.type(type).send(asset(name));
  });

  // Sign in: a form (token), or a one-time link from `wa-report dashboard`.
  router.get('/login', (req, res) => {
    const page = res.locals.page as Page;
    const code = typeof req.query.code === 'string' ? req.query.code : null;
    if (code) {
      const principal = deps.sessions.redeemCode(code);
      if (principal) return startSession(req, res, principal, `${base}/`);
      return loginPage(req, res, page, page.labels.linkUsed, 401);
    }
    const notice =
      req.query.expired === '1' ? page.labels.expired : req.query.out === '1' ? page.labels.signedOut : null;
    loginPage(req, res, page, notice, 200, true);
  });

  router.post('/login', async (req, res) => {
    const page = res.locals.page as Page;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const expected = readCookie(req, LOGIN_CSRF_COOKIE);
    if (!expected || !sameToken(body._csrf, expected)) return loginPage(req, res, page, page.labels.csrf, 403);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    try {
      const principal = await deps.authenticator.identify(
        req.ip ?? req.socket.remoteAddress ?? 'unknown',
        token || null,
      );
      clearCookie(req, res, LOGIN_CSRF_COOKIE);
      startSession(req, res, principal, safeNext(body.next));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const message =
        error.status === 429
          ? fill(page.labels.tooMany, { s: error.headers['Retry-After'] ?? '60' })
          : error.status === 503
            ? page.labels.noTokens
            : page.labels.wrongToken;
      if (error.headers['Retry-After']) res.set('Retry-After', error.headers['Retry-After']);
      loginPage(req, res, page, message, error.status);
    }
  });

  function startSession(req: Request, res: Response, principal: Principal, next: string): void {
    const { id } = deps.sessions.create(principal);
    setCookie(req, res, SESSION_COOKIE, id);
    securityHeaders(res);
    res.redirect(303, next);
  }

  function loginPage(req: Request, res: Response, page: Page, message: string | null, status: number, notice = false) {
    const csrf = newToken();
    setCookie(req, res, LOGIN_CSRF_COOKIE, csrf);
    renderPage(
      res,
      'login',
      {
        ...shell(page, page.labels.signIn, null),
        csrf,
        next: safeNext(req.query.next ?? (req.body as Record<string, unknown> | undefined)?.next),
        message,
        notice,
      },
      status,
    );
  }

  // Everything below needs a session.
  router.use((req, res, next) => {
    const page = res.locals.page as Page;
    const session = deps.sessions.touch(readCookie(req, SESSION_COOKIE));
    if (!session) {
      securityHeaders(res);
      const hadOne = readCookie(req, SESSION_COOKIE) !== undefined;
      if (req.method === 'GET' || req.method === 'HEAD') {
        const q = new URLSearchParams({ next: req.originalUrl });
        if (hadOne) q.set('expired', '1');
        return res.redirect(303, `${base}/login?${q}`);
      }
      return res.status(401).type('text/plain').send(page.labels.expired);
    }
    page.session = session;
    if (req.method === 'POST' && !sameToken((req.body as Record<string, unknown> | undefined)?._csrf, session.csrf)) {
      return errorPage(res, page, 403, page.labels.forbidden, page.labels.csrf);
    }
    next();
  });

  router.post('/logout', (req, res) => {
    deps.sessions.destroy(readCookie(req, SESSION_COOKIE));
    clearCookie(req, res, SESSION_COOKIE);
    securityHeaders(res);
    res.redirect(303, `${base}/login?out=1`);
  });

  const withView = (req: Request) => parseView(req, env, now());

  // Live refresh (dashboard.js): the watermark now and whenever it changes; see live.ts.
  router.get('/live', (req, res) => {
    const id = readCookie(req, SESSION_COOKIE);
    const refused = live.subscribe(res, () => deps.sessions.alive(id));
    // Too many open, or shutting down: said plainly (the page falls back to reloading now and then).
    if (refused) res.status(503).set('Retry-After', refused.retryAfter).type('text/plain').send(refused.message);
  });

  router.get('/', async (req, res) => {
    const page = res.locals.page as Page;
    const view = withView(req);
    const clients = await deps.store.clients.list({ includeInactive: true });
    if (view.clientId !== undefined) await deps.store.clients.get(view.clientId);
    // Read before the figures: whatever is stored after this reloads the page.
    const watermark = await deps.store.messages.watermark();
    const model = await overviewModel(deps.store, view, page.labels, page.lang, now());
    renderPage(res, 'overview', {
      ...shell(page, page.labels.overview, view, 'overview'),
      clients,
      ...model,
      live: req.query.live === '1',
      watermark,
      liveMinMs: deps.liveMinReloadMs ?? 15_000,
    });
  });

  router.get('/conversations', async (req, res) => {
    const page = res.locals.page as Page;
    const view = withView(req);
    const filters = parseListFilters(req, view);
    const clients = await deps.store.clients.list({ includeInactive: true });
    const model = await listModel(deps.store, view, filters, clients, formatters(page.lang, view.timeZone));
    renderPage(res, 'conversations', {
      ...shell(page, page.labels.conversations, view, 'conversations'),
      clients,
      filters: filters.raw,
      ...model,
    });
  });

  const conversationOf = async (req: Request) => {
    const clientId = Number(req.params.clientId);
    if (!Number.isInteger(clientId) || clientId < 1) throw new NotFoundError('No such client.');
    const client = await deps.store.clients.get(clientId);
    const waId = waIdParam(String(req.params.waId));
    const thread = await deps.store.threads.find(clientId, waId);
    if (!thread) throw new NotFoundError(`No conversation of ${client.name} with ${formatWaId(waId)}.`);
    return { client, waId, thread };
  };

  router.get('/conversations/:clientId/:waId', async (req, res) => {
    const page = res.locals.page as Page;
    const view = withView(req);
    const { client, thread } = await conversationOf(req);
    const model = await conversationModel(deps.store, client, thread, formatters(page.lang, view.timeZone));
    const title = fill(page.labels.conversation, { who: thread.contactName ?? formatWaId(thread.waId) });
    renderPage(res, 'conversation', {
      ...shell(page, title, view, 'conversations'),
      client,
      thread: { ...thread, phone: formatWaId(thread.waId) },
      ...model,
      formats: DETAILED_FORMAT_NAMES,
      query: viewQuery(view).toString(),
    });
  });

  /** The detailed report of the conversation in the URL, in the page's zone and language. */
  const reportOf = async (req: Request, res: Response) => {
    const page = res.locals.page as Page;
    const { client, waId } = await conversationOf(req);
    const built = await buildDetailedReport(deps.store, {
      clientId: client.id,
      waId,
      timeZone: withView(req).timeZone,
      lang: page.lang,
    });
    return { client, waId, built };
  };

  // The chat view: the HTML report of this conversation (same renderer), framed by its page.
  router.get('/conversations/:clientId/:waId/transcript', async (req, res) => {
    const { built } = await reportOf(req, res);
    securityHeaders(res, TRANSCRIPT_CSP);
    res.status(200).type('text/html; charset=utf-8');
    const { renderDetailed } = await import('../../reports/index.js');
    await renderDetailed('html', built, res);
    res.end();
  });

  router.get('/conversations/:clientId/:waId/export', async (req, res) => {
    const format = typeof req.query.format === 'string' ? req.query.format : 'html';
    if (!isDetailedFormat(format)) {
      throw new UsageError(`format: "${format}" must be one of ${DETAILED_FORMAT_NAMES.join(', ')}.`);
    }
    const { client, waId, built } = await reportOf(req, res);
    const info = DETAILED_FORMATS[format];
    securityHeaders(res, "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.status(200).type(info.mediaType);
    res.set('Content-Disposition', `attachment; filename="conversation-${client.id}-${waId}.${info.extension}"`);
    const { renderDetailed } = await import('../../reports/index.js');
    await renderDetailed(format, built, res);
    res.end();
  });

  router.get('/failed', async (req, res) => {
    const page = res.locals.page as Page;
    const view = withView(req);
    const clients = await deps.store.clients.list({ includeInactive: true });
    const names = new Map(clients.map((c) => [c.id, c.name]));
    const f = formatters(page.lang, view.timeZone);
    const failed = await deps.store.messages.failed({
      clientId: view.clientId,
      start: view.start,
      end: view.end,
      limit: 200,
    });
    renderPage(res, 'failed', {
      ...shell(page, page.labels.failed, view, 'failed'),
      clients,
      failed: failed.map((m) => ({
        at: f.at(m.createdAt),
        iso: m.createdAt.toISOString(),
        client: names.get(m.clientId) ?? String(m.clientId),
        phone: formatWaId(m.waId),
        href: `${base}/conversations/${m.clientId}/${m.waId}?${viewQuery(view)}`,
        role: m.role,
        error: m.errorMessage || (m.errorCode === null ? '–' : String(m.errorCode)),
        content: m.content.length > 140 ? `${m.content.slice(0, 139)}…` : m.content,
      })),
    });
  });

  router.get('/clients', async (req, res) => {
    const page = res.locals.page as Page;
    const view = withView(req);
    const clients = await deps.store.clients.list({ includeInactive: true });
    renderPage(res, 'clients', { ...shell(page, page.labels.clients, view, 'clients'), clients });
  });

  const adminOnly = (_req: Request, res: Response, next: NextFunction) => {
    const page = res.locals.page as Page;
    if (page.session?.principal.scope !== 'admin') {
      return errorPage(res, page, 403, page.labels.forbidden, page.labels.adminOnly);
    }
    next();
  };

  router.get('/webhooks', adminOnly, async (req, res) => {
    const page = res.locals.page as Page;
    const view = withView(req);
    const f = formatters(page.lang, view.timeZone);
    const [endpoints, deliveries] = await Promise.all([
      deps.store.webhooks.list(),
      deps.store.deliveries.list({ limit: 100, failed: req.query.failed === '1' }),
    ]);
    renderPage(res, 'webhooks', {
      ...shell(page, page.labels.webhooks, view, 'webhooks'),
      endpoints: endpoints.map((e) => ({
        ...e,
        created: f.at(e.createdAt),
        state: e.disabledAt ? `disabled: ${e.disabledReason ?? ''}` : e.failingSince ? 'failing' : 'active',
      })),
      deliveries: deliveries.map((d) => ({
        ...d,
        created: f.at(d.createdAt),
        delivered: d.deliveredAt ? f.at(d.deliveredAt) : '–',
      })),
      notice: typeof req.query.done === 'string' ? req.query.done : null,
      onlyFailed: req.query.failed === '1',
    });
  });

  router.post('/webhooks/deliveries/:id/redeliver', adminOnly, async (req, res) => {
    const page = res.locals.page as Page;
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || id < 1) throw new NotFoundError('No such delivery.');
    const outcome = deps.redeliver
      ? await deps.redeliver(id)
      : (await deps.store.deliveries.redeliver(id), 'queued for the daemon');
    securityHeaders(res);
    const done = fill(page.labels.redelivered, { id, outcome });
    res.redirect(303, `${base}/webhooks?${new URLSearchParams({ done })}`);
  });

  router.use((_req, res) => {
    const page = res.locals.page as Page;
    errorPage(res, page, 404, page.labels.notFound, page.labels.notFound);
  });

  // Errors become pages: 400 with every problem, 404, 403; 5xx say only that it failed.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const page = res.locals.page as Page | undefined;
    if (!page || res.headersSent) return next(error);
    if (error instanceof UsageError) return errorPage(res, page, 400, page.labels.badRequest, error.message);
    if (error instanceof NotFoundError) return errorPage(res, page, 404, page.labels.notFound, error.message);
    if (error instanceof HttpError && error.status < 500) {
      return errorPage(res, page, error.status, page.labels.badRequest, error.message);
    }
    if (error instanceof WaReportError && error.exitCode === 2) {
      return errorPage(res, page, 400, page.labels.badRequest, error.message);
    }
    next(error);
  });
  return router;
}

function errorPage(res: Response, page: Page, status: number, title: string, message: string): void {
  renderPage(res, 'error', { ...shell(page, title, null), message }, status);
}

/** Where to go after signing in: only a dashboard path of this server. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/dashboard(\/|\?|$)/.test(next) && !next.includes('//') ? next : `${base}/`;
}

/** What the layout needs on every page. */
function shell(page: Page, title: string, view: View | null, current: string | null = null) {
  const labels = page.labels;
  const query = view ? viewQuery(view).toString() : '';
  const nav = [
    { id: 'overview', href: `${base}/`, text: labels.overview },
    { id: 'conversations', href: `${base}/conversations`, text: labels.conversations },
    { id: 'failed', href: `${base}/failed`, text: labels.failed },
    ...(page.session?.principal.scope === 'admin'
      ? [{ id: 'webhooks', href: `${base}/webhooks`, text: labels.webhooks }]
      : []),
    { id: 'clients', href: `${base}/clients`, text: labels.clients },
  ].map((n) => ({ ...n, href: query ? `${n.href}?${query}` : n.href, current: n.id === current }));
  const f = view ? formatters(page.lang, view.timeZone) : null;
  const switchTo = (lang: DashboardLang) => {
    const url = new URL(page.url, 'http://dashboard.invalid');
    url.searchParams.set('lang', lang);
    return `${url.pathname}${url.search}`;
  };
  return {
    languages: (['en', 'es'] as const).map((l) => ({
      lang: l,
      name: l === 'en' ? 'English' : 'Español',
      href: switchTo(l),
      current: l === page.lang,
    })),
    lang: page.lang,
    labels,
    title,
    nav,
    session: page.session
      ? { name: page.session.principal.name, scope: page.session.principal.scope, csrf: page.session.csrf }
      : null,
    view,
    query,
    period:
      view && f
        ? {
            start: f.at(view.start),
            end: f.at(view.end),
            startIso: view.start.toISOString(),
            endIso: view.end.toISOString(),
          }
        : null,
    fill,
  };
}
