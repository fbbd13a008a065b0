// Builds the CLI once (the CLI tests spawn bin/wa-report.js) and checks that PostgreSQL is reachable
// when the suite was asked to run against it.
import { execFileSync } from 'node:child_process';
import pg from 'pg';

export default async function setup(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const url = process.env.TEST_DATABASE_URL;
  if (process.env.WA_REPORT_REQUIRE_POSTGRES === '1' && !url) {
    throw new Error(
      'WA_REPORT_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: the PostgreSQL suite would be skipped.',
    );
  }
  if (url) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
    } catch (error) {
      throw new Error(
        `TEST_DATABASE_URL=${url} is not reachable (${(error as Error).message}). Start PostgreSQL or unset it.`,
        { cause: error },
      );
    } finally {
      await client.end().catch(() => {});
    }
  }
}
