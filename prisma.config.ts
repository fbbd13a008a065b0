// Used only by the Prisma CLI on a machine that has Prisma's engines (`prisma migrate status`,
// `prisma migrate diff`). wa-report itself never needs the CLI at run time: it applies the
// migrations under prisma/migrations (PostgreSQL) and prisma/sqlite/migrations with its own migrator.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test' },
});
