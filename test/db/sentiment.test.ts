// Sentiment in the store, on both databases: every user text scored as it is stored (before its
// content is sealed), each conversation's opening and closing sentiment kept with its messages, one
// sentiment.negative event when a conversation turns clearly negative, the backfill of data stored
// before (resumable, equal to live scoring), and the figures reports print, against hand-computed ones.
import { afterEach, describe, expect, it } from 'vitest';
import { analyse, labelOf } from '../../src/domain/sentiment/index.js';
import { generateKey, KeyRing, parseKey } from '../../src/domain/key-ring.js';
import type { NewMessage, Role } from '../../src/domain/types.js';
import { openStore, type Store } from '../../src/db/store.js';
import { buildStatistics, buildSummaryReport } from '../../src/reports/build.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { sql } from '../helpers/store.js';

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000);
let seq = 0;

function msg(clientId: number, waId: string, minute: number, content: string, role: Role = 'user', type = 'text') {
  seq += 1;
  return {
    clientId,
    waId,
    role,
    type,
    content,
    wamid: `wamid.sent.${seq}`,
    phoneNumberId: '106540352242922',
    createdAt: at(minute),
  } satisfies NewMessage;
}

// One client, two users: A starts happy and ends angry (the alert), B stays calm.
const A = '34600000001';
const B = '34600000002';
function conversation(clientId: number): NewMessage[] {
  return [
    msg(clientId, A, 0, 'Hola! muchas gracias, genial el servicio 😊'),
    msg(clientId, A, 1, 'De nada, ¿en qué te ayudo?', 'assistant'),
    msg(clientId, A, 2, 'quiero cambiar la cita al martes'),
    msg(clientId, A, 3, '[voice]', 'user', 'audio'),
    msg(clientId, A, 5, 'no funciona nada, es un desastre'),
    msg(clientId, A, 6, '[image] pésimo, llegó roto 😡', 'user', 'image'),
    msg(clientId, A, 7, 'ESTOY HARTO, nadie responde!!!'),
    msg(clientId, B, 10, 'What time do you open on Saturday?'),
    msg(clientId, B, 11, 'We open at 9.', 'assistant'),
    msg(clientId, B, 12, 'great, thanks a lot!'),
  ];
}

