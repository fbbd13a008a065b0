// Counts in the CLI's messages are grouped by hand (no Intl); they read as en-US writes them.
import { describe, expect, it } from 'vitest';
import { count } from '../../src/cli/output.js';

describe('count', () => {
  it('groups thousands as en-US does, for any integer', () => {
    const samples = [0, 7, 999, 1000, 1001, 65_535, 100_000, 1_234_567, -1, -1000, -987_654_321];
    let seed = 42;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      samples.push((seed % 2 ? -1 : 1) * Math.floor((seed / 2 ** 31) * 10 ** (1 + (i % 15))));
    }
    samples.push(Number.MAX_SAFE_INTEGER, 2.5, 1234.5);
    for (const x of samples) expect(count(x)).toBe(x.toLocaleString('en-US'));
  });
});
