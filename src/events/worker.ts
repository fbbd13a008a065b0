// The daemon's delivery worker: claims due deliveries from the outbox (several daemons on one
// PostgreSQL share the work, each claim leased), sends them a few at a time, records each outcome,
// and wakes up as soon as this process commits an event (otherwise it looks every second, which
// also picks up other daemons' events and retries that came due).
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import type { DeliveryPolicy } from '../db/repositories/webhooks.js';
import { summarizeError } from '../errors.js';
import { attempt } from './delivery.js';
import type { Sender } from './sender.js';

/** What the worker counts; the daemon passes its Prometheus metrics. */
export interface DeliveryMetrics {
  webhookDeliveries: { inc(labels: { outcome: string }): void };
  webhookSeconds: { observe(seconds: number): void };
}

export interface WorkerOptions {
  store: Store;
  sender: Sender;
  logger: Logger;
  policy: DeliveryPolicy;
  /** This process's name in leases (unique per daemon). */
  owner: string;
  metrics?: DeliveryMetrics;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** How often to look for due deliveries when nothing woke the worker. */
  pollMs?: number;
}

export class DeliveryWorker {
  private inFlight = new Set<Promise<void>>();
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private failures = 0;
  private readonly concurrency: number;

  constructor(private readonly o: WorkerOptions) {
    this.concurrency = o.concurrency ?? 16;
  }

  start(): void {
    this.unsubscribe = this.o.store.outbox.onWritten(() => this.kick());
    this.schedule();
    this.kick();
  }

  /** Look for work now. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pass().finally(() => {
      this.running = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Deliveries being sent now. */
  busy(): number {
    return this.inFlight.size;
  }

  /** Resolves when nothing is in flight and nothing is due (tests). */
  async idle(): Promise<void> {
    while (this.running || this.inFlight.size) {
      if (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops claiming; waits at most `timeoutMs` for deliveries in flight (an unfinished one is sent after its lease). */
  async close(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }

  private schedule(): void {
    if (this.stopped) return;
    // After failures to reach the database, look less often (up to 30 s).
    const delay = Math.min((this.o.pollMs ?? 1_000) * 2 ** this.failures, 30_000);
    this.timer = setTimeout(() => {
      this.kick();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const { store, policy, owner, logger } = this.o;
    try {
      while (!this.stopped && this.inFlight.size < this.concurrency) {
        const claimed = await store.webhooks.claim(owner, this.concurrency - this.inFlight.size, policy);
        this.failures = 0;
        if (claimed.length === 0) return;
        for (const d of claimed) {
          const run = attempt(store, this.o.sender, d, owner, policy)
            .then((outcome) => {
              const { verdict, state, result, endpointDisabled } = outcome;
              this.o.metrics?.webhookDeliveries.inc({ outcome: state === 'failed' ? 'dead' : verdict.outcome });
              this.o.metrics?.webhookSeconds.observe(result.latencyMs / 1000);
              const facts = {
                delivery: d.id,
                endpoint: d.endpointId,
                webhookId: d.webhookId,
                type: d.type,
                attempt: d.attempts,
                status: result.status,
                latencyMs: result.latencyMs,
              };
              if (state === 'delivered') logger.debug(facts, 'event delivered');
              else if (state === 'pending')
                logger.info({ ...facts, error: result.error }, 'event delivery failed; will retry');
              else if (state === 'failed')
                logger.warn(
                  { ...facts, error: result.error },
                  'event delivery failed for good (see webhooks deliveries --failed)',
                );
              if (endpointDisabled)
                logger.warn({ endpoint: d.endpointId, reason: endpointDisabled }, 'webhook endpoint disabled');
            })
            .catch((error) => {
              // Recording failed (the database went away): the lease runs out and it is sent again.
              logger.error({ err: summarizeError(error), delivery: d.id }, 'could not record a delivery attempt');
            })
            .finally(() => {
              this.inFlight.delete(run);
              this.kick();
            });
          this.inFlight.add(run);
        }
      }
    } catch (error) {
      this.failures = Math.min(this.failures + 1, 5);
      logger.error({ err: summarizeError(error) }, 'could not claim event deliveries; will retry');
    }
  }
}
