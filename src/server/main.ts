// The daemon: opens the store, wires queue, replier and app, listens, and shuts down cleanly on
// SIGTERM/SIGINT (stop accepting, flush the write queue, let answers in progress finish).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { openStore, type Store } from '../db/store.js';
import type { DbTarget } from '../db/target.js';
import { WaReportError } from '../errors.js';
import { WriteQueue, type CommittedWrite } from '../ingest/write-queue.js';
import { Replier } from '../assistant/replier.js';
import { daemonOwner } from '../assistant/owners.js';
import { ModelClient } from '../assistant/model.js';
import { Rater } from '../assistant/rater.js';
import { Surveyor } from '../assistant/surveyor.js';
import { GraphClient } from '../whatsapp/graph.js';
import { createApp } from './app.js';
import { mountReportsApi } from './reports-api.js';
import type { IngestConfig } from './config.js';
import { createMetrics } from './metrics.js';
import type { KeyRing } from '../domain/key-ring.js';
import { archive, retentionFileName } from '../privacy/archive.js';
import { DeliveryWorker } from '../events/worker.js';
import { Sender } from '../events/sender.js';
import { startBackground } from './background.js';
import { mountAdminApi } from './admin-api.js';
import { mountDashboard, type MountedDashboard } from './dashboard/index.js';
import { redeliver } from '../events/admin.js';
import { Authenticator } from './auth.js';
import { VERSION } from './version.js';

/** Above this many rows stored per second, event deliveries wait (up to DEFER_MS) so storing goes first. */
export const DEFER_ABOVE_ROWS_PER_SECOND = 500;
export const DEFER_MS = 30_000;

export interface Daemon {
  url: string;
  port: number;
  server: Server;
  store: Store;
  queue: WriteQueue;
  replier: Replier | null;
  worker: DeliveryWorker;
  logger: Logger;
  /** Graceful stop; resolves when everything is flushed and closed. */
  close(): Promise<void>;
  /** Resolves when the daemon has stopped (after close or a signal). */
  closed: Promise<void>;
}

export interface StartOptions {
  target: DbTarget;
  logger?: Logger;
  /** Install SIGTERM/SIGINT handlers (the CLI does; in-process tests do not). */
  handleSignals?: boolean;
  /** Write-queue tuning for tests and benchmarks. */
  queue?: { maxBatchRows?: number; failureBackoffMs?: number };
  replier?: { retryDelayMs?: number; now?: () => Date; pollMs?: number };
  /** Graph client tuning (tests use short backoffs). */
  graph?: { timeoutMs?: number; backoffMs?: { base: number; max: number }; maxAttempts?: number };
  defaultMetrics?: boolean;
  /** First retention run this long after start (default 60 s; then every 24 h). */
  archiveFirstDelayMs?: number;
  /** Keys for content at rest (the CLI passes WA_REPORT_ENCRYPTION_KEY…); default none. */
  keys?: KeyRing;
  /** Periodic work (tests use short periods): idle sweep, outbox watch, worker poll. */
  background?: { sweepMs?: number; watchMs?: number; pollMs?: number; rateMs?: number; surveyMs?: number };
}

