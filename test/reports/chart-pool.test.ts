// The chart pool as it runs in production: the compiled module (dist, built by the global setup)
// draws on worker threads; every SVG equals the one drawn on this thread, and the ids inside are
// unique across the charts of a page (each worker's zrender numbers its own from zr1).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as ChartPool from '../../src/reports/chart-pool.js';
import { drawChart, type ChartRequest } from '../../src/reports/svg-charts.js';

const compiled = pathToFileURL(join(process.cwd(), 'dist/reports/chart-pool.js')).href;

function requests(): ChartRequest[] {
  const months = Array.from({ length: 13 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`);
  const out: ChartRequest[] = [];
  for (let k = 0; k < 5; k++) {
    out.push({
      kind: 'bar',
      input: {
        categories: months,
        stacked: k % 2 === 0,
        series: [
          { name: 'user', values: months.map((_, i) => i * k), colour: '#2563a6' },
          { name: 'assistant', values: months.map((_, i) => i + k), colour: '#1b7f5a' },
        ],
      },
    });
  }
  for (let k = 0; k < 3; k++) {
    out.push({
      kind: 'heatmap',
      grid: Array.from({ length: 7 }, (_, d) => Array.from({ length: 24 }, (_, h) => (d + 1) * h * (k + 1))),
      weekdays: ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'],
    });
  }
  return out;
}

describe('chart pool', () => {
  it('draws on worker threads what this thread draws, with ids unique on the page', async () => {
    const { drawCharts } = (await import(compiled)) as typeof ChartPool;
    const reqs = requests();
    const pooled = await drawCharts(reqs);
    expect(pooled).toHaveLength(reqs.length);
    const here = reqs.map(drawChart).map((svg, i) => svg.replace(/\bzr\d+-/g, `chart${i}-`));
    expect(pooled).toEqual(here);
    const ids = pooled.flatMap((svg) => [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    // Drawn again: the same (the workers keep no state between pages).
    expect(await drawCharts(reqs)).toEqual(pooled);
  });

  it('reports a chart that cannot be drawn', async () => {
    const { drawCharts } = (await import(compiled)) as typeof ChartPool;
    await expect(drawCharts([{ kind: 'nonsense' } as unknown as ChartRequest])).rejects.toThrow(
      /drawing a chart failed/,
    );
  });
});
