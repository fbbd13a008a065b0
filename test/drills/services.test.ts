// Drill: the model and the Graph API misbehave in every way at once (hang, 429, 500, garbage,
// 131047, 130429, closed connections). Every inbound message is stored; every answer ends as sent
// or failed with a reason naming the service; the daemon stays healthy.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startDaemon } from '../../src/server/main.js';
import { loadIngestConfig } from '../../src/server/config.js';
import { openStore } from '../../src/db/store.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGraphStandIn, startModelStandIn, type GraphBehavior, type ModelBehavior } from '../helpers/standins.js';
import { APP_SECRET, PHONE_NUMBER_ID, postWebhook, textMessage } from '../helpers/webhooks.js';
import { sql } from '../helpers/store.js';

const MODEL: ModelBehavior[] = [
  { kind: 'ok' },
  { kind: 'ok' },
  { kind: 'hang' },
  {
    kind: 'error',
    status: 429,
    type: 'rate_limit_exceeded',
    code: 'rate_limit_exceeded',
    message: 'slow down',
    retryAfterMs: 10,
  },
  { kind: 'error', status: 500, type: 'server_error', message: 'boom', retryAfterMs: 10 },
  { kind: 'garbage' },
  { kind: 'empty' },
  { kind: 'close' },
];
const GRAPH: GraphBehavior[] = [
  { kind: 'ok' },
  { kind: 'ok' },
  { kind: 'error', status: 400, code: 131047, title: 'Re-engagement message' },
  { kind: 'error', status: 400, code: 130429, title: 'Rate limit hit', retryAfter: 0 },
  { kind: 'error', status: 500, code: 2, title: 'Service temporarily unavailable' },
  { kind: 'close' },
  { kind: 'garbage' },
];

describe.each(databaseKinds)('misbehaving services on $name', (kind) => {
  it('stores every message, ends every answer as sent or failed with a reason, stays healthy', async () => {
    const db = await kind.create();
    const graph = await startGraphStandIn({ token: 'graph-token' });
    const model = await startModelStandIn({ apiKey: 'sk-test' });
    // A seeded mix: request n behaves as entry (n * 7) mod length.
    model.behave((n) => MODEL[(n * 7) % MODEL.length]);
    graph.behave((n) => GRAPH[(n * 5) % GRAPH.length]);
    const setup = await openStore(db.target);
    await setup.clients.create({
      name: 'Released',
      phoneNumber: '+15550783881',
      phoneNumberId: PHONE_NUMBER_ID,
      assistantEnabled: true,
    });
    await setup.close();
    const config = loadIngestConfig(
      {
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_ACCESS_TOKEN: 'graph-token',
        WHATSAPP_GRAPH_URL: graph.url,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: model.url,
        OPENAI_MODEL: 'm',
        WA_REPORT_OPENAI_TIMEOUT_MS: '1000',
      },
      { port: '0', host: '127.0.0.1' },
    );
    const daemon = await startDaemon(config, {
      target: db.target,
      logger: pino({ level: 'silent' }),
      graph: { timeoutMs: 1000, backoffMs: { base: 5, max: 20 }, maxAttempts: 3 },
    });
    const store = await openStore(db.target);
    try {
      const users = 40;
      const results = await Promise.all(
        Array.from({ length: users }, (_, i) =>
          postWebhook(
            daemon.url,
            textMessage({ from: `3467${String(i).padStart(7, '0')}`, text: `pregunta ${i}`, id: `wamid.drill.${i}` }),
          ),
        ),
      );
      expect(results.every((r) => r.status === 200)).toBe(true);
      await daemon.replier!.idle();
      const inbound = await sql(store).all<{ n: unknown }>(
        `SELECT COUNT(*) AS n FROM messages WHERE role = 'user' AND wamid LIKE 'wamid.drill.%'`,
      );
      expect(Number(inbound[0]!.n)).toBe(users);
      const answers = await sql(store).all<{ wa_id: string; status: string; error_message: string | null }>(
        `SELECT wa_id, status, error_message FROM messages WHERE role = 'assistant'`,
      );
      const perUser = new Map<string, number>();
      for (const a of answers) perUser.set(a.wa_id, (perUser.get(a.wa_id) ?? 0) + 1);
      expect(perUser.size).toBe(users);
      expect([...perUser.values()].every((n) => n === 1)).toBe(true);
      const sent = answers.filter((a) => a.status === 'sent');
      const failed = answers.filter((a) => a.status === 'failed');
      expect(sent.length + failed.length).toBe(users);
      expect(failed.every((a) => /OpenAI|WhatsApp|Graph/i.test(a.error_message ?? ''))).toBe(true);
      expect(sent.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      const health = await fetch(`${daemon.url}/healthz`);
      expect(health.status).toBe(200);
      // Still answering normally afterwards.
      model.behave(null);
      graph.behave(null);
      await postWebhook(daemon.url, textMessage({ from: '34679999999', text: 'hola', id: 'wamid.drill.after' }));
      await daemon.replier!.idle();
      const after = await sql(store).all<{ status: string }>(
        `SELECT status FROM messages WHERE role = 'assistant' AND wa_id = '34679999999'`,
      );
      expect(after.map((a) => a.status)).toEqual(['sent']);
      const reasons = new Map<string, number>();
      for (const f of failed)
        reasons.set((f.error_message ?? '').slice(0, 40), (reasons.get((f.error_message ?? '').slice(0, 40)) ?? 0) + 1);
      console.log(
        `services drill (${kind.name}): ${users} messages stored, ${sent.length} answers sent, ` +
          `${failed.length} failed with a reason: ${JSON.stringify(Object.fromEntries(reasons))}`,
      );
    } finally {
      await store.close();
      await daemon.close();
      await graph.close();
      await model.close();
      await db.drop();
    }
  }, 120_000);
});
