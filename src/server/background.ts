// The daemon's periodic work besides answering requests: ending idle conversations (with their
// conversation.ended events), looking after the outbox (expired claims, metrics, /healthz when it
// stops moving) and pruning delivered events older than 30 days.
import type { Logger } from 'pino';
import type { Rater } from '../assistant/rater.js';
import type { Surveyor } from '../assistant/surveyor.js';
import type { Store } from '../db/store.js';
import { summarizeError } from '../errors.js';
import type { IngestMetrics } from './metrics.js';

/** The outbox is reported stuck when a delivery could have been sent this long ago and was not. */
export const OUTBOX_STUCK_MS = 10 * 60_000;
/** Events with nothing left to deliver are kept this long (the delivery log), then deleted. */
export const EVENT_RETENTION_MS = 30 * 86_400_000;

export interface BackgroundOptions {
  store: Store;
  logger: Logger;
  metrics: IngestMetrics;
  /** How often idle conversations are ended (default 5 s). */
  sweepMs?: number;
  /** How often the outbox is looked at (default 5 s). */
  watchMs?: number;
  /** How often threads left without a delivery in progress are repaired (default 60 s). */
  repairMs?: number;
  /** Sends satisfaction surveys (when the daemon can send: WHATSAPP_ACCESS_TOKEN). */
  surveyor?: Surveyor | null;
  /** How often it looks for surveys to send (default 2 s). */
  surveyMs?: number;
  /** WA_REPORT_SENTIMENT=model: rates ended conversations. */
  rater?: Rater | null;
  /** How often it looks for conversations to rate (default 5 s). */
  rateMs?: number;
}

export interface Background {
  /** null while fine; otherwise what is wrong with the outbox. */
  outboxProblem(): string | null;
  outboxFacts(): { depth: number; oldest_seconds: number };
  close(): Promise<void>;
}

export function startBackground(o: BackgroundOptions): Background {
  const { store, logger, metrics } = o;
  let problem: string | null = null;
  let facts = { depth: 0, oldest_seconds: 0 };
  let lastPrune = 0;
  const running = new Set<Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const every = (ms: number, name: string, fn: () => Promise<void>) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || stopped) return;
      busy = true;
      const run = fn()
        .catch((error) => logger.error({ err: summarizeError(error) }, `${name} failed; trying again later`))
        .finally(() => {
          busy = false;
          running.delete(run);
        });
      running.add(run);
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  every(o.sweepMs ?? 5_000, 'ending idle conversations', async () => {
    const ended = await store.conversations.sweep(new Date());
    if (ended) {
      metrics.conversationsEnded.inc(ended);
      logger.debug({ ended }, 'idle conversations ended');
    }
  });

  every(o.watchMs ?? 5_000, 'watching the outbox', async () => {
    const now = new Date();
    // Claims of daemons that died run out.
    await store.deliveries.expireLeases(now);
    const h = await store.deliveries.health(now);
    const oldest = h.oldestAt ? Math.max(0, (now.getTime() - h.oldestAt.getTime()) / 1000) : 0;
    metrics.outboxDepth.set(h.depth);
    metrics.outboxOldestSeconds.set(oldest);
    facts = { depth: h.depth, oldest_seconds: Math.round(oldest) };
    const stuckFor = h.oldestDueAt ? now.getTime() - h.oldestDueAt.getTime() : 0;
    problem =
      stuckFor >= OUTBOX_STUCK_MS
        ? `a delivery due since ${h.oldestDueAt?.toISOString()} has not been sent (no worker is delivering)`
        : null;
    if (now.getTime() - lastPrune >= 3_600_000) {
      lastPrune = now.getTime();
      const pruned = await store.deliveries.prune(new Date(now.getTime() - EVENT_RETENTION_MS));
      if (pruned) logger.info({ events: pruned }, 'outbox: events older than 30 days with nothing to deliver deleted');
    }
  });

  // A thread left without a delivery in progress (a race between two daemons) gets its next one.
  every(o.repairMs ?? 60_000, 'repairing the outbox', async () => {
    await store.deliveries.repair();
  });

  const surveyor = o.surveyor;
  if (surveyor) {
    every(o.surveyMs ?? 2_000, 'sending satisfaction surveys', async () => {
      while (!stopped && (await surveyor.runOnce()) > 0);
    });
  }

  const rater = o.rater;
  if (rater) {
    every(o.rateMs ?? 5_000, 'rating conversations', async () => {
      // Until nothing is left, a batch at a time (each model call is slow; the next run goes on).
      while (!stopped && (await rater.runOnce(new Date())) > 0);
    });
  }

  return {
    outboxProblem: () => problem,
    outboxFacts: () => facts,
    async close() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
    },
  };
}