describe.each(databaseKinds)('sentiment on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    await db?.drop();
  });

  async function open(keys?: KeyRing) {
    db = await kind.create();
    store = await openStore(db.target, { keys });
    const client = await store.clients.create({
      name: 'Tienda',
      phoneNumber: '+15556383785',
      phoneNumberId: '106540352242922',
    });
    return client.id;
  }

  const scores = async () =>
    (
      await sql(store).all<{ wamid: string; sentiment: unknown }>('SELECT wamid, sentiment FROM messages ORDER BY id')
    ).map((r) => [r.wamid, r.sentiment === null ? null : Number(r.sentiment)] as const);

  const figures = async () =>
    sql(store).all(
      `SELECT thread_id, sentiment_count, sentiment_sum, opening_sentiment, closing_sentiment, recent_sentiments
       FROM conversations ORDER BY thread_id, started_at`,
    );

  it('scores user texts and captions as they are stored, sealed content included, and alerts once', async () => {
    const key = parseKey(generateKey().key, 'key');
    const clientId = await open(new KeyRing(key));
    await store.webhooks.create({
      url: 'https://hooks.example.com/wa',
      events: 'sentiment.negative,conversation.ended',
      clientId: null,
      includeContent: false,
      allowHttp: false,
      secret: 'whsec_' + Buffer.alloc(24, 7).toString('base64'),
    });
    const messages = conversation(clientId);
    await store.ingest.write({ messages: messages.slice(0, 5) });
    await store.ingest.write({ messages: messages.slice(5) });

    const stored = new Map(await scores());
    for (const m of messages) {
      const expected =
        m.role !== 'user' || m.type === 'audio'
          ? null
          : analyse(m.type === 'image' ? m.content.replace('[image] ', '') : m.content).score;
      expect(stored.get(m.wamid as string), m.content).toBe(expected);
    }
    // The content is sealed; the score is there beside it.
    const [row] = await sql(store).all<{ content: string }>(`SELECT content FROM messages WHERE wamid = ?`, [
      messages[0]!.wamid,
    ]);
    expect(row!.content.startsWith('enc:v1:')).toBe(true);

    // Opening: the first three scored messages of A; closing: the last three.
    const a = messages.filter((m) => m.waId === A && m.role === 'user' && m.type !== 'audio');
    const s = a.map((m) => stored.get(m.wamid as string) as number);
    const mean = (v: number[]) => Math.round((v.reduce((x, y) => x + y, 0) / v.length) * 1000) / 1000;
    const [fa] = await figures();
    expect(Number(fa!.sentiment_count)).toBe(5);
    expect(Number(fa!.opening_sentiment)).toBeCloseTo(mean(s.slice(0, 3)), 3);
    expect(Number(fa!.closing_sentiment)).toBeCloseTo(mean(s.slice(-3)), 3);
    expect(mean(s.slice(-3))).toBeLessThanOrEqual(-0.5);

    // One sentiment.negative event for A's conversation (none for B's), with scores and no content.
    const events = await sql(store).all<{ type: string; payload: string | null }>(
      `SELECT type, payload FROM events WHERE type = 'sentiment.negative'`,
    );
    expect(events).toHaveLength(1);
    const data = JSON.parse(store.keys.open(events[0]!.payload as string, () => 'event')) as Record<string, unknown>;
    expect(data).toMatchObject({ wa_id: `+${A}`, sentiment: { scored_messages: expect.any(Number) } });
    expect(JSON.stringify(data)).not.toMatch(/harto|desastre/i);
    // A redelivery changes nothing: no second alert, no second score.
    await store.ingest.write({ messages });
    expect(await sql(store).all(`SELECT id FROM events WHERE type = 'sentiment.negative'`)).toHaveLength(1);
  });

  it('backfills what was stored before, resumably, to the same scores and figures as live scoring', async () => {
    const clientId = await open();
    await store.ingest.write({ messages: conversation(clientId) });
    const live = await scores();
    const liveFigures = await figures();
    // As an older version left it: no scores, no figures.
    await sql(store).run('UPDATE messages SET sentiment = NULL');
    await sql(store).run(
      `UPDATE conversations SET sentiment_count = 0, sentiment_sum = 0, opening_sentiment = NULL,
         closing_sentiment = NULL, recent_sentiments = NULL`,
    );
    expect(await store.sentiment.remaining(0)).toBe(7); // six texts and a caption; not the voice note

    // Interrupted after one batch of 3: the next run goes on from there.
    const first = await store.sentiment.backfillBatch(3);
    expect(first).toMatchObject({ scored: 3, remaining: 4 });
    expect(await store.sentiment.backfillPosition()).toBe(first.lastId);
    const second = await store.sentiment.backfillBatch(3);
    expect(second.remaining).toBe(1);
    const third = await store.sentiment.backfillBatch(3);
    expect(third).toMatchObject({ scored: 1, remaining: 0 });
    expect(await store.sentiment.backfillBatch(3)).toMatchObject({ scored: 0, remaining: 0 });

    expect(await scores()).toEqual(live);
    const normalise = (rows: Record<string, unknown>[]) =>
      rows.map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(Number(v) || v)])),
      );
    expect(normalise(await figures())).toEqual(normalise(liveFigures));
  });

  it('counts a score that comes late in time order, as a recount from the messages does', async () => {
    const clientId = await open();
    const texts = ['un desastre total, pésimo', 'genial, gracias', 'no funciona', 'no funciona nada'];
    const m = texts.map((t, i) => msg(clientId, A, i, t));
    // The first message (in time) arrives last.
    await store.ingest.write({ messages: m.slice(1) });
    await store.ingest.write({ messages: m.slice(0, 1) });
    const live = await figures();
    await store.sentiment.backfillBatch(10); // nothing to score: only recounts what is there
    await sql(store).run('UPDATE conversations SET opening_sentiment = NULL, closing_sentiment = NULL');
    const [row] = await sql(store).all<{ thread_id: unknown }>('SELECT thread_id FROM conversations');
    await store.sentiment.recount([Number(row!.thread_id)]);
    const normalise = (rows: Record<string, unknown>[]) =>
      rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : Number(v) || v])));
    expect(normalise(await figures())).toEqual(normalise(live));
    const s = texts.map((t) => analyse(t).score);
    const mean = (v: number[]) => Math.round((v.reduce((x, y) => x + y, 0) / v.length) * 1000) / 1000;
    expect(Number(live[0]!.opening_sentiment)).toBeCloseTo(mean(s.slice(0, 3)), 3);
    expect(Number(live[0]!.closing_sentiment)).toBeCloseTo(mean(s.slice(1)), 3);
  });

  it('reports the distribution, mean, opening → closing and the worst sessions, as computed by hand', async () => {
    const clientId = await open();
    await store.ingest.write({ messages: conversation(clientId) });
    const stored = await scores();
    const values = stored.map(([, v]) => v).filter((v): v is number => v !== null);
    const labels = values.map(labelOf);
    const expected = {
      scored: values.length,
      negative: labels.filter((l) => l === 'negative').length,
      positive: labels.filter((l) => l === 'positive').length,
      mean: Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000,
    };
    const [stats] = await buildStatistics(store, { clientId, timeZone: 'Europe/Madrid', now: at(600) });
    expect(stats!.sentiment).toMatchObject({
      scored: expected.scored,
      unscored: 0,
      distribution: {
        negative: expected.negative,
        positive: expected.positive,
        neutral: expected.scored - expected.negative - expected.positive,
      },
      mean: expected.mean,
    });
    const [fa, fb] = await figures();
    const opening = [Number(fa!.opening_sentiment), Number(fb!.opening_sentiment)];
    const closing = [Number(fa!.closing_sentiment), Number(fb!.closing_sentiment)];
    const round = (v: number) => Math.round(v * 1000) / 1000;
    expect(stats!.sentiment.sessions.scored).toBe(2);
    expect(stats!.sentiment.sessions.opening).toBeCloseTo(round((opening[0]! + opening[1]!) / 2), 3);
    expect(stats!.sentiment.sessions.closing).toBeCloseTo(round((closing[0]! + closing[1]!) / 2), 3);
    expect(stats!.sentiment.worst.map((w) => w.waId)).toEqual([A, B]);
    // The summary of one user reads the same queries, limited to that user.
    const summary = await buildSummaryReport(store, {
      clientId,
      waId: B,
      timeZone: 'Europe/Madrid',
      lang: 'en',
      now: at(600),
    });
    expect(summary.sentiment.scored).toBe(2);
    expect(summary.sentiment.worst.map((w) => w.waId)).toEqual([B]);
  });
});
