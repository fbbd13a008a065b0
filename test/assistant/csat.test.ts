// CSAT surveys end to end, in-process on both databases: the real daemon, WhatsApp webhooks in, the
// Graph API and OpenAI stand-ins behind the real clients, events to a receiver that verifies them
// with `standardwebhooks`. A survey goes out when a conversation ends idle (buttons for 3 points, a
// list for 5), answers are recognised in every form and never reach the model, a later answer
// replaces the score (both kept), a comment is kept, and outside the 24-hour window nothing is sent
// (or the client's template), with the reason.
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { addEndpoint } from '../../src/events/admin.js';
import { webhookSettingsFromEnv } from '../../src/events/policy.js';
import { buildStatistics, buildSummaryReport } from '../../src/reports/build.js';
import { startDaemon, type Daemon } from '../../src/server/main.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startGraphStandIn, startModelStandIn, type GraphStandIn, type ModelStandIn } from '../helpers/standins.js';
import { sql } from '../helpers/store.js';
import { daemonConfig } from '../helpers/daemon-config.js';
import {
  interactiveReply,
  PHONE_NUMBER_ID,
  postWebhook,
  statusUpdate,
  textMessage,
  wamid,
} from '../helpers/webhooks.js';
import { Surveyor } from '../../src/assistant/surveyor.js';
import { GraphClient } from '../../src/whatsapp/graph.js';

const ENV = { WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: '1', WA_REPORT_WEBHOOK_RETRY: '200ms,200ms' };

