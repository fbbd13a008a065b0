// Data stored before conversations existed: the migration marks it, the first open derives its
// conversations with the same rules live tracking uses, so reports on old data equal reports on new.
// Checked against the same messages stored through the product (ingest and the assistant's answers).
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPostgres, openSqliteFile } from '../../src/db/connect.js';
import { migratePostgres, migrateSqlite, readShippedMigrations } from '../../src/db/migrator.js';
import { openStore, type Store } from '../../src/db/store.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { sql } from '../helpers/store.js';

const BEFORE = '20261201172315_conversations_events';

interface Old {
  waId: string;
  role: 'user' | 'assistant' | 'agent';
  minute: number;
  /** An assistant answer that never got a wamid (failed before Graph accepted it). */
  unsent?: boolean;
}

const T0 = Date.UTC(2025, 5, 1, 9, 0, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000);

// Two users of a client with the assistant on; the default idle period (1 h) applies.
const HISTORY: Old[] = [
  { waId: '34600000001', role: 'user', minute: 0 },
  { waId: '34600000001', role: 'assistant', minute: 1 },
  { waId: '34600000001', role: 'user', minute: 30 },
  { waId: '34600000001', role: 'assistant', minute: 31, unsent: true },
  { waId: '34600000001', role: 'agent', minute: 32 }, // a person took over
  { waId: '34600000001', role: 'user', minute: 200 }, // a new conversation (idle > 1 h)
  { waId: '34600000001', role: 'assistant', minute: 202 },
  { waId: '34600000002', role: 'user', minute: 10 },
  { waId: '34600000002', role: 'user', minute: 12 },
  { waId: '34600000002', role: 'assistant', minute: 13 },
];

