// WA_REPORT_SENTIMENT=model: the model rates each ended conversation through the real openai SDK,
// against the OpenAI stand-in, on both databases: good JSON, a transcript seen before (no second
// call), garbage and a timeout (the lexicon's rating, with the reason), leases, and what reports show.
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelClient } from '../../src/assistant/model.js';
import { Rater } from '../../src/assistant/rater.js';
import { openStore, type Store } from '../../src/db/store.js';
import { generateKey, KeyRing, parseKey } from '../../src/domain/key-ring.js';
import type { NewMessage, Role } from '../../src/domain/types.js';
import { buildStatistics } from '../../src/reports/build.js';
import { sessionDocument } from '../../src/reports/documents.js';
import { loadIngestConfig } from '../../src/server/config.js';
import { startDaemon } from '../../src/server/main.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { lastUserText, startModelStandIn, type ModelStandIn } from '../helpers/standins.js';
import { sql } from '../helpers/store.js';

const T0 = Date.now() - 3 * 3_600_000; // three hours ago: ended (idle 1 h), within the week rated
const at = (minute: number) => new Date(T0 + minute * 60_000);
let seq = 0;
const msg = (clientId: number, waId: string, minute: number, content: string, role: Role = 'user'): NewMessage => ({
  clientId,
  waId,
  role,
  type: 'text',
  content,
  wamid: `wamid.rate.${++seq}`,
  phoneNumberId: '106540352242922',
  createdAt: at(minute),
});

const GOOD = JSON.stringify({
  label: 'negative',
  score: -0.7,
  predicted_csat: 2,
  reason: 'The order arrived broken and nobody answered.',
});

