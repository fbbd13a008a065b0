// The front of the data layer: opens a database (creating and migrating it on first use) and hands
// out its repositories, one per aggregate. Every caller outside db/ goes through these; none writes
// SQL of its own.
//
//   store.clients      business phone numbers (read by SQL, written by Prisma: prisma.ts)
//   store.threads      conversations with a user, and lists of them
//   store.threadSearch the dashboard's list of them: filters, sorts, keyset pages
//   store.messages     pages and streams of messages, status histories, failures
//   store.statistics   counts, time buckets and response times behind summaries and stats
//   store.rollups      message counts per client and quarter hour (kept by triggers), rebuilt and checked
//   store.ingest       the group-commit writer of webhooks
//   store.replies      the assistant's answers, from 'sending' to sent or failed
//   store.pendingReplies conversations to answer, claimed per daemon with leases
//   store.roles        jobs one daemon holds at a time (SQLite: answering)
//   store.tokens       API tokens (hashes only)
//   store.contacts     a user's data rights: summary, erase, what an export reads
//   store.archives     archive reads, checked deletions, restores
//   store.sealedContent  content columns for encryption and rotation
//   store.conversations  conversations inside threads: listed, swept when idle, closed
//   store.outbox       events written with the changes that cause them
//   store.webhooks     event webhook endpoints
//   store.deliveries   their deliveries: claims, attempts, retries, the delivery log
//   store.sentiment    the backfill of message scores, conversations' sentiment recounted
//   store.csat         satisfaction surveys: claimed, sent, not sent (answers: ingest)
import { KeyRing } from '../domain/key-ring.js';
import { prepareDatabase, type MigrateMode } from './connect.js';
import type { Dialect } from './dialect.js';
import { EncryptionMarker } from './encryption-marker.js';
import { prismaLoader } from './prisma.js';
import { ArchiveRepository } from './repositories/archives.js';
import { ClientsRepository } from './repositories/clients.js';
import { ContactsRepository } from './repositories/contacts.js';
import { ConversationsRepository, type ConversationDefaults } from './repositories/conversations.js';
import { IngestWriter } from './repositories/ingest.js';
import { MessagesRepository } from './repositories/messages.js';
import { CsatRepository } from './repositories/csat.js';
import { SentimentRepository } from './repositories/sentiment.js';
import { Outbox } from './repositories/outbox.js';
import { RepliesRepository } from './repositories/replies.js';
import { PendingRepliesRepository } from './repositories/pending-replies.js';
import { DaemonRolesRepository } from './repositories/daemon-roles.js';
import { SealedContentRepository } from './repositories/sealed-content.js';
import { RollupsRepository } from './repositories/rollups.js';
import { StatisticsRepository } from './repositories/statistics.js';
import { ThreadsRepository } from './repositories/threads.js';
import { ThreadSearchRepository } from './repositories/thread-search.js';
import { TokensRepository } from './repositories/tokens.js';
import { WebhooksRepository } from './repositories/webhooks.js';
import { DeliveriesRepository } from './repositories/webhook-deliveries.js';
import { DEFAULT_IDLE_MS } from '../domain/conversations.js';
import { DEFAULT_NEGATIVE_ALERT } from '../domain/sentiment/index.js';
import { openDatabase, type Database } from './sql.js';
import type { DbTarget } from './target.js';

export type { ConversationFilter, ConversationPage } from './repositories/threads.js';
export type { BatchResult, RecordResult, WriteBatch } from './repositories/ingest.js';

export interface OpenStoreOptions {
  /** 'apply' (default) creates and migrates; 'verify' refuses a database that needs migrating. */
  migrate?: MigrateMode;
  /** Keys for content at rest (default: none, plaintext). */
  keys?: KeyRing;
  /** The idle period of clients without their own (WA_REPORT_CONVERSATION_IDLE; default 1 h). */
  conversationIdleMs?: number;
  /** WA_REPORT_SENTIMENT_ALERT (default −0.5; null: no sentiment.negative events). */
  sentimentAlert?: number | null;
  /** WA_REPORT_SENTIMENT: 'lexicon' (default) scores user messages as they are stored; 'off' does not. */
  sentiment?: 'lexicon' | 'off';
}