export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'wa-report' },
    // Credentials never reach the log, whatever a caller passes in.
    redact: {
      paths: [
        '*.authorization',
        '*.Authorization',
        '*.apiKey',
        '*.accessToken',
        '*.appSecret',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  if (!stream && process.stdout.isTTY) {
    return pino(
      options,
      pino.transport({
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
      }),
    );
  }
  return pino(options, stream ?? pino.destination({ dest: 1, sync: false }));
}

export class PortInUseError extends WaReportError {
  constructor(host: string, port: number) {
    super(
      `Port ${port} on ${host} is already in use. Stop the other process or choose another port with --port / PORT.`,
    );
  }
}

export async function startDaemon(config: IngestConfig, options: StartOptions): Promise<Daemon> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = await openStore(options.target, {
    keys: options.keys,
    conversationIdleMs: config.conversationIdleMs,
    sentimentAlert: config.sentimentAlert,
    sentiment: config.sentiment === 'off' ? 'off' : 'lexicon',
  });
  try {
    // A database whose content is encrypted never receives plaintext: refuse to start without the key.
    store.assertKeyForWrites();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics });

  let replier: Replier | null = null;
  // This process's name in claims and leases (answers, event deliveries).
  const owner = daemonOwner();
  const archiveOnly: string[] = [];
  if (!config.openai.apiKey) archiveOnly.push('OPENAI_API_KEY is not set');
  if (!config.accessToken) archiveOnly.push('WHATSAPP_ACCESS_TOKEN is not set');
  // Graph sends (answers, satisfaction surveys) need the access token.
  const graph = config.accessToken
    ? new GraphClient({ baseUrl: config.graphUrl, accessToken: config.accessToken, ...options.graph })
    : null;
  if (archiveOnly.length === 0 && graph) {
    const model = new ModelClient({
      apiKey: config.openai.apiKey as string,
      baseURL: config.openai.baseURL,
      model: config.openai.model,
      api: config.openai.api,
      timeoutMs: config.openai.timeoutMs,
      maxRetries: config.openai.maxRetries,
    });
    replier = new Replier({
      store,
      logger,
      metrics,
      model,
      graph,
      defaultModel: config.openai.model,
      contextMessages: config.contextMessages,
      concurrency: config.replyConcurrency,
      retryDelayMs: options.replier?.retryDelayMs,
      now: options.replier?.now,
      owner,
      leaseMs: config.replyLeaseMs,
      pollMs: options.replier?.pollMs,
    });
  }

  const notifyReplier = (result: CommittedWrite) => {
    if (!replier) return;
    // (An answer to a satisfaction survey is never answered.)
    const threads = new Set(result.inserted.filter((m) => m.role === 'user' && !m.csat).map((m) => m.threadId));
    for (const t of threads) replier.notify(t);
  };
  const queue = new WriteQueue({
    store,
    logger,
    metrics,
    maxPendingRows: config.maxPendingRows,
    ...options.queue,
    onCommitted: notifyReplier,
  });
  // Event webhooks: the outbox's worker, and the periodic sweep of idle conversations.
  const sender = new Sender({ allowPrivate: config.webhooks.allowPrivate, userAgent: `wa-report/${VERSION}` });
  // SQLite has one daemon: claims a killed predecessor left are free at once (PostgreSQL: their lease runs out).
  if (store.dialect === 'sqlite') await store.deliveries.expireLeases(new Date(), { all: true });
  await store.deliveries.repair();
  const worker = new DeliveryWorker({
    store,
    sender,
    logger,
    metrics,
    owner,
    policy: config.webhooks,
    pollMs: options.background?.pollMs,
    // Storing webhooks comes first: while they pour in, events wait up to 30 s (sent at once otherwise).
    defer: () => (queue.recentRows() >= DEFER_ABOVE_ROWS_PER_SECOND ? DEFER_MS : 0),
  });
  // WA_REPORT_SENTIMENT=model: the model rates each ended conversation (config checked the key is set).
  const rater =
    config.sentiment === 'model' && config.openai.apiKey
      ? new Rater({
          store,
          logger,
          defaultModel: config.openai.model,
          model: new ModelClient({
            apiKey: config.openai.apiKey,
            baseURL: config.openai.baseURL,
            model: config.openai.model,
            api: config.openai.api,
            timeoutMs: config.openai.timeoutMs,
            maxRetries: 1,
          }),
        })
      : null;
  const background = startBackground({
    store,
    logger,
    metrics,
    sweepMs: options.background?.sweepMs,
    watchMs: options.background?.watchMs,
    rater,
    rateMs: options.background?.rateMs,
    surveyor: graph ? new Surveyor({ store, graph, logger }) : null,
    surveyMs: options.background?.surveyMs,
  });

  let dashboard: MountedDashboard | null = null;
  const app = createApp({
    store,
    queue,
    logger,
    metrics,
    verifyToken: config.verifyToken,
    appSecret: config.appSecret,
    health: () => ({
      assistant: replier?.answering ? 'on' : 'off',
      ...(replier?.answering ? {} : { assistant_off: replier?.notAnsweringBecause ?? archiveOnly.join('; ') }),
      reply_backlog: replier?.backlog() ?? 0,
      outbox: background.outboxProblem() ? 'stuck' : 'ok',
      outbox_depth: background.outboxFacts().depth,
      outbox_oldest_seconds: background.outboxFacts().oldest_seconds,
    }),
    problems: () => {
      const p = background.outboxProblem();
      return p ? [`outbox: ${p}`] : [];
    },
    extend: (app) => {
      if (config.trustProxy !== null) app.set('trust proxy', config.trustProxy);
      const authenticator = new Authenticator({
        store,
        apiToken: config.apiToken,
        apiTokenScope: config.apiTokenScope,
      });
      mountReportsApi(app, { store, authenticator });
      mountAdminApi(app, { store, authenticator, sender, webhooks: config.webhooks, owner });
      dashboard = mountDashboard(app, {
        store,
        authenticator,
        redeliver: async (id) => {
          const sent = await redeliver(store, sender, id, config.webhooks, owner);
          return [sent.state ?? 'sending', sent.httpStatus ? `HTTP ${sent.httpStatus}` : null, sent.error]
            .filter(Boolean)
            .join(', ');
        },
      });
    },
  });

  // Slow or stalled clients cannot hold connections forever; the timeouts are checked every
  // second (Node's default is every 30 s, which lets a 10 s limit run to 40 s).
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
    app,
  );
  server.listen({ port: config.port, host: config.host });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (error) {
    await store.close().catch(() => {});
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError(config.host ?? '0.0.0.0', config.port);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost === '[::]' || shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`;

  if (config.insecureSkipSignature) {
    logger.warn(
      'INSECURE: webhook signatures are NOT verified (--insecure-skip-signature). Anyone who can reach this port ' +
        'can write messages. Never run like this in production.',
    );
  }
  if (!config.apiToken)
    logger.info(
      'WA_REPORT_API_TOKEN is not set: the report API accepts only tokens made with `wa-report tokens create` ' +
        '(503 while there are none)',
    );
  if (!config.verifyToken)
    logger.warn("WHATSAPP_VERIFY_TOKEN is not set: Meta's verification handshake will be refused");
  if (replier) {
    const state = await replier.start();
    if (state.answering)
      logger.info(
        { model: config.openai.model, api: config.openai.api, contextMessages: config.contextMessages },
        'assistant on: answering users of clients with the assistant enabled',
      );
    else {
      // SQLite, and another daemon answers on the file: this one stores webhooks, and stands by.
      logger.warn({ reason: state.reason }, `assistant off: ${state.reason}`);
    }
  } else logger.info({ reasons: archiveOnly }, `assistant off: archiving only (${archiveOnly.join(', ')})`);
  logger.info(
    { port: address.port, host: address.address, database: options.target.display },
    'wa-report ingest listening',
  );

  worker.start();

  // Retention: once a day, conversations idle longer than the period go to a verified archive.
  const retention = new AbortController();
  let retentionRun: Promise<void> | null = null;
  let retentionTimer: NodeJS.Timeout | null = null;
  if (config.archive) {
    const policy = config.archive;
    const runRetention = async () => {
      const now = new Date();
      const before = new Date(now.getTime() - policy.afterMs);
      let out = policy.dir;
      try {
        out = retentionFileName(policy.dir, now, before);
        const r = await archive(store, { before, out, signal: retention.signal, now });
        if (r.file) {
          logger.info(
            {
              file: r.file,
              before: before.toISOString(),
              conversations: r.threads,
              messages: r.messages,
              statusEvents: r.statusEvents,
              rawEvents: r.rawEvents,
              deleted: r.deletedThreads,
              keptChanged: r.keptChanged,
            },
            'retention: archived and deleted conversations',
          );
        } else {
          logger.info({ before: before.toISOString() }, 'retention: nothing to archive');
        }
      } catch (error) {
        logger.error(
          { err: { message: (error as Error).message }, file: out },
          'retention: archiving failed; the next run tries again (nothing is deleted before its archive is verified)',
        );
      }
    };
    const schedule = (delay: number) => {
      retentionTimer = setTimeout(() => {
        retentionRun = runRetention().finally(() => {
          retentionRun = null;
          if (!retention.signal.aborted) schedule(86_400_000);
        });
      }, delay);
      retentionTimer.unref();
    };
    schedule(options.archiveFirstDelayMs ?? 60_000);
    logger.info(
      { after: policy.after, dir: policy.dir },
      'retention on: conversations idle longer than the period are archived once a day',
    );
  }

  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down: no new requests; flushing the write queue');
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Live-refresh streams end now (their pages reconnect to whichever daemon answers next).
      dashboard?.close();
      server.closeIdleConnections();
      retention.abort();
      if (retentionTimer) clearTimeout(retentionTimer);
      await queue.close();
      await retentionRun;
      await background.close();
      const delivered = await worker.close(config.shutdownTimeoutMs);
      if (!delivered)
        logger.warn('event deliveries still in flight at the time limit; they are sent again after their lease');
      sender.close();
      if (replier) {
        const finished = await replier.close(config.shutdownTimeoutMs);
        if (!finished)
          logger.warn(
            { timeoutMs: config.shutdownTimeoutMs },
            'answers still in progress at the time limit; whoever claims their conversations next marks unsent ones',
          );
      }
      // Requests still open after the queue closed can only be refused: let them end, then go.
      const forced = setTimeout(() => server.closeAllConnections(), 2_000);
      await serverClosed;
      clearTimeout(forced);
      await store.close().catch(() => {});
      logger.info('stopped');
      logger.flush?.();
      resolveClosed();
    })();
    return closing;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received');
      void close();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void closed.then(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }

  return { url, port: address.port, server, store, queue, replier, worker, logger, close, closed };
}
