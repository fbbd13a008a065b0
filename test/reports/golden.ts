// Golden files live in test/fixtures/reports/. `UPDATE_GOLDEN=1 npx vitest run test/reports/`
// rewrites them from the current output; otherwise the output must match them byte for byte.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { expect } from 'vitest';

const DIR = new URL('../fixtures/reports/', import.meta.url);

export async function expectGolden(name: string, actual: Buffer): Promise<void> {
  const file = new URL(name, DIR);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(DIR, { recursive: true });
    await writeFile(file, actual);
    return;
  }
  let expected: Buffer;
  try {
    expected = await readFile(file);
  } catch {
    throw new Error(
      `Golden file test/fixtures/reports/${name} is missing. ` +
        'Create it with UPDATE_GOLDEN=1 npx vitest run test/reports/ and review it.',
    );
  }
  // A readable diff first, then the bytes (a stray \r or BOM would not show in the diff).
  expect(actual.toString('utf8')).toBe(expected.toString('utf8'));
  expect(actual.equals(expected), `${name} differs byte for byte (line endings? BOM?)`).toBe(true);
}
