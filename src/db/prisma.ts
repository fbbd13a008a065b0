// Prisma's role in wa-report:
// - The schema (prisma/schema.prisma, PostgreSQL canonical; the SQLite one derived from it) and the
//   migrations are written with Prisma's tools; wa-report applies them itself (migrator.ts).
// - Prisma Client writes the records people configure by hand (clients: repositories/clients.ts):
//   typed models, validation and unique-violation codes (P2002) for rare, small writes.
// Everything else goes through the SQL layer (sql.ts), which the hot paths need (measured there).
//
// Prisma starts on first use, so a report or a list never pays for its query compiler. On
// PostgreSQL it shares the SQL layer's pool: one pool per database and process. The SQLite adapter
// opens its own connection (it takes a file name, not a connection).
import type { PrismaClient as PgPrismaClient } from '../generated/pg/client.js';
import { SQLITE_BUSY_TIMEOUT_MS, describeSqliteError } from './connect.js';
import type { Database } from './sql.js';

// The two generated clients have the same models but are distinct types; the SQLite one is used
// through the PostgreSQL client's type (the models used here behave the same on both).
export type Prisma = PgPrismaClient;

export function prismaLoader(db: Database): { get(): Promise<Prisma>; close(): Promise<void> } {
  let loading: Promise<Prisma> | null = null;
  let client: Prisma | null = null;
  return {
    get() {
      loading ??= load(db).then((p) => (client = p));
      return loading;
    },
    async close() {
      await client?.$disconnect();
    },
  };
}

async function load(db: Database): Promise<Prisma> {
  const target = db.target;
  if (target.kind === 'sqlite') {
    const [{ PrismaBetterSqlite3 }, { PrismaClient }] = await Promise.all([
      import('@prisma/adapter-better-sqlite3'),
      import('../generated/sqlite/client.js'),
    ]);
    const adapter = new PrismaBetterSqlite3(
      { url: target.path, timeout: SQLITE_BUSY_TIMEOUT_MS },
      // Epoch milliseconds, as Prisma's native SQLite engine writes them: compact, and date ranges
      // compare as integers in raw SQL.
      { timestampFormat: 'unixepoch-ms' },
    );
    const prisma = new PrismaClient({ adapter }) as unknown as Prisma;
    try {
      await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
      await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
    } catch (error) {
      await prisma.$disconnect().catch(() => {});
      throw describeSqliteError(target, error) ?? error;
    }
    return prisma;
  }
  const [{ PrismaPg }, { PrismaClient }] = await Promise.all([
    import('@prisma/adapter-pg'),
    import('../generated/pg/client.js'),
  ]);
  if (!db.pool) throw new Error('a PostgreSQL database without its pool');
  return new PrismaClient({ adapter: new PrismaPg(db.pool, { disposeExternalPool: false }) });
}
