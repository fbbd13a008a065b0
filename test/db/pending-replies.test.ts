// Claims on conversations to answer, on both databases: noted with the messages (only for clients
// with the assistant on, only for types it answers), one holder at a time, taken over when a lease
// runs out (what the previous holder left 'sending' marked failed), fenced (a daemon that lost its
// claim cannot record an answer), and answered again when messages arrive while the holder works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/db/store.js';
import { ABANDONED_REASON, ClaimLostError } from '../../src/db/repositories/pending-replies.js';
import type { NewMessage } from '../../src/domain/types.js';
import { databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { recordMessages, sql } from '../helpers/store.js';

const A = 'host-a:101:aaaa';
const B = 'host-b:202:bbbb';

describe.each(databaseKinds)('pending replies on $name', (kind) => {
  let db: TestDatabase;
  let store: Store;
  let assisted: number;
  let archived: number;
  let n = 0;

  const message = (clientId: number, waId: string, over: Partial<NewMessage> = {}): NewMessage => ({
    clientId,
    waId,
    role: 'user',
    type: 'text',
    content: `mensaje ${++n}`,
    wamid: `wamid.pending.${n}`,
    phoneNumberId: clientId === assisted ? 'PN-ASSISTED' : 'PN-ARCHIVED',
    createdAt: new Date(),
    ...over,
  });
  const threadOf = async (waId: string) => (await store.threads.ofContact(waId))[0]!.id;
  const row = async (threadId: number) =>
    (
      await sql(store).all<{ seq: unknown; lease_owner: string | null }>(
        'SELECT seq, lease_owner FROM pending_replies WHERE thread_id = ?',
        [threadId],
      )
    )[0];

  beforeAll(async () => {
    db = await kind.create();
    store = await openStore(db.target);
    assisted = (
      await store.clients.create({
        name: 'Assisted',
        phoneNumber: '+15550000001',
        phoneNumberId: 'PN-ASSISTED',
        assistantEnabled: true,
      })
    ).id;
    archived = (
      await store.clients.create({ name: 'Archived', phoneNumber: '+15550000002', phoneNumberId: 'PN-ARCHIVED' })
    ).id;
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('are noted with the messages of clients with the assistant on, once per commit', async () => {
    await recordMessages(store, [message(assisted, '34600100001'), message(assisted, '34600100001')]);
    await recordMessages(store, [
      message(archived, '34600100002'),
      message(assisted, '34600100003', { type: 'reaction' }),
      message(assisted, '34600100004', { role: 'agent' }),
    ]);
    const t1 = await threadOf('34600100001');
    expect(await row(t1)).toMatchObject({ lease_owner: null });
    expect(Number((await row(t1))!.seq)).toBe(1);
    expect(await row(await threadOf('34600100002'))).toBeUndefined();
    expect(await row(await threadOf('34600100003'))).toBeUndefined();
    expect(await row(await threadOf('34600100004'))).toBeUndefined();
    // A second commit counts again; a duplicate (same wamid) changes nothing.
    await recordMessages(store, [message(assisted, '34600100001')]);
    await recordMessages(store, [message(assisted, '34600100001', { wamid: 'wamid.pending.1' })]);
    expect(Number((await row(t1))!.seq)).toBe(2);
    expect(await store.pendingReplies.claimable(100)).toContain(t1);
  });

  it('have one holder at a time; a lease that ran out is taken over, and its sending answers fail', async () => {
    await recordMessages(store, [message(assisted, '34600100011')]);
    const t = await threadOf('34600100011');
    const now = Date.now();
    const first = await store.pendingReplies.claim(t, A, 1_000, new Date(now));
    expect(first).toMatchObject({ seq: 1, takenOverFrom: null, abandoned: 0 });
    expect(await store.pendingReplies.claim(t, B, 1_000, new Date(now + 500))).toBeNull();
    expect(await store.pendingReplies.claimable(100, new Date(now + 500))).not.toContain(t);
    // A records an answer as sending, then goes silent; after its lease B takes over.
    const [inbound] = await store.replies.pendingInbound(t, new Date(0));
    const answer = await store.replies.begin({
      threadId: t,
      content: 'quizá enviada',
      answersWamid: inbound!.wamid!,
      replyToWamid: null,
      claim: { owner: A, leaseMs: 1_000 },
    });
    const later = new Date(Date.now() + 5_000);
    expect(await store.pendingReplies.claimable(100, later)).toContain(t);
    const second = await store.pendingReplies.claim(t, B, 1_000, later);
    expect(second).toMatchObject({ seq: 1, takenOverFrom: A, abandoned: 1 });
    const [failed] = await sql(store).all<{ status: string; error_message: string }>(
      'SELECT status, error_message FROM messages WHERE id = ?',
      [answer],
    );
    expect(failed).toEqual({ status: 'failed', error_message: ABANDONED_REASON });
    // A comes back: its claim is gone, so it can neither record an answer nor finish B's claim.
    await expect(
      store.replies.begin({
        threadId: t,
        content: 'tarde',
        answersWamid: inbound!.wamid!,
        replyToWamid: null,
        claim: { owner: A, leaseMs: 1_000 },
      }),
    ).rejects.toBeInstanceOf(ClaimLostError);
    expect(await store.pendingReplies.finish(t, A, 1)).toBeNull();
    expect(await row(t)).toMatchObject({ lease_owner: B });
    expect(
      await sql(store).all(`SELECT id FROM messages WHERE thread_id = ? AND role = 'assistant' AND content = ?`, [
        t,
        'tarde',
      ]),
    ).toHaveLength(0);
  });

  it('move to the new seq when messages arrive while the holder answers, and go when it is done', async () => {
    await recordMessages(store, [message(assisted, '34600100021')]);
    const t = await threadOf('34600100021');
    const claim = await store.pendingReplies.claim(t, A, 10_000);
    await recordMessages(store, [message(assisted, '34600100021')]);
    // Another daemon stored that message and tried to claim: refused, the holder answers it.
    expect(await store.pendingReplies.claim(t, B, 10_000)).toBeNull();
    expect(await store.pendingReplies.finish(t, A, claim!.seq)).toBe(claim!.seq + 1);
    expect(await row(t)).toMatchObject({ lease_owner: A });
    expect(await store.pendingReplies.finish(t, A, claim!.seq + 1)).toBeNull();
    expect(await row(t)).toBeUndefined();
    // The next message notes the thread afresh, unclaimed.
    await recordMessages(store, [message(assisted, '34600100021')]);
    expect(await row(t)).toMatchObject({ lease_owner: null });
  });

  it('are renewed by their holder only, released for others, and expired when their daemon died', async () => {
    await recordMessages(store, [message(assisted, '34600100031'), message(assisted, '34600100032')]);
    const t1 = await threadOf('34600100031');
    const t2 = await threadOf('34600100032');
    const now = Date.now();
    await store.pendingReplies.claim(t1, A, 1_000, new Date(now));
    await store.pendingReplies.claim(t2, A, 1_000, new Date(now));
    expect(await store.pendingReplies.renew(B, [t1, t2], 60_000)).toBe(0);
    expect(await store.pendingReplies.renew(A, [t1], 60_000, new Date(now))).toBe(1);
    const inTwoSeconds = new Date(now + 2_000);
    const free = await store.pendingReplies.claimable(100, inTwoSeconds);
    expect(free).toContain(t2);
    expect(free).not.toContain(t1);
    expect(await store.pendingReplies.owners(new Date(now))).toContain(A);
    await store.pendingReplies.release(t2, A);
    expect(await row(t2)).toMatchObject({ lease_owner: null });
    await store.pendingReplies.expire(A);
    const before = await store.pendingReplies.backlog();
    expect(await store.pendingReplies.claim(t1, B, 1_000)).toMatchObject({ takenOverFrom: A });
    const after = await store.pendingReplies.backlog();
    expect(after).toEqual({ waiting: before.waiting, claimed: before.claimed + 1 });
  });

  it('leave with their conversation when a contact is erased', async () => {
    await recordMessages(store, [message(assisted, '34600100041')]);
    const t = await threadOf('34600100041');
    expect(await row(t)).toBeDefined();
    await sql(store).run('DELETE FROM threads WHERE id = ?', [t]);
    expect(await row(t)).toBeUndefined();
  });
});

describe.each(databaseKinds)('the answerer role on $name', (kind) => {
  it('is held by one daemon; a dead holder or a lease that ran out gives it up', async () => {
    const db = await kind.create();
    const store = await openStore(db.target);
    try {
      const now = Date.now();
      expect(await store.roles.acquire('answerer', A, 1_000, () => false, new Date(now))).toBeNull();
      expect(await store.roles.acquire('answerer', B, 1_000, () => false, new Date(now + 10))).toMatchObject({
        owner: A,
      });
      expect(await store.roles.acquire('answerer', B, 1_000, (o) => o === A, new Date(now + 10))).toBeNull();
      expect(await store.roles.renew('answerer', A, 1_000)).toBe(false);
      expect(await store.roles.acquire('answerer', A, 1_000, () => false, new Date(now + 5_000))).toBeNull();
      await store.roles.release('answerer', B);
      expect(await store.roles.renew('answerer', A, 1_000)).toBe(true);
      await store.roles.release('answerer', A);
      expect(await store.roles.acquire('answerer', B, 1_000, () => false)).toBeNull();
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
