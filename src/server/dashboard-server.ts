// `wa-report dashboard`: the dashboard alone on the local database, without webhooks, for a look at
// the archive right after `wa-report demo` or on a machine that does not run the daemon. Listens on
// 127.0.0.1 by default and hands out a one-time sign-in link (an admin session: whoever runs this
// command can read the database file anyway).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Store } from '../db/store.js';
import { Authenticator } from './auth.js';
import { mountDashboard } from './dashboard/index.js';
import { SessionStore } from './dashboard/sessions.js';

export interface DashboardServerOptions {
  store: Store;
  port: number;
  host: string;
  env: NodeJS.ProcessEnv;
  /** Where unexpected errors are told (stderr), with their stack when `debug`. */
  report?: (error: unknown) => void;
  /** How often live refresh reads the database (default 2 s), and the least time between two live reloads. */
  liveIntervalMs?: number;
  liveMinReloadMs?: number;
}

export interface DashboardServer {
  /** http://host:port */
  origin: string;
  /** Signs in once, within 10 minutes. */
  signInLink(): string;
  close(): Promise<void>;
}

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const authenticator = new Authenticator({ store: o.store, apiToken: o.env.WA_REPORT_API_TOKEN?.trim() || null });
  const sessions = new SessionStore();
  app.get('/', (_req, res) => res.redirect(303, '/dashboard/'));
  app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  const dashboard = mountDashboard(app, {
    store: o.store,
    authenticator,
    sessions,
    env: o.env,
    liveIntervalMs: o.liveIntervalMs,
    liveMinReloadMs: o.liveMinReloadMs,
  });
  app.use((_req, res) => res.status(404).type('text/plain').send('Not found: the dashboard is at /dashboard.'));
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    o.report?.(error);
    if (res.headersSent) return res.destroy();
    res.status(500).type('text/plain').send('Internal error; run with --debug to see it.');
  });
  const server: Server = createServer(
    { headersTimeout: 10_000, requestTimeout: 60_000, keepAliveTimeout: 30_000 },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: o.port, host: o.host }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  return {
    origin,
    signInLink: () =>
      `${origin}/dashboard/login?code=${sessions.issueCode({ name: 'wa-report dashboard', scope: 'admin' })}`,
    close: () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
