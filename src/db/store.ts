// The repository layer: the only code that builds or touches a Prisma client. One implementation
// serves both databases; the few places where SQLite and PostgreSQL differ go through `Dialect`.
import type { PrismaClient as PgPrismaClient } from '../generated/pg/client.js';
import { DatabaseError, EncryptionError, NotFoundError, UsageError } from '../errors.js';
import {
  ROLES,
  STATUS_RANK,
  statusRank,
  type ClientInput,
  type ClientRecord,
  type ClientStats,
  type ConversationSummary,
  type NewMessage,
  type RawEventInput,
  type ReportMessage,
  type Role,
  type StatusUpdate,
  type StoredMessage,
  type ThreadRecord,
} from '../domain/types.js';
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import {
  PG_CONNECT_TIMEOUT_MS,
  SQLITE_BUSY_TIMEOUT_MS,
  describePostgresError,
  describeSqliteError,
  openSqliteFile,
  prepareDatabase,
  type MigrateMode,
} from './connect.js';
import type { DbTarget } from './target.js';
import { KeyRing } from '../domain/key-ring.js';

// The two generated clients have the same models but are distinct types; the SQLite one is used
// through the PostgreSQL client's type. Behaviour differences are handled explicitly below.
type Prisma = PgPrismaClient;
type Tx = Omit<Prisma, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;
type Db = Prisma | Tx;

export interface OpenStoreOptions {
  /** 'apply' (default) creates and migrates; 'verify' refuses a database that needs migrating. */
  migrate?: MigrateMode;
  /** Keys for content at rest (default: none, plaintext). */
  keys?: KeyRing;
}

export interface ConversationFilter {
  clientId: number;
  waId?: string;
  /** Inclusive lower bound on message time. */
  start?: Date;
  /** Exclusive upper bound on message time. */
  end?: Date;
}

export interface ConversationPage {
  total: number;
  conversations: ConversationSummary[];
  nextCursor: string | null;
}

export interface RecordResult {
  /** wamids stored by this call (new messages); duplicates are left out. */
  inserted: { id: number; wamid: string | null; threadId: number }[];
  duplicates: number;
}

export interface EraseResult {
  threads: number;
  messages: number;
  statusEvents: number;
  rawEvents: number;
}

export interface WriteBatch {
  messages?: NewMessage[];
  statuses?: StatusUpdate[];
  rawEvents?: RawEventInput[];
  /** Profile names seen without a message of theirs: they rename existing conversations. */
  contactNames?: { clientId: number; waId: string; name: string }[];
}

export async function openStore(target: DbTarget, options: OpenStoreOptions = {}): Promise<Store> {
  await prepareDatabase(target, options.migrate ?? 'apply');
  // Each database's client and driver are loaded only when used: a SQLite command never pays for pg.
  if (target.kind === 'sqlite') {
    const reader = openSqliteReader(target);
    const load = async () => {
      const [{ PrismaBetterSqlite3 }, { PrismaClient: SqlitePrismaClient }] = await Promise.all([
        import('@prisma/adapter-better-sqlite3'),
        import('../generated/sqlite/client.js'),
      ]);
      const adapter = new PrismaBetterSqlite3(
        { url: target.path, timeout: SQLITE_BUSY_TIMEOUT_MS },
        // Epoch milliseconds, as Prisma's native SQLite engine writes them: compact, and date ranges
        // compare as integers in raw SQL.
        { timestampFormat: 'unixepoch-ms' },
      );
      const prisma = new SqlitePrismaClient({ adapter }) as unknown as Prisma;
      try {
        await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
        await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
      } catch (error) {
        await prisma.$disconnect().catch(() => {});
        throw describeSqliteError(target, error) ?? error;
      }
      return prisma;
    };
    return Store.ready(new Store(reader, load, 'sqlite', target, options.keys ?? KeyRing.none()));
  }
  const reader = await openPostgresReader(target);
  const load = async () => {
    const [{ PrismaPg }, { PrismaClient: PgPrismaClient }] = await Promise.all([
      import('@prisma/adapter-pg'),
      import('../generated/pg/client.js'),
    ]);
    const adapter = new PrismaPg({
      connectionString: target.url,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      max: 10,
      application_name: 'wa-report',
    });
    return new PgPrismaClient({ adapter }) as Prisma;
  };
  return Store.ready(new Store(reader, load, 'postgres', target, options.keys ?? KeyRing.none()));
}

/** Plain SQL for modules beside the store: '?' placeholders, values bound for the database. */
export interface SqlTx {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<number>;
}

/** PostgreSQL advisory lock: shared by ingest batches, exclusive for erasing a contact and archive deletions. */
export const CONTACT_LOCK_KEY = 7_141_985_001;

export const MESSAGE_SELECT =
  'id, thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at, status, status_at, error_code, error_message, reply_to_wamid, raw';

/** Plain SQL straight through the driver. */
export interface Querier {
  /** `name`: PostgreSQL prepares the statement once per connection under that name (the text must never change). */
  all<T>(sql: string, params: unknown[], name?: string): Promise<T[]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, params: unknown[]): Promise<number>;
}

export interface Reader extends Querier {
  /**
   * One transaction at a time, on its own connection. `begin` (PostgreSQL): statements without
   * parameters sent with BEGIN in the same round trip.
   */
  transaction<T>(fn: (tx: Querier) => Promise<T>, begin?: string): Promise<T>;
  close(): Promise<void>;
}

function isQuerier(db: unknown): db is Querier {
  return typeof (db as Querier).run === 'function' && typeof (db as Querier).all === 'function';
}

/** Serializes async work (transactions share one connection). */
function mutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

function sqliteQuerier(db: BetterSqlite3.Database): Querier {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (statements.size > 500) statements.clear();
      statements.set(sql, stmt);
    }
    return stmt;
  };
  return {
    async all<T>(sql: string, params: unknown[]): Promise<T[]> {
      const stmt = prepare(sql);
      return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[];
    },
    async run(sql: string, params: unknown[]): Promise<number> {
      const stmt = prepare(sql);
      return stmt.reader ? stmt.all(...params).length : stmt.run(...params).changes;
    },
  };
}

function openSqliteReader(target: Extract<DbTarget, { kind: 'sqlite' }>): Reader {
  const db = openSqliteFile(target, false);
  const reads = sqliteQuerier(db);
  // Writes in transactions get their own connection: a read issued by another request while a
  // transaction awaits must not land inside it.
  let writer: { db: BetterSqlite3.Database; q: Querier } | null = null;
  const serial = mutex();
  return {
    ...reads,
    transaction<T>(fn: (tx: Querier) => Promise<T>): Promise<T> {
      return serial(async () => {
        if (!writer) {
          const w = openSqliteFile(target, false);
          // Deleted and rewritten content is overwritten with zeros, not left in free pages: an
          // erased contact or a plaintext row replaced by its encrypted form is gone from the file.
          w.pragma('secure_delete = ON');
          writer = { db: w, q: sqliteQuerier(w) };
        }
        const { db: w, q } = writer;
        w.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(q);
          w.exec('COMMIT');
          return result;
        } catch (error) {
          if (w.inTransaction) w.exec('ROLLBACK');
          throw error;
        }
      });
    },
    async close() {
      writer?.db.close();
      db.close();
    },
  };
}

const POOL_SIZE = 6;

function isStalePlan(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
}

async function openPostgresReader(target: Extract<DbTarget, { kind: 'postgres' }>): Promise<Reader> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: target.url,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    max: POOL_SIZE,
    application_name: 'wa-report',
  });
  pool.on('error', () => {
    /* a broken idle connection is replaced on the next query */
  });
  const on = (c: { query: pg.Pool['query'] }): Querier => ({
    async all<T>(sql: string, params: unknown[], name?: string): Promise<T[]> {
      return (await (name ? c.query({ name, text: sql, values: params }) : c.query(sql, params as unknown[])))
        .rows as T[];
    },
    async run(sql: string, params: unknown[]): Promise<number> {
      return (await c.query(sql, params as unknown[])).rowCount ?? 0;
    },
  });
  const serial = mutex();
  const once = async <T>(fn: (tx: Querier) => Promise<T>, begin?: string): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    // A connection that dies between two statements of the transaction emits 'error' on the
    // client; without a listener that would crash the process. The failing query reports it.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      // Simple protocol: several statements in one round trip.
      await client.query(begin ? `BEGIN; ${begin}` : 'BEGIN');
      const result = await fn(on(client as unknown as { query: pg.Pool['query'] }));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (isStalePlan(error)) broken = true;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  };
  return {
    ...on(pool),
    transaction<T>(fn: (tx: Querier) => Promise<T>, begin?: string): Promise<T> {
      return serial(async () => {
        // A migration that changes a table under a statement a connection prepared (the ingest
        // statements are named) fails it with "cached plan must not change result type": that
        // connection is dropped and the transaction, rolled back, runs again on another one.
        for (let attempt = 0; ; attempt++) {
          try {
            return await once(fn, begin);
          } catch (error) {
            if (!isStalePlan(error) || attempt >= POOL_SIZE) throw error;
          }
        }
      });
    },
    async close() {
      await pool.end();
    },
  };
}

