// Write-behind with group commit. Requests hand their parsed events to the queue and wait; one
// writer turns everything that accumulated while the previous transaction was committing into the
// next transaction. A burst of webhooks costs a few commits, and a webhook is acknowledged only
// once the commit holding its events is done.
import type { Logger } from 'pino';
import { summarizeError } from '../errors.js';
import type { Store, RecordResult } from '../db/store.js';
import { isSentimentLanguage } from '../domain/sentiment/index.js';
import type { ClientRecord, NewMessage, RawEventInput, StatusUpdate } from '../domain/types.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import type { BusinessNumber, ParsedWebhook } from '../whatsapp/types.js';

export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('The write queue is full; retry later.');
  }
}

export class StoreUnavailableError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    cause?: unknown,
  ) {
    super('The database is unavailable; retry later.', { cause });
  }
}

export interface CommittedWrite {
  /** Messages stored by this write (duplicates left out), with their client. */
  inserted: { id: number; wamid: string | null; threadId: number; clientId: number; role: string; csat?: boolean }[];
  duplicates: number;
  statuses: number;
}

interface Job {
  parsed: ParsedWebhook;
  extraRaw: RawEventInput[];
  /** The request body, kept raw if its parsed events cannot be stored (a poison payload). */
  body?: string;
  rows: number;
  resolve(result: CommittedWrite): void;
  reject(error: unknown): void;
}

/** What the queue counts; the daemon passes its Prometheus metrics, tests may pass nothing. */
export interface WriteQueueMetrics {
  queueDepth: { set(rows: number): void };
  messagesStored: { inc(count?: number): void };
  statusesStored: { inc(count?: number): void };
  batches: { inc(count?: number): void };
  commitFailures: { inc(count?: number): void };
  commitSeconds: { observe(seconds: number): void };
}

export interface WriteQueueOptions {
  store: Store;
  logger: Logger;
  metrics?: WriteQueueMetrics;
  /** Rows waiting to be written beyond which new work is refused (503). */
  maxPendingRows?: number;
  /** Rows per transaction. */
  maxBatchRows?: number;
  /** After a failed commit, refuse new work this long before trying the database again. */
  failureBackoffMs?: number;
  /** Called after each commit with what it stored (the reply scheduler listens). */
  onCommitted?(result: CommittedWrite): void;
}

export class WriteQueue {
  private pending: Job[] = [];
  private pendingRows = 0;
  private writing: Promise<void> | null = null;
  private clients = new Map<string, ClientRecord>();
  private unavailableUntil = 0;
  private lastError: unknown = null;
  private closed = false;
  /** (time, rows) of the commits of the last second. */
  private recent: [number, number][] = [];
  readonly maxPendingRows: number;
  readonly maxBatchRows: number;
  readonly failureBackoffMs: number;

  constructor(private readonly options: WriteQueueOptions) {
    this.maxPendingRows = options.maxPendingRows ?? 50_000;
    this.maxBatchRows = options.maxBatchRows ?? 2_000;
    this.failureBackoffMs = options.failureBackoffMs ?? 1_000;
  }

  /** Rows waiting or being written. */
  depth(): number {
    return this.pendingRows;
  }

  /** Rows committed in the last second (how hard webhooks are arriving). */
  recentRows(now = Date.now()): number {
    while (this.recent.length && (this.recent[0] as [number, number])[0] < now - 1_000) this.recent.shift();
    return this.recent.reduce((a, [, n]) => a + n, 0);
  }

  /** False after a failed commit, until a commit succeeds again. */
  healthy(): boolean {
    return this.lastError === null;
  }

  /** Resolves once the events are committed; rejects with QueueFullError or StoreUnavailableError. */
  submit(parsed: ParsedWebhook, extraRaw: RawEventInput[] = [], body?: string): Promise<CommittedWrite> {
    const rows =
      parsed.messages.length +
      parsed.statuses.length +
      parsed.unknown.length +
      parsed.contacts.length +
      extraRaw.length;
    if (rows === 0) return Promise.resolve({ inserted: [], duplicates: 0, statuses: 0 });
    if (this.closed) return Promise.reject(new StoreUnavailableError(5));
    const now = Date.now();
    if (now < this.unavailableUntil) {
      return Promise.reject(
        new StoreUnavailableError(Math.max(1, Math.ceil((this.unavailableUntil - now) / 1000)), this.lastError),
      );
    }
    if (this.pendingRows + rows > this.maxPendingRows && this.pendingRows > 0) {
      return Promise.reject(new QueueFullError(1));
    }
    return new Promise<CommittedWrite>((resolve, reject) => {
      this.pending.push({ parsed, extraRaw, body, rows, resolve, reject });
      this.pendingRows += rows;
      this.options.metrics?.queueDepth.set(this.pendingRows);
      this.kick();
    });
  }

