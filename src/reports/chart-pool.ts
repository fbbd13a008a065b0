// Charts drawn in parallel on worker threads. ECharts takes 4–30 ms a chart (its model and layout,
// not the SVG), and the overview draws eight, about half its time budget: spread over one worker per
// core, they take a fraction of that and the daemon's own thread stays free for other requests.
// Where the compiled worker is not there (running from TypeScript sources, as the tests do), or a
// worker fails to start, the charts are drawn on this thread: same function, same SVG.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChartRequest } from './svg-charts.js';

const WORKER_URL = new URL('./chart-worker.js', import.meta.url);
const WORKERS = Math.max(1, Math.min(4, availableParallelism()));

interface Pending {
  resolve: (results: { svg?: string; error?: string }[]) => void;
  reject: (e: Error) => void;
}

class ChartWorker {
  private readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private next = 0;
  broken = false;

  constructor() {
    // No flags of this process (--input-type, --cpu-prof…) are meant for the worker.
    this.worker = new Worker(WORKER_URL, { execArgv: [] });
    this.worker.on('message', (m: { id: number; results: { svg?: string; error?: string }[] }) => {
      this.pending.get(m.id)?.resolve(m.results);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
    });
    const fail = (e: Error) => {
      this.broken = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`chart worker exited (${code})`)));
    // An idle pool never keeps a process alive, a busy one does (after the listeners, which ref it).
    this.worker.unref();
  }

  draw(requests: ChartRequest[]): Promise<{ svg?: string; error?: string }[]> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, requests });
    });
  }
}

let workers: ChartWorker[] | null = null;

function pool(): ChartWorker[] | null {
  if (!existsSync(fileURLToPath(WORKER_URL))) return null;
  workers = (workers ?? []).filter((w) => !w.broken);
  while (workers.length < WORKERS) workers.push(new ChartWorker());
  return workers;
}

/**
 * The SVG of each chart, in order: the ids inside (clip paths, gradients), numbered per renderer
 * instance by zrender and so not unique across workers, are renamed chart<first + i>-… (a page
 * drawing its charts in several calls numbers them apart).
 */
export async function drawCharts(requests: ChartRequest[], first = 0): Promise<string[]> {
  return (await drawAll(requests)).map((svg, i) => svg.replace(/\bzr\d+-/g, `chart${first + i}-`));
}

async function drawAll(requests: ChartRequest[]): Promise<string[]> {
  const ws = pool();
  if (ws) {
    try {
      // Dealt round-robin, one batch per worker, the least busy first (another page's charts, or
      // this page's drawn earlier, may be on some of them).
      ws.sort((a, b) => a.pending.size - b.pending.size);
      const batches = ws.map((_, w) => requests.map((r, i) => ({ r, i })).filter((x) => x.i % ws.length === w));
      const out = new Array<string>(requests.length);
      await Promise.all(
        batches.map(async (batch, w) => {
          if (!batch.length) return;
          const results = await (ws[w] as ChartWorker).draw(batch.map((x) => x.r));
          results.forEach((res, k) => {
            if (res.error !== undefined) throw new Error(`drawing a chart failed: ${res.error}`);
            out[(batch[k] as { i: number }).i] = res.svg as string;
          });
        }),
      );
      return out;
    } catch (e) {
      if (!(e instanceof Error) || !/chart worker exited|Worker/.test(e.message)) throw e;
      // A worker died: draw here instead.
    }
  }
  const { drawChart } = await import('./svg-charts.js');
  return requests.map(drawChart);
}