/** Inbound types the assistant answers; reactions, system notices and errors are not questions. */
export const ANSWERABLE_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'order',
];
export const NOT_ANSWERED_PREFIX = 'Not answered: ';

const CLIENT_COLUMNS =
  'id, name, phone_number, phone_number_id, waba_id, active, assistant_enabled, assistant_model, system_prompt, created_at, updated_at';
const THREAD_COLUMNS = 'id, client_id, wa_id, contact_name, created_at, last_message_at, context_reset_at';
const MESSAGE_COLUMNS = MESSAGE_SELECT;
const REPORT_COLUMNS =
  'id, role, type, content, wamid, created_at, status, status_at, error_code, error_message, reply_to_wamid';
const rankSql = (column: string) =>
  `(CASE ${column} ${Object.entries(STATUS_RANK)
    .map(([s, r]) => `WHEN '${s}' THEN ${r}`)
    .join(' ')} ELSE 0 END)`;
const RANK_SQL = rankSql('status');

export class Store {
  private prismaClient: Prisma | null = null;
  private prismaLoading: Promise<Prisma> | null = null;

  /** The key id content was last encrypted with in this database (settings), or null: never encrypted. */
  private encryptedWith: string | null = null;

  constructor(
    private readonly reader: Reader,
    private readonly loadPrisma: () => Promise<Prisma>,
    readonly dialect: 'sqlite' | 'postgres',
    readonly target: DbTarget,
    readonly keys: KeyRing = KeyRing.none(),
  ) {}

