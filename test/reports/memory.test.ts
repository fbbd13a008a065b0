// Bounded memory: a 100,000-message conversation, produced on the fly 1,000 messages at a time,
// rendered in every format to a sink that keeps nothing. The heap may not grow by more than 32 MB
// (heapUsed + arrayBuffers, measured after a forced GC every 10 batches, so garbage does not count;
// a renderer that kept the document or the messages would grow by 40+ MB, and the probe itself is
// checked against a sink that keeps everything); the time per format is printed.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { renderDetailed } from '../../src/reports/index.js';
import { reportTemplates } from '../../src/reports/html.js';
import type { DetailedFormat } from '../../src/reports/types.js';
import { generatedReport, NullWritable, StringWritable } from './sample-report.js';

const MESSAGES = 100_000;
const LIMIT_MB = 32;

/** global.gc when node runs with --expose-gc, else the same function fetched through V8 flags. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** JS heap plus Buffers (which live outside the heap): whatever a renderer could hold on to. */
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('bounded memory', () => {
  const gc = collector();

  /** Renders and returns [ms, heap growth in MB]; the growth is the highest of the post-GC samples. */
  async function measure(format: DetailedFormat, out: NodeJS.WritableStream): Promise<[number, number]> {
    await reportTemplates(); // compiled once per process; not part of the growth
    gc();
    const baseline = used();
    let peak = baseline;
    const report = generatedReport(MESSAGES, {
      onBatch: (i) => {
        if (i % 10 !== 9) return;
        gc();
        peak = Math.max(peak, used());
      },
    });
    const started = performance.now();
    const result = await renderDetailed(format, report, out, { bom: true });
    const ms = performance.now() - started;
    gc();
    peak = Math.max(peak, used());
    expect(result).toEqual({ conversations: 1, messages: MESSAGES });
    return [ms, (peak - baseline) / 2 ** 20];
  }

  for (const format of ['text', 'json', 'csv', 'html'] as DetailedFormat[]) {
    it(`renders ${MESSAGES.toLocaleString('en')} messages as ${format} in bounded memory`, async () => {
      const out = new NullWritable();
      const [ms, growthMb] = await measure(format, out);
      console.log(
        `[reports] ${format.padEnd(4)} ${MESSAGES.toLocaleString('en')} messages: ${ms.toFixed(0)} ms, ` +
          `${(out.bytes / 2 ** 20).toFixed(1)} MB written, heap growth ${growthMb.toFixed(1)} MB`,
      );
      expect(out.bytes).toBeGreaterThan(MESSAGES * 50);
      expect(growthMb).toBeLessThan(LIMIT_MB);
    }, 180_000);
  }

  it('the probe does see memory that is kept (a sink holding the whole text report)', async () => {
    const out = new StringWritable();
    const [, growthMb] = await measure('text', out);
    expect(growthMb).toBeGreaterThan(0.8 * (out.buffer.length / 2 ** 20));
  }, 180_000);
});
