// Data rights, encryption at rest and archiving against real databases (SQLite file, PostgreSQL).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import type { NewMessage, StatusUpdate } from '../../src/domain/types.js';
import { archive } from '../../src/privacy/archive.js';
import { verifyArchive } from '../../src/privacy/archive-file.js';
import { restoreArchive } from '../../src/privacy/restore.js';
import { contactSummary, eraseContact, exportContact } from '../../src/privacy/contact.js';
import { waIdHash } from '../../src/domain/hashing.js';
import { generateKey, KeyRing, parseKey } from '../../src/domain/key-ring.js';
import { EncryptionError } from '../../src/errors.js';
import { normalizeContactId } from '../../src/domain/phone.js';
import { encryptionCensus, reencrypt } from '../../src/privacy/reencrypt.js';
import { authenticateToken, createToken, listTokens, revokeToken } from '../../src/privacy/tokens.js';
import { databaseKinds, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { StringWritable } from '../reports/sample-report.js';
import { applyStatuses, emptyThread, recordMessages, recordRawEvents, sql } from '../helpers/store.js';

const SECRET = 'La clave de la caja fuerte es 4711-ZETA';
const keyA = parseKey(generateKey().key, 'A');
const keyB = parseKey(generateKey().key, 'B');

function msg(over: Partial<NewMessage> & { clientId: number; waId: string; wamid: string | null }): NewMessage {
  return {
    role: 'user',
    type: 'text',
    content: 'Hola',
    phoneNumberId: 'PNID1',
    createdAt: new Date('2024-01-15T10:30:00Z'),
    ...over,
  };
}

async function exportDoc(store: Store, waId: string) {
  const out = new StringWritable();
  await exportContact(store, waId, out);
  return JSON.parse(out.text) as {
    conversations: { messages: { wamid: string; content: string; raw: unknown; status_history: unknown[] }[] }[];
    raw_events: unknown[];
    other_status_events: unknown[];
    erasures: { messages: number }[];
  };
}

/** Every byte of the database as stored: the SQLite file (and WAL), or a pg_dump of the database. */
function storedBytes(db: TestDatabase, kind: DatabaseKind): string {
  if (kind.name === 'sqlite') {
    return ['', '-wal']
      .map((s) => (existsSync(db.url + s) ? readFileSync(db.url + s).toString('latin1') : ''))
      .join('');
  }
  return execFileSync('pg_dump', ['--no-owner', db.url], { encoding: 'latin1', maxBuffer: 1 << 28 });
}

async function fresh(kind: DatabaseKind, keys?: KeyRing) {
  const db = await kind.create();
  const store = await openStore(db.target, { keys });
  const a = (await store.clients.create({ name: 'Released', phoneNumber: '+15556383785', phoneNumberId: 'PNID1' })).id;
  const b = (await store.clients.create({ name: 'Other', phoneNumber: '+15550000002', phoneNumberId: 'PNID2' })).id;
  return { db, store, a, b };
}

describe.each(databaseKinds)('privacy on $name', (kind) => {
  const opened: { db: TestDatabase; store: Store }[] = [];
  const open = async (keys?: KeyRing) => {
    const f = await fresh(kind, keys);
    opened.push(f);
    return f;
  };
  afterAll(async () => {
    for (const o of opened) {
      await o.store.close().catch(() => {});
      await o.db.drop();
    }
  });

  it('exports a contact, erases it (audit, tombstones), and a redelivered webhook does not bring it back', async () => {
    const { db, store, a, b } = await open();
    const user = '34600111222';
    const messages = [
      msg({
        clientId: a,
        waId: user,
        wamid: 'wamid.e1',
        content: SECRET,
        contactName: 'Eva',
        raw: JSON.stringify({ id: 'wamid.e1', text: { body: SECRET } }),
      }),
      msg({
        clientId: a,
        waId: user,
        wamid: 'wamid.e2',
        role: 'assistant',
        content: 'Anotado',
        createdAt: new Date('2024-01-15T10:31:00Z'),
      }),
      msg({ clientId: b, phoneNumberId: 'PNID2', waId: user, wamid: 'wamid.e3', content: 'Otro negocio' }),
      msg({ clientId: a, waId: '34999000111', wamid: 'wamid.keep', content: 'not this one' }),
    ];
    const statuses: StatusUpdate[] = [
      {
        wamid: 'wamid.e2',
        status: 'delivered',
        occurredAt: new Date('2024-01-15T10:31:05Z'),
        recipientId: user,
        raw: '{"status":"delivered"}',
      },
      { wamid: 'wamid.elsewhere', status: 'sent', occurredAt: new Date('2024-01-15T10:32:00Z'), recipientId: user },
    ];
    // A body the parser could not use names the user only inside the payload (no wa_id column).
    const unstorable = {
      kind: 'unstorable',
      payload: JSON.stringify({
        entry: [{ changes: [{ value: { messages: [{ from: user, text: { body: SECRET } }] } }] }],
      }),
    };
    await store.ingest.write({
      messages,
      statuses,
      rawEvents: [
        { kind: 'unparsed_message', payload: '{"odd":true}', phoneNumberId: 'PNID1', waId: user },
        unstorable,
        { kind: 'unstorable', payload: '{"from":"34999000111"}' },
      ],
    });

    const before = await exportDoc(store, user);
    expect(before.conversations.map((c) => c.messages.length)).toEqual([2, 1]);
    expect(before.conversations[0]?.messages[0]).toMatchObject({
      wamid: 'wamid.e1',
      content: SECRET,
      raw: { id: 'wamid.e1' },
    });
    expect(before.conversations[0]?.messages[1]?.status_history).toHaveLength(1);
    expect(before.other_status_events).toHaveLength(1);
    expect(before.raw_events).toHaveLength(2);
    expect(await contactSummary(store, user)).toMatchObject({ messages: 3, statusEvents: 2, rawEvents: 2 });

    const erased = await eraseContact(store, user, { actor: 'cli:tester' });
    expect(erased).toMatchObject({ threads: 2, messages: 3, statusEvents: 2, rawEvents: 2 });
    expect((await sql(store).all<{ payload: string }>('SELECT payload FROM raw_events')).map((r) => r.payload)).toEqual(
      ['{"from":"34999000111"}'],
    );
    expect(erased.auditId).toBeGreaterThan(0);
    const after = await exportDoc(store, user);
    expect(after.conversations).toEqual([]);
    expect(after.raw_events).toEqual([]);
    expect(after.other_status_events).toEqual([]);
    expect(after.erasures).toMatchObject([{ messages: 3 }]);
    // The audit says who and how many, never what.
    const [audit] = await sql(store).all<Record<string, unknown>>('SELECT * FROM erasures');
    expect(audit).toMatchObject({ wa_id_hash: waIdHash(user), actor: 'cli:tester', client_id: null });
    expect(JSON.stringify(audit)).not.toContain(user);
    expect(JSON.stringify(await sql(store).all('SELECT * FROM tombstones'))).not.toContain('wamid.e1');
    // Erasing again changes nothing and leaves no second record.
    expect(await eraseContact(store, user, { actor: 'cli:tester' })).toEqual({
      threads: 0,
      messages: 0,
      statusEvents: 0,
      rawEvents: 0,
      auditId: null,
    });
    expect(await sql(store).all('SELECT id FROM erasures')).toHaveLength(1);

    // Meta redelivers the old webhook: nothing of it is stored again, not even an empty conversation.
    const again = await store.ingest.write({
      messages,
      statuses,
      rawEvents: [
        { kind: 'unparsed_message', payload: '{"odd":true}', phoneNumberId: 'PNID1', waId: user },
        unstorable,
      ],
    });
    expect(again.inserted.map((m) => m.wamid)).toEqual([]);
    expect(await contactSummary(store, user)).toMatchObject({
      conversations: [],
      messages: 0,
      statusEvents: 0,
      rawEvents: 0,
    });
    // A new message from the same person is a new conversation, stored as usual.
    await store.ingest.write({
      messages: [msg({ clientId: a, waId: user, wamid: 'wamid.e9', content: 'Vuelvo a escribir' })],
    });
    expect((await exportDoc(store, user)).conversations.map((c) => c.messages.map((m) => m.wamid))).toEqual([
      ['wamid.e9'],
    ]);
    expect((await store.messages.byWamid('wamid.keep'))?.content).toBe('not this one');
    if (kind.name === 'sqlite') expect(storedBytes(db, kind)).not.toContain(SECRET);
  });

  it('exports and erases users known only by a business-scoped user id (WhatsApp usernames)', async () => {
    const { store, a } = await open();
    const bsuid = normalizeContactId(' US.13491208655302741918 ');
    expect(bsuid).toBe('US.13491208655302741918');
    expect(normalizeContactId('+34 612 34 56 78')).toBe('34612345678');
    expect(() => normalizeContactId('<script>')).toThrow(/not a phone number/);
    expect(() => normalizeContactId('not-a-number')).toThrow(/not a phone number/);
    expect(normalizeContactId('user.9373abc_Z')).toBe('user.9373abc_Z');
    await recordMessages(store, [msg({ clientId: a, waId: bsuid, wamid: 'wamid.u1', content: 'sin número' })]);
    const doc = await exportDoc(store, bsuid);
    expect((doc as unknown as { wa_id: string }).wa_id).toBe(bsuid);
    expect(doc.conversations[0]?.messages[0]?.content).toBe('sin número');
    expect(await eraseContact(store, bsuid, { actor: 'cli:dpo' })).toMatchObject({ threads: 1, messages: 1 });
    expect((await exportDoc(store, bsuid)).conversations).toEqual([]);
  });

  it('erases one client only with clientId', async () => {
    const { store, a, b } = await open();
    const user = '34600333444';
    await recordMessages(store, [
      msg({ clientId: a, waId: user, wamid: 'wamid.c1' }),
      msg({ clientId: b, phoneNumberId: 'PNID2', waId: user, wamid: 'wamid.c2' }),
    ]);
    expect(await eraseContact(store, user, { clientId: b, actor: 'api:admin' })).toMatchObject({
      threads: 1,
      messages: 1,
    });
    expect((await exportDoc(store, user)).conversations.map((c) => c.messages[0]?.wamid)).toEqual(['wamid.c1']);
    const [audit] = await sql(store).all<{ client_id: unknown }>('SELECT client_id FROM erasures');
    expect(Number(audit?.client_id)).toBe(b);
  });

  it('erases during ingest: every acknowledged message is either stored or tombstoned, nothing dangles', async () => {
    const { db, store, a } = await open();
    const user = '34600555666';
    // A second store on the same database plays the daemon, writing while the erase runs.
    const daemon = await openStore(db.target);
    const acked: string[] = [];
    let stop = false;
    const ingest = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        const wamids = [0, 1, 2].map((j) => `wamid.race.${i}.${j}`);
        await daemon.ingest.write({
          messages: wamids.map((w, j) =>
            msg({ clientId: a, waId: user, wamid: w, createdAt: new Date(Date.UTC(2024, 0, 15, 10, 0, i, j)) }),
          ),
        });
        acked.push(...wamids);
      }
    })();
    await new Promise((r) => setTimeout(r, 40));
    const first = await eraseContact(store, user, { actor: 'cli:race' });
    await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await ingest;
    await daemon.close();
    expect(first.messages).toBeGreaterThan(0);
    const stored = new Set(
      (await sql(store).all<{ wamid: string }>('SELECT wamid FROM messages WHERE wa_id = ?', [user])).map(
        (r) => r.wamid,
      ),
    );
    const tombs = new Set((await sql(store).all<{ hash: string }>('SELECT hash FROM tombstones')).map((r) => r.hash));
    const tomb = (w: string) => createHash('sha256').update('wamid:').update(w).digest('hex');
    for (const w of acked) expect(stored.has(w) || tombs.has(tomb(w)), w).toBe(true);
    const [dangling] = await sql(store).all<{ n: unknown }>(
      'SELECT COUNT(*) AS n FROM messages m LEFT JOIN threads t ON t.id = m.thread_id WHERE t.id IS NULL',
    );
    expect(Number(dangling?.n)).toBe(0);
    // What arrived after the erase is erased by a second one; then nothing is left.
    await eraseContact(store, user, { actor: 'cli:race' });
    expect((await contactSummary(store, user)).messages).toBe(0);
  });

  it(
    'encrypts content at rest: round trip, nothing readable in the database, ' + 'wrong and missing keys refused',
    async () => {
      const ringA = new KeyRing(keyA);
      const { db, store, a } = await open(ringA);
      const user = '34600777888';
      await store.ingest.write({
        messages: [
          msg({
            clientId: a,
            waId: user,
            wamid: 'wamid.s1',
            content: SECRET,
            raw: JSON.stringify({ text: { body: SECRET } }),
          }),
        ],
        statuses: [
          {
            wamid: 'wamid.s1',
            status: 'read',
            occurredAt: new Date('2024-01-15T10:40:00Z'),
            raw: JSON.stringify({ note: SECRET }),
          },
        ],
        rawEvents: [{ kind: 'unknown_field', payload: JSON.stringify({ secret: SECRET }), waId: user }],
      });
      const reply = await store.replies.begin({
        threadId: (await store.threads.find(a, user))!.id,
        content: `${SECRET} (respuesta)`,
        answersWamid: 'wamid.s1',
        replyToWamid: 'wamid.s1',
      });
      const [row] = await sql(store).all<{ content: string; raw: string }>(
        'SELECT content, raw FROM messages WHERE wamid = ?',
        ['wamid.s1'],
      );
      expect(row?.content.startsWith(`enc:v1:${keyA.id}:`)).toBe(true);
      expect(row?.raw.startsWith('enc:v1:')).toBe(true);
      // Metadata stays queryable.
      expect(
        (
          await sql(store).all('SELECT id FROM messages WHERE wa_id = ? AND created_at >= ?', [
            user,
            new Date('2024-01-01'),
          ])
        ).length,
      ).toBe(2);
      // Transparent for readers.
      expect((await store.messages.byWamid('wamid.s1'))?.content).toBe(SECRET);
      expect((await exportDoc(store, user)).conversations[0]?.messages.map((m) => m.content)).toEqual([
        SECRET,
        `${SECRET} (respuesta)`,
      ]);
      expect((await store.messages.statusHistory('wamid.s1'))[0]?.raw).toContain(SECRET);
      expect(reply).toBeGreaterThan(0);
      await store.checkpoint();
      expect(storedBytes(db, kind)).not.toContain('4711-ZETA');
      expect(await sql(store).all(`SELECT value FROM settings WHERE key = 'encryption_key_id'`)).toEqual([
        { value: keyA.id },
      ]);

      // Another key: a clear error naming the key id, never garbage.
      const wrong = await openStore(db.target, { keys: new KeyRing(keyB) });
      await expect(wrong.messages.byWamid('wamid.s1')).rejects.toThrow(EncryptionError);
      await expect(wrong.messages.byWamid('wamid.s1')).rejects.toThrow(new RegExp(`encrypted with key id ${keyA.id}`));
      // A different key as the current one (a typo in the environment) is refused for writing too.
      await expect(
        recordMessages(wrong, [msg({ clientId: a, waId: user, wamid: 'wamid.typo', content: 'x' })]),
      ).rejects.toThrow(new RegExp(`last encrypted with key id ${keyA.id}`));
      // No key: reads fail the same way, and writes are refused rather than stored in plaintext.
      const none = await openStore(db.target);
      await wrong.close();
      await expect(none.messages.byWamid('wamid.s1')).rejects.toThrow(/WA_REPORT_ENCRYPTION_KEY is not set/);
      await expect(
        recordMessages(none, [msg({ clientId: a, waId: user, wamid: 'wamid.plain', content: 'plain' })]),
      ).rejects.toThrow(/would be stored in plaintext/);
      expect(await store.messages.byWamid('wamid.plain')).toBeNull();
      await none.close();
    },
  );

  it('encrypts existing rows in resumable batches (db encrypt), then rotates keys', async () => {
    const { db, store, a } = await open();
    const rows = Array.from({ length: 30 }, (_, i) =>
      msg({
        clientId: a,
        waId: `3460090${String(i % 3).padStart(4, '0')}`,
        wamid: `wamid.p${i}`,
        content: `${SECRET} #${i}`,
        raw: JSON.stringify({ n: i, body: SECRET }),
        createdAt: new Date(Date.UTC(2024, 0, 15, 10, i)),
      }),
    );
    await store.ingest.write({
      messages: rows,
      rawEvents: [{ kind: 'unknown_field', payload: JSON.stringify({ s: SECRET }) }],
    });
    // A model's rating whose reason speaks of the content (WA_REPORT_SENTIMENT=model): sealed too.
    await store.conversations.sweep();
    const [claim] = await store.sentiment.claimUnrated(new Date(), {
      leaseMs: 60_000,
      limit: 1,
      withinMs: 10 * 365 * 86_400_000,
    });
    await store.sentiment.saveRating(claim!, {
      source: 'model',
      rating: { label: 'negative', score: -0.5, predictedCsat: 2, reason: `About ${SECRET}` },
      model: 'test-model',
      error: null,
      transcriptHash: null,
    });
    await store.close();
    opened.pop();

    const withA = await openStore(db.target, { keys: new KeyRing(keyA) });
    opened.push({ db, store: withA });
    // Interrupted after 2 batches of 7 rows: some rows sealed, the rest still plaintext, all readable.
    await expect(reencrypt(withA, { batchSize: 7, failAfterBatches: 2 })).rejects.toThrow(/Simulated failure/);
    const mid = await encryptionCensus(withA);
    expect(mid.byKey[keyA.id]).toBe(28); // 14 rows, content and raw each
    expect(mid.plaintext).toBeGreaterThan(0);
    expect((await withA.messages.byWamid('wamid.p20'))?.content).toBe(`${SECRET} #20`);
    expect((await withA.messages.byWamid('wamid.p2'))?.content).toBe(`${SECRET} #2`);
    // The rerun finishes the job.
    const done = await reencrypt(withA, { batchSize: 7 });
    expect(done.changed.messages).toBe(16);
    expect(await encryptionCensus(withA)).toEqual({ plaintext: 0, byKey: { [keyA.id]: 62 } });
    expect(storedBytes(db, kind)).not.toContain('4711-ZETA');
    // Again: nothing to do.
    expect((await reencrypt(withA)).changed).toEqual({
      messages: 0,
      message_status_events: 0,
      raw_events: 0,
      events: 0,
      webhook_endpoints: 0,
      conversation_ratings: 0,
      csat_surveys: 0,
    });

    // Rotation: B is current, A still accepted; afterwards B alone reads everything and A alone cannot.
    const rotating = await openStore(db.target, { keys: new KeyRing(keyB, [keyA]) });
    opened.push({ db, store: rotating });
    await reencrypt(rotating, { batchSize: 11 });
    expect(await encryptionCensus(rotating)).toEqual({ plaintext: 0, byKey: { [keyB.id]: 62 } });
    const onlyB = await openStore(db.target, { keys: new KeyRing(keyB) });
    opened.push({ db, store: onlyB });
    expect((await onlyB.messages.byWamid('wamid.p29'))?.content).toBe(`${SECRET} #29`);
    const onlyA = await openStore(db.target, { keys: new KeyRing(keyA) });
    opened.push({ db, store: onlyA });
    await expect(onlyA.messages.byWamid('wamid.p29')).rejects.toThrow(new RegExp(`key id ${keyB.id}`));
  });

  it('a process without the key stops writing once another one starts encrypting the database', async () => {
    const { db, store, a } = await open();
    await recordMessages(store, [msg({ clientId: a, waId: '34600000042', wamid: 'wamid.before', content: SECRET })]);
    const statusesOnly = await openStore(db.target);
    opened.push({ db, store: statusesOnly });
    const encrypting = await openStore(db.target, { keys: new KeyRing(keyA) });
    opened.push({ db, store: encrypting });
    await reencrypt(encrypting);
    // A batch of statuses alone (their raw payloads are content too) is refused the same way.
    await expect(
      applyStatuses(statusesOnly, [{ wamid: 'wamid.before', status: 'read', occurredAt: new Date(), raw: SECRET }]),
    ).rejects.toThrow(/would be stored in plaintext/);
    expect(await encrypting.messages.statusHistory('wamid.before')).toEqual([]);
    await expect(
      recordMessages(store, [msg({ clientId: a, waId: '34600000042', wamid: 'wamid.after', content: SECRET })]),
    ).rejects.toThrow(new RegExp(`encrypted \\(key id ${keyA.id}\\).*would be stored in plaintext`));
    expect(await encrypting.messages.byWamid('wamid.after')).toBeNull();
    expect((await encryptionCensus(encrypting)).plaintext).toBe(0);
  });

  it(
    'archives old conversations (verified, then deleted in batches), survives an interruption, ' +
      'restores idempotently',
    async () => {
      const { store, a, b } = await open();
      const dir = mkdtempSync(join(tmpdir(), 'wa-archive-'));
      const old = (i: number) => new Date(Date.UTC(2023, 5, 1 + i, 9));
      const users = Array.from({ length: 7 }, (_, i) => `3461100000${i}`);
      for (const [i, u] of users.entries()) {
        await store.ingest.write({
          messages: [
            msg({
              clientId: i % 2 ? b : a,
              phoneNumberId: i % 2 ? 'PNID2' : 'PNID1',
              waId: u,
              wamid: `wamid.old.${i}.1`,
              content: `Antiguo ${i}`,
              createdAt: old(i),
              raw: JSON.stringify({ i }),
            }),
            msg({
              clientId: i % 2 ? b : a,
              phoneNumberId: i % 2 ? 'PNID2' : 'PNID1',
              waId: u,
              wamid: `wamid.old.${i}.2`,
              role: 'assistant',
              content: `Respuesta ${i}`,
              createdAt: new Date(old(i).getTime() + 60_000),
            }),
          ],
          statuses: [
            {
              wamid: `wamid.old.${i}.2`,
              status: 'read',
              occurredAt: new Date(old(i).getTime() + 120_000),
              recipientId: u,
            },
          ],
        });
      }
      // A failed answer has no wamid; it must survive the round trip too.
      const failedId = await store.replies.begin({
        threadId: (await store.threads.find(a, users[0] as string))!.id,
        content: 'Sin enviar',
        answersWamid: 'wamid.old.0.1',
        replyToWamid: null,
        createdAt: new Date(Date.UTC(2023, 5, 1, 9, 5)),
      });
      await store.replies.fail(failedId, { errorMessage: 'Graph API unreachable', service: 'whatsapp' });
      await recordMessages(store, [
        msg({ clientId: a, waId: '34622000000', wamid: 'wamid.recent', createdAt: new Date('2024-03-01T10:00:00Z') }),
      ]);
      await recordRawEvents(store, [{ kind: 'unknown_field', payload: '{"old":1}' }]);
      await sql(store).run('UPDATE raw_events SET received_at = ?', [new Date('2023-06-01T00:00:00Z')]);
      const snapshot = async () =>
        (
          await sql(store).all<{ wamid: string | null; content: string; role: string }>(
            'SELECT wamid, content, role FROM messages ORDER BY created_at, id',
          )
        ).map((r) => `${r.role}:${r.wamid}:${r.content}`);
      const original = await snapshot();
      // The conversations inside the threads, to compare after the restore.
      const sessions = () =>
        sql(store).all(
          `SELECT t.wa_id, c.started_at, c.last_message_at, c.ended_at, c.end_reason, c.user_messages,
                  c.assistant_messages, c.agent_messages, c.first_response_at
           FROM conversations c JOIN threads t ON t.id = c.thread_id ORDER BY t.wa_id, c.started_at`,
        );
      await store.conversations.sweep();
      const originalSessions = await sessions();
      const before = new Date('2024-01-01T00:00:00Z');
      const out = join(dir, 'archive-2023.jsonl.gz');

      // Killed after the file is verified and 2 batches of 2 conversations are deleted.
      await expect(archive(store, { before, out, batchSize: 2, failAfterBatches: 2 })).rejects.toThrow(
        /Simulated failure/,
      );
      expect((await verifyArchive(out)).threads).toBe(7);
      expect((await sql(store).all('SELECT id FROM threads WHERE last_message_at < ?', [before])).length).toBe(3);
      // Meanwhile one archived conversation gets a new status: it must stay in the database.
      await applyStatuses(store, [
        {
          wamid: 'wamid.old.6.2',
          status: 'read',
          occurredAt: new Date(old(6).getTime() + 999_000),
          recipientId: users[6],
        },
      ]);
      // And another one is changed in place (as an answer marked failed would be): it stays too.
      await sql(store).run('UPDATE messages SET error_message = ? WHERE wamid = ?', [
        'changed after archiving',
        'wamid.old.5.2',
      ]);
      const rerun = await archive(store, { before, out, batchSize: 2 });
      expect(rerun).toMatchObject({
        resumed: true,
        threads: 7,
        messages: 15,
        statusEvents: 7,
        rawEvents: 1,
        keptChanged: 2,
        remaining: 0,
      });
      expect((await sql(store).all('SELECT id FROM threads WHERE last_message_at < ?', [before])).length).toBe(2);
      expect(await snapshot()).toEqual(
        original.filter((s) => s.includes('wamid.recent') || s.includes('.6.') || s.includes('.5.')),
      );
      expect(await sql(store).all('SELECT id FROM raw_events')).toEqual([]);
      // The same command once more: nothing left to do.
      expect(await archive(store, { before, out, batchSize: 2 })).toMatchObject({ resumed: true, deletedThreads: 0 });

      const first = await restoreArchive(store, out);
      expect(first).toMatchObject({
        messagesInserted: 11,
        messagesPresent: 4,
        rawEventsInserted: 1,
        clientsCreated: 0,
      });
      expect(await snapshot()).toEqual(original);
      // Restored threads have their conversations again, derived as live tracking made them.
      expect(await sessions()).toEqual(originalSessions);
      expect((await store.messages.byWamid('wamid.old.3.2'))?.status).toBe('read');
      expect((await store.messages.statusHistory('wamid.old.3.2')).map((s) => s.status)).toEqual(['read']);
      const second = await restoreArchive(store, out);
      expect(second).toMatchObject({
        messagesInserted: 0,
        messagesPresent: 15,
        statusEventsInserted: 0,
        rawEventsInserted: 0,
      });
      expect(await snapshot()).toEqual(original);

      // Erased after archiving: restoring does not bring the contact back.
      await eraseContact(store, users[2] as string, { actor: 'cli:dpo' });
      await archive(store, { before, out: join(dir, 'again.jsonl.gz') });
      const third = await restoreArchive(store, out);
      expect(third.messagesErased).toBe(2);
      expect(await contactSummary(store, users[2] as string)).toMatchObject({ messages: 0 });
      rmSync(dir, { recursive: true, force: true });
    },
  );

  it('restores an encrypted archive only with its key, keeping values sealed and marking the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-archive-'));
    const source = await open(new KeyRing(keyA));
    await recordMessages(source.store, [
      msg({
        clientId: source.a,
        waId: '34644000000',
        wamid: 'wamid.k1',
        content: SECRET,
        createdAt: new Date('2023-02-01T00:00:00Z'),
      }),
    ]);
    const out = join(dir, 'sealed.jsonl.gz');
    await archive(source.store, { before: new Date('2024-01-01T00:00:00Z'), out });
    expect(gunzipSync(readFileSync(out)).toString('utf8')).not.toContain('4711-ZETA');

    const plain = await open();
    await expect(restoreArchive(plain.store, out)).rejects.toThrow(/needs WA_REPORT_ENCRYPTION_KEY/);
    const onlyB = await open(new KeyRing(keyB));
    await expect(restoreArchive(onlyB.store, out)).rejects.toThrow(
      new RegExp(`key id ${keyA.id}, which is not configured; nothing was imported`),
    );
    expect(await sql(onlyB.store).all('SELECT id FROM messages')).toEqual([]);
    const both = await open(new KeyRing(keyB, [keyA]));
    expect(await restoreArchive(both.store, out)).toMatchObject({ messagesInserted: 1 });
    expect((await both.store.messages.byWamid('wamid.k1'))?.content).toBe(SECRET);
    expect(await encryptionCensus(both.store)).toMatchObject({ plaintext: 0, byKey: { [keyA.id]: 1 } });
    expect(await sql(both.store).all(`SELECT value FROM settings WHERE key = 'encryption_key_id'`)).toEqual([
      { value: keyB.id },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses damaged archives before changing anything, and restarts an interrupted write', async () => {
    const { store, a } = await open();
    const dir = mkdtempSync(join(tmpdir(), 'wa-archive-'));
    await recordMessages(store, [
      msg({ clientId: a, waId: '34633000000', wamid: 'wamid.d1', createdAt: new Date('2023-02-01T00:00:00Z') }),
    ]);
    // A conversation without messages (created, then never written to) round-trips as well.
    const empty = await emptyThread(store, a, '34633000001', 'Nadie');
    await sql(store).run('UPDATE threads SET created_at = ?, last_message_at = ? WHERE id = ?', [
      new Date('2023-03-01T00:00:00Z'),
      new Date('2023-03-01T00:00:00Z'),
      empty.id,
    ]);
    const before = new Date('2024-01-01T00:00:00Z');
    // A leftover .part from a run killed while writing is replaced.
    const out = join(dir, 'a.jsonl.gz');
    writeFileSync(`${out}.part`, 'half a file');
    expect(await archive(store, { before, out })).toMatchObject({ threads: 2, deletedThreads: 2 });
    expect(existsSync(`${out}.part`)).toBe(false);
    // Resuming it against another database deletes nothing there.
    const other = await open();
    await recordMessages(other.store, [
      msg({ clientId: other.a, waId: '34633000000', wamid: 'wamid.d1', createdAt: new Date('2023-02-01T00:00:00Z') }),
    ]);
    await expect(archive(other.store, { before, out })).rejects.toThrow(/taken from another database/);
    expect(await sql(other.store).all('SELECT id FROM messages')).toHaveLength(1);
    const text = gunzipSync(readFileSync(out)).toString('utf8');
    const lines = text.trimEnd().split('\n');
    const truncated = join(dir, 'truncated.jsonl.gz');
    writeFileSync(truncated, gzipSync(`${lines.slice(0, -1).join('\n')}\n`));
    await expect(restoreArchive(store, truncated)).rejects.toThrow(/no end line: the file is truncated/);
    const altered = join(dir, 'altered.jsonl.gz');
    writeFileSync(altered, gzipSync(text.replace('"wamid.d1"', '"wamid.dX"')));
    await expect(restoreArchive(store, altered)).rejects.toThrow(/checksum does not match/);
    writeFileSync(join(dir, 'garbage.jsonl.gz'), 'not gzip at all');
    await expect(restoreArchive(store, join(dir, 'garbage.jsonl.gz'))).rejects.toThrow(/truncated or damaged/);
    expect(await sql(store).all('SELECT id FROM messages')).toEqual([]);
    expect(await restoreArchive(store, out)).toMatchObject({ threads: 2, messagesInserted: 1 });
    expect((await store.threads.find(a, '34633000001'))?.contactName).toBe('Nadie');
    // An existing archive of another selection is never overwritten.
    await expect(archive(store, { before: new Date('2023-06-01T00:00:00Z'), out })).rejects.toThrow(
      /holds another archive/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps API tokens as hashes: create, authenticate, list, revoke', async () => {
    const { db, store } = await open();
    const { token, record } = await createToken(store, { name: 'grafana', scope: 'read' });
    expect(token).toMatch(/^war_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: 'grafana', scope: 'read', lastUsedAt: null });
    expect(storedBytes(db, kind)).not.toContain(token.slice(4));
    await expect(createToken(store, { name: 'grafana' })).rejects.toThrow(/already exists/);
    await expect(createToken(store, { name: 'x', scope: 'root' })).rejects.toThrow(
      /scope: "root" is not one of read, admin/,
    );
    await expect(createToken(store, { name: '' })).rejects.toThrow(/name/);
    expect(await authenticateToken(store, token)).toMatchObject({ name: 'grafana', scope: 'read' });
    expect(await authenticateToken(store, `${token}x`)).toBeNull();
    expect((await listTokens(store))[0]?.lastUsedAt).toBeInstanceOf(Date);
    expect(await revokeToken(store, 'grafana')).toMatchObject({ changed: true });
    expect(await revokeToken(store, String(record.id))).toMatchObject({ changed: false });
    expect(await authenticateToken(store, token)).toBeNull();
    expect(await listTokens(store)).toEqual([]);
    expect(await listTokens(store, { all: true })).toHaveLength(1);
    await expect(revokeToken(store, 'nobody')).rejects.toThrow(/No API token/);
  });
});