  /** Reads what the store must know before use (whether content here is encrypted). */
  static async ready(store: Store): Promise<Store> {
    try {
      const rows = await store.guard(() =>
        store.read<{ value: string }>(`SELECT value FROM settings WHERE key = 'encryption_key_id'`, []),
      );
      store.encryptedWith = rows[0]?.value ?? null;
      return store;
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  }

  /** The key id this database's content was last encrypted with (null: it never was). */
  get encryptionKeyId(): string | null {
    return this.encryptedWith;
  }

  /**
   * Refuses to write content in plaintext into a database whose content is encrypted: a missing
   * key must be an error, never a silent fallback.
   */
  assertKeyForWrites(): void {
    if (this.encryptedWith && this.keys.enabled && !this.keys.knows(this.encryptedWith)) {
      throw new EncryptionError(
        `This database's message content was last encrypted with key id ${this.encryptedWith}, but the configured keys are ${this.keys.ids.join(', ')}. ` +
          `A mistyped key would store content nobody else can read: set WA_REPORT_ENCRYPTION_KEY to that key, or keep it in WA_REPORT_ENCRYPTION_KEYS_OLD while rotating.`,
      );
    }
    if (this.encryptedWith && !this.keys.enabled) {
      throw new EncryptionError(
        `This database's message content is encrypted (key id ${this.encryptedWith}) but WA_REPORT_ENCRYPTION_KEY is not set, so new content would be stored in plaintext. Set WA_REPORT_ENCRYPTION_KEY (and WA_REPORT_ENCRYPTION_KEYS_OLD during a rotation).`,
      );
    }
  }

  /**
   * Inside each writing transaction: records that content is now sealed with the current key (once
   * per process and key); without a key, checks that no other process (`db encrypt`) has started
   * encrypting this database since it was opened.
   */
  private async noteEncryption(tx: Querier): Promise<void> {
    const id = this.keys.current?.id;
    if (!id) {
      const [row] = await this.query<{ value: string | null }>(
        tx,
        `SELECT value FROM settings WHERE key = 'encryption_key_id'`,
        [],
      );
      this.sawMarker(row?.value ?? null);
      return;
    }
    if (this.encryptedWith === id) return;
    await this.writeEncryptionMarker(tx, id);
  }

  /** The marker as read inside a write without a key: content here is encrypted, so this write must not happen (throws). */
  private sawMarker(value: string | null): void {
    if (!value) return;
    this.encryptedWith = value;
    this.assertKeyForWrites();
  }

  private async writeEncryptionMarker(tx: Querier, id: string): Promise<void> {
    await this.execute(
      tx,
      `INSERT INTO settings (key, value, updated_at) VALUES ('encryption_key_id', ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [id, new Date()],
    );
  }

  /**
   * Marks the database as encrypted with the current key, now (db encrypt, keys rotate, restoring
   * sealed content): from then on a process without the key refuses to write here.
   */
  async markEncrypted(): Promise<void> {
    const id = this.keys.current?.id;
    if (!id) return;
    await this.guard(() => this.reader.transaction((tx) => this.writeEncryptionMarker(tx, id)));
    this.encryptedWith = id;
  }

  private afterNoteEncryption(): void {
    if (this.keys.current) this.encryptedWith = this.keys.current.id;
  }

  /** A stored message row as the rest of the program sees it (content and raw decrypted). */
  private message(r: Record<string, unknown>): StoredMessage {
    const m = toStoredMessage(r);
    m.content = this.keys.open(m.content, () => `The content of message ${m.id}`);
    m.raw = this.keys.open(m.raw, () => `The raw object of message ${m.id}`);
    return m;
  }

  private reportMessage(r: Record<string, unknown>): ReportMessage {
    const m = toReportMessage(r);
    m.content = this.keys.open(m.content, () => `The content of message ${m.id}`);
    return m;
  }

  /**
   * Prisma, started on first use. Reads that are plain SQL go through the driver directly
   * (`read`): a report or a list never pays for starting Prisma's query compiler, and streams
   * rows without the ORM's per-row overhead.
   */
  private async orm(): Promise<Prisma> {
    if (this.prismaClient) return this.prismaClient;
    this.prismaLoading ??= this.loadPrisma().then((p) => (this.prismaClient = p));
    return this.prismaLoading;
  }

  async close(): Promise<void> {
    await this.prismaClient?.$disconnect();
    await this.reader.close();
  }

  // ------------------------------------------------------------------------------------------
  // Clients

  async createClient(input: ClientInput): Promise<ClientRecord> {
    return this.guard(async () => {
      const existing = await (await this.orm()).client.findUnique({ where: { phoneNumberId: input.phoneNumberId } });
      if (existing) {
        throw new UsageError(
          `phone_number_id: ${input.phoneNumberId} already belongs to client ${existing.id} (${existing.name}). Use \`wa-report clients update ${existing.id}\` to change it.`,
        );
      }
      try {
        return await (await this.orm()).client.create({ data: { ...input } });
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') {
          throw new UsageError(`phone_number_id: ${input.phoneNumberId} already belongs to another client.`);
        }
        throw error;
      }
    });
  }

  async updateClient(id: number, patch: Partial<ClientInput>): Promise<ClientRecord> {
    return this.guard(async () => {
      await this.getClient(id);
      if (patch.phoneNumberId !== undefined) {
        const other = await (await this.orm()).client.findUnique({ where: { phoneNumberId: patch.phoneNumberId } });
        if (other && other.id !== id) {
          throw new UsageError(
            `phone_number_id: ${patch.phoneNumberId} already belongs to client ${other.id} (${other.name}).`,
          );
        }
      }
      return (await this.orm()).client.update({ where: { id }, data: { ...patch } });
    });
  }

  async getClient(id: number): Promise<ClientRecord> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE id = ?`, [id]),
    );
    if (!rows[0]) throw new NotFoundError(`No client with id ${id}. Run \`wa-report --list\` to see clients.`);
    return toClientRecord(rows[0]);
  }

  async findClientByPhoneNumberId(phoneNumberId: string): Promise<ClientRecord | null> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE phone_number_id = ?`, [
        phoneNumberId,
      ]),
    );
    return rows[0] ? toClientRecord(rows[0]) : null;
  }

  async listClients(options: { includeInactive?: boolean } = {}): Promise<ClientRecord[]> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE active = ? OR ? ORDER BY id`, [
        true,
        Boolean(options.includeInactive),
      ]),
    );
    return rows.map(toClientRecord);
  }

  // ------------------------------------------------------------------------------------------
  // Threads

  /** Finds the conversation of a client and WhatsApp user, creating it when missing. */
  async ensureThread(clientId: number, waId: string, contactName?: string | null): Promise<ThreadRecord> {
    return this.guard(async () => {
      const now = new Date();
      return (await this.orm()).thread.upsert({
        where: { clientId_waId: { clientId, waId } },
        create: { clientId, waId, contactName: contactName ?? null, createdAt: now, lastMessageAt: now },
        update: contactName ? { contactName } : {},
      });
    });
  }

  async findThread(clientId: number, waId: string): Promise<ThreadRecord | null> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(`SELECT ${THREAD_COLUMNS} FROM threads WHERE client_id = ? AND wa_id = ?`, [
        clientId,
        waId,
      ]),
    );
    return rows[0] ? toThreadRecord(rows[0]) : null;
  }

  /** Marks the point after which history is sent to the model again (history stays for reports). */
  async resetContext(threadId: number, at = new Date()): Promise<void> {
    await this.guard(async () =>
      (await this.orm()).thread.update({ where: { id: threadId }, data: { contextResetAt: at } }),
    );
  }

  // ------------------------------------------------------------------------------------------
  // Writing: messages, statuses and raw content, idempotently, a batch per transaction

  /** Messages, statuses and raw events of one batch in one transaction. */
  async writeBatch(batch: WriteBatch): Promise<RecordResult & { statusesApplied: number }> {
    // The ingest hot path runs on the driver itself (cached prepared statements, one transaction):
    // through Prisma's adapter every batch re-prepared its statements, which halved throughput.
    this.assertKeyForWrites();
    const messages = batch.messages ?? [];
    const statuses = batch.statuses ?? [];
    // PostgreSQL: one statement stores the messages, one the statuses; each reads the encryption marker back.
    const pg = this.dialect === 'postgres';
    const markerRead = pg && (messages.length > 0 || statuses.length > 0);
    // PostgreSQL: an erase takes this lock exclusively, so a batch never interleaves with it
    // (tombstones it writes are seen; nothing it deletes is re-created half-way). Taken with BEGIN,
    // in the same round trip, and before any statement reads (each reads with a snapshot taken
    // when it starts). SQLite has one writer anyway.
    const lock = pg ? `SELECT pg_advisory_xact_lock_shared(${CONTACT_LOCK_KEY})` : undefined;
    const done = await this.guard(() =>
      this.reader.transaction(async (tx) => {
        if (!markerRead || this.keys.current) await this.noteEncryption(tx);
        const result =
          pg && messages.length
            ? await this.insertMessagesPostgres(tx, messages)
            : await this.insertMessages(tx, messages);
        const statusesApplied =
          pg && statuses.length
            ? await this.insertStatusesPostgres(tx, statuses)
            : await this.insertStatuses(tx, statuses);
        await this.insertRawEvents(tx, batch.rawEvents ?? []);
        for (const c of batch.contactNames ?? []) {
          await this.execute(
            tx,
            `UPDATE threads SET contact_name = ? WHERE client_id = ? AND wa_id = ? AND (contact_name IS NULL OR contact_name <> ?)`,
            [c.name, c.clientId, c.waId, c.name],
          );
        }
        return { ...result, statusesApplied };
      }, lock),
    );
    this.afterNoteEncryption();
    return done;
  }

  /** Stores messages once per wamid (a redelivery changes nothing); creates threads as needed. */
  async recordMessages(messages: NewMessage[]): Promise<RecordResult> {
    const { inserted, duplicates } = await this.writeBatch({ messages });
    return { inserted, duplicates };
  }

  /** Keeps every status event and moves each message's status forward only (sent < delivered < read). */
  async applyStatuses(statuses: StatusUpdate[]): Promise<number> {
    return (await this.writeBatch({ statuses })).statusesApplied;
  }

  async recordRawEvents(events: RawEventInput[]): Promise<void> {
    await this.writeBatch({ rawEvents: events });
  }

  /** Which of these hashes belong to erased data (tombstones), one query per 500. */
  private async tombstoned(tx: Db | Querier, hashes: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(hashes)];
    for (let i = 0; i < unique.length; i += 500) {
      const chunk = unique.slice(i, i + 500);
      const rows = await this.query<{ hash: string }>(
        tx,
        `SELECT hash FROM tombstones WHERE hash IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const r of rows) found.add(r.hash);
    }
    return found;
  }

  private async insertMessages(tx: Db | Querier, all: NewMessage[]): Promise<RecordResult> {
    if (all.length === 0) return { inserted: [], duplicates: 0 };
    checkRoles(all);
    // A redelivered webhook of an erased message is not stored again (nor its conversation re-created).
    const erased = await this.tombstoned(
      tx,
      all.flatMap((m) => (m.wamid ? [wamidTombstone(m.wamid)] : [])),
    );
    const messages = erased.size ? all.filter((m) => !m.wamid || !erased.has(wamidTombstone(m.wamid))) : all;
    if (messages.length === 0) return { inserted: [], duplicates: all.length };
    // 1. One thread per (client, user): created at its first message, last activity moved forward only.
    const threadIds = new Map<string, number>();
    const groups = new Map<string, NewMessage[]>();
    for (const m of messages) {
      const key = `${m.clientId}\u0000${m.waId}`;
      groups.get(key)?.push(m) ?? groups.set(key, [m]);
    }
    const greatest = this.dialect === 'sqlite' ? 'MAX' : 'GREATEST';
    const least = this.dialect === 'sqlite' ? 'MIN' : 'LEAST';
    // One statement for all the batch's conversations (a round trip each made PostgreSQL slow).
    // In a fixed order (by conversation key): two transactions upserting the same conversations
    // lock them in the same order and cannot deadlock each other.
    const entries = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
    for (let i = 0; i < entries.length; i += 200) {
      const chunk = entries.slice(i, i + 200);
      const params: unknown[] = [];
      for (const group of chunk) {
        const first = group[0] as NewMessage;
        const times = group.map((m) => m.createdAt.getTime());
        const contactName =
          group
            .map((m) => m.contactName)
            .filter(Boolean)
            .at(-1) ?? null;
        params.push(
          first.clientId,
          first.waId,
          contactName,
          new Date(Math.min(...times)),
          new Date(Math.max(...times)),
        );
      }
      const rows = await this.query<{ id: unknown; client_id: unknown; wa_id: string }>(
        tx,
        `INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (client_id, wa_id) DO UPDATE SET
           contact_name = COALESCE(excluded.contact_name, threads.contact_name),
           created_at = ${least}(threads.created_at, excluded.created_at),
           last_message_at = ${greatest}(threads.last_message_at, excluded.last_message_at)
         RETURNING id, client_id, wa_id`,
        params,
      );
      for (const r of rows) threadIds.set(`${Number(r.client_id)}\u0000${r.wa_id}`, Number(r.id));
    }

    // 2. Messages, skipping wamids already stored.
    const inserted: RecordResult['inserted'] = [];
    const columns = [
      'thread_id',
      'client_id',
      'role',
      'type',
      'content',
      'wamid',
      'wa_id',
      'phone_number_id',
      'created_at',
      'status',
      'status_at',
      'error_code',
      'error_message',
      'reply_to_wamid',
      'raw',
      'inserted_at',
    ];
    const now = new Date();
    for (let i = 0; i < messages.length; i += 400) {
      const chunk = messages.slice(i, i + 400);
      const params: unknown[] = [];
      const tuples = chunk.map((m) => {
        params.push(
          threadIds.get(`${m.clientId}\u0000${m.waId}`),
          m.clientId,
          m.role,
          m.type,
          this.keys.seal(m.content),
          m.wamid,
          m.waId,
          m.phoneNumberId,
          m.createdAt,
          m.status ?? null,
          m.status ? m.createdAt : null,
          int32OrNull(m.errorCode),
          m.errorMessage ?? null,
          m.replyToWamid ?? null,
          this.keys.seal(m.raw ?? null),
          now,
        );
        return `(${columns.map(() => '?').join(', ')})`;
      });
      const rows = await this.query<{ id: unknown; wamid: string | null; thread_id: unknown }>(
        tx,
        `INSERT INTO messages (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (wamid) DO NOTHING RETURNING id, wamid, thread_id`,
        params,
      );
      for (const r of rows) inserted.push({ id: Number(r.id), wamid: r.wamid, threadId: Number(r.thread_id) });
    }

    // 3. Statuses that arrived before their message.
    const newWamids = inserted.map((r) => r.wamid).filter((w): w is string => w !== null);
    for (let i = 0; i < newWamids.length; i += 500) {
      const chunk = newWamids.slice(i, i + 500);
      const events = await this.query<Record<string, unknown>>(
        tx,
        `SELECT wamid, status, occurred_at, error_code, error_title, error_details FROM message_status_events WHERE wamid IN (${chunk.map(() => '?').join(', ')}) ORDER BY id`,
        chunk,
      );
      await this.applyEarlierStatuses(tx, events);
    }
    return { inserted, duplicates: all.length - inserted.length };
  }

  /**
   * PostgreSQL: the batch's messages in one statement and one round trip (see INGEST_MESSAGES_SQL).
   * Prepared once per connection: its text does not change with the batch size (arrays, not VALUES lists).
   */
  private async insertMessagesPostgres(tx: Querier, all: NewMessage[]): Promise<RecordResult> {
    checkRoles(all);
    const columns = this.columnsOf(all, (m) => [
      m.clientId,
      m.waId,
      m.contactName || null,
      m.role,
      m.type,
      this.keys.seal(m.content),
      m.wamid,
      m.phoneNumberId,
      m.createdAt,
      m.status ?? null,
      int32OrNull(m.errorCode),
      m.errorMessage ?? null,
      m.replyToWamid ?? null,
      this.keys.seal(m.raw ?? null),
      m.wamid ? wamidTombstone(m.wamid) : null,
    ]);
    const rows = await tx.all<Record<string, unknown>>(
      INGEST_MESSAGES_SQL,
      [...columns, new Date()],
      'wa_report_ingest_messages_v1',
    );
    const inserted: RecordResult['inserted'] = [];
    const earlier: Record<string, unknown>[] = [];
    let marker: string | null = null;
    for (const r of rows) {
      if (r.kind === 'm')
        inserted.push({ id: Number(r.id), wamid: r.wamid as string | null, threadId: Number(r.thread_id) });
      else if (r.kind === 'e') earlier.push(r);
      else marker = r.wamid as string | null;
    }
    if (!this.keys.current) this.sawMarker(marker);
    // In the order they arrived, as if each had been applied then.
    await this.applyEarlierStatuses(
      tx,
      earlier.sort((a, b) => Number(a.id) - Number(b.id)),
    );
    inserted.sort((a, b) => a.id - b.id);
    return { inserted, duplicates: all.length - inserted.length };
  }

  /** Rows turned into one bound array per column (PostgreSQL unnest parameters). */
  private columnsOf<T>(items: T[], row: (item: T) => unknown[]): unknown[][] {
    const columns: unknown[][] = [];
    for (const item of items) {
      row(item).forEach((value, i) => (columns[i] ??= []).push(this.bind(value)));
    }
    return columns;
  }

  /** Status events stored before their message arrived, applied to it now (in the order given: arrival). */
  private async applyEarlierStatuses(tx: Querier | Db, events: Record<string, unknown>[]): Promise<void> {
    for (const e of events) {
      await this.applyStatusToMessage(tx, {
        wamid: String(e.wamid),
        status: String(e.status),
        occurredAt: toDate(e.occurred_at),
        errorCode: e.error_code === null ? null : Number(e.error_code),
        errorTitle: e.error_title as string | null,
        errorDetails: e.error_details as string | null,
      });
    }
  }

  private async insertStatuses(tx: Db | Querier, all: StatusUpdate[]): Promise<number> {
    if (all.length === 0) return 0;
    const erased = await this.tombstoned(
      tx,
      all.map((s) => wamidTombstone(s.wamid)),
    );
    const statuses = erased.size ? all.filter((s) => !erased.has(wamidTombstone(s.wamid))) : all;
    let applied = 0;
    for (const s of statuses) {
      await this.execute(
        tx,
        `INSERT INTO message_status_events (wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid, status, occurred_at) DO NOTHING`,
        [
          s.wamid,
          s.status,
          s.occurredAt,
          s.recipientId ?? null,
          int32OrNull(s.errorCode),
          s.errorTitle ?? null,
          s.errorDetails ?? null,
          this.keys.seal(s.raw ?? null),
          new Date(),
        ],
      );
      applied += await this.applyStatusToMessage(tx, s);
    }
    return applied;
  }

  /**
   * PostgreSQL: the batch's statuses in one statement (see INGEST_STATUSES_SQL). Each message ends
   * as the one-by-one updates would leave it: the highest-ranked status wins, the first of equals.
   * Returns the number of messages whose status moved forward.
   */
  private async insertStatusesPostgres(tx: Querier, statuses: StatusUpdate[]): Promise<number> {
    const columns = this.columnsOf(statuses, (s) => {
      const failed = s.status === 'failed';
      return [
        s.wamid,
        s.status,
        s.occurredAt,
        s.recipientId ?? null,
        int32OrNull(s.errorCode),
        s.errorTitle ?? null,
        s.errorDetails ?? null,
        this.keys.seal(s.raw ?? null),
        wamidTombstone(s.wamid),
        statusRank(s.status),
        failed ? int32OrNull(s.errorCode) : null,
        failed ? formatStatusError(s) : null,
      ];
    });
    const [r] = await tx.all<{ applied: unknown; marker: string | null }>(
      INGEST_STATUSES_SQL,
      [...columns, new Date()],
      'wa_report_ingest_statuses_v1',
    );
    if (!this.keys.current) this.sawMarker(r?.marker ?? null);
    return Number(r?.applied ?? 0);
  }

  /** Moves the message's status forward when `s` ranks higher; returns 1 when it did. */
  private async applyStatusToMessage(tx: Db | Querier, s: StatusUpdate): Promise<number> {
    const rank = statusRank(s.status);
    if (rank === 0) return 0; // unknown statuses are kept as events only
    const failed = s.status === 'failed';
    const errorMessage = failed ? formatStatusError(s) : null;
    return this.execute(
      tx,
      `UPDATE messages SET status = ?, status_at = ?, error_code = ?, error_message = ? WHERE wamid = ? AND ${RANK_SQL} < ?`,
      [s.status, s.occurredAt, failed ? int32OrNull(s.errorCode) : null, errorMessage, s.wamid, rank],
    );
  }

  private async insertRawEvents(tx: Db | Querier, all: RawEventInput[]): Promise<void> {
    if (all.length === 0) return;
    const hashOf = new Map(all.map((e) => [e, rawEventHash(e)]));
    const erased = await this.tombstoned(tx, [...hashOf.values()]);
    const events = erased.size ? all.filter((e) => !erased.has(hashOf.get(e) as string)) : all;
    const now = new Date();
    // Many rows per statement: a hostile payload with thousands of parts must not cost thousands
    // of round trips (SQLite's driver blocks the event loop meanwhile).
    for (let i = 0; i < events.length; i += 200) {
      const chunk = events.slice(i, i + 200);
      const params: unknown[] = [];
      for (const e of chunk) {
        const hash = hashOf.get(e) as string;
        params.push(e.kind, hash, e.phoneNumberId ?? null, e.waId ?? null, this.keys.seal(e.payload), now);
      }
      await this.execute(
        tx,
        `INSERT INTO raw_events (kind, content_hash, phone_number_id, wa_id, payload, received_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT (content_hash) DO NOTHING`,
        params,
      );
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  /** Conversations of a client, newest activity first, with the number of messages in the range. */
  async listConversations(
    filter: ConversationFilter,
    page: { limit?: number; cursor?: string | null } = {},
  ): Promise<ConversationPage> {
    const limit = page.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new UsageError(`limit: ${limit} is out of range; use 1 to 10000.`);
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const { from, where, params } = conversationQuery(filter);
    return this.guard(async () => {
      const totalRows = await this.read<{ n: unknown }>(
        `SELECT COUNT(*) AS n FROM (SELECT t.id ${from} WHERE ${where.join(' AND ')} GROUP BY t.id) x`,
        params,
      );
      const rows = await this.conversationRows(filter, after, limit + 1);
      const conversations = rows.slice(0, limit);
      const last = conversations.at(-1);
      return {
        total: Number(totalRows[0]?.n ?? 0),
        conversations,
        nextCursor:
          rows.length > limit && last ? encodeCursor({ t: last.lastMessageAt.getTime(), id: last.threadId }) : null,
      };
    });
  }

  /**
   * Every conversation of the filter, newest activity first, in one query: for summaries, which
   * need them all (each page of listConversations counts the client's messages again).
   */
  async allConversations(filter: ConversationFilter): Promise<ConversationSummary[]> {
    return this.guard(() => this.conversationRows(filter, null, null));
  }

  private async conversationRows(
    filter: ConversationFilter,
    after: { t: number; id: number } | null,
    limit: number | null,
  ): Promise<ConversationSummary[]> {
    const { from, where, params } = conversationQuery(filter);
    if (after) {
      where.push('(t.last_message_at < ? OR (t.last_message_at = ? AND t.id < ?))');
      params.push(new Date(after.t), new Date(after.t), after.id);
    }
    const rows = await this.read<Record<string, unknown>>(
      `SELECT t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at, COUNT(m.id) AS message_count
       ${from} WHERE ${where.join(' AND ')}
       GROUP BY t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at
       ORDER BY t.last_message_at DESC, t.id DESC${limit === null ? '' : ' LIMIT ?'}`,
      limit === null ? params : [...params, limit],
    );
    return rows.map((r) => ({
      threadId: Number(r.id),
      clientId: Number(r.client_id),
      waId: String(r.wa_id),
      contactName: (r.contact_name as string | null) ?? null,
      createdAt: toDate(r.created_at),
      lastMessageAt: toDate(r.last_message_at),
      messageCount: Number(r.message_count),
    }));
  }

  /**
   * One page of a conversation in time order, after the keyset `after` (the last message of the
   * previous page). Pages stay fast at any depth: (thread_id, created_at, id) is indexed.
   */
  async readMessages(
    threadId: number,
    options?: { after?: { createdAt: Date; id: number } | null; limit?: number; start?: Date; end?: Date },
  ): Promise<StoredMessage[]>;
  async readMessages<T>(
    threadId: number,
    options: { after?: { createdAt: Date; id: number } | null; limit?: number; start?: Date; end?: Date },
    columns: string,
    map: (r: Record<string, unknown>) => T,
  ): Promise<T[]>;
  async readMessages(
    threadId: number,
    options: { after?: { createdAt: Date; id: number } | null; limit?: number; start?: Date; end?: Date } = {},
    columns: string = MESSAGE_COLUMNS,
    map: (r: Record<string, unknown>) => unknown = (r) => this.message(r),
  ): Promise<unknown[]> {
    const limit = options.limit ?? 1000;
    const where = ['thread_id = ?'];
    const params: unknown[] = [threadId];
    if (options.start) {
      where.push('created_at >= ?');
      params.push(options.start);
    }
    if (options.end) {
      where.push('created_at < ?');
      params.push(options.end);
    }
    if (options.after) {
      // A row-value comparison: both databases seek the (thread_id, created_at, id) index to the
      // position instead of scanning from the start of the conversation (an OR does not).
      where.push('(created_at, id) > (?, ?)');
      params.push(options.after.createdAt, options.after.id);
    }
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT ${columns} FROM messages WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ?`,
        [...params, limit],
      ),
    );
    return rows.map(map);
  }

  /**
   * A conversation for a report, batch by batch: only the columns renderers read (a third fewer
   * values to materialise than `streamMessages`, which matters at 100,000 messages).
   */
  async *streamReportMessages(
    threadId: number,
    options: { batchSize?: number; start?: Date; end?: Date } = {},
  ): AsyncGenerator<ReportMessage[]> {
    let after: { createdAt: Date; id: number } | null = null;
    const limit = options.batchSize ?? 1000;
    for (;;) {
      const batch = await this.readMessages(
        threadId,
        { after, limit, start: options.start, end: options.end },
        REPORT_COLUMNS,
        (r) => this.reportMessage(r),
      );
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < limit) return;
      const last = batch[batch.length - 1] as ReportMessage;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  /** The whole conversation, batch by batch, never holding more than one batch. */
  async *streamMessages(
    threadId: number,
    options: { batchSize?: number; start?: Date; end?: Date } = {},
  ): AsyncGenerator<StoredMessage[]> {
    let after: { createdAt: Date; id: number } | null = null;
    const limit = options.batchSize ?? 1000;
    for (;;) {
      const batch = await this.readMessages(threadId, { after, limit, start: options.start, end: options.end });
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < limit) return;
      const last = batch[batch.length - 1] as StoredMessage;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  async getMessageByWamid(wamid: string): Promise<StoredMessage | null> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE wamid = ?`, [wamid]),
    );
    return rows[0] ? this.message(rows[0]) : null;
  }

  async statusHistory(wamid: string): Promise<StatusUpdate[]> {
    const rows = await this.guard(async () =>
      (await this.orm()).messageStatusEvent.findMany({
        where: { wamid },
        orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }],
      }),
    );
    return rows.map((r) => ({
      wamid: r.wamid,
      status: r.status,
      occurredAt: r.occurredAt,
      recipientId: r.recipientId,
      errorCode: r.errorCode,
      errorTitle: r.errorTitle,
      errorDetails: r.errorDetails,
      raw: this.keys.open(r.raw, () => `The raw object of status event ${r.id}`),
    }));
  }

  /** The seed's "conversations active in the last 24 hours" (threads.last_message_at index). */
  async activeConversations(since: Date, clientId?: number): Promise<ConversationSummary[]> {
    const where = ['t.last_message_at > ?'];
    const params: unknown[] = [since];
    if (clientId !== undefined) {
      where.push('t.client_id = ?');
      params.push(clientId);
    }
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT t.id, t.client_id, t.wa_id, t.contact_name, t.created_at, t.last_message_at FROM threads t
         WHERE ${where.join(' AND ')} ORDER BY t.last_message_at DESC`,
        params,
      ),
    );
    return rows.map((r) => ({
      threadId: Number(r.id),
      clientId: Number(r.client_id),
      waId: String(r.wa_id),
      contactName: (r.contact_name as string | null) ?? null,
      createdAt: toDate(r.created_at),
      lastMessageAt: toDate(r.last_message_at),
      messageCount: 0,
    }));
  }

  /** The seed's "failed messages", newest first (messages(status, created_at) index). */
  async failedMessages(options: { clientId?: number; limit?: number } = {}): Promise<StoredMessage[]> {
    const where = [`status = 'failed'`];
    const params: unknown[] = [];
    if (options.clientId !== undefined) {
      where.push('client_id = ?');
      params.push(options.clientId);
    }
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        [...params, options.limit ?? 1000],
      ),
    );
    return rows.map((r) => this.message(r));
  }

  /** Per-conversation message counts by role, and failures, for a client's summary (client_id, created_at index). */
  async conversationBreakdown(filter: {
    clientId: number;
    start?: Date;
    end?: Date;
  }): Promise<{ threadId: number; role: Role; failed: number; n: number }[]> {
    const where = ['client_id = ?'];
    const params: unknown[] = [filter.clientId];
    if (filter.start) {
      where.push('created_at >= ?');
      params.push(filter.start);
    }
    if (filter.end) {
      where.push('created_at < ?');
      params.push(filter.end);
    }
    const rows = await this.guard(() =>
      this.read<{ thread_id: unknown; role: string; failed: unknown; n: unknown }>(
        `SELECT thread_id, role, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, COUNT(*) AS n
         FROM messages WHERE ${where.join(' AND ')} GROUP BY thread_id, role`,
        params,
      ),
    );
    return rows.map((r) => ({
      threadId: Number(r.thread_id),
      role: r.role as Role,
      failed: Number(r.failed),
      n: Number(r.n),
    }));
  }

  /**
   * Message counts per 15-minute bucket (start in epoch ms): fine enough to regroup into days of
   * any time zone, including those with half- and quarter-hour offsets.
   */
  async messageTimeBuckets(filter: {
    clientId?: number;
    start?: Date;
    end?: Date;
  }): Promise<{ clientId: number; at: number; n: number }[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.clientId !== undefined) {
      where.push('client_id = ?');
      params.push(filter.clientId);
    }
    if (filter.start) {
      where.push('created_at >= ?');
      params.push(filter.start);
    }
    if (filter.end) {
      where.push('created_at < ?');
      params.push(filter.end);
    }
    const bucket = this.dialect === 'sqlite' ? '(created_at / 900000)' : 'floor(extract(epoch from created_at) / 900)';
    const rows = await this.guard(() =>
      this.read<{ client_id: unknown; b: unknown; n: unknown }>(
        `SELECT client_id, ${bucket} AS b, COUNT(*) AS n FROM messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY client_id, ${bucket}`,
        params,
      ),
    );
    return rows.map((r) => ({ clientId: Number(r.client_id), at: Number(r.b) * 900_000, n: Number(r.n) }));
  }

  /**
   * How long the assistant took to answer: seconds from a user's message to the assistant message
   * that follows it in the same conversation, as a histogram (one row per client and second).
   */
  async responseTimeHistogram(filter: {
    clientId?: number;
    since?: Date;
  }): Promise<{ clientId: number; seconds: number; n: number }[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.clientId !== undefined) {
      where.push('client_id = ?');
      params.push(filter.clientId);
    }
    if (filter.since) {
      where.push('created_at >= ?');
      params.push(filter.since);
    }
    const delta =
      this.dialect === 'sqlite' ? '(created_at - prev_at) / 1000' : 'floor(extract(epoch from (created_at - prev_at)))';
    const rows = await this.guard(() =>
      this.read<{ client_id: unknown; d: unknown; n: unknown }>(
        `SELECT client_id, ${delta} AS d, COUNT(*) AS n FROM (
           SELECT client_id, role, created_at,
                  LAG(role) OVER w AS prev_role, LAG(created_at) OVER w AS prev_at
           FROM messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
           WINDOW w AS (PARTITION BY thread_id ORDER BY created_at, id)
         ) x WHERE role = 'assistant' AND prev_role = 'user' GROUP BY client_id, ${delta}`,
        params,
      ),
    );
    return rows.map((r) => ({ clientId: Number(r.client_id), seconds: Number(r.d), n: Number(r.n) }));
  }

  /** Per-client counts: the seed's "messages per client", activity, failures and delivery rates. */
  async stats(options: { clientId?: number; since?: Date; now?: Date } = {}): Promise<ClientStats[]> {
    const now = options.now ?? new Date();
    const clients =
      options.clientId !== undefined
        ? [await this.getClient(options.clientId)]
        : await this.listClients({ includeInactive: true });
    const msgWhere: string[] = [];
    const msgParams: unknown[] = [];
    if (options.clientId !== undefined) {
      msgWhere.push('client_id = ?');
      msgParams.push(options.clientId);
    }
    if (options.since) {
      msgWhere.push('created_at >= ?');
      msgParams.push(options.since);
    }
    const thrWhere: string[] = [];
    const thrParams: unknown[] = [new Date(now.getTime() - 24 * 3600_000)];
    if (options.clientId !== undefined) {
      thrWhere.push('client_id = ?');
      thrParams.push(options.clientId);
    }
    if (options.since) {
      thrWhere.push('last_message_at >= ?');
      thrParams.push(options.since);
    }
    return this.guard(async () => {
      const messageRows = await this.read<{ client_id: unknown; role: string; status: string | null; n: unknown }>(
        `SELECT client_id, role, status, COUNT(*) AS n FROM messages ${msgWhere.length ? `WHERE ${msgWhere.join(' AND ')}` : ''} GROUP BY client_id, role, status`,
        msgParams,
      );
      const threadRows = await this.read<{ client_id: unknown; n: unknown; active: unknown }>(
        `SELECT client_id, COUNT(*) AS n, SUM(CASE WHEN last_message_at > ? THEN 1 ELSE 0 END) AS active FROM threads
         ${thrWhere.length ? `WHERE ${thrWhere.join(' AND ')}` : ''} GROUP BY client_id`,
        thrParams,
      );
      return clients.map((c) => {
        const byRole = { user: 0, assistant: 0, agent: 0 } as Record<Role, number>;
        const outbound: Record<string, number> = {};
        let failed = 0;
        for (const r of messageRows.filter((r) => Number(r.client_id) === c.id)) {
          const n = Number(r.n);
          if (r.role in byRole) byRole[r.role as Role] += n;
          if (r.status === 'failed') failed += n;
          if (r.role !== 'user') outbound[r.status ?? 'none'] = (outbound[r.status ?? 'none'] ?? 0) + n;
        }
        const t = threadRows.find((r) => Number(r.client_id) === c.id);
        const withStatus = Object.entries(outbound)
          .filter(([s]) => s !== 'none')
          .reduce((a, [, n]) => a + n, 0);
        const atLeast = (rank: number) =>
          Object.entries(outbound)
            .filter(([s]) => statusRank(s) >= rank)
            .reduce((a, [, n]) => a + n, 0);
        return {
          clientId: c.id,
          clientName: c.name,
          conversations: Number(t?.n ?? 0),
          activeLast24h: Number(t?.active ?? 0),
          messages: byRole.user + byRole.assistant + byRole.agent,
          messagesByRole: byRole,
          outboundByStatus: outbound,
          failed,
          deliveryRate: withStatus ? atLeast(statusRank('delivered')) / withStatus : null,
          readRate: withStatus ? atLeast(statusRank('read')) / withStatus : null,
        };
      });
    });
  }

  // ------------------------------------------------------------------------------------------
  // Privacy

  // ------------------------------------------------------------------------------------------
  // Replies: the assistant's answers are tracked in the messages table itself, so a restart knows
  // what was answered. An answer covers every inbound message up to the one named by its
  // reply_to_wamid; an answer being sent has status 'sending' until the Graph API returns its wamid.

  async ping(): Promise<void> {
    await this.guard(() => this.read('SELECT 1', []));
  }

  async getThread(threadId: number): Promise<ThreadRecord | null> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(`SELECT ${THREAD_COLUMNS} FROM threads WHERE id = ?`, [threadId]),
    );
    return rows[0] ? toThreadRecord(rows[0]) : null;
  }

  /** Inbound messages of a thread not covered by any answer yet (oldest first), received since `since`. */
  async pendingInbound(threadId: number, since: Date): Promise<StoredMessage[]> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m
         WHERE m.thread_id = ? AND m.role = 'user' AND m.created_at >= ?
           AND m.type IN (${ANSWERABLE_TYPES.map(() => '?').join(', ')})
           AND (m.error_message IS NULL OR m.error_message NOT LIKE '${NOT_ANSWERED_PREFIX}%')
           AND m.id > COALESCE((SELECT MAX(u.id) FROM messages a JOIN messages u ON u.wamid = a.reply_to_wamid
                                WHERE a.thread_id = ? AND a.role = 'assistant'), 0)
         ORDER BY m.id`,
        [threadId, since, ...ANSWERABLE_TYPES, threadId],
      ),
    );
    return rows.map((r) => this.message(r));
  }

  /**
   * The model's context: the last `limit` messages since the thread's context reset, oldest first.
   * Answers that never reached the user (failed, or lost in a crash) are left out.
   */
  async contextMessages(threadId: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages
         WHERE thread_id = ?
           -- WhatsApp timestamps have whole seconds: a message written right after a clear may carry
           -- an earlier time, so what arrived after the clear counts too.
           AND (created_at >= COALESCE((SELECT context_reset_at FROM threads WHERE id = ?), ?)
                OR inserted_at > COALESCE((SELECT context_reset_at FROM threads WHERE id = ?), ?))
           AND NOT (role = 'assistant' AND (status IS NULL OR status IN ('failed', 'sending')))
           AND type <> 'reaction'
         ORDER BY ${this.secondOf('created_at')} DESC, id DESC LIMIT ?`,
        [threadId, threadId, new Date(0), threadId, new Date(0), limit],
      ),
    );
    return rows.map((r) => this.message(r)).reverse();
  }

  /** The last `limit` messages of a conversation, oldest first (the seed's conversation history). */
  async recentMessages(threadId: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
        [threadId, limit],
      ),
    );
    return rows.map((r) => this.message(r)).reverse();
  }

  /** Conversations of one WhatsApp user, with any client or one. */
  async threadsOfContact(waId: string, clientId?: number): Promise<ThreadRecord[]> {
    const rows = await this.guard(() =>
      clientId === undefined
        ? this.read<Record<string, unknown>>(`SELECT ${THREAD_COLUMNS} FROM threads WHERE wa_id = ? ORDER BY id`, [
            waId,
          ])
        : this.read<Record<string, unknown>>(
            `SELECT ${THREAD_COLUMNS} FROM threads WHERE wa_id = ? AND client_id = ? ORDER BY id`,
            [waId, clientId],
          ),
    );
    return rows.map(toThreadRecord);
  }

  /** Records an answer about to be sent ('sending'), before the Graph API is called. */
  async beginReply(reply: {
    threadId: number;
    content: string;
    replyToWamid: string;
    createdAt?: Date;
  }): Promise<number> {
    return this.guard(async () => {
      const t = await this.getThread(reply.threadId);
      if (!t) throw new NotFoundError(`No conversation with id ${reply.threadId}.`);
      const client = await this.getClient(t.clientId);
      const at = reply.createdAt ?? new Date();
      this.assertKeyForWrites();
      // One transaction: the answer row (which covers the user's messages) never exists without
      // the rest, so a failure here leaves the messages pending and they are answered on retry.
      const id = await this.reader.transaction(async (tx) => {
        await this.noteEncryption(tx);
        const rows = await this.query<{ id: unknown }>(
          tx,
          `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at, status, status_at, reply_to_wamid, inserted_at)
           VALUES (?, ?, 'assistant', 'text', ?, NULL, ?, ?, ?, 'sending', ?, ?, ?) RETURNING id`,
          [
            t.id,
            t.clientId,
            this.keys.seal(reply.content),
            t.waId,
            client.phoneNumberId,
            at,
            at,
            reply.replyToWamid,
            at,
          ],
        );
        await this.execute(
          tx,
          `UPDATE threads SET last_message_at = ${this.dialect === 'sqlite' ? 'MAX' : 'GREATEST'}(last_message_at, ?) WHERE id = ?`,
          [at, t.id],
        );
        return Number(rows[0]?.id);
      });
      this.afterNoteEncryption();
      return id;
    });
  }

  /** The Graph API accepted the answer: store its wamid, then apply statuses that raced ahead of it. */
  async completeReply(id: number, result: { wamid: string; sentAt?: Date }): Promise<void> {
    await this.guard(async () =>
      (await this.orm()).$transaction(async (tx) => {
        const at = result.sentAt ?? new Date();
        await this.execute(
          tx,
          `UPDATE messages SET wamid = ?, status = 'sent', status_at = ? WHERE id = ? AND status = 'sending'`,
          [result.wamid, at, id],
        );
        const events = await this.query<Record<string, unknown>>(
          tx,
          `SELECT wamid, status, occurred_at, error_code, error_title, error_details FROM message_status_events WHERE wamid = ?`,
          [result.wamid],
        );
        for (const e of events) {
          await this.applyStatusToMessage(tx, {
            wamid: String(e.wamid),
            status: String(e.status),
            occurredAt: toDate(e.occurred_at),
            errorCode: e.error_code === null ? null : Number(e.error_code),
            errorTitle: e.error_title as string | null,
            errorDetails: e.error_details as string | null,
          });
        }
      }),
    );
  }

  /** The answer could not be sent (or not even produced): keep it, failed, with the reason. */
  async failReply(id: number, failure: { errorCode?: number | null; errorMessage: string }): Promise<void> {
    await this.guard(() =>
      this.write(
        `UPDATE messages SET status = 'failed', status_at = ?, error_code = ?, error_message = ? WHERE id = ?`,
        [new Date(), failure.errorCode ?? null, failure.errorMessage, id],
      ),
    );
  }

  /** Inbound messages that will not be answered, with why (e.g. outside the 24-hour window). */
  async markNotAnswered(ids: number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.guard(() =>
      this.write(
        `UPDATE messages SET error_message = ? WHERE id IN (${ids.map(() => '?').join(', ')}) AND role = 'user'`,
        [`${NOT_ANSWERED_PREFIX}${reason}`, ...ids],
      ),
    );
  }

  /**
   * After a crash: answers left 'sending' may or may not have reached the user. They are marked
   * failed rather than sent again, because WhatsApp has no idempotency key (a resend could duplicate).
   */
  async abandonInFlightReplies(reason: string): Promise<number> {
    return this.guard(() =>
      this.write(
        `UPDATE messages SET status = 'failed', status_at = ?, error_message = ? WHERE role = 'assistant' AND status = 'sending'`,
        [new Date(), reason],
      ),
    );
  }

  /** Threads of assistant-enabled clients with inbound messages since `since` (candidates for answers). */
  async threadsWithRecentInbound(since: Date): Promise<{ threadId: number; clientId: number }[]> {
    const rows = await this.guard(() =>
      this.read<Record<string, unknown>>(
        `SELECT t.id, t.client_id FROM threads t JOIN clients c ON c.id = t.client_id
         WHERE c.active = ? AND c.assistant_enabled = ? AND t.last_message_at >= ? ORDER BY t.last_message_at`,
        [true, true, since],
      ),
    );
    return rows.map((r) => ({ threadId: Number(r.id), clientId: Number(r.client_id) }));
  }

  // ------------------------------------------------------------------------------------------
  // Raw SQL in one spelling for both databases: '?' placeholders; dates bound as the column format.

  /**
   * Plain SQL in one transaction ('?' placeholders, dates and booleans bound per database), for the
   * modules beside the store (privacy, archive, tokens). SQLite: on the writer connection.
   */
  async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.guard(() =>
      this.reader.transaction((q) =>
        fn({
          all: <R>(sql: string, params: unknown[] = []) => this.query<R>(q, sql, params),
          run: (sql: string, params: unknown[] = []) => this.execute(q, sql, params),
        }),
      ),
    );
  }

  /** One statement outside a transaction (autocommit). */
  async run(sql: string, params: unknown[] = []): Promise<number> {
    return this.guard(() =>
      this.reader.run(
        this.placeholders(sql),
        params.map((p) => this.bind(p)),
      ),
    );
  }

  /** A read through the driver, with the store's error descriptions. */
  async select<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.guard(() => this.read<T>(sql, params));
  }

  /** A stored message row (all of MESSAGE_COLUMNS) decoded and decrypted. */
  decodeMessage(row: Record<string, unknown>): StoredMessage {
    return this.message(row);
  }

  /** SQLite: moves the write-ahead log into the file and empties it (old page images gone). */
  async checkpoint(): Promise<boolean> {
    if (this.dialect !== 'sqlite') return true;
    // Busy while another connection reads: try a few times, then report it (the next one completes it).
    for (let attempt = 0; attempt < 10; attempt++) {
      const [r] = await this.guard(() => this.reader.all<{ busy: number }>('PRAGMA wal_checkpoint(TRUNCATE)', []));
      if (!r || Number(r.busy) === 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  /** Runs a read-only statement; for tests and diagnostics (EXPLAIN). */
  async rawQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.read<T>(sql, params);
  }

  private read<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.reader.all<T>(
      this.placeholders(sql),
      params.map((p) => this.bind(p)),
    );
  }

  private async write(sql: string, params: unknown[]): Promise<number> {
    return this.execute(await this.orm(), sql, params);
  }

  private query<T>(db: Db | Querier, sql: string, params: unknown[]): Promise<T[]> {
    if (isQuerier(db))
      return db.all<T>(
        this.placeholders(sql),
        params.map((p) => this.bind(p)),
      );
    return db.$queryRawUnsafe<T[]>(this.placeholders(sql), ...params.map((p) => this.bind(p)));
  }

  private execute(db: Db | Querier, sql: string, params: unknown[]): Promise<number> {
    if (isQuerier(db))
      return db.run(
        this.placeholders(sql),
        params.map((p) => this.bind(p)),
      );
    return db.$executeRawUnsafe(this.placeholders(sql), ...params.map((p) => this.bind(p)));
  }

  /**
   * A time truncated to the second. WhatsApp stamps messages in whole seconds while answers carry
   * milliseconds: within one second, the order of arrival (id) is the true order.
   */
  private secondOf(column: string): string {
    return this.dialect === 'sqlite' ? `(${column} / 1000)` : `date_trunc('second', ${column})`;
  }

  private placeholders(sql: string): string {
    if (this.dialect === 'sqlite') return sql;
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  private bind(value: unknown): unknown {
    if (value instanceof Date) return this.dialect === 'sqlite' ? value.getTime() : value;
    if (typeof value === 'boolean' && this.dialect === 'sqlite') return value ? 1 : 0;
    // PostgreSQL text cannot hold NUL: one such character would fail a whole group commit.
    if (typeof value === 'string' && this.dialect === 'postgres' && value.includes('\u0000'))
      return value.replace(/\u0000/g, '\uFFFD');
    return value;
  }

  /** Turns driver failures into errors that say what to do. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof UsageError || error instanceof NotFoundError || error instanceof DatabaseError) throw error;
      const cause = (error as { cause?: unknown }).cause ?? error;
      const described =
        this.target.kind === 'sqlite'
          ? describeSqliteError(this.target, findSqliteCode(error) ?? cause)
          : describePostgresError(this.target, findPgCause(error));
      if (described) throw described;
      throw error;
    }
  }
}

function findSqliteCode(error: unknown): { code: string } | null {
  const text = `${(error as Error)?.message ?? ''} ${JSON.stringify((error as { meta?: unknown })?.meta ?? '')}`;
  const m = /SQLITE_[A-Z_]+/.exec(text);
  if (m) return { code: m[0] };
  if (/readonly|read-only/i.test(text)) return { code: 'SQLITE_READONLY' };
  if (/database or disk is full/i.test(text)) return { code: 'SQLITE_FULL' };
  return null;
}

function findPgCause(error: unknown): unknown {
  const e = error as {
    cause?: unknown;
    code?: string;
    message?: string;
    meta?: { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } };
  };
  const code = (e.cause as { code?: string } | undefined)?.code ?? e.meta?.driverAdapterError?.cause?.originalCode;
  if (code) return { code, message: e.message };
  if (/ECONNREFUSED|timeout|terminated|DatabaseNotReachable/i.test(e.message ?? ''))
    return { code: 'ECONNREFUSED', message: e.message };
  return error;
}

/** FROM and WHERE of a client's conversations with their messages in the range (join conditions first in `params`). */
function conversationQuery(filter: ConversationFilter): { from: string; where: string[]; params: unknown[] } {
  const ranged = filter.start !== undefined || filter.end !== undefined;
  const join: string[] = [];
  const params: unknown[] = [];
  if (filter.start) {
    join.push('m.created_at >= ?');
    params.push(filter.start);
  }
  if (filter.end) {
    join.push('m.created_at < ?');
    params.push(filter.end);
  }
  const where = ['t.client_id = ?'];
  params.push(filter.clientId);
  if (filter.waId) {
    where.push('t.wa_id = ?');
    params.push(filter.waId);
  }
  return {
    from: `FROM threads t ${ranged ? 'JOIN' : 'LEFT JOIN'} messages m ON m.thread_id = t.id${join.map((j) => ` AND ${j}`).join('')}`,
    where,
    params,
  };
}

function checkRoles(messages: NewMessage[]): void {
  for (const m of messages) {
    if (!ROLES.includes(m.role)) throw new UsageError(`role: "${m.role}" is not one of ${ROLES.join(', ')}`);
  }
}

/**
 * PostgreSQL ingest of a batch of messages, in one statement ($1–$15: one array per column, $16 the
 * insertion time). Messages whose wamid was erased (tombstones) are left out, so a redelivery
 * neither stores them nor re-creates their conversation. Conversations are upserted in a fixed
 * order (client, user), so two writers lock them in the same order and cannot deadlock; a message
 * is inserted once per wamid. It returns the inserted messages (kind 'm'), status events that
 * arrived before their message ('e'), and the encryption marker ('k', in wamid).
 */
const INGEST_MESSAGES_SQL = `WITH v AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::timestamptz[], $10::text[], $11::int[], $12::text[], $13::text[], $14::text[], $15::text[])
    WITH ORDINALITY AS v(client_id, wa_id, contact_name, role, type, content, wamid, phone_number_id,
                         created_at, status, error_code, error_message, reply_to_wamid, raw, tombstone, ord)
), live AS (
  SELECT * FROM v WHERE v.tombstone IS NULL OR NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.hash = v.tombstone)
), th AS (
  INSERT INTO threads (client_id, wa_id, contact_name, created_at, last_message_at)
  SELECT client_id, wa_id, (array_agg(contact_name ORDER BY ord DESC) FILTER (WHERE contact_name IS NOT NULL))[1], min(created_at), max(created_at)
  FROM live GROUP BY client_id, wa_id ORDER BY client_id, wa_id
  ON CONFLICT (client_id, wa_id) DO UPDATE SET
    contact_name = COALESCE(excluded.contact_name, threads.contact_name),
    created_at = LEAST(threads.created_at, excluded.created_at),
    last_message_at = GREATEST(threads.last_message_at, excluded.last_message_at)
  RETURNING id, client_id, wa_id
), ins AS (
  INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at, status, status_at, error_code, error_message, reply_to_wamid, raw, inserted_at)
  SELECT th.id, live.client_id, live.role, live.type, live.content, live.wamid, live.wa_id, live.phone_number_id, live.created_at,
         live.status, CASE WHEN NULLIF(live.status, '') IS NULL THEN NULL ELSE live.created_at END, live.error_code, live.error_message, live.reply_to_wamid, live.raw, $16
  FROM live JOIN th ON th.client_id = live.client_id AND th.wa_id = live.wa_id
  ORDER BY live.ord
  ON CONFLICT (wamid) DO NOTHING
  RETURNING id, wamid, thread_id
)
SELECT 'm' AS kind, id, wamid, thread_id, NULL::text AS status, NULL::timestamptz AS occurred_at, NULL::int AS error_code, NULL::text AS error_title, NULL::text AS error_details FROM ins
UNION ALL
SELECT 'e', e.id, e.wamid, NULL, e.status, e.occurred_at, e.error_code, e.error_title, e.error_details FROM message_status_events e WHERE e.wamid IN (SELECT wamid FROM ins)
UNION ALL
SELECT 'k', NULL, (SELECT value FROM settings WHERE key = 'encryption_key_id'), NULL, NULL, NULL, NULL, NULL, NULL`;

/**
 * PostgreSQL ingest of a batch of statuses, in one statement ($1–$12: one array per column, $13 the
 * reception time). Every event is kept once (wamid, status, time); statuses of erased messages are
 * left out. Each message moves forward only, to the highest-ranked status of the batch (the first
 * of equals), as applying them one by one would. Returns how many messages moved, and the
 * encryption marker.
 */
const INGEST_STATUSES_SQL = `WITH v AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::int[], $11::int[], $12::text[])
    WITH ORDINALITY AS v(wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw,
                         tombstone, rank, message_error_code, message_error, ord)
), live AS (
  SELECT * FROM v WHERE NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.hash = v.tombstone)
), events AS (
  INSERT INTO message_status_events (wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw, received_at)
  SELECT wamid, status, occurred_at, recipient_id, error_code, error_title, error_details, raw, $13 FROM live ORDER BY ord
  ON CONFLICT (wamid, status, occurred_at) DO NOTHING
), best AS (
  SELECT DISTINCT ON (wamid) * FROM live WHERE rank > 0 ORDER BY wamid, rank DESC, ord
), moved AS (
  UPDATE messages m SET status = best.status, status_at = best.occurred_at, error_code = best.message_error_code, error_message = best.message_error
  FROM best WHERE m.wamid = best.wamid AND ${rankSql('m.status')} < best.rank
  RETURNING m.id
)
SELECT (SELECT count(*) FROM moved) AS applied, (SELECT value FROM settings WHERE key = 'encryption_key_id') AS marker`;

/** The tombstone of an erased message (its wamid, hashed: a wamid encodes the phone number). */
export function wamidTombstone(wamid: string): string {
  return createHash('sha256').update('wamid:').update(wamid).digest('hex');
}

/** A raw event's identity (content_hash): also its tombstone once erased. */
export function rawEventHash(e: Pick<RawEventInput, 'kind' | 'payload'>): string {
  return createHash('sha256').update(e.kind).update('\u0000').update(e.payload).digest('hex');
}

export function formatStatusError(s: Pick<StatusUpdate, 'errorCode' | 'errorTitle' | 'errorDetails'>): string {
  const head = [s.errorCode ?? null, s.errorTitle ?? null].filter((x) => x !== null).join(' ');
  return [head, s.errorDetails].filter(Boolean).join(': ') || 'failed (no error details)';
}

/** Error codes are 32-bit integers in the schema; anything else stays only in the raw object. */
function int32OrNull(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isInteger(n) && Math.abs(n) <= 2_147_483_647 ? n : null;
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string') return /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  throw new DatabaseError(`Unexpected date value in the database: ${String(value)}`);
}

function toClientRecord(r: Record<string, unknown>): ClientRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    phoneNumber: String(r.phone_number),
    phoneNumberId: String(r.phone_number_id),
    wabaId: (r.waba_id as string | null) ?? null,
    active: Boolean(r.active),
    assistantEnabled: Boolean(r.assistant_enabled),
    assistantModel: (r.assistant_model as string | null) ?? null,
    systemPrompt: (r.system_prompt as string | null) ?? null,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

function toThreadRecord(r: Record<string, unknown>): ThreadRecord {
  return {
    id: Number(r.id),
    clientId: Number(r.client_id),
    waId: String(r.wa_id),
    contactName: (r.contact_name as string | null) ?? null,
    createdAt: toDate(r.created_at),
    lastMessageAt: toDate(r.last_message_at),
    contextResetAt: r.context_reset_at === null || r.context_reset_at === undefined ? null : toDate(r.context_reset_at),
  };
}

function toReportMessage(r: Record<string, unknown>): ReportMessage {
  return {
    id: Number(r.id),
    role: r.role as Role,
    type: String(r.type),
    content: String(r.content),
    wamid: (r.wamid as string | null) ?? null,
    createdAt: toDate(r.created_at),
    status: (r.status as string | null) ?? null,
    statusAt: r.status_at === null || r.status_at === undefined ? null : toDate(r.status_at),
    errorCode: r.error_code === null || r.error_code === undefined ? null : Number(r.error_code),
    errorMessage: (r.error_message as string | null) ?? null,
    replyToWamid: (r.reply_to_wamid as string | null) ?? null,
  };
}

function toStoredMessage(r: Record<string, unknown>): StoredMessage {
  return {
    ...toReportMessage(r),
    threadId: Number(r.thread_id),
    clientId: Number(r.client_id),
    waId: String(r.wa_id),
    phoneNumberId: String(r.phone_number_id),
    raw: (r.raw as string | null) ?? null,
  };
}

function encodeCursor(c: { t: number; id: number }): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string): { t: number; id: number } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t: unknown; id: unknown };
    if (typeof c.t === 'number' && Number.isInteger(c.id)) return { t: c.t, id: c.id as number };
  } catch {}
  throw new UsageError('cursor: not a cursor returned by this API; start again without it.');
}