describe.each(databaseKinds)('conversation ratings on $name', (kind) => {
  let openai: ModelStandIn;
  let db: TestDatabase;
  let store: Store;
  let clientId: number;
  beforeAll(async () => {
    openai = await startModelStandIn({ apiKey: 'sk-test' });
  });
  afterAll(async () => openai.close());
  beforeEach(async () => {
    db = await kind.create();
    store = await openStore(db.target, { keys: new KeyRing(parseKey(generateKey().key, 'key')) });
    clientId = (
      await store.clients.create({ name: 'Tienda', phoneNumber: '+15556383785', phoneNumberId: '106540352242922' })
    ).id;
    openai.requests.length = 0;
    openai.behave(null);
    openai.reply(() => GOOD);
  });
  afterEach(async () => {
    await store.close();
    await db.drop();
  });

  const rater = (timeoutMs = 2_000) =>
    new Rater({
      store,
      logger: pino({ level: 'silent' }),
      defaultModel: 'test-model',
      model: new ModelClient({ apiKey: 'sk-test', baseURL: openai.url, model: 'test-model', timeoutMs, maxRetries: 0 }),
    });

  const conversation = (waId: string, minute = 0) => [
    msg(clientId, waId, minute, 'hola, mi pedido llegó roto'),
    msg(clientId, waId, minute + 1, 'Lo siento, lo revisamos.', 'assistant'),
    msg(clientId, waId, minute + 2, 'nadie me contesta, pésimo servicio'),
  ];

  it('rates an ended conversation once with the model, and reuses the rating of the same transcript', async () => {
    await store.ingest.write({ messages: [...conversation('34600000001'), ...conversation('34600000002')] });
    await store.conversations.sweep();
    expect(await rater().runOnce()).toBe(2);
    // One call: the second transcript is the same (same texts), so its rating is reused.
    expect(openai.requests).toHaveLength(1);
    const body = openai.requests[0]!.body as { model: string; messages: { role: string; content: string }[] };
    expect(body.model).toBe('test-model');
    expect(body.messages[0]!.content).toMatch(/predicted_csat/);
    expect(lastUserText(body)).toBe(
      'User: hola, mi pedido llegó roto\nAssistant: Lo siento, lo revisamos.\nUser: nadie me contesta, pésimo servicio',
    );
    const sessions = await store.conversations.list({ clientId });
    for (const s of sessions) {
      expect(sessionDocument(s).rating).toEqual({
        source: 'model',
        label: 'negative',
        score: -0.7,
        predicted_csat: 2,
        reason: 'The order arrived broken and nobody answered.',
        error: null,
      });
    }
    // The reason is sealed at rest like the messages it speaks of.
    const [row] = await sql(store).all<{ reason: string }>('SELECT reason FROM conversation_ratings LIMIT 1');
    expect(row!.reason.startsWith('enc:v1:')).toBe(true);
    // Nothing left to rate: no further calls.
    expect(await rater().runOnce()).toBe(0);
    expect(openai.requests).toHaveLength(1);

    const [stats] = await buildStatistics(store, { clientId, timeZone: 'UTC' });
    expect(stats!.sentiment.ratings).toEqual({
      rated: 2,
      bySource: { model: 2, lexicon: 0 },
      distribution: { negative: 2, neutral: 0, positive: 0 },
      meanScore: -0.7,
      meanPredictedCsat: 2,
    });
  });

  it('falls back to the lexicon, saying why, when the model answers garbage or not at all', async () => {
    await store.ingest.write({ messages: conversation('34600000003') });
    await store.conversations.sweep();
    openai.reply(() => 'I think the user was rather unhappy.');
    expect(await rater().runOnce()).toBe(1);
    let [s] = await store.conversations.list({ clientId });
    expect(s!.rating).toMatchObject({ source: 'lexicon', label: 'negative', reason: null });
    expect(s!.rating!.error).toMatch(/unusable: the answer holds no JSON object/);
    expect(s!.rating!.predictedCsat).toBeGreaterThanOrEqual(1);

    await store.ingest.write({ messages: conversation('34600000004', 1) });
    await store.conversations.sweep();
    openai.behave({ kind: 'hang' });
    expect(await rater(300).runOnce()).toBe(1);
    [s] = (await store.conversations.list({ clientId, waId: '34600000004' })) as (typeof s)[];
    expect(s!.rating).toMatchObject({ source: 'lexicon', label: 'negative' });
    expect(s!.rating!.error).toMatch(/timeout|timed out/i);
    openai.behave(null);
  });

  it('is run by the daemon with WA_REPORT_SENTIMENT=model, for conversations as they end', async () => {
    await store.clients.update(clientId, { conversationIdleSeconds: 1 });
    const config = loadIngestConfig(
      {
        WHATSAPP_APP_SECRET: 'secret',
        WHATSAPP_VERIFY_TOKEN: 'verify',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        OPENAI_MODEL: 'test-model',
        WA_REPORT_SENTIMENT: 'model',
      },
      { port: '0', host: '127.0.0.1' },
    );
    const daemon = await startDaemon(config, {
      target: db.target,
      keys: store.keys,
      logger: pino({ level: 'silent' }),
      background: { sweepMs: 100, watchMs: 100, rateMs: 100 },
    });
    try {
      const now = Date.now();
      await store.ingest.write({
        messages: conversation('34600000007').map((m, i) => ({ ...m, createdAt: new Date(now - 3_000 + i * 100) })),
      });
      const deadline = Date.now() + 15_000;
      let rating = null;
      while (Date.now() < deadline && !rating) {
        rating = (await store.conversations.list({ clientId }))[0]?.rating ?? null;
        if (!rating) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rating).toMatchObject({ source: 'model', label: 'negative', predictedCsat: 2 });
    } finally {
      await daemon.close();
    }
  });

  it('never lets two daemons rate the same conversation; a dead one’s claim runs out', async () => {
    await store.ingest.write({ messages: [...conversation('34600000005'), ...conversation('34600000006', 1)] });
    await store.conversations.sweep();
    const now = new Date();
    const a = await store.sentiment.claimUnrated(now, { leaseMs: 60_000, limit: 1, withinMs: 86_400_000 });
    const b = await store.sentiment.claimUnrated(now, { leaseMs: 60_000, limit: 5, withinMs: 86_400_000 });
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(b[0]!.conversationId).not.toBe(a[0]!.conversationId);
    expect(await store.sentiment.claimUnrated(now, { leaseMs: 60_000, limit: 5, withinMs: 86_400_000 })).toEqual([]);
    // After the lease, the claims can be taken again (their daemon died before saving).
    const later = new Date(now.getTime() + 61_000);
    const again = await store.sentiment.claimUnrated(later, { leaseMs: 60_000, limit: 5, withinMs: 86_400_000 });
    expect(again.map((c) => c.conversationId).sort()).toEqual([a[0]!.conversationId, b[0]!.conversationId].sort());
    // The daemon that lost its claim cannot save over the new one; the new claimant can.
    const saved = { source: 'lexicon' as const, rating: null, model: null, error: 'x', transcriptHash: null };
    expect(await store.sentiment.saveRating(a[0]!, saved)).toBe(false);
    const mine = again.find((c) => c.conversationId === a[0]!.conversationId)!;
    expect(await store.sentiment.saveRating(mine, saved)).toBe(true);
    expect(await store.sentiment.saveRating(mine, saved)).toBe(false); // done: not saved twice
  });
});

describe('WA_REPORT_SENTIMENT', () => {
  const base = { WHATSAPP_APP_SECRET: 'x', WHATSAPP_VERIFY_TOKEN: 'y' };
  it('needs the model’s key for model, and refuses unknown modes with the accepted ones', () => {
    expect(() => loadIngestConfig({ ...base, WA_REPORT_SENTIMENT: 'model' }, {})).toThrow(
      /WA_REPORT_SENTIMENT=model needs OPENAI_API_KEY/,
    );
    expect(() => loadIngestConfig({ ...base, WA_REPORT_SENTIMENT: 'vader' }, {})).toThrow(
      /"vader" must be lexicon \(the default\), model or off/,
    );
    expect(() => loadIngestConfig({ ...base, WA_REPORT_SENTIMENT_ALERT: '0.5' }, {})).toThrow(
      /WA_REPORT_SENTIMENT_ALERT: "0.5" must be a score from -1 to 0/,
    );
    expect(loadIngestConfig({ ...base, WA_REPORT_SENTIMENT: 'model', OPENAI_API_KEY: 'k' }, {}).sentiment).toBe(
      'model',
    );
  });
});
