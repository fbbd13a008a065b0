// Answers users through the model, one conversation at a time per user and many users at once.
// The database is the memory: what still needs an answer, the context, and which answers were
// sent all live in the messages table, so a restart forgets nothing and never answers twice.
// Any number of daemons may answer on one PostgreSQL: each conversation is claimed in
// pending_replies with a lease (renewed while the answer is prepared and sent, checked when the
// answer is recorded as 'sending'), so no two daemons answer one conversation, and the claims of a
// daemon that died are taken over when their lease runs out. On SQLite one daemon answers (role
// 'answerer'); another on the same file only stores webhooks.
import type { Logger } from 'pino';
import type { Store } from '../db/store.js';
import type { ClientRecord, StoredMessage } from '../domain/types.js';
import { summarizeError } from '../errors.js';
import { handoffOf, shouldQuote, silencedByHandoff } from '../domain/client-policy.js';
import { formatDuration } from '../domain/durations.js';
import { describeModelError, ModelError, type ChatTurn } from './model.js';
import { describeGraphError, GraphError } from '../whatsapp/graph-error.js';
import { ClaimLostError } from '../db/repositories/pending-replies.js';
import { diedOnThisMachine, describeOwner } from './owners.js';

/** WhatsApp's customer service window: free-form answers only within 24 h of the user's last message. */
export const REPLY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What the replier counts; the daemon passes its Prometheus metrics. */
export interface ReplierMetrics {
  replies: { inc(labels: { outcome: string }): void };
  replyTakeovers?: { inc(): void };
  replyQueue: { set(conversations: number): void };
  modelSeconds: { observe(seconds: number): void };
  graphSeconds: { observe(seconds: number): void };
}

export interface ReplierDeps {
  store: Store;
  logger: Logger;
  metrics?: ReplierMetrics;
  model: {
    complete(
      turns: ChatTurn[],
      options?: { model?: string },
    ): Promise<{ text: string; model: string; latencyMs: number }>;
  };
  graph: {
    sendText(input: {
      phoneNumberId: string;
      to: string;
      body: string;
      replyToWamid?: string | null;
    }): Promise<{ wamid: string; latencyMs: number }>;
  };
  defaultModel: string;
  /** Messages of history sent to the model (WA_REPORT_CONTEXT_MESSAGES). */
  contextMessages: number;
  /** Conversations answered at the same time. */
  concurrency?: number;
  now?: () => Date;
  /** How often a reply is re-prepared because the user wrote again meanwhile. */
  maxRestarts?: number;
  /** Delay before retrying a conversation after an unexpected failure (the database was down, say). */
  retryDelayMs?: number;
  /** This daemon's name in claims (unique per process: host, pid, random). */
  owner: string;
  /** How long a claim on a conversation lasts unless renewed (WA_REPORT_REPLY_LEASE; default 30 s). */
  leaseMs?: number;
  /** How often conversations nobody claimed (or whose daemon died) are looked for (default 1 s). */
  pollMs?: number;
}

/** What `start` found: whether this daemon answers, and if not, who does. */
export type AnsweringState = { answering: true } | { answering: false; reason: string };

/** The role one daemon holds on SQLite to answer. */
const ANSWERER_ROLE = 'answerer';

interface ThreadState {
  running: boolean;
  again: boolean;
}

export class Replier {
  private threads = new Map<number, ThreadState>();
  private failures = new Map<number, number>();
  private waiting: number[] = [];
  private active = 0;
  private inFlight = new Set<Promise<void>>();
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly concurrency: number;
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private heartbeat: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private holdsRole = false;
  /** SQLite, another daemon answering: retries the role until that one stops, then answers. */
  private standby: NodeJS.Timeout | null = null;
  private offReason: string | null = null;
  /** Until `start` decided this daemon answers, notifications are ignored (sweeps find them after). */
  private started = false;
  /** Conversations this daemon took over from one whose lease ran out, since it started. */
  takenOver = 0;

  constructor(private readonly deps: ReplierDeps) {
    this.concurrency = deps.concurrency ?? 8;
    this.now = deps.now ?? (() => new Date());
    this.leaseMs = deps.leaseMs ?? 30_000;
  }

