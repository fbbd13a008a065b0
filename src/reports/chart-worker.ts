// A worker thread that draws charts (svg-charts.ts) for chart-pool.ts: a batch of requests in, the
// same number of SVG strings (or error messages) out, in order.
import { parentPort } from 'node:worker_threads';
import { drawChart, type ChartRequest } from './svg-charts.js';

parentPort?.on('message', (batch: { id: number; requests: ChartRequest[] }) => {
  const results = batch.requests.map((r) => {
    try {
      return { svg: drawChart(r) };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  });
  parentPort?.postMessage({ id: batch.id, results });
});