  /** Waits until everything submitted so far is written (or has failed). */
  async drain(): Promise<void> {
    while (this.writing || this.pending.length) {
      await (this.writing ?? Promise.resolve());
      if (!this.writing && this.pending.length) this.kick();
    }
  }

  /** Refuses new work; what is queued is still written. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = (async () => {
      // Start on the next turn of the event loop: every request whose bytes were read in this
      // turn hands its events over first and joins the same transaction. (SQLite's driver is
      // synchronous, so nothing else is read while a transaction runs: without this, a burst
      // would commit one request at a time.)
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        while (this.pending.length) {
          const batch = this.takeBatch();
          await this.write(batch);
        }
      } finally {
        this.writing = null;
      }
    })();
  }

  private takeBatch(): Job[] {
    const batch: Job[] = [];
    let rows = 0;
    while (this.pending.length) {
      const job = this.pending[0] as Job;
      if (batch.length > 0 && rows + job.rows > this.maxBatchRows) break;
      batch.push(job);
      rows += job.rows;
      this.pending.shift();
    }
    return batch;
  }

  private async write(batch: Job[]): Promise<void> {
    const rows = batch.reduce((n, j) => n + j.rows, 0);
    try {
      this.succeeded(batch, await this.commit(batch), rows);
    } catch (error) {
      // One request whose content the database refuses (a poison payload) must not fail the
      // others of its group: write them one by one, and keep an unstorable one raw.
      if (await this.isolate(batch, error)) return;
      this.failed(batch, error, rows);
    }
  }

  private async commit(batch: Job[]): Promise<CommittedWrite> {
    const started = performance.now();
    const messages: NewMessage[] = [];
    const statuses: StatusUpdate[] = [];
    const rawEvents: RawEventInput[] = [];
    const contactNames: { clientId: number; waId: string; name: string }[] = [];
    for (const job of batch) {
      const numbers = new Map(job.parsed.businessNumbers.map((b) => [b.phoneNumberId, b]));
      const withMessage = new Set<string>();
      for (const m of job.parsed.messages) {
        // (Known clients without an await per message.)
        const client =
          this.clients.get(m.phoneNumberId) ?? (await this.clientFor(m.phoneNumberId, numbers.get(m.phoneNumberId)));
        const language = client.language !== null && isSentimentLanguage(client.language) ? client.language : null;
        messages.push({ ...m, clientId: client.id, sentimentLanguage: language, csatSurveys: client.csatEnabled });
        withMessage.add(`${m.phoneNumberId}\u0000${m.waId}`);
      }
      // Names that came without a message (with statuses, say) still rename known conversations.
      for (const c of job.parsed.contacts) {
        if (withMessage.has(`${c.phoneNumberId}\u0000${c.waId}`)) continue;
        const client =
          this.clients.get(c.phoneNumberId) ?? (await this.options.store.clients.findByPhoneNumberId(c.phoneNumberId));
        if (client) contactNames.push({ clientId: client.id, waId: c.waId, name: c.name });
      }
      statuses.push(...job.parsed.statuses);
      rawEvents.push(...job.parsed.unknown, ...job.extraRaw);
    }
    const result: RecordResult & { statusesApplied: number } = await this.options.store.ingest.write({
      messages,
      statuses,
      rawEvents,
      contactNames,
    });
    const byWamid = new Map(messages.map((m) => [m.wamid, m]));
    const inserted = result.inserted.map((r) => {
      const m = r.wamid ? byWamid.get(r.wamid) : undefined;
      return { ...r, clientId: m?.clientId ?? 0, role: m?.role ?? 'user' };
    });
    this.options.metrics?.commitSeconds.observe((performance.now() - started) / 1000);
    return { inserted, duplicates: result.duplicates, statuses: statuses.length };
  }

  private succeeded(batch: Job[], committed: CommittedWrite, rows: number): void {
    this.recent.push([Date.now(), rows]);
    if (this.recent.length > 10_000) this.recent.splice(0, 5_000);
    this.options.metrics?.messagesStored.inc(committed.inserted.length);
    this.options.metrics?.statusesStored.inc(committed.statuses);
    this.options.metrics?.batches.inc();
    if (this.lastError) this.options.logger.info({ rows }, 'database writes succeed again');
    this.lastError = null;
    this.pendingRows -= rows;
    this.options.metrics?.queueDepth.set(this.pendingRows);
    // Every request of the batch learns the same result; each only needs to know it is stored.
    for (const job of batch) job.resolve(committed);
    try {
      this.options.onCommitted?.(committed);
    } catch (error) {
      this.options.logger.error({ err: summarizeError(error) }, 'after-commit hook failed');
    }
  }

  /** True when every job of the batch was settled one by one. */
  private async isolate(batch: Job[], firstError: unknown): Promise<boolean> {
    for (let i = 0; i < batch.length; i++) {
      const job = batch[i] as Job;
      try {
        this.succeeded([job], await this.commit([job]), job.rows);
        continue;
      } catch (error) {
        // Only content the database refuses is kept raw; a transient failure (a dead connection, a
        // lock held too long) gets 503 so Meta redelivers it and it is stored as messages later.
        if (!isDataError(error)) {
          this.failed(
            batch.slice(i),
            error,
            batch.slice(i).reduce((n, j) => n + j.rows, 0),
          );
          return true;
        }
        const kept: ParsedWebhook = {
          object: null,
          isWhatsApp: false,
          messages: [],
          statuses: [],
          contacts: [],
          businessNumbers: [],
          unknown: [],
        };
        const payload = JSON.stringify({
          error: summarizeError(error),
          body: job.body ?? null,
          parsed: { messages: job.parsed.messages.length, statuses: job.parsed.statuses.length },
        });
        try {
          const committed = await this.commit([{ ...job, parsed: kept, extraRaw: [{ kind: 'unstorable', payload }] }]);
          this.options.logger.error(
            { err: summarizeError(error) },
            'a webhook could not be stored as messages; kept raw (kind unstorable)',
          );
          this.succeeded([job], committed, job.rows);
        } catch {
          // The database itself is failing: this job and the rest get 503 (Meta retries).
          this.failed(
            batch.slice(i),
            firstError,
            batch.slice(i).reduce((n, j) => n + j.rows, 0),
          );
          return true;
        }
      }
    }
    return true;
  }