  /**
   * Starts answering: on SQLite only if no other live daemon answers on the file (else this one
   * only stores webhooks, says why, and stands by: it takes over when that daemon stops or dies);
   * then recovers what was left unanswered, and from then on renews its claims and looks for
   * conversations nobody is answering.
   */
  async start(): Promise<AnsweringState> {
    const { store } = this.deps;
    if (store.dialect === 'sqlite') {
      const reason = await this.takeRole();
      if (reason !== null) {
        this.offReason = reason;
        this.standBy();
        return { answering: false, reason };
      }
    }
    this.begin();
    return { answering: true };
  }

  /** Whether this daemon answers now (false while it stands by on SQLite). */
  get answering(): boolean {
    return this.started && !this.stopped;
  }

  /** Why it does not answer (null when it does). */
  get notAnsweringBecause(): string | null {
    if (this.answering) return null;
    return this.offReason ?? (this.stopped ? 'the daemon is stopping' : 'the daemon is starting');
  }

  /** SQLite: takes the answerer role. Null when taken; else why not (who holds it). */
  private async takeRole(): Promise<string | null> {
    const { store, owner } = this.deps;
    const holder = await store.roles.acquire(ANSWERER_ROLE, owner, this.leaseMs, diedOnThisMachine);
    if (holder) {
      return (
        `another daemon (${describeOwner(holder.owner)}, answering since ${holder.startedAt.toISOString()}) ` +
        'answers users on this SQLite database, and SQLite has one answering daemon: this one only stores ' +
        'webhooks, and answers if that one stops. Stop the other one, or use PostgreSQL to answer from several.'
      );
    }
    this.holdsRole = true;
    // The only daemon answering here: claims left by a predecessor are free at once.
    for (const previous of await store.pendingReplies.owners()) {
      if (previous !== owner) await store.pendingReplies.expire(previous);
    }
    return null;
  }

