// Rollups against the exact answers on random data: inserts (with duplicates), status changes in any
// order, a contact erased, conversations ended, a rebuild; the sums over random ranges equal what
// JavaScript counts from the messages themselves, regrouped into a +5:45 zone's days and hours as Intl
// says, `check` finds no difference, and the session figures equal those of the list of sessions.
// On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { mulberry32 } from '../../src/domain/random.js';
import type { NewMessage, Role, StatusUpdate } from '../../src/domain/types.js';
import { eraseContact } from '../../src/privacy/contact.js';
import { collectStatistics, dayIn, fillDays } from '../../src/reports/build.js';
import { ZoneClock } from '../../src/domain/zone-clock.js';
import { toDate } from '../../src/db/rows.js';
import { sentimentFigures } from '../../src/reports/sentiment.js';
import { sessionFigures } from '../../src/reports/sessions.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { applyStatuses, recordMessages, sql } from '../helpers/store.js';

const T0 = Date.parse('2025-03-01T00:00:00Z');
const SPAN = 40 * 86_400_000;
const ROLES: Role[] = ['user', 'assistant', 'agent'];
const STATUSES = ['sent', 'delivered', 'read', 'failed'];
const TEXTS = [
  'Muchas gracias, excelente servicio',
  'Esto es terrible, nadie me ayuda',
  'Hola, ¿abrís el domingo?',
  'Great, thanks a lot!',
  'This is awful and slow',
  'ok',
];