beforeAll(() => {
  expect(keyA.id).not.toBe(keyB.id);
});

describe('upgrading a database whose text looks like markers', () => {
  it('escapes stored text starting with "enc:v1:" or "plain:" so it reads back unchanged', async () => {
    const { migrateSqlite, readShippedMigrations } = await import('../../src/db/migrator.js');
    const db = await (await import('../helpers/databases.js')).sqliteKind.create();
    const conn = new Database(db.url);
    await migrateSqlite(conn, db.url, { shipped: readShippedMigrations('sqlite').slice(0, 1) });
    conn
      .prepare(
        'INSERT INTO clients (name, phone_number, phone_number_id, created_at, updated_at) ' +
          "VALUES ('c', '+1', 'P', 0, 0)",
      )
      .run();
    conn
      .prepare(`INSERT INTO threads (client_id, wa_id, created_at, last_message_at) VALUES (1, '34600000001', 0, 0)`)
      .run();
    const insert = conn.prepare(
      'INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at, ' +
        "raw, inserted_at) VALUES (1, 1, 'user', 'text', ?, ?, '34600000001', 'P', 0, ?, 0)",
    );
    insert.run('enc:v1:0123456789abcdef:not really', 'wamid.m1', 'plain:{}');
    insert.run('plain: yes', 'wamid.m2', null);
    insert.run('ordinary', 'wamid.m3', '{"a":1}');
    conn.close();
    const store = await openStore(db.target);
    try {
      expect(await store.messages.byWamid('wamid.m1')).toMatchObject({
        content: 'enc:v1:0123456789abcdef:not really',
        raw: 'plain:{}',
      });
      expect((await store.messages.byWamid('wamid.m2'))?.content).toBe('plain: yes');
      expect(await store.messages.byWamid('wamid.m3')).toMatchObject({ content: 'ordinary', raw: '{"a":1}' });
      expect(await encryptionCensus(store)).toEqual({ plaintext: 5, byKey: {} });
      // And `db encrypt` can finish on them.
      const keyed = await openStore(db.target, { keys: new KeyRing(keyA) });
      await reencrypt(keyed);
      expect((await keyed.messages.byWamid('wamid.m1'))?.content).toBe('enc:v1:0123456789abcdef:not really');
      await keyed.close();
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
