// The daemon's delivery worker: claims due deliveries from the outbox in batches (several daemons
// on one PostgreSQL share the work, each claim leased), sends up to `concurrency` at once, and
// records outcomes in batches (a group commit: what finished while one batch was written goes in
// the next). It wakes up as soon as this process commits an event; otherwise it looks every
// second, which also picks up other daemons' events and retries that came due.
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import type { AttemptResult, ClaimedDelivery, DeliveryPolicy } from '../db/repositories/webhook-deliveries.js';
import { summarizeError } from '../errors.js';
import { send } from './delivery.js';
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
  /** Deliveries in flight at once (default 32). */
  concurrency?: number;
  /** How often to look for due deliveries when nothing woke the worker. */
  pollMs?: number;
  /**
   * How long deliveries may wait now (ms; 0: none). While webhooks pour in, the daemon stores them
   * first: events are sent once they have waited this long, or when it is quiet again.
   */
  defer?: () => number;
}

export class DeliveryWorker {
  private inFlight = 0;
  private sending = new Set<Promise<void>>();
  private claiming = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private failures = 0;
  private finished: { delivery: ClaimedDelivery; result: AttemptResult }[] = [];
  private flushing: Promise<void> | null = null;
  private readonly concurrency: number;
  private recheck: NodeJS.Timeout | null = null;

  constructor(private readonly o: WorkerOptions) {
    this.concurrency = o.concurrency ?? 32;
  }

  start(): void {
    // Woken by every commit that queued a delivery, unless deliveries wait anyway (see `defer`).
    this.unsubscribe = this.o.store.outbox.onWritten(() => {
      if (!(this.o.defer?.() ?? 0)) this.kick();
    });
    this.schedule();
    this.kick();
  }

  /** Look for work now. */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = true;
    void this.fill().finally(() => {
      this.claiming = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Deliveries being sent or recorded now. */
  busy(): number {
    return this.inFlight;
  }

  /** Resolves when nothing is being claimed, sent or recorded (tests). */
  async idle(): Promise<void> {
    while (this.claiming || this.inFlight || this.flushing) {
      if (this.sending.size) await Promise.allSettled([...this.sending]);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops claiming; waits at most `timeoutMs` for deliveries in flight (an unfinished one is sent after its lease). */
  async close(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.recheck) clearTimeout(this.recheck);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      (async () => {
        while (this.inFlight || this.flushing) {
          if (this.sending.size) await Promise.allSettled([...this.sending]);
          await this.flushing;
          if (!this.sending.size && !this.flushing && this.inFlight) await new Promise((r) => setTimeout(r, 10));
        }
        return true;
      })(),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** Looks again shortly (deliveries are deferred while webhooks pour in). */
  private recheckSoon(): void {
    if (this.recheck || this.stopped) return;
    this.recheck = setTimeout(() => {
      this.recheck = null;
      this.kick();
    }, 250);
    this.recheck.unref();
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

  /**
   * Claims while there is room: a batch at a time, once a quarter of the slots are free. While
   * webhooks pour in (see `defer`), only deliveries that have waited long enough: the rest go when
   * it is quiet, at full speed (the outbox's depth and age show the lag meanwhile).
   */
  private async fill(): Promise<void> {
    const { store, policy, owner, logger } = this.o;
    try {
      while (!this.stopped) {
        const limit = this.concurrency;
        const batch = Math.max(1, Math.floor(limit / 4));
        const room = limit - this.inFlight;
        if (room <= 0) return;
        const deferMs = this.o.defer?.() ?? 0;
        const dueBefore = new Date(Date.now() - deferMs);
        if (deferMs > 0) this.recheckSoon();
        if (room < batch && this.inFlight > 0) return;
        // A read first: a transaction (SQLite: the write lock) only when something is due.
        if (!(await store.deliveries.anyDue(dueBefore))) return;
        const claimed = await store.deliveries.claim(owner, room, policy, new Date(), dueBefore);
        this.failures = 0;
        if (claimed.length === 0) return;
        for (const d of claimed) this.start1(d);
        if (claimed.length < room) return;
      }
    } catch (error) {
      this.failures = Math.min(this.failures + 1, 5);
      logger.error({ err: summarizeError(error) }, 'could not claim event deliveries; will retry');
    }
  }

  private start1(d: ClaimedDelivery): void {
    this.inFlight++;
    const run = send(this.o.sender, d)
      .then((result) => {
        this.finished.push({ delivery: d, result });
        this.flush();
      })
      .catch((error) => {
        // Sending never throws (failures are results); this is a bug or an exhausted process.
        this.inFlight--;
        this.o.logger.error({ err: summarizeError(error), delivery: d.id }, 'could not send an event delivery');
      })
      .finally(() => this.sending.delete(run));
    this.sending.add(run);
  }

  /** Writes what finished, in one transaction; what finishes meanwhile goes in the next. */
  private flush(): void {
    if (this.flushing || this.finished.length === 0) return;
    const batch = this.finished;
    this.finished = [];
    this.flushing = this.record(batch).finally(() => {
      this.flushing = null;
      this.inFlight -= batch.length;
      this.flush();
      this.kick();
    });
  }

  private async record(batch: { delivery: ClaimedDelivery; result: AttemptResult }[]): Promise<void> {
    const { store, policy, owner, logger, metrics } = this.o;
    try {
      const recorded = await store.deliveries.record(batch, owner, policy);
      recorded.forEach((r, i) => {
        const { delivery: d, result } = batch[i] as (typeof batch)[number];
        metrics?.webhookDeliveries.inc({ outcome: r.state === 'failed' ? 'dead' : r.verdict.outcome });
        metrics?.webhookSeconds.observe(result.latencyMs / 1000);
        const facts = {
          delivery: d.id,
          endpoint: d.endpointId,
          webhookId: d.webhookId,
          type: d.type,
          attempt: d.attempts,
          status: result.status,
          latencyMs: result.latencyMs,
        };
        if (r.state === 'delivered') logger.debug(facts, 'event delivered');
        else if (r.state === 'pending')
          logger.info({ ...facts, error: result.error }, 'event delivery failed; will retry');
        else if (r.state === 'failed') {
          logger.warn(
            { ...facts, error: result.error },
            'event delivery failed for good (see wa-report webhooks deliveries --failed)',
          );
        }
        if (r.endpointDisabled)
          logger.warn({ endpoint: d.endpointId, reason: r.endpointDisabled }, 'webhook endpoint disabled');
      });
    } catch (error) {
      // The database went away: these leases run out and the deliveries are sent again.
      logger.error(
        { err: summarizeError(error), deliveries: batch.length },
        'could not record delivery attempts; they are sent again after their lease',
      );
    }
  }
}
