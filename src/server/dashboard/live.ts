// Live refresh for the dashboard's pages: a Server-Sent Events stream (GET /dashboard/live) that sends
// the database's watermark (the newest message and status event ids, never a message's content) when
// it opens and whenever it changes; a page reloads when an id is past the ones it was drawn with
// (dashboard.js), so within seconds of a message instead of every 30 s whether or not anything
// happened, and nothing stored between drawing the page and opening the stream is missed. One read
// every `intervalMs` serves every open page, and only while one is open. It sees whichever process
// stored the message (another daemon on the same PostgreSQL, or the daemon beside `wa-report dashboard`).
import type { Response } from 'express';
import { withTimeout } from '../timeout.js';

export interface LiveFeedOptions {
  /** What changes when something is stored (the newest message and status ids). */
  watermark: () => Promise<string>;
  intervalMs?: number;
  /** Streams open at once; more are refused with 503 (each holds a connection). */
  maxStreams?: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  heartbeatMs?: number;
  /** A watermark read that takes longer is given up (the pool may be exhausted). */
  readTimeoutMs?: number;
}

export class LiveFeed {
  /** Each open stream, and whether its session still lives (a signed-out page is not told anything more). */
  private readonly streams = new Map<Response, () => boolean>();
  private readonly intervalMs: number;
  private readonly maxStreams: number;
  private readonly heartbeatMs: number;
  private readonly readTimeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private lastWrite = 0;
  private reading = false;
  private closed = false;

  constructor(private readonly options: LiveFeedOptions) {
    this.intervalMs = options.intervalMs ?? 2_000;
    this.maxStreams = options.maxStreams ?? 200;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 5_000;
  }

  /**
   * Opens a stream on this response (the caller has checked the session; `alive` checks it again at
   * each change), or says why not (nothing is written then).
   */
  subscribe(res: Response, alive: () => boolean): { message: string; retryAfter: string } | null {
    if (this.closed) return { message: 'The server is shutting down.', retryAfter: '5' };
    if (this.streams.size >= this.maxStreams) {
      return { message: 'Too many live pages are open; reload later.', retryAfter: '30' };
    }
    res.status(200);
    res.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
      // Its connection ends with it: a stream ended at shutdown leaves no keep-alive socket behind.
      Connection: 'close',
    });
    res.flushHeaders();
    // Reconnect after 5 s if the connection drops (a restart of the daemon, say).
    res.write('retry: 5000\n\n');
    if (this.last !== null) res.write(stored(this.last));
    this.streams.set(res, alive);
    const drop = () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stop();
    };
    res.on('close', drop);
    res.on('error', drop);
    this.start();
    return null;
  }

  /** Ends every stream (the server is closing: they would keep it open). */
  close(): void {
    this.closed = true;
    this.stop();
    for (const res of this.streams.keys()) res.end();
    this.streams.clear();
  }

  private start(): void {
    if (this.timer) return;
    this.lastWrite = Date.now();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Not read while no page listens: the next one is sent what is stored then.
    this.last = null;
  }

  private async tick(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const now = await withTimeout(this.options.watermark(), this.readTimeoutMs);
      // Stopped meanwhile (no page listens, or closing): nothing to tell, nothing to remember.
      if (!this.timer) return;
      if (now !== this.last) {
        this.last = now;
        this.send(stored(now));
      } else if (Date.now() - this.lastWrite >= this.heartbeatMs) this.send(': still here\n\n');
    } catch {
      // The database is unreachable or slow for a moment: the pages keep what they show, and a later
      // tick tries again (a read that hangs is given up after readTimeoutMs).
    } finally {
      this.reading = false;
    }
  }

  private send(text: string): void {
    this.lastWrite = Date.now();
    for (const [res, alive] of this.streams) {
      // Signed out or expired: the stream ends (EventSource then finds the sign-in page and gives up).
      if (alive()) res.write(text);
      else res.end();
    }
  }
}

function stored(watermark: string): string {
  return `event: stored\ndata: ${JSON.stringify(watermark)}\n\n`;
}
