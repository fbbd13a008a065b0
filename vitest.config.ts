import { defineConfig } from 'vitest/config';

// WA_REPORT_TEST_REPORT=<file> also writes a JSON report; .ci/run reads it to prove that the
// PostgreSQL suite really ran.
const jsonReport = process.env.WA_REPORT_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: files in parallel would fight over the same CPUs and the same PostgreSQL.
    fileParallelism: false,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