const until = async (check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: not in time`);
};

type Sent = {
  type?: string;
  interactive?: Record<string, unknown>;
  template?: Record<string, unknown>;
  text?: { body: string };
};

describe.each(databaseKinds)('CSAT surveys on $name', (kind) => {
  let db: TestDatabase;
  let graph: GraphStandIn;
  let model: ModelStandIn;
  let receiver: Receiver;
  let daemon: Daemon | null = null;
  let store: Store;
  const user = '34600000001';

  beforeAll(async () => {
    graph = await startGraphStandIn({ token: 'graph-token' });
    model = await startModelStandIn({ apiKey: 'sk-test' });
  });
  afterAll(async () => {
    await graph.close();
    await model.close();
  });
  beforeEach(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    receiver = await startReceiver();
    graph.requests.length = 0;
    model.requests.length = 0;
  });
  afterEach(async () => {
    await daemon?.close();
    daemon = null;
    await receiver.close();
    await store.close();
    await db.drop();
  });

  const client = async (extra: Record<string, unknown>) =>
    (
      await store.clients.create({
        name: 'Tienda',
        phoneNumber: '+15550783881',
        phoneNumberId: PHONE_NUMBER_ID,
        assistantEnabled: true,
        // (2 s: WhatsApp's timestamps have whole seconds, and the answer must fall inside it.)
        conversationIdleSeconds: 2,
        csatEnabled: true,
        ...extra,
      })
    ).id;

  const start = async () => {
    const config = daemonConfig(graph, model, ENV);
    daemon = await startDaemon(config, {
      target: db.target,
      logger: pino({ level: process.env.CSAT_DEBUG ? 'debug' : 'silent' }),
      graph: { backoffMs: { base: 5, max: 20 }, timeoutMs: 2000 },
      replier: { retryDelayMs: 50 },
      background: { sweepMs: 100, watchMs: 100, pollMs: 100, surveyMs: 100 },
    });
    return daemon;
  };

  const sends = () => graph.sent().map((r) => r.body as Sent);
  const survey = async () =>
    (await sql(store).all<Record<string, unknown>>('SELECT * FROM csat_surveys ORDER BY id'))[0] ?? null;

  it('sends reply buttons at the idle end, takes the tap as the answer, never answers it, and reports it', async () => {
    const clientId = await client({ csatScale: 3 });
    const { secret } = await addEndpoint(
      store,
      { url: receiver.url, events: 'csat.received', allowHttp: true },
      webhookSettingsFromEnv(ENV).settings,
    );
    receiver.secrets.push(secret);
    const d = await start();
    await postWebhook(d.url, textMessage({ from: user, text: 'Hola, ¿tienen pan sin gluten?' }));
    await until(() => sends().length === 1, 'the answer');
    await until(() => sends().length === 2, 'the survey').catch(async (e: Error) => {
      const state = await sql(store).all('SELECT * FROM csat_surveys');
      const conversations = await sql(store).all(
        'SELECT id, started_at, ended_at, end_reason, user_messages FROM conversations',
      );
      throw new Error(`${e.message}: ${JSON.stringify({ state, conversations, sends: sends().map((x) => x.type) })}`);
    });
    const s = sends()[1]!;
    expect(s.type).toBe('interactive');
    const buttons = (s.interactive as { action: { buttons: { reply: { id: string } }[] }; body: { text: string } })
      .action.buttons;
    const id = Number((await survey())!.id);
    expect(buttons.map((b) => b.reply.id)).toEqual([`csat:${id}:1`, `csat:${id}:2`, `csat:${id}:3`]);
    expect((s.interactive as { body: { text: string } }).body.text).toBe('¿Cómo valorarías la atención que recibiste?');
    // The survey is a message of the thread: its statuses are tracked like any other's. (The Graph
    // stand-in has answered; the surveyor may not have stored the wamid yet.)
    await until(async () => Boolean((await survey())?.wamid), 'the survey sent');
    const surveyWamid = String((await survey())!.wamid);
    await postWebhook(
      d.url,
      statusUpdate([
        { id: surveyWamid, status: 'delivered', recipient: user, timestamp: Math.floor(Date.now() / 1000) },
      ]),
    );
    await until(async () => (await store.messages.byWamid(surveyWamid))?.status === 'delivered', 'the status');

    await postWebhook(d.url, interactiveReply({ from: user, replyId: `csat:${id}:3`, title: '😀 Bien' }));
    await until(async () => (await survey())!.state === 'answered', 'the answer');
    expect(Number((await survey())!.score)).toBe(3);
    await until(() => receiver.unique().length === 1, 'csat.received');
    expect(receiver.unique()[0]!.event).toMatchObject({
      type: 'csat.received',
      data: { survey_id: id, score: 3, scale: 3, form: 'interactive', replaced: false, wa_id: `+${user}` },
    });
    // Not a question for the assistant: the model was asked once (the first message), nothing else sent.
    await new Promise((r) => setTimeout(r, 400));
    expect(model.requests).toHaveLength(1);
    expect(sends()).toHaveLength(2);
    // Nor a new conversation.
    expect(await sql(store).all('SELECT id FROM conversations')).toHaveLength(1);
    const [stats] = await buildStatistics(store, { clientId, timeZone: 'UTC' });
    expect(stats!.csat).toMatchObject({
      surveys: 1,
      sent: 1,
      answered: 1,
      responseRate: 1,
      satisfactionScore: 1,
      mean: 5,
      distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1 },
    });
  });

  it('applies a status that overtook the survey (stored before the survey message was)', async () => {
    await client({ csatScale: 3 });
    const d = await start();
    await postWebhook(d.url, textMessage({ from: user, text: 'Hola' }));
    await until(() => sends().length === 1, 'the answer');
    // The survey's send is held back a moment, and meanwhile its 'delivered' status is stored.
    const next = `wamid.standin.${Number(String(graph.sent()[0]!.wamid).split('.').pop()) + 1}`;
    const status: { stored?: Promise<unknown> } = {};
    graph.behave((_, req) => {
      if (status.stored || !(req.body as { type?: string }).type) return null;
      status.stored = store.ingest.write({
        statuses: [{ wamid: next, status: 'delivered', occurredAt: new Date(), recipientId: user }],
      });
      return { kind: 'delay', ms: 300, then: { kind: 'ok' } };
    });
    await until(async () => (await survey())?.wamid === next, 'the survey sent');
    await status.stored;
    graph.behave(null);
    const [m] = await sql(store).all<{ status: string }>('SELECT status FROM messages WHERE wamid = ?', [next]);
    expect(m?.status).toBe('delivered');
  });

  it('sends a list for 1–5; digits and stars answer it, a later answer replaces it; a comment is kept', async () => {
    const clientId = await client({ csatScale: 5, csatComment: true });
    const d = await start();
    await postWebhook(d.url, textMessage({ from: user, text: 'hola, quiero saber mi pedido' }));
    await until(() => sends().length === 2, 'the answer and the survey');
    const list = sends()[1]!.interactive as { type: string; action: { sections: { rows: { id: string }[] }[] } };
    expect(list.type).toBe('list');
    expect(list.action.sections[0]!.rows).toHaveLength(5);

    await postWebhook(d.url, textMessage({ from: user, text: '4' }));
    await until(async () => (await survey())!.state === 'answered', 'the digit');
    expect(Number((await survey())!.score)).toBe(4);
    // It asks for a comment (in the user's language).
    await until(() => sends().length === 3, 'the comment question');
    expect(sends()[2]!.text!.body).toMatch(/algo que podamos mejorar/);
    await until(async () => (await survey())!.comment_state === 'asked', 'asked');
    await postWebhook(d.url, textMessage({ from: user, text: '⭐⭐' }));
    await until(async () => Number((await survey())!.score) === 2, 'the stars');
    await postWebhook(d.url, textMessage({ from: user, text: 'el repartidor tardó mucho' }));
    await until(async () => (await survey())!.comment_state === 'received', 'the comment');
    const answers = await sql(store).all<{ score: unknown; form: string }>(
      'SELECT score, form FROM csat_answers ORDER BY id',
    );
    expect(answers.map((a) => [Number(a.score), a.form])).toEqual([
      [4, 'digit'],
      [2, 'stars'],
    ]);
    const kept = await store.csat.ofConversation(Number((await survey())!.conversation_id));
    expect(kept).toMatchObject({ score: 2, comment: 'el repartidor tardó mucho' });
    expect(model.requests).toHaveLength(1);
    // Anything else is a new message: the assistant answers it, in a new conversation. (WhatsApp
    // stamps messages to the second: one stamped in the second the conversation ended belongs to it.)
    const [ended] = await sql(store).all<{ ended_at: unknown }>('SELECT ended_at FROM conversations');
    const endedAt = new Date(ended!.ended_at as string | Date).getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, Math.floor(endedAt / 1000) * 1000 + 1000 - Date.now() + 20)));
    await postWebhook(d.url, textMessage({ from: user, text: '¿Puedo pedir otra pizza para mañana?' }));
    await until(() => model.requests.length === 2, 'the next answer');
    expect((await sql(store).all('SELECT id FROM conversations')).length).toBe(2);
    const [stats] = await buildStatistics(store, { clientId, timeZone: 'UTC' });
    expect(stats!.csat).toMatchObject({ answered: 1, mean: 2, satisfactionScore: 0, comments: 1 });
    // The conversation's own figure, as the summary and the workbook's Conversations sheet show it.
    const summary = await buildSummaryReport(store, { clientId, timeZone: 'UTC', lang: 'en' });
    expect(summary.conversations.map((c) => c.csatMean)).toEqual([2]);
  });

  it('surveys a conversation a new message ended, unless the user is back: then it says so', async () => {
    const clientId = await client({ conversationIdleSeconds: 60 });
    const m = (minutesAgo: number, content: string) => ({
      clientId,
      waId: user,
      role: 'user' as const,
      type: 'text',
      content,
      wamid: wamid(),
      phoneNumberId: PHONE_NUMBER_ID,
      createdAt: new Date(Date.now() - minutesAgo * 60_000),
    });
    await store.ingest.write({ messages: [m(10, 'hola')] });
    await store.ingest.write({ messages: [m(0, 'otra cosa')] }); // ends the first (idle 1 min), starts a second
    expect((await survey())!.state).toBe('pending');
    const graphClient = new GraphClient({ baseUrl: graph.url, accessToken: 'graph-token' });
    await new Surveyor({ store, graph: graphClient, logger: pino({ level: 'silent' }) }).runOnce();
    expect(await survey()).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/wrote again/) });
    expect(sends()).toEqual([]);
  });

  it('sends nothing outside the 24-hour window, saying why, or the client’s template when it has one', async () => {
    const plain = await client({});
    await store.clients.create({
      name: 'Otra',
      phoneNumber: '+15550783882',
      phoneNumberId: '106540352242923',
      conversationIdleSeconds: 1,
      csatEnabled: true,
      csatTemplate: 'csat_survey:es',
    });
    const [, templated] = await store.clients.list();
    const old = new Date(Date.now() - 25 * 3_600_000);
    await store.ingest.write({
      messages: [plain, templated!.id].map((clientId, i) => ({
        clientId,
        waId: user,
        role: 'user' as const,
        type: 'text',
        content: 'hola',
        wamid: `wamid.old.${i}`,
        phoneNumberId: i ? '106540352242923' : PHONE_NUMBER_ID,
        createdAt: old,
      })),
    });
    await start();
    await until(
      async () => (await sql(store).all(`SELECT id FROM csat_surveys WHERE state IN ('skipped', 'sent')`)).length === 2,
      'both surveys decided',
    );
    const rows = await sql(store).all<{ client_id: unknown; state: string; reason: string | null; via: string }>(
      'SELECT client_id, state, reason, via FROM csat_surveys ORDER BY client_id',
    );
    expect(rows[0]).toMatchObject({ state: 'skipped' });
    expect(rows[0]!.reason).toMatch(/24-hour window.*--csat-template/);
    expect(rows[1]).toMatchObject({ state: 'sent', via: 'template' });
    expect(sends()).toEqual([
      expect.objectContaining({ type: 'template', template: { name: 'csat_survey', language: { code: 'es' } } }),
    ]);
    const [stats] = await buildStatistics(store, { clientId: plain, timeZone: 'UTC' });
    expect(stats!.csat.notSent).toEqual([expect.objectContaining({ state: 'skipped', surveys: 1 })]);
  });
});
