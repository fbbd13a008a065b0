// CI runs the whole suite once per supported Node.js line and proves each leg ran where it should:
// it sets WA_REPORT_EXPECT_NODE_MAJOR, and .ci/run checks this test passed in every leg's report.
import { describe, expect, it } from 'vitest';

describe('platform', () => {
  const expected = process.env.WA_REPORT_EXPECT_NODE_MAJOR;
  it(`runs on the Node.js major CI asked for (${expected ?? 'any'})`, () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major).toBeGreaterThanOrEqual(20);
    if (expected) expect(major).toBe(Number(expected));
  });
});