async function raw(db: TestDatabase, text: string, params: unknown[] = []): Promise<void> {
  if (db.target.kind === 'sqlite') {
    const conn = new Database(db.target.path);
    try {
      conn.prepare(text).run(...params.map((p) => (p instanceof Date ? p.getTime() : p)));
    } finally {
      conn.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    let n = 0;
    await client.query(
      text.replace(/\?/g, () => `$${++n}`),
      params,
    );
  } finally {
    await client.end();
  }
}

/** A database migrated up to just before conversations, holding HISTORY as the old version wrote it. */
async function oldDatabase(db: TestDatabase): Promise<void> {
  const dialect = db.target.kind;
  const shipped = readShippedMigrations(dialect).filter((m) => m.name < BEFORE);
  if (db.target.kind === 'sqlite') {
    const conn = openSqliteFile(db.target, true);
    try {
      await migrateSqlite(conn, db.target.path, { shipped });
    } finally {
      conn.close();
    }
  } else {
    const client = await connectPostgres(db.target);
    try {
      await migratePostgres(client, db.target.display, { shipped });
    } finally {
      await client.end();
    }
  }
  const now = new Date();
  await raw(
    db,
    `INSERT INTO clients (id, name, phone_number, phone_number_id, active, assistant_enabled, created_at, updated_at)
     VALUES (1, 'Released', '+15550783881', '106540352242922', ?, ?, ?, ?)`,
    [dialect === 'sqlite' ? 1 : true, dialect === 'sqlite' ? 1 : true, now, now],
  );
  const users = [...new Set(HISTORY.map((h) => h.waId))];
  for (const [i, waId] of users.entries()) {
    const mine = HISTORY.filter((h) => h.waId === waId);
    await raw(db, `INSERT INTO threads (id, client_id, wa_id, created_at, last_message_at) VALUES (?, 1, ?, ?, ?)`, [
      i + 1,
      waId,
      at(mine[0]!.minute),
      at(mine.at(-1)!.minute),
    ]);
    let lastUser: string | null = null;
    for (const h of mine) {
      const wamid = h.unsent ? null : `wamid.old.${waId}.${h.minute}`;
      if (h.role === 'user') lastUser = wamid;
      await raw(
        db,
        `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at,
                               status, reply_to_wamid, inserted_at)
         VALUES (?, 1, ?, 'text', ?, ?, ?, '106540352242922', ?, ?, ?, ?)`,
        [
          i + 1,
          h.role,
          `m${h.minute}`,
          wamid,
          waId,
          at(h.minute),
          h.role === 'user' ? null : h.unsent ? 'failed' : 'read',
          h.role === 'assistant' ? lastUser : null,
          at(h.minute),
        ],
      );
    }
  }
  if (dialect === 'postgres') {
    for (const table of ['clients', 'threads']) {
      await raw(db, `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`);
    }
  }
}

/** The same history stored by the product as it runs today. */
async function liveStore(store: Store): Promise<void> {
  await store.clients.create({
    name: 'Released',
    phoneNumber: '+15550783881',
    phoneNumberId: '106540352242922',
    assistantEnabled: true,
  });
  for (const h of [...HISTORY].sort((a, b) => a.minute - b.minute)) {
    if (h.role === 'assistant') {
      const thread = (await store.threads.find(1, h.waId))!;
      const id = await store.replies.begin({
        threadId: thread.id,
        content: `m${h.minute}`,
        answersWamid: 'x',
        replyToWamid: null,
        createdAt: at(h.minute),
      });
      if (h.unsent) await store.replies.fail(id, { errorMessage: 'Graph unreachable', service: 'whatsapp' });
      else await store.replies.complete(id, { wamid: `wamid.live.${h.waId}.${h.minute}`, sentAt: at(h.minute) });
      continue;
    }
    await store.ingest.write({
      messages: [
        {
          clientId: 1,
          waId: h.waId,
          role: h.role,
          type: 'text',
          content: `m${h.minute}`,
          wamid: `wamid.live.${h.waId}.${h.minute}`,
          phoneNumberId: '106540352242922',
          createdAt: at(h.minute),
        },
      ],
    });
  }
  await store.conversations.sweep(new Date());
}

const conversations = (store: Store) =>
  sql(store).all(
    `SELECT t.wa_id, c.started_at, c.last_message_at, c.ended_at, c.end_reason, c.user_messages,
            c.assistant_messages, c.agent_messages, c.first_user_at, c.first_response_at, c.handoff_at
     FROM conversations c JOIN threads t ON t.id = c.thread_id ORDER BY t.wa_id, c.started_at`,
  );

describe.each(databaseKinds)('conversations of data stored before them, on $name', (kind) => {
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.drop();
  });

  it('are derived once at the first open, exactly as live tracking makes them', async () => {
    const old = await kind.create();
    const live = await kind.create();
    dbs.push(old, live);
    await oldDatabase(old);
    const upgraded = await openStore(old.target);
    const fresh = await openStore(live.target);
    try {
      await liveStore(fresh);
      const derived = await conversations(upgraded);
      expect(derived).toHaveLength(3);
      expect(derived).toEqual(await conversations(fresh));
      expect(derived[0]).toMatchObject({
        wa_id: '34600000001',
        end_reason: 'idle',
        user_messages: 2,
        agent_messages: 1,
      });
      expect(derived[0]!.assistant_messages).toBe(1); // the unsent answer does not count
      expect(derived[0]!.handoff_at).not.toBeNull();
      // The summaries' figures agree too.
      const { buildStatistics } = await import('../../src/reports/build.js');
      const [a] = await buildStatistics(upgraded, { timeZone: 'UTC' });
      const [b] = await buildStatistics(fresh, { timeZone: 'UTC' });
      expect(a!.sessions).toEqual(b!.sessions);
      expect(a!.sessions).toMatchObject({ total: 3, handoffs: 1, ended: { idle: 3, closed: 0 } });
      // Done once: the marker says so, and opening again changes nothing.
      expect(await sql(upgraded).all(`SELECT value FROM settings WHERE key = 'conversations_backfill'`)).toEqual([
        { value: 'done' },
      ]);
      // Answers keep what they covered (answers_wamid), so nothing is answered again after the upgrade.
      const thread = (await upgraded.threads.find(1, '34600000002'))!;
      expect(await upgraded.replies.pendingInbound(thread.id, new Date(0))).toEqual([]);
    } finally {
      await upgraded.close();
      await fresh.close();
    }
    const again = await openStore(old.target);
    try {
      expect(await conversations(again)).toHaveLength(3);
    } finally {
      await again.close();
    }
  });
});