  private failed(batch: Job[], error: unknown, rows: number): void {
    this.pendingRows -= rows;
    this.options.metrics?.queueDepth.set(this.pendingRows);
    if (!this.lastError)
      this.options.logger.error(
        { err: summarizeError(error), rows },
        'database write failed; answering 503 until it recovers',
      );
    this.lastError = error;
    this.unavailableUntil = Date.now() + this.failureBackoffMs;
    this.options.metrics?.commitFailures.inc();
    const failure = new StoreUnavailableError(Math.ceil(this.failureBackoffMs / 1000) || 1, error);
    for (const job of batch) job.reject(failure);
    // Work queued behind the failed batch would fail the same way: let Meta retry it later.
    const rest = this.pending.splice(0);
    for (const job of rest) {
      this.pendingRows -= job.rows;
      job.reject(failure);
    }
    this.options.metrics?.queueDepth.set(this.pendingRows);
  }

  /** The client of a business number; an unknown number becomes a new client from its metadata. */
  private async clientFor(phoneNumberId: string, number: BusinessNumber | undefined): Promise<ClientRecord> {
    const cached = this.clients.get(phoneNumberId);
    if (cached) return cached;
    const store = this.options.store;
    let client = await store.clients.findByPhoneNumberId(phoneNumberId);
    if (!client) {
      const display = number?.displayPhoneNumber ?? null;
      let phone = display ?? phoneNumberId;
      try {
        phone = normalizePhoneNumber(phone);
      } catch {
        /* keep what Meta sent: it is only shown */
      }
      try {
        client = await store.clients.create({
          name: `WhatsApp ${phone}`,
          phoneNumber: phone,
          phoneNumberId,
          wabaId: number?.wabaId ?? null,
        });
        this.options.logger.info(
          { clientId: client.id, phoneNumberId, displayPhoneNumber: phone },
          'created a client for an unknown phone_number_id',
        );
      } catch (error) {
        // Another instance created it at the same moment.
        client = await store.clients.findByPhoneNumberId(phoneNumberId);
        if (!client) throw error;
      }
    }
    this.clients.set(phoneNumberId, client);
    return client;
  }
}

/** Errors about the data itself (not the database being unavailable), along the cause chain. */
export function isDataError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as Error).name === 'UsageError') return true;
    const code = String((e as { code?: unknown }).code ?? '');
    if (/^(22|23)[0-9A-Z]{3}$/.test(code)) return true; // PostgreSQL data exception / integrity violation
    if (/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code)) return true;
  }
  return false;
}
