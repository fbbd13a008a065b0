// Rollups against the exact queries on random data: inserts (with duplicates), status changes in any
// order, a contact erased, a rebuild; every answer of `counts` over random ranges equals COUNT(*) over
// messages, and `check` finds no difference. Session figures by SQL equal those of the list of
// sessions. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { mulberry32 } from '../../src/domain/random.js';
import type { NewMessage, Role, StatusUpdate } from '../../src/domain/types.js';
import { eraseContact } from '../../src/privacy/contact.js';
import { dayIn, fillDays } from '../../src/reports/build.js';
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

describe.each(databaseKinds)('message rollups on $name', (kind) => {
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
    const rows = await sql(store).all<{ client_id: unknown; role: string; status: string | null; n: unknown }>(
      `SELECT client_id, role, status, COUNT(*) AS n FROM messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       GROUP BY client_id, role, status`,
      params,
    );
    return Object.fromEntries(rows.map((r) => [`${r.client_id}|${r.role}|${r.status ?? ''}`, Number(r.n)]));
  }

  async function viaRollups(filter: { clientId?: number; start?: Date; end?: Date }) {
    // (A key may come twice: whole quarter hours and a partial one at an edge.)
    const sums: Record<string, number> = {};
    for (const r of await store.rollups.counts(filter, ['role', 'status'])) {
      const key = `${r.clientId}|${r.role}|${r.status ?? ''}`;
      sums[key] = (sums[key] ?? 0) + r.n;
    }
    return sums;
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
    }
    // The quarter hours regrouped: bucket counts add up to the same totals.
    const buckets = await store.statistics.timeBuckets({ clientId: clientIds[0] });
    const total = buckets.reduce((a, b) => a + b.n, 0);
    const [row] = await sql(store).all<{ n: unknown }>('SELECT COUNT(*) AS n FROM messages WHERE client_id = ?', [
      clientIds[0],
    ]);
    expect(total).toBe(Number(row?.n));
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

  it('give the session figures by SQL that the list of sessions gives', async () => {
    const day = dayIn('Asia/Kathmandu');
    for (let i = 0; i < 12; i++) {
      const a = T0 - 86_400_000 + Math.floor(random() * (SPAN + 2 * 86_400_000));
      const filter = {
        clientId: random() < 0.3 ? undefined : pick(clientIds),
        start: random() < 0.1 ? undefined : new Date(a),
        end: random() < 0.1 ? undefined : new Date(a + Math.floor(random() * SPAN)),
      };
      const list = await store.statistics.sessions(filter);
      const counted = await store.statistics.sessionCounts(filter);
      for (const clientId of clientIds) {
        if (filter.clientId !== undefined && filter.clientId !== clientId) continue;
        const mine = list.filter((s) => s.clientId === clientId);
        const sql = counted.get(clientId);
        expect(sessionFigures(sql?.counts ?? [], day, fillDays), JSON.stringify(filter)).toEqual(
          sessionFigures(mine, day, fillDays),
        );
        const fromSql = sentimentFigures(undefined, sql?.sentiment ?? []);
        const fromList = sentimentFigures(undefined, mine);
        expect(fromSql.worst).toEqual(fromList.worst);
        expect(fromSql.sessions.scored).toBe(fromList.sessions.scored);
        for (const k of ['opening', 'closing', 'change'] as const) {
          expect(fromSql.sessions[k] ?? 0).toBeCloseTo(fromList.sessions[k] ?? 0, 2);
        }
      }
      expect(list.length).toBe([...counted.values()].reduce((n, c) => n + c.counts.total, 0));
    }
    expect((await store.statistics.sessions({})).some((s) => s.sentimentCount > 0)).toBe(true);
  });

  it('are rebuilt from messages after they drift', async () => {
    await sql(store).run(
      'UPDATE message_rollups SET n = n + 7 WHERE bucket IN (SELECT MIN(bucket) FROM message_rollups)',
    );
    await sql(store).run('DELETE FROM message_rollups WHERE bucket IN (SELECT MAX(bucket) FROM message_rollups)');
    const drifted = await store.rollups.check();
    expect(drifted.differences.length).toBeGreaterThan(0);
    const rows = await store.rollups.rebuild();
    expect(rows).toBeGreaterThan(0);
    await expectAgreement();
  });
});