  /** Tries the role every third of a lease; answers from the moment it has it. */
  private standBy(): void {
    const { logger } = this.deps;
    this.standby = setTimeout(
      () => {
        this.standby = null;
        if (this.stopped) return;
        this.takeRole().then(
          (reason) => {
            if (this.stopped) {
              if (reason === null) void this.deps.store.roles.release(ANSWERER_ROLE, this.deps.owner).catch(() => {});
              return;
            }
            if (reason !== null) return this.standBy();
            logger.info('the daemon that answered on this SQLite database stopped: this one answers now');
            this.begin();
          },
          (error: unknown) => {
            logger.warn({ err: summarizeError(error) }, 'could not check whether another daemon still answers');
            if (!this.stopped) this.standBy();
          },
        );
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    this.standby.unref();
  }

  /** Answers from now on: heartbeat, recovery of what was left unanswered, then sweeps. */
  private begin(): void {
    const { logger } = this.deps;
    this.started = true;
    this.heartbeat = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
    // Recovery runs in the background (it reads a week of conversations); sweeps follow it.
    this.sweeping = this.recover()
      .then(
        () => {},
        (error: unknown) =>
          logger.error({ err: summarizeError(error) }, 'could not recover unanswered messages at start'),
      )
      .finally(() => {
        this.sweeping = null;
        this.scheduleSweep(0);
      });
  }

  /** Conversations waiting for or getting an answer. */
  backlog(): number {
    return this.waiting.length + this.active;
  }

  /** New inbound messages were committed in this conversation. */
  notify(threadId: number): void {
    this.enqueue(threadId, false);
  }

  /** `first`: ahead of the queue (conversations that waited for a dead daemon, oldest first). */
  private enqueue(threadId: number, first: boolean): void {
    if (this.stopped || !this.started) return;
    const state = this.threads.get(threadId);
    if (state) {
      // A reply is being prepared: run once more afterwards, so what arrived meanwhile is answered
      // together with the right context instead of being dropped or answered stale.
      if (state.running) state.again = true;
      return;
    }
    this.threads.set(threadId, { running: false, again: false });
    if (first) this.waiting.unshift(threadId);
    else this.waiting.push(threadId);
    this.pump();
  }

  /**
   * At start: conversations whose daemon died on this machine are free at once (elsewhere their
   * lease runs out); messages still inside the 24-hour window are noted for an answer, older ones
   * are marked with why not. (Answers a dead daemon left 'sending' are marked failed by whoever
   * claims their conversation: never resent, a resend could duplicate.)
   */
  async recover(lookback = 7 * REPLY_WINDOW_MS): Promise<{ scheduled: number; notAnswered: number }> {
    const { store, logger } = this.deps;
    await this.expireDead();
    const now = this.now();
    const windowStart = new Date(now.getTime() - REPLY_WINDOW_MS);
    let scheduled = 0;
    let notAnswered = 0;
    for (const { threadId } of await store.replies.threadsWithRecentInbound(new Date(now.getTime() - lookback))) {
      const pending = await store.replies.pendingInbound(threadId, new Date(now.getTime() - lookback));
      const stale = pending.filter((m) => m.createdAt < windowStart);
      if (stale.length) {
        await store.replies.markNotAnswered(
          stale.map((m) => m.id),
          "received more than 24 hours before the assistant could answer (outside WhatsApp's customer service window).",
        );
        notAnswered += stale.length;
      }
      if (pending.length > stale.length) {
        await store.pendingReplies.note(threadId);
        scheduled++;
      }
    }
    if (scheduled || notAnswered) logger.info({ scheduled, notAnswered }, 'recovered unanswered messages');
    return { scheduled, notAnswered };
  }

  /** Stops taking work and waits for answers in progress, at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<boolean> {
    const { store, owner, logger } = this.deps;
    this.stopped = true;
    if (this.standby) clearTimeout(this.standby);
    // Conversations noted here but not started are given back at once for another daemon.
    const unstarted = this.waiting;
    this.waiting = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.sweeper) clearTimeout(this.sweeper);
    await this.sweeping;
    const all = Promise.allSettled([...this.inFlight]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      all,
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    // Claims still in progress keep their lease (renewed no more): when it runs out, whoever takes
    // them over marks an answer left 'sending' failed. The role is given up only when all finished.
    if (this.heartbeat) clearInterval(this.heartbeat);
    try {
      for (const threadId of unstarted) await store.pendingReplies.release(threadId, owner);
      if (done && this.holdsRole) await store.roles.release(ANSWERER_ROLE, owner);
    } catch (error) {
      logger.warn({ err: summarizeError(error) }, 'could not give back claims at stop; their leases run out');
    }
    return done;
  }

  /** Resolves when nothing is waiting or running (tests and the demo use it). */
  async idle(): Promise<void> {
    while (this.waiting.length || this.inFlight.size || this.timers.size || this.sweeping) {
      if (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.waiting.length) {
      const threadId = this.waiting.shift() as number;
      const state = this.threads.get(threadId) as ThreadState;
      state.running = true;
      this.active++;
      this.deps.metrics?.replyQueue.set(this.backlog());
      const run = this.runThread(threadId, state).finally(() => {
        this.active--;
        this.inFlight.delete(run);
        this.deps.metrics?.replyQueue.set(this.backlog());
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async runThread(threadId: number, state: ThreadState): Promise<void> {
    const { store, owner, logger, metrics } = this.deps;
    try {
      const claim = await store.pendingReplies.claim(threadId, owner, this.leaseMs);
      if (claim) {
        if (claim.takenOverFrom) {
          this.takenOver++;
          metrics?.replyTakeovers?.inc();
          logger.info(
            { threadId, from: describeOwner(claim.takenOverFrom), abandoned: claim.abandoned },
            'took over a conversation whose daemon stopped answering',
          );
        }
        let seq = claim.seq;
        for (;;) {
          do {
            state.again = false;
            await this.answer(threadId);
          } while (state.again && !this.stopped);
          const next = await store.pendingReplies.finish(threadId, owner, seq);
          if (next === null) break;
          if (this.stopped) {
            await store.pendingReplies.release(threadId, owner);
            break;
          }
          seq = next;
        }
      }
      // (No claim: nothing to answer, or another daemon is answering; it sees what arrived.)
      this.threads.delete(threadId);
    } catch (error) {
      this.threads.delete(threadId);
      if (error instanceof ClaimLostError) {
        logger.warn({ threadId }, 'another daemon took this conversation over; this one sends nothing more in it');
        return;
      }
      // Most likely the database is unavailable: the messages stay pending; try again later, with
      // a growing delay, a few times (the count outlives the thread's state).
      const failures = (this.failures.get(threadId) ?? 0) + 1;
      this.failures.set(threadId, failures);
      logger.error(
        { err: summarizeError(error), threadId, attempt: failures },
        'could not answer a conversation; will retry',
      );
      if (!this.stopped && failures <= 5) {
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            this.notify(threadId);
          },
          (this.deps.retryDelayMs ?? 5_000) * failures,
        );
        this.timers.add(timer);
      } else {
        this.failures.delete(threadId);
      }
      return;
    }
    this.failures.delete(threadId);
  }

  /** Extends the leases of the conversations in progress (and on SQLite, the answerer role). */
  private async renew(): Promise<void> {
    const { store, owner, logger } = this.deps;
    const running = [...this.threads].filter(([, s]) => s.running).map(([id]) => id);
    try {
      await store.pendingReplies.renew(owner, running, this.leaseMs);
      if (this.holdsRole && !(await store.roles.renew(ANSWERER_ROLE, owner, this.leaseMs))) {
        // Another daemon took the role while this one could not renew it (stalled, or the file
        // was unreachable): it answers now; this one stops taking conversations.
        this.holdsRole = false;
        this.stopped = true;
        this.offReason = 'another daemon took over answering on this SQLite database while this one could not renew';
        logger.error('another daemon took over answering on this SQLite database; this one stops answering');
      }
    } catch (error) {
      logger.warn({ err: summarizeError(error) }, 'could not renew claims; retrying');
    }
  }

  /** Ends the claims of daemons that died on this machine (their process is gone). */
  private async expireDead(): Promise<void> {
    const { store, owner } = this.deps;
    for (const other of await store.pendingReplies.owners()) {
      if (other !== owner && diedOnThisMachine(other)) await store.pendingReplies.expire(other);
    }
  }

  private scheduleSweep(delayMs: number): void {
    if (this.stopped) return;
    this.sweeper = setTimeout(() => {
      this.sweeping = this.sweep().finally(() => {
        this.sweeping = null;
        this.scheduleSweep(this.deps.pollMs ?? 1_000);
      });
    }, delayMs);
    this.sweeper.unref();
  }

  /** Takes conversations nobody is answering (unclaimed, or their daemon's lease ran out). */
  private async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.expireDead();
      // Even a busy daemon takes up to one round of them, ahead of its queue: they waited longest
      // (a dead daemon's, or noted by a daemon that does not answer). They are claimed only when
      // they start, so another daemon may still take them first.
      const found = await this.deps.store.pendingReplies.claimable(this.concurrency);
      for (const threadId of found.reverse()) this.enqueue(threadId, true);
    } catch (error) {
      this.deps.logger.warn({ err: summarizeError(error) }, 'could not look for conversations to answer');
    }
  }

  /** Answers everything pending in one conversation with one reply. */
  private async answer(threadId: number): Promise<void> {
    const { store, logger, metrics } = this.deps;
    const thread = await store.threads.get(threadId);
    if (!thread) return;
    const client = await store.clients.get(thread.clientId);
    if (!client.active || !client.assistantEnabled) return;
    const maxRestarts = this.deps.maxRestarts ?? 2;
    for (let restarts = 0; ; restarts++) {
      const windowStart = new Date(this.now().getTime() - REPLY_WINDOW_MS);
      const pending = await store.replies.pendingInbound(threadId, windowStart);
      const last = pending.at(-1);
      if (!last || !last.wamid) return;
      if (await this.handedOff(threadId, client, pending)) return;
      const turns = await this.context(threadId, client);
      let text: string;
      try {
        const result = await this.deps.model.complete(turns, {
          model: client.assistantModel ?? this.deps.defaultModel,
        });
        metrics?.modelSeconds.observe(result.latencyMs / 1000);
        text = result.text.trim();
        if (!text)
          throw new ModelError('the model returned an empty answer', {
            status: null,
            code: 'empty_answer',
            retryable: false,
          });
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        const reason = describeModelError(error);
        const id = await store.replies.begin({
          threadId,
          content: '',
          answersWamid: last.wamid,
          replyToWamid: null,
          createdAt: this.now(),
          claim: { owner: this.deps.owner, leaseMs: this.leaseMs },
        });
        await store.replies.fail(id, {
          errorCode: error.status,
          errorMessage: reason,
          service: 'openai',
          title: error.code ?? undefined,
        });
        metrics?.replies.inc({ outcome: 'model_failed' });
        logger.warn(
          { threadId, clientId: client.id, status: error.status, code: error.code },
          'model failed; answer recorded as failed',
        );
        return;
      }
      // The user wrote again while the model was thinking: prepare the answer again with the new
      // messages in context, so they are answered together (a bounded number of times).
      const now = await store.replies.pendingInbound(threadId, windowStart);
      const newest = now.at(-1);
      if (newest && newest.id > last.id && restarts < maxRestarts && !this.stopped) continue;
      // A person may have taken over while the model was thinking.
      if (await this.handedOff(threadId, client, now)) return;
      const covered = newest?.wamid ? newest : last;
      const quote = shouldQuote(client.quoteReplies, {
        covers: Math.max(now.length, 1),
        answersLatest: (await store.replies.latestMessageId(threadId)) === covered.id,
      });
      const id = await store.replies.begin({
        threadId,
        content: text,
        answersWamid: covered.wamid as string,
        replyToWamid: quote ? covered.wamid : null,
        createdAt: this.now(),
        claim: { owner: this.deps.owner, leaseMs: this.leaseMs },
      });
      try {
        // With '+': without it, Graph prepends the business number's country code.
        const sent = await this.deps.graph.sendText({
          phoneNumberId: client.phoneNumberId,
          to: `+${thread.waId}`,
          body: text,
          replyToWamid: quote ? covered.wamid : null,
        });
        metrics?.graphSeconds.observe(sent.latencyMs / 1000);
        await store.replies.complete(id, { wamid: sent.wamid, sentAt: this.now() });
        metrics?.replies.inc({ outcome: 'sent' });
        logger.info({ threadId, clientId: client.id, covers: now.length, quoted: quote }, 'answer sent');
      } catch (error) {
        if (!(error instanceof GraphError)) {
          // Unknown outcome (e.g. the database failed after the send): leave it 'sending'; the
          // next claim on the conversation marks it failed rather than risk a duplicate.
          throw error;
        }
        await store.replies.fail(id, {
          errorCode: error.code ?? error.status,
          errorMessage: describeGraphError(error),
          service: 'whatsapp',
          title: error.title ?? undefined,
        });
        metrics?.replies.inc({ outcome: 'send_failed' });
        logger.warn(
          { threadId, clientId: client.id, status: error.status, code: error.code },
          'sending the answer failed; recorded as failed',
        );
      }
      return;
    }
  }

  /**
   * A person answered in this conversation and the client's handoff policy says the assistant
   * waits: the pending messages are marked as not answered by it (with why), and nothing is sent.
   */
  private async handedOff(threadId: number, client: ClientRecord, pending: StoredMessage[]): Promise<boolean> {
    const { store, metrics, logger } = this.deps;
    const policy = handoffOf(client.handoff);
    if (policy.mode === 'off') return false;
    const conversation = await store.conversations.latest(threadId);
    const lastAgentAt = await store.replies.lastAgentMessageAt(threadId);
    if (!silencedByHandoff(policy, conversation, lastAgentAt, this.now())) return false;
    const until =
      policy.mode === 'pause'
        ? `for ${formatDuration(policy.ms)} after a person's last message`
        : 'until the conversation ends';
    await store.replies.markNotAnswered(
      pending.map((m) => m.id),
      `a person is answering this conversation; the assistant stays silent ${until} (handoff).`,
    );
    metrics?.replies.inc({ outcome: 'handoff' });
    logger.info({ threadId, clientId: client.id, messages: pending.length }, 'handed off to a person: not answering');
    return true;
  }

  private async context(threadId: number, client: ClientRecord): Promise<ChatTurn[]> {
    const history = await this.deps.store.replies.context(threadId, this.deps.contextMessages);
    const turns: ChatTurn[] = [];
    if (client.systemPrompt) turns.push({ role: 'system', content: client.systemPrompt });
    for (const m of history) turns.push(toTurn(m));
    return turns;
  }
}

function toTurn(m: StoredMessage): ChatTurn {
  // Answers typed by a person in the WhatsApp Business app are the business speaking, as the assistant does.
  return { role: m.role === 'user' ? 'user' : 'assistant', content: m.content };
}