export async function openStore(target: DbTarget, options: OpenStoreOptions = {}): Promise<Store> {
  await prepareDatabase(target, options.migrate ?? 'apply');
  const db = await openDatabase(target, options.keys ?? KeyRing.none());
  try {
    const marker = new EncryptionMarker(db.keys);
    await marker.load(db);
    const store = new Store(
      db,
      marker,
      {
        idleMs: options.conversationIdleMs ?? DEFAULT_IDLE_MS,
        negativeAlert: options.sentimentAlert === undefined ? DEFAULT_NEGATIVE_ALERT : options.sentimentAlert,
      },
      { sentiment: options.sentiment !== 'off' },
    );
    // Conversations of what was stored before they existed: derived once, by the first to open it.
    if (options.migrate !== 'verify') await store.conversations.backfill();
    return store;
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

export class Store {
  readonly clients: ClientsRepository;
  readonly threads: ThreadsRepository;
  readonly threadSearch: ThreadSearchRepository;
  readonly messages: MessagesRepository;
  readonly statistics: StatisticsRepository;
  readonly rollups: RollupsRepository;
  readonly ingest: IngestWriter;
  readonly replies: RepliesRepository;
  readonly pendingReplies: PendingRepliesRepository;
  readonly roles: DaemonRolesRepository;
  readonly tokens: TokensRepository;
  readonly contacts: ContactsRepository;
  readonly archives: ArchiveRepository;
  readonly sealedContent: SealedContentRepository;
  readonly conversations: ConversationsRepository;
  readonly outbox: Outbox;
  readonly webhooks: WebhooksRepository;
  readonly deliveries: DeliveriesRepository;
  readonly sentiment: SentimentRepository;
  readonly csat: CsatRepository;
  private readonly prisma: ReturnType<typeof prismaLoader>;

  constructor(
    private readonly db: Database,
    private readonly marker: EncryptionMarker,
    readonly conversationDefaults: ConversationDefaults,
    writes: { sentiment: boolean } = { sentiment: true },
  ) {
    this.prisma = prismaLoader(db);
    this.outbox = new Outbox();
    this.deliveries = new DeliveriesRepository(db, this.outbox);
    this.webhooks = new WebhooksRepository(db, this.deliveries, marker);
    this.conversations = new ConversationsRepository(db, conversationDefaults, this.outbox);
    this.clients = new ClientsRepository(db, () => this.prisma.get(), db.target);
    this.threads = new ThreadsRepository(db);
    // Its unfiltered count is the active users figure (the statistics are built below).
    this.threadSearch = new ThreadSearchRepository(db, async (filter) => {
      let n = 0;
      for (const users of (await this.statistics.activeUsers(filter)).values()) n += users;
      return n;
    });
    this.messages = new MessagesRepository(db);
    this.rollups = new RollupsRepository(db);
    this.statistics = new StatisticsRepository(db, this.clients, this.rollups);
    this.pendingReplies = new PendingRepliesRepository(db);
    this.roles = new DaemonRolesRepository(db);
    this.ingest = new IngestWriter(db, marker, this.outbox, conversationDefaults, this.pendingReplies, writes);
    this.replies = new RepliesRepository(
      db,
      marker,
      this.clients,
      this.outbox,
      conversationDefaults,
      this.pendingReplies,
    );
    this.tokens = new TokensRepository(db);
    this.contacts = new ContactsRepository(db, this.outbox);
    this.archives = new ArchiveRepository(db);
    this.sealedContent = new SealedContentRepository(db);
    this.sentiment = new SentimentRepository(db);
    this.csat = new CsatRepository(db);
  }

  get dialect(): Dialect {
    return this.db.dialect;
  }

  get target(): DbTarget {
    return this.db.target;
  }

  get keys(): KeyRing {
    return this.db.keys;
  }

  /** The key id this database's content was last encrypted with (null: it never was). */
  get encryptionKeyId(): string | null {
    return this.marker.keyId;
  }

  /** Throws unless this process may write content here (see EncryptionMarker). */
  assertKeyForWrites(): void {
    this.marker.assertKeyForWrites();
  }

  /** Marks the database as encrypted with the current key, now (db encrypt, keys rotate, restores). */
  markEncrypted(): Promise<void> {
    return this.marker.mark(this.db);
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1');
  }

  /** SQLite: moves the write-ahead log into the file and empties it (old page images gone). */
  checkpoint(): Promise<boolean> {
    return this.db.checkpoint();
  }

  async close(): Promise<void> {
    await this.prisma.close();
    await this.db.close();
  }
}