describe.each(databaseKinds)('rollups on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  const clientIds: number[] = [];
  const random = mulberry32(20261202);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    for (const n of [1, 2]) {
      clientIds.push(
        (await store.clients.create({ name: `Client ${n}`, phoneNumber: `+1555000000${n}`, phoneNumberId: `PN${n}` }))
          .id,
      );
    }
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  /** The message columns counted in JavaScript from the rows themselves (not from the rollups' SQL). */
  async function exact(filter: { clientId?: number; start?: Date; end?: Date }) {
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
    const rows = await sql(store).all<Record<string, unknown>>(
      `SELECT client_id, role, status, sentiment, csat_survey_id, type FROM messages
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
      params,
    );
    const out: Record<string, Record<string, number>> = {};
    for (const r of rows) {
      const o = (out[String(r.client_id)] ??= {});
      const add = (k: string, n = 1) => (o[k] = (o[k] ?? 0) + n);
      add(`m_${r.role}`);
      if (r.status === 'failed') add('m_failed');
      if (r.role !== 'user') add(`o_${r.status ?? 'none'}`);
      if (r.role === 'user' && r.csat_survey_id === null) {
        if (r.sentiment === null) {
          if (r.type === 'text') add('s_unscored');
        } else {
          const score = Number(r.sentiment);
          add('s_scored');
          // A score of 0 adds nothing (the rollups' side leaves zero sums out).
          if (Math.round(score * 1000) !== 0) add('s_milli', Math.round(score * 1000));
          if (score <= -0.3) add('s_negative');
          if (score >= 0.3) add('s_positive');
        }
      }
    }
    return out;
  }

  async function viaRollups(filter: { clientId?: number; start?: Date; end?: Date }) {
    const out: Record<string, Record<string, number>> = {};
    for (const r of await store.rollups.sums('messages', filter, { unit: 'all' })) {
      const nonZero = Object.entries(r.sums).filter(([, n]) => n !== 0);
      if (nonZero.length) out[String(r.clientId)] = Object.fromEntries(nonZero);
    }
    return out;
  }

  async function expectAgreement() {
    expect(await store.rollups.check()).toMatchObject({ differences: [] });
    for (let i = 0; i < 25; i++) {
      const a = T0 - 86_400_000 + Math.floor(random() * (SPAN + 2 * 86_400_000));
      const b = a + Math.floor(random() * SPAN);
      const filter = {
        clientId: random() < 0.3 ? undefined : pick(clientIds),
        start: random() < 0.1 ? undefined : new Date(a),
        end: random() < 0.1 ? undefined : new Date(b),
      };
      expect(await viaRollups(filter), JSON.stringify(filter)).toEqual(await exact(filter));
      // Threads open in the period: first message before its end, last at or after its start.
      const open = await sql(store).all<{ client_id: unknown; n: unknown }>(
        `SELECT client_id, COUNT(*) AS n FROM threads WHERE 1 = 1
         ${filter.clientId === undefined ? '' : 'AND client_id = ?'} ${filter.start ? 'AND last_message_at >= ?' : ''}
         ${filter.end ? 'AND created_at < ?' : ''} GROUP BY client_id`,
        [filter.clientId, filter.start, filter.end].filter((v) => v !== undefined),
      );
      expect(await store.rollups.threadCounts(filter), JSON.stringify(filter)).toEqual(
        new Map(open.map((r) => [Number(r.client_id), Number(r.n)])),
      );
      // The conversation list's size (the same figure), and narrowed to failures (counted exactly): by a
      // plain DISTINCT over messages.
      const inPeriod = (extra: string) =>
        sql(store).all<{ n: unknown }>(
          `SELECT COUNT(DISTINCT thread_id) AS n FROM messages WHERE 1 = 1 ${extra}
           ${filter.clientId === undefined ? '' : 'AND client_id = ?'} ${filter.start ? 'AND created_at >= ?' : ''}
           ${filter.end ? 'AND created_at < ?' : ''}`,
          [filter.clientId, filter.start, filter.end].filter((v) => v !== undefined),
        );
      const [listed] = await inPeriod('');
      expect(await store.threadSearch.search(filter, { limit: 1 }), JSON.stringify(filter)).toMatchObject({
        total: Number(listed?.n),
        more: false,
      });
      const [failing] = await inPeriod("AND status = 'failed'");
      expect(
        (await store.threadSearch.search({ ...filter, failed: true }, { limit: 1 })).total,
        JSON.stringify(filter),
      ).toBe(Number(failing?.n));
      if (filter.start && filter.end) {
        // Active users: threads with a message in the period, by a plain DISTINCT over messages.
        const rows = await sql(store).all<{ client_id: unknown; n: unknown }>(
          `SELECT client_id, COUNT(DISTINCT thread_id) AS n FROM messages WHERE created_at >= ? AND created_at < ?
           ${filter.clientId === undefined ? '' : 'AND client_id = ?'} GROUP BY client_id`,
          [filter.start, filter.end, ...(filter.clientId === undefined ? [] : [filter.clientId])],
        );
        const active = await store.statistics.activeUsers(filter);
        expect(active, JSON.stringify(filter)).toEqual(new Map(rows.map((r) => [Number(r.client_id), Number(r.n)])));
      }
    }
    // Regrouped in SQL into the days and weekday-hours of a zone, as Intl says of each message: +5:45 (from
    // the quarter-hour rows), Madrid and New York across their changes (from the hourly rows), 14 hours
    // east of UTC, and a zone whose change crosses +12:00.
    for (const zone of [
      'Asia/Kathmandu',
      'Europe/Madrid',
      'America/New_York',
      'Pacific/Kiritimati',
      'Pacific/Norfolk',
    ]) {
      const clock = new ZoneClock(zone, new Date(T0 - 86_400_000), new Date(T0 + SPAN + 86_400_000));
      const day = dayIn(zone);
      const hour = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        hour: '2-digit',
        hourCycle: 'h23',
        weekday: 'short',
      });
      const start = new Date(T0 + Math.floor(random() * 86_400_000));
      const end = new Date(start.getTime() + 30 * 86_400_000 + Math.floor(random() * 86_400_000));
      const rows = await sql(store).all<{ created_at: unknown }>(
        'SELECT created_at FROM messages WHERE client_id = ? AND created_at >= ? AND created_at < ?',
        [clientIds[0], start, end],
      );
      const wantDays = new Map<string, number>();
      const wantHours = new Map<string, number>();
      for (const r of rows) {
        const at = toDate(r.created_at);
        wantDays.set(day(at), (wantDays.get(day(at)) ?? 0) + 1);
        const parts = hour.formatToParts(at);
        const k = `${parts.find((p) => p.type === 'weekday')?.value} ${parts.find((p) => p.type === 'hour')?.value}`;
        wantHours.set(k, (wantHours.get(k) ?? 0) + 1);
      }
      const filter = { clientId: clientIds[0], start, end };
      const days = new Map<string, number>();
      for (const r of await store.rollups.sums('messages', filter, { unit: 'day', offsets: clock.offsets() })) {
        const n = (r.sums.m_user ?? 0) + (r.sums.m_assistant ?? 0) + (r.sums.m_agent ?? 0);
        if (n) days.set(new Date(r.key * 86_400_000).toISOString().slice(0, 10), n);
      }
      expect(days).toEqual(wantDays);
      const names = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
      const hours = new Map<string, number>();
      for (const r of await store.rollups.sums('messages', filter, { unit: 'weekhour', offsets: clock.offsets() })) {
        const n = (r.sums.m_user ?? 0) + (r.sums.m_assistant ?? 0) + (r.sums.m_agent ?? 0);
        if (n) hours.set(`${names[Math.floor(r.key / 24)]} ${String(r.key % 24).padStart(2, '0')}`, n);
      }
      expect(hours).toEqual(wantHours);
    }
  }

  it('agree with COUNT(*) after inserts, duplicates, out-of-order statuses and an erasure', async () => {
    const messages: NewMessage[] = [];
    for (let i = 0; i < 1500; i++) {
      const clientId = pick(clientIds);
      const role = pick(ROLES);
      messages.push({
        clientId,
        waId: `3460000${String(Math.floor(random() * 40)).padStart(4, '0')}`,
        role,
        type: 'text',
        content: pick(TEXTS),
        wamid: `wamid.R${i}`,
        phoneNumberId: clientId === clientIds[0] ? 'PN1' : 'PN2',
        // Some exactly on a quarter hour, the rest anywhere (milliseconds included).
        createdAt: new Date(
          random() < 0.1 ? T0 + Math.floor(random() * 3840) * 900_000 : T0 + Math.floor(random() * SPAN),
        ),
        ...(role === 'user' ? {} : { status: random() < 0.5 ? 'sent' : null }),
      } as NewMessage);
    }
    for (let i = 0; i < messages.length; i += 300) await recordMessages(store, messages.slice(i, i + 300));
    // Redelivered: nothing changes.
    await recordMessages(store, messages.slice(0, 200));
    await expectAgreement();

    const outbound = messages.filter((m) => m.role !== 'user');
    const statuses: StatusUpdate[] = [];
    for (let i = 0; i < 1200; i++) {
      const m = pick(outbound);
      statuses.push({ wamid: m.wamid as string, status: pick(STATUSES), occurredAt: new Date(T0 + i * 1000) });
    }
    for (let i = 0; i < statuses.length; i += 200) await applyStatuses(store, statuses.slice(i, i + 200));
    await expectAgreement();

    const victim = messages[0] as NewMessage;
    await eraseContact(store, victim.waId, { actor: 'test' });
    await expectAgreement();
  });

  it('count a batch once, its statuses before, with or after it, and a failed batch not at all', async () => {
    const batch = (from: number, n: number, prefix = 'wamid.B'): NewMessage[] =>
      Array.from({ length: n }, (_, i) => {
        const role = pick(ROLES);
        return {
          clientId: clientIds[1] as number,
          waId: `3460001${String(i % 7).padStart(4, '0')}`,
          role,
          type: 'text',
          content: pick(TEXTS),
          wamid: `${prefix}${from + i}`,
          phoneNumberId: 'PN2',
          createdAt: new Date(T0 + Math.floor(random() * SPAN)),
          ...(role === 'user' ? {} : { status: 'sent' }),
        } as NewMessage;
      });
    const statusesOf = (ms: NewMessage[], status: string) =>
      ms
        .filter((m) => m.role !== 'user')
        .map((m) => ({ wamid: m.wamid as string, status, occurredAt: new Date(T0 + SPAN) }));
    const first = batch(0, 120);
    // Statuses before their messages (kept, then applied as the messages are stored), with them in one
    // batch, and after them; a redelivery of the whole batch.
    await store.ingest.write({ statuses: statusesOf(first.slice(0, 40), 'delivered') });
    await store.ingest.write({ messages: first, statuses: statusesOf(first.slice(40, 80), 'failed') });
    await store.ingest.write({ statuses: statusesOf(first.slice(80), 'read') });
    await store.ingest.write({ messages: first, statuses: statusesOf(first, 'read') });
    // A batch that fails half-way (an unknown role) stores nothing and leaves no note.
    const broken = [
      ...batch(0, 30, 'wamid.X'),
      { ...batch(30, 1, 'wamid.X')[0], role: 'robot' } as unknown as NewMessage,
    ];
    await expect(store.ingest.write({ messages: broken })).rejects.toThrow(/role/);
    expect(await sql(store).all("SELECT id FROM messages WHERE wamid LIKE 'wamid.X%'")).toEqual([]);
    expect(
      await sql(store)
        .all('SELECT * FROM rollup_deferrals')
        .catch(() => []),
    ).toEqual([]);
    // What other writers insert and update is counted by the triggers.
    await sql(store).run(
      `INSERT INTO messages (thread_id, client_id, role, type, content, wamid, wa_id, phone_number_id, created_at,
         status, inserted_at)
       SELECT thread_id, client_id, 'assistant', 'text', 'ok', 'wamid.B-other', wa_id, phone_number_id, created_at,
         'sent', inserted_at FROM messages WHERE wamid = 'wamid.B0'`,
    );
    await sql(store).run(`UPDATE messages SET status = 'failed' WHERE wamid IN ('wamid.B-other', 'wamid.B1')`);
    await sql(store).run(`UPDATE messages SET created_at = inserted_at WHERE wamid = 'wamid.B2'`);
    await expectAgreement();
  });

  it('give the session figures that the list of sessions gives', async () => {
    const zone = 'Asia/Kathmandu';
    const day = dayIn(zone);
    // Ended by the sweep (an update of every open conversation), then counted.
    await store.conversations.sweep(new Date(T0 + SPAN + 30 * 86_400_000));
    expect(await store.rollups.check()).toMatchObject({ differences: [] });
    for (let i = 0; i < 12; i++) {
      const a = T0 - 86_400_000 + Math.floor(random() * (SPAN + 2 * 86_400_000));
      const filter = {
        clientId: random() < 0.3 ? undefined : pick(clientIds),
        start: random() < 0.1 ? undefined : new Date(a),
        end: random() < 0.1 ? undefined : new Date(a + Math.floor(random() * SPAN)),
      };
      const list = await store.statistics.sessions(filter);
      const { statistics } = await collectStatistics(store, {
        clientId: filter.clientId,
        since: filter.start,
        until: filter.end,
        timeZone: zone,
        now: new Date(T0 + SPAN + 30 * 86_400_000),
        responseTimes: false,
      });
      for (const clientId of clientIds) {
        if (filter.clientId !== undefined && filter.clientId !== clientId) continue;
        const mine = list.filter((s) => s.clientId === clientId);
        const got = statistics.find((s) => s.clientId === clientId);
        expect(got?.sessions, JSON.stringify(filter)).toEqual(sessionFigures(mine, day, fillDays));
        const fromList = sentimentFigures(undefined, mine);
        expect(got?.sentiment.worst).toEqual(fromList.worst);
        expect(got?.sentiment.sessions.scored).toBe(fromList.sessions.scored);
        for (const k of ['opening', 'closing', 'change'] as const) {
          expect(got?.sentiment.sessions[k] ?? 0).toBeCloseTo(fromList.sessions[k] ?? 0, 2);
        }
      }
      expect(list.length).toBe(statistics.reduce((n, c) => n + c.sessions.total, 0));
    }
    const all = await store.statistics.sessions({});
    expect(all.some((s) => s.sentimentCount > 0)).toBe(true);
    expect(all.some((s) => s.endedAt !== null && s.firstResponseAt !== null)).toBe(true);
  });

  it('are rebuilt from messages after they drift', async () => {
    await sql(store).run(
      'UPDATE message_rollups SET m_user = m_user + 7 WHERE bucket IN (SELECT MIN(bucket) FROM message_rollups)',
    );
    await sql(store).run('DELETE FROM message_rollups WHERE bucket IN (SELECT MAX(bucket) FROM message_rollups)');
    await sql(store).run(
      'UPDATE session_rollups SET c_open = c_open + 1 WHERE bucket IN (SELECT MIN(bucket) FROM session_rollups)',
    );
    await sql(store).run('DELETE FROM session_seconds WHERE day IN (SELECT MAX(day) FROM session_seconds)');
    await sql(store).run(
      'UPDATE thread_rollups SET last_n = last_n - 1 WHERE day IN (SELECT MAX(day) FROM thread_rollups)',
    );
    const drifted = await store.rollups.check();
    expect(new Set(drifted.differences.map((d) => d.table))).toEqual(
      new Set(['message_rollups', 'session_rollups', 'session_seconds', 'thread_rollups']),
    );
    expect(drifted.differences).toContainEqual(expect.objectContaining({ table: 'message_rollups', column: 'm_user' }));
    const rows = await store.rollups.rebuild();
    expect(rows).toBeGreaterThan(0);
    await expectAgreement();
  });
});
