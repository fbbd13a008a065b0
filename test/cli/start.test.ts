// What the built CLI loads at start: zod as one bundled module (the build's scripts/bundle-vendor.mjs),
// not its 95 ES modules, and the same zod the sources see.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BUNDLE = new URL('../../dist/vendor/zod.js', import.meta.url);

describe('the built CLI at start', () => {
  it('loads zod from one file that imports nothing', async () => {
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text).not.toMatch(/^\s*(import|export)\s[^;]*\sfrom\s/m);
    const { z } = (await import(BUNDLE.href)) as typeof import('../../src/vendor/zod.js');
    expect(z.object({ n: z.coerce.number().int() }).parse({ n: '7' })).toEqual({ n: 7 });
    expect(z.string().safeParse(1).success).toBe(false);
  });
});
