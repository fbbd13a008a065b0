import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { eraseContact } from '../../src/privacy/contact.js';
import { parseDateBound } from '../../src/domain/dates.js';
import type { NewMessage } from '../../src/domain/types.js';
import { NotFoundError, UsageError } from '../../src/errors.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { applyStatuses, recordMessages, recordRawEvents, sql } from '../helpers/store.js';

const T0 = Date.parse('2024-01-15T10:30:00Z');

function msg(over: Partial<NewMessage> & { clientId: number }): NewMessage {
  return {
    waId: '34123456789',
    role: 'user',
    type: 'text',
    content: 'Hola',
    wamid: null,
    phoneNumberId: 'PNID1',
    createdAt: new Date(T0),
    ...over,
  };
}

describe.each(databaseKinds)('store on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let clientId: number;

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    clientId = (await store.clients.create({ name: 'Released', phoneNumber: '+15556383785', phoneNumberId: 'PNID1' }))
      .id;
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('creates, updates, disables and lists clients', async () => {
    const other = await store.clients.create({ name: 'Other', phoneNumber: '+34600000001', phoneNumberId: 'PNID2' });
    await expect(
      store.clients.create({ name: 'Dup', phoneNumber: '+34600000002', phoneNumberId: 'PNID2' }),
    ).rejects.toThrow(UsageError);
    await expect(
      store.clients.create({ name: 'Dup', phoneNumber: '+34600000002', phoneNumberId: 'PNID2' }),
    ).rejects.toThrow(/phone_number_id/);
    const updated = await store.clients.update(other.id, {
      name: 'Other Co',
      assistantEnabled: true,
      systemPrompt: 'Be brief.',
    });
    expect(updated).toMatchObject({
      name: 'Other Co',
      assistantEnabled: true,
      systemPrompt: 'Be brief.',
      phoneNumberId: 'PNID2',
    });
    await store.clients.update(other.id, { active: false });
    expect((await store.clients.list()).map((c) => c.id)).toEqual([clientId]);
    expect((await store.clients.list({ includeInactive: true })).map((c) => c.id)).toEqual([clientId, other.id]);
    await expect(store.clients.update(9999, { name: 'x' })).rejects.toThrow(NotFoundError);
    await expect(store.clients.update(clientId, { phoneNumberId: 'PNID2' })).rejects.toThrow(
      /phone_number_id: PNID2 already belongs to client/,
    );
    expect((await store.clients.findByPhoneNumberId('PNID2'))?.id).toBe(other.id);
  });

  it('stores a message once per wamid, however often it is delivered', async () => {
    const batch = [
      msg({ clientId, waId: '34111', wamid: 'wamid.A1', createdAt: new Date(T0), contactName: 'Ana' }),
      msg({
        clientId,
        waId: '34111',
        wamid: 'wamid.A2',
        createdAt: new Date(T0 + 5000),
        role: 'assistant',
        content: '¡Hola! 👋',
      }),
      msg({ clientId, waId: '34111', wamid: 'wamid.A3', createdAt: new Date(T0 + 9000) }),
    ];
    const first = await recordMessages(store, batch);
    expect(first.inserted.map((r) => r.wamid).sort()).toEqual(['wamid.A1', 'wamid.A2', 'wamid.A3']);
    expect(first.duplicates).toBe(0);
    // Meta redelivers, alone and mixed with a new message.
    const again = await recordMessages(store, [
      ...batch,
      msg({ clientId, waId: '34111', wamid: 'wamid.A4', createdAt: new Date(T0 + 1000) }),
    ]);
    expect(again.inserted.map((r) => r.wamid)).toEqual(['wamid.A4']);
    expect(again.duplicates).toBe(3);
    const thread = await store.threads.find(clientId, '34111');
    expect(thread).toMatchObject({ contactName: 'Ana' });
    expect(thread?.createdAt.getTime()).toBe(T0);
    expect(thread?.lastMessageAt.getTime()).toBe(T0 + 9000);
    const messages = await store.messages.page(thread!.id);
    expect(messages.map((m) => m.wamid)).toEqual(['wamid.A1', 'wamid.A4', 'wamid.A2', 'wamid.A3']);
    expect(messages[2]).toMatchObject({ role: 'assistant', content: '¡Hola! 👋', waId: '34111', clientId });
  });

  it('moves statuses forward only and keeps every event', async () => {
    await recordMessages(store, [
      msg({ clientId, waId: '34222', wamid: 'wamid.S1', role: 'assistant', status: 'sent' }),
    ]);
    const at = (s: number) => new Date(T0 + s * 1000);
    await applyStatuses(store, [{ wamid: 'wamid.S1', status: 'read', occurredAt: at(30) }]);
    await applyStatuses(store, [{ wamid: 'wamid.S1', status: 'delivered', occurredAt: at(20) }]); // late, lower
    await applyStatuses(store, [{ wamid: 'wamid.S1', status: 'sent', occurredAt: at(10) }]);
    await applyStatuses(store, [{ wamid: 'wamid.S1', status: 'sent', occurredAt: at(10) }]); // duplicate event
    let m = await store.messages.byWamid('wamid.S1');
    expect(m).toMatchObject({ status: 'read', errorMessage: null });
    expect(m?.statusAt?.getTime()).toBe(at(30).getTime());
    expect((await store.messages.statusHistory('wamid.S1')).map((e) => e.status)).toEqual([
      'sent',
      'delivered',
      'read',
    ]);

    await recordMessages(store, [
      msg({ clientId, waId: '34222', wamid: 'wamid.S2', role: 'assistant', status: 'sent' }),
    ]);
    await applyStatuses(store, [
      {
        wamid: 'wamid.S2',
        status: 'failed',
        occurredAt: at(5),
        errorCode: 131047,
        errorTitle: 'Re-engagement message',
        errorDetails: 'More than 24 hours have passed',
      },
    ]);
    m = await store.messages.byWamid('wamid.S2');
    expect(m).toMatchObject({
      status: 'failed',
      errorCode: 131047,
      errorMessage: '131047 Re-engagement message: More than 24 hours have passed',
    });
    await applyStatuses(store, [{ wamid: 'wamid.S2', status: 'sent', occurredAt: at(1) }]);
    expect((await store.messages.byWamid('wamid.S2'))?.status).toBe('failed');
    // Evidence of delivery wins over a failure; the error is then history only.
    await applyStatuses(store, [{ wamid: 'wamid.S2', status: 'delivered', occurredAt: at(8) }]);
    expect(await store.messages.byWamid('wamid.S2')).toMatchObject({
      status: 'delivered',
      errorCode: null,
      errorMessage: null,
    });
    await applyStatuses(store, [{ wamid: 'wamid.S2', status: 'failed', occurredAt: at(9), errorCode: 131026 }]);
    expect((await store.messages.byWamid('wamid.S2'))?.status).toBe('delivered');
    // Unknown statuses are kept as events, never applied.
    await applyStatuses(store, [{ wamid: 'wamid.S2', status: 'deleted', occurredAt: at(11) }]);
    expect((await store.messages.byWamid('wamid.S2'))?.status).toBe('delivered');
    expect((await store.messages.statusHistory('wamid.S2')).map((e) => e.status)).toEqual([
      'sent',
      'failed',
      'delivered',
      'failed',
      'deleted',
    ]);
  });

  it('applies a status that arrived before its message when the message arrives', async () => {
    const applied = await applyStatuses(store, [
      { wamid: 'wamid.EARLY', status: 'delivered', occurredAt: new Date(T0 + 2000) },
      { wamid: 'wamid.EARLY', status: 'sent', occurredAt: new Date(T0 + 1000) },
    ]);
    expect(applied).toBe(0);
    await recordMessages(store, [
      msg({ clientId, waId: '34333', wamid: 'wamid.EARLY', role: 'assistant', createdAt: new Date(T0) }),
    ]);
    const m = await store.messages.byWamid('wamid.EARLY');
    expect(m?.status).toBe('delivered');
    expect(m?.statusAt?.getTime()).toBe(T0 + 2000);

    // Two failures before the message: the one that arrived first is the one it shows.
    await applyStatuses(store, [
      { wamid: 'wamid.EARLY2', status: 'failed', occurredAt: new Date(T0 + 2000), errorCode: 131047 },
    ]);
    await applyStatuses(store, [
      { wamid: 'wamid.EARLY2', status: 'failed', occurredAt: new Date(T0 + 1000), errorCode: 130429 },
    ]);
    await recordMessages(store, [
      msg({ clientId, waId: '34333', wamid: 'wamid.EARLY2', role: 'assistant', createdAt: new Date(T0) }),
    ]);
    expect(await store.messages.byWamid('wamid.EARLY2')).toMatchObject({ status: 'failed', errorCode: 131047 });
  });

  it('writes messages, statuses and raw events of a batch in one transaction, raw content once', async () => {
    const r = await store.ingest.write({
      messages: [msg({ clientId, waId: '34444', wamid: 'wamid.B1' })],
      statuses: [{ wamid: 'wamid.B1', status: 'read', occurredAt: new Date(T0 + 1) }],
      rawEvents: [
        { kind: 'unknown_field', payload: '{"field":"calls"}', phoneNumberId: 'PNID1' },
        { kind: 'unknown_field', payload: '{"field":"calls"}' },
      ],
    });
    expect(r.inserted).toHaveLength(1);
    expect(r.statusesApplied).toBe(1);
    await recordRawEvents(store, [{ kind: 'unknown_field', payload: '{"field":"calls"}' }]);
    const raws = await sql(store).all<{ n: unknown }>(`SELECT COUNT(*) AS n FROM raw_events`);
    expect(Number(raws[0]?.n)).toBe(1);
    // A failing batch leaves nothing behind.
    await expect(
      store.ingest.write({
        messages: [
          msg({ clientId, waId: '34444', wamid: 'wamid.B2' }),
          msg({ clientId: 424242, waId: '34444', wamid: 'wamid.B3' }),
        ],
      }),
    ).rejects.toThrow();
    expect(await store.messages.byWamid('wamid.B2')).toBeNull();
  });

  it(
    'stores a mixed batch as one: repeated wamids, erased ones, no wamid, ' + 'NUL characters, several conversations',
    async () => {
      await recordMessages(store, [msg({ clientId, waId: '34555', wamid: 'wamid.GONE', contactName: 'Gone' })]);
      await eraseContact(store, '34555', { actor: 'test' });
      const r = await recordMessages(store, [
        msg({ clientId, waId: '34666', wamid: 'wamid.M1', contactName: 'Old name', createdAt: new Date(T0 + 3000) }),
        msg({ clientId, waId: '34555', wamid: 'wamid.GONE', contactName: 'Gone' }), // redelivered after the erase
        msg({ clientId, waId: '34777', wamid: 'wamid.M2', content: 'a\u0000b' }),
        // the same message twice in one batch
        msg({ clientId, waId: '34666', wamid: 'wamid.M1', contactName: 'Old name', createdAt: new Date(T0 + 3000) }),
        msg({
          clientId,
          waId: '34666',
          wamid: null,
          role: 'assistant',
          content: 'sin wamid',
          createdAt: new Date(T0 + 1000),
        }),
        msg({ clientId, waId: '34666', wamid: 'wamid.M3', contactName: 'New name', createdAt: new Date(T0 + 2000) }),
        msg({ clientId, waId: '34666', wamid: 'wamid.M4', contactName: null, createdAt: new Date(T0 + 4000) }),
      ]);
      expect(r.inserted.map((m) => m.wamid)).toEqual(['wamid.M1', 'wamid.M2', null, 'wamid.M3', 'wamid.M4']);
      expect(r.inserted.map((m) => m.id)).toEqual([...r.inserted.map((m) => m.id)].sort((a, b) => a - b));
      expect(r.duplicates).toBe(2);
      expect(await store.threads.find(clientId, '34555')).toBeNull();
      expect(await store.messages.byWamid('wamid.GONE')).toBeNull();
      const thread = await store.threads.find(clientId, '34666');
      expect(thread).toMatchObject({ contactName: 'New name' });
      expect(thread?.createdAt.getTime()).toBe(T0 + 1000);
      expect(thread?.lastMessageAt.getTime()).toBe(T0 + 4000);
      expect(r.inserted.filter((m) => m.threadId === thread?.id)).toHaveLength(4);
      expect((await store.messages.page(thread!.id)).map((m) => m.wamid)).toEqual([
        null,
        'wamid.M3',
        'wamid.M1',
        'wamid.M4',
      ]);
      expect((await store.messages.byWamid('wamid.M2'))?.content).toBe(
        store.dialect === 'postgres' ? 'a\uFFFDb' : 'a\u0000b',
      );
    },
  );

  it('leaves a message as one-by-one updates would when a batch brings many statuses for it', async () => {
    // Seeded: the same 40 random histories every run.
    let seed = 12345;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)] as T;
    const names = ['sent', 'delivered', 'read', 'failed', 'played', 'deleted', 'sent'];
    for (let k = 0; k < 40; k++) {
      const start = pick(['sending', 'sent', null]);
      await recordMessages(
        store,
        ['BATCH', 'ONE'].map((w) =>
          msg({ clientId, waId: '34888', wamid: `wamid.${w}.${k}`, role: 'assistant', status: start }),
        ),
      );
      const history = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({
        status: pick(names),
        occurredAt: new Date(T0 + Math.floor(random() * 4) * 1000),
        errorCode: random() < 0.5 ? pick([131047, 130429, 131026]) : null,
        errorTitle: random() < 0.5 ? 'Error' : null,
      }));
      await applyStatuses(
        store,
        history.map((s) => ({ ...s, wamid: `wamid.BATCH.${k}` })),
      );
      for (const s of history) await applyStatuses(store, [{ ...s, wamid: `wamid.ONE.${k}` }]);
      const [batched, oneByOne] = await Promise.all([
        store.messages.byWamid(`wamid.BATCH.${k}`),
        store.messages.byWamid(`wamid.ONE.${k}`),
      ]);
      const state = (m: typeof batched) => ({
        status: m?.status,
        at: m?.statusAt?.getTime() ?? null,
        code: m?.errorCode,
        error: m?.errorMessage,
      });
      expect(state(batched), JSON.stringify({ start, history })).toEqual(state(oneByOne));
      expect(
        (await store.messages.statusHistory(`wamid.BATCH.${k}`)).map((e) => [e.status, e.occurredAt.getTime()]),
      ).toEqual((await store.messages.statusHistory(`wamid.ONE.${k}`)).map((e) => [e.status, e.occurredAt.getTime()]));
    }
  });

  it('filters conversations by date at day boundaries in the reader’s zone', async () => {
    const c = await store.clients.create({ name: 'Dates', phoneNumber: '+34600000003', phoneNumberId: 'PNID-DATES' });
    // Madrid is UTC+1 in January: 2024-01-15 23:30 local is 22:30Z; 2024-01-16 00:30 local is 23:30Z on the 15th.
    await recordMessages(store, [
      // 15th 00:30 Madrid
      msg({ clientId: c.id, waId: '3401', wamid: 'd1', createdAt: new Date('2024-01-14T23:30:00Z') }),
      // 15th 23:30 Madrid
      msg({ clientId: c.id, waId: '3402', wamid: 'd2', createdAt: new Date('2024-01-15T22:30:00Z') }),
      // 16th 00:30 Madrid
      msg({ clientId: c.id, waId: '3403', wamid: 'd3', createdAt: new Date('2024-01-15T23:30:00Z') }),
      // 14th 23:59:59 Madrid
      msg({ clientId: c.id, waId: '3403', wamid: 'd4', createdAt: new Date('2024-01-14T22:59:59Z') }),
    ]);
    const tz = 'Europe/Madrid';
    const day15 = await store.threads.list({
      clientId: c.id,
      start: parseDateBound('2024-01-15', tz, 'start'),
      end: parseDateBound('2024-01-15', tz, 'end'),
    });
    expect(day15.conversations.map((x) => x.waId).sort()).toEqual(['3401', '3402']);
    expect(day15.total).toBe(2);
    const from16 = await store.threads.list({ clientId: c.id, start: parseDateBound('2024-01-16', tz, 'start') });
    expect(from16.conversations).toMatchObject([{ waId: '3403', messageCount: 1 }]);
    const utcDay15 = await store.threads.list({
      clientId: c.id,
      start: parseDateBound('2024-01-15', 'UTC', 'start'),
      end: parseDateBound('2024-01-15', 'UTC', 'end'),
    });
    expect(utcDay15.conversations.map((x) => x.waId).sort()).toEqual(['3402', '3403']);
    const all = await store.threads.list({ clientId: c.id });
    expect(all.conversations.map((x) => [x.waId, x.messageCount])).toEqual([
      ['3403', 2],
      ['3402', 1],
      ['3401', 1],
    ]);
    const one = await store.threads.list({ clientId: c.id, waId: '3403' });
    expect(one.total).toBe(1);
  });

  it('pages conversations with an opaque cursor, newest activity first', async () => {
    const c = await store.clients.create({ name: 'Pages', phoneNumber: '+34600000004', phoneNumberId: 'PNID-PAGES' });
    const batch = Array.from({ length: 25 }, (_, i) =>
      msg({
        clientId: c.id,
        waId: `3450${String(i).padStart(3, '0')}`,
        wamid: `p${i}`,
        createdAt: new Date(T0 + (i % 5) * 1000),
      }),
    );
    await recordMessages(store, batch);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.threads.list({ clientId: c.id }, { limit: 10, cursor });
      expect(page.total).toBe(25);
      seen.push(...page.conversations.map((x) => x.waId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(25);
    const expected = [...batch].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || 0).map((m) => m.waId);
    // Same activity time → newer thread (higher id) first; ids follow insertion order.
    expect(seen.map((w) => batch.find((m) => m.waId === w)!.createdAt.getTime())).toEqual(
      expected.map((w) => batch.find((m) => m.waId === w)!.createdAt.getTime()),
    );
    await expect(store.threads.list({ clientId: c.id }, { cursor: 'garbage' })).rejects.toThrow(/cursor/);
  });

  it('streams a 10,000-message conversation in keyset batches, in order, each message once', async () => {
    const c = await store.clients.create({ name: 'Big', phoneNumber: '+34600000005', phoneNumberId: 'PNID-BIG' });
    const total = 10_000;
    for (let i = 0; i < total; i += 2000) {
      // Many messages share a second, as in a busy chat: the id breaks ties.
      await recordMessages(
        store,
        Array.from({ length: 2000 }, (_, j) => {
          const n = i + j;
          return msg({
            clientId: c.id,
            waId: '3499',
            wamid: `big${n}`,
            createdAt: new Date(T0 + Math.floor(n / 7) * 1000),
            content: `m${n}`,
            role: n % 2 ? 'assistant' : 'user',
          });
        }),
      );
    }
    const thread = await store.threads.find(c.id, '3499');
    const contents: string[] = [];
    let batches = 0;
    let previous = -Infinity;
    for await (const batch of store.messages.stream(thread!.id, { batchSize: 1000 })) {
      batches++;
      expect(batch.length).toBeLessThanOrEqual(1000);
      for (const m of batch) {
        expect(m.createdAt.getTime()).toBeGreaterThanOrEqual(previous);
        previous = m.createdAt.getTime();
        contents.push(m.content);
      }
    }
    expect(batches).toBe(10);
    expect(contents).toHaveLength(total);
    expect(contents).toEqual(Array.from({ length: total }, (_, n) => `m${n}`));
    const ranged = await store.messages.page(thread!.id, {
      start: new Date(T0 + 1000 * 1000),
      end: new Date(T0 + 1001 * 1000),
      limit: 50,
    });
    expect(ranged.map((m) => m.content)).toEqual(Array.from({ length: 7 }, (_, k) => `m${7000 + k}`));
  });

  it('answers the original SQL questions: messages per client, active in 24 h, failed messages', async () => {
    const c = await store.clients.create({ name: 'Stats', phoneNumber: '+34600000006', phoneNumberId: 'PNID-STATS' });
    const now = new Date('2024-02-01T12:00:00Z');
    await recordMessages(store, [
      msg({ clientId: c.id, waId: '3461', wamid: 's1', createdAt: new Date('2024-02-01T10:00:00Z') }),
      msg({
        clientId: c.id,
        waId: '3461',
        wamid: 's2',
        role: 'assistant',
        status: 'sent',
        createdAt: new Date('2024-02-01T10:00:05Z'),
      }),
      msg({
        clientId: c.id,
        waId: '3462',
        wamid: 's3',
        role: 'assistant',
        status: 'sent',
        createdAt: new Date('2024-01-20T10:00:00Z'),
      }),
      msg({
        clientId: c.id,
        waId: '3462',
        wamid: 's4',
        role: 'agent',
        status: 'sent',
        createdAt: new Date('2024-01-20T10:01:00Z'),
      }),
    ]);
    await applyStatuses(store, [
      { wamid: 's2', status: 'read', occurredAt: new Date('2024-02-01T10:00:09Z') },
      {
        wamid: 's3',
        status: 'failed',
        occurredAt: new Date('2024-01-20T10:00:01Z'),
        errorCode: 131026,
        errorTitle: 'Message undeliverable',
      },
    ]);
    const [s] = await store.statistics.perClient({ clientId: c.id, now });
    expect(s).toMatchObject({
      clientId: c.id,
      clientName: 'Stats',
      conversations: 2,
      activeLast24h: 1,
      messages: 4,
      messagesByRole: { user: 1, assistant: 2, agent: 1 },
      failed: 1,
      outboundByStatus: { read: 1, failed: 1, sent: 1 },
    });
    expect(s?.deliveryRate).toBeCloseTo(1 / 3);
    expect(s?.readRate).toBeCloseTo(1 / 3);
    const active = await store.threads.active(new Date(now.getTime() - 24 * 3600_000), c.id);
    expect(active.map((a) => a.waId)).toEqual(['3461']);
    const failed = await store.messages.failed({ clientId: c.id });
    expect(failed).toMatchObject([{ wamid: 's3', errorCode: 131026, errorMessage: '131026 Message undeliverable' }]);
    const all = await store.statistics.perClient({ now });
    expect(all.find((x) => x.clientId === c.id)?.messages).toBe(4);
  });

  it('uses indexes, not full scans, for the original three SQL questions', async () => {
    const plans: string[] = [];
    const explain = async (text: string, params: unknown[]) => {
      if (kind.name === 'sqlite') {
        const rows = await sql(store).all<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params);
        return rows.map((r) => r.detail).join('\n');
      }
      // Tiny tables make sequential scans cheapest; forbid them to see whether an index can answer.
      const rows = await sql(store).all<Record<string, string>>(`EXPLAIN ${text}`, params);
      return rows.map((r) => Object.values(r)[0]).join('\n');
    };
    const since = new Date(Date.now() - 24 * 3600_000);
    const questions = [
      ['SELECT client_id, COUNT(*) AS n FROM messages GROUP BY client_id', []],
      [
        'SELECT t.wa_id, t.last_message_at FROM threads t WHERE t.last_message_at > ? ORDER BY t.last_message_at DESC',
        [since],
      ],
      [`SELECT id FROM messages WHERE status = 'failed' ORDER BY created_at DESC`, []],
    ] as const;
    if (kind.name === 'postgres')
      await sql(store).all('SELECT set_config($1, $2, false)'.replace(/\$\d/g, '?'), ['enable_seqscan', 'off']);
    for (const [text, params] of questions) plans.push(await explain(text, [...params]));
    for (const plan of plans) {
      if (kind.name === 'sqlite') {
        expect(plan).toMatch(/USING (COVERING )?INDEX/);
        expect(plan).not.toMatch(/SCAN (messages|threads|t)$/m);
      } else {
        expect(plan).toMatch(/Index/);
        expect(plan).not.toMatch(/Seq Scan/);
      }
    }
  });

  it('erases a contact: threads, messages, status events and raw events', async () => {
    const c = await store.clients.create({ name: 'Erase', phoneNumber: '+34600000007', phoneNumberId: 'PNID-ERASE' });
    await store.ingest.write({
      messages: [
        msg({ clientId: c.id, waId: '3471', wamid: 'e1' }),
        msg({ clientId: c.id, waId: '3471', wamid: 'e2', role: 'assistant' }),
        msg({ clientId: c.id, waId: '3472', wamid: 'e3' }),
      ],
      statuses: [{ wamid: 'e2', status: 'sent', occurredAt: new Date(T0), recipientId: '3471' }],
      rawEvents: [{ kind: 'unparsed_message', waId: '3471', phoneNumberId: 'PNID-ERASE', payload: '{"x":1}' }],
    });
    const erased = await eraseContact(store, '3471', { actor: 'test' });
    expect(erased).toMatchObject({ threads: 1, messages: 2, statusEvents: 1, rawEvents: 1 });
    expect(await store.threads.find(c.id, '3471')).toBeNull();
    expect(await store.messages.byWamid('e1')).toBeNull();
    expect(await store.messages.statusHistory('e2')).toEqual([]);
    expect(await store.messages.byWamid('e3')).not.toBeNull();
    expect(await eraseContact(store, '3471', { actor: 'test' })).toEqual({
      threads: 0,
      messages: 0,
      statusEvents: 0,
      rawEvents: 0,
      auditId: null,
    });
  });

  it('keeps statuses named like object properties as events only', async () => {
    await recordMessages(store, [
      msg({ clientId, waId: '34999', wamid: 'wamid.PROTO', role: 'assistant', status: 'sent' }),
    ]);
    for (const status of ['constructor', '__proto__', 'toString']) {
      await applyStatuses(store, [{ wamid: 'wamid.PROTO', status, occurredAt: new Date(T0 + 1000) }]);
    }
    expect((await store.messages.byWamid('wamid.PROTO'))?.status).toBe('sent');
    expect((await store.messages.statusHistory('wamid.PROTO')).map((e) => e.status)).toEqual([
      'constructor',
      '__proto__',
      'toString',
    ]);
  });

  // Last: it changes the schema under the open store.
  it('keeps writing after a migration changes a table under the running store', async () => {
    await recordMessages(store, [msg({ clientId, waId: '34998', wamid: 'wamid.MIG1' })]);
    // PostgreSQL: a result column's type changes under the prepared ingest statement; SQLite re-prepares by itself.
    if (store.dialect === 'postgres') await sql(store).run('ALTER TABLE messages ALTER COLUMN id TYPE bigint');
    else await sql(store).run('ALTER TABLE messages ADD COLUMN migrated_note TEXT');
    // Connections that had prepared the statement are dropped and the batch runs again: no failure.
    const r = await recordMessages(store, [msg({ clientId, waId: '34998', wamid: 'wamid.MIG2' })]);
    expect(r.inserted.map((m) => m.wamid)).toEqual(['wamid.MIG2']);
    expect(await store.messages.byWamid('wamid.MIG2')).not.toBeNull();
    await applyStatuses(store, [{ wamid: 'wamid.MIG2', status: 'read', occurredAt: new Date(T0 + 1) }]);
    expect((await store.messages.byWamid('wamid.MIG2'))?.status).toBe('read');
  });
});
