// The rules of conversations inside a thread, as a pure function: start, idle end, late messages,
// first response, handoff; and the periods people type.
import { describe, expect, it } from 'vitest';
import { foldMessages, idleFromEnv, parseIdle, type ConversationState } from '../../src/domain/conversations.js';
import { handoffOf, parseHandoffFlag, shouldQuote, silencedByHandoff } from '../../src/domain/client-policy.js';
import { formatDuration, parseDuration } from '../../src/domain/durations.js';
import type { Role } from '../../src/domain/types.js';

const T0 = Date.UTC(2025, 0, 1, 10);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
let id = 1;
const m = (minutes: number, role: Role = 'user') => ({ id: id++, role, createdAt: at(minutes) });
const thread = { threadId: 7, clientId: 1, waId: '34600000001' };
const policy = { idleMs: 30 * 60_000, assistantEnabled: true };

describe('foldMessages', () => {
  it('starts, extends and ends conversations by idle time, counting roles and the first response', () => {
    const { changed, happenings } = foldMessages(
      [],
      [m(0), m(1, 'assistant'), m(20), m(21, 'assistant'), m(60), m(62, 'agent')],
      thread,
      policy,
    );
    expect(changed).toHaveLength(2);
    const [a, b] = changed as [ConversationState, ConversationState];
    expect(a).toMatchObject({ startedAt: at(0), lastMessageAt: at(21), endedAt: at(51), endReason: 'idle' });
    expect(a).toMatchObject({ userMessages: 2, assistantMessages: 2, agentMessages: 0, firstResponseAt: at(1) });
    expect(b).toMatchObject({ startedAt: at(60), endedAt: null, agentMessages: 1, handoffAt: at(62) });
    expect(happenings.map((h) => h.kind)).toEqual([
      'started',
      'message',
      'message',
      'message',
      'message',
      'ended',
      'started',
      'message',
      'message',
      'handoff',
    ]);
  });

  it('places messages by their own time, whatever order they arrive in', () => {
    const inOrder = foldMessages([], [m(0), m(5), m(50), m(55)], thread, policy).changed;
    const shuffled = foldMessages([], [m(55), m(0), m(50), m(5)], thread, policy).changed;
    const shape = (list: ConversationState[]) =>
      list.map((c) => [c.startedAt.getTime(), c.lastMessageAt.getTime(), c.userMessages]);
    expect(shape(shuffled)).toEqual(shape(inOrder));
  });

  it('puts a late message in the conversation it falls in, and never creates one in the past', () => {
    const [first] = foldMessages([], [m(0), m(10)], thread, policy).changed as [ConversationState];
    first.id = 1;
    const later = foldMessages([first], [m(100)], thread, policy);
    const second = later.changed.find((c) => c.id === null)!;
    second.id = 2;
    // A message from minute 5 arrives now: it joins the first conversation, which stays ended.
    const late = foldMessages([first, second], [m(5)], thread, policy);
    expect(late.changed).toEqual([expect.objectContaining({ id: 1, userMessages: 3, endReason: 'idle' })]);
    expect(late.happenings.map((h) => h.kind)).toEqual(['message']);
    // Older than anything known: it joins the earliest, which now starts earlier.
    const older = foldMessages([first], [m(-3)], thread, policy);
    expect(older.changed[0]).toMatchObject({ id: 1, startedAt: at(-3) });
  });

  it('counts a person as a handoff only when the assistant is on', () => {
    const off = foldMessages([], [m(0), m(1, 'agent')], thread, { ...policy, assistantEnabled: false });
    expect(off.changed[0]!.handoffAt).toBeNull();
    expect(off.happenings.map((h) => h.kind)).not.toContain('handoff');
  });
});

describe('conversation sentiment', () => {
  const scored = (minutes: number, sentiment: number | null, role: Role = 'user') => ({
    ...m(minutes, role),
    sentiment,
  });

  it('keeps the opening (first three) and closing (last three) means, and alerts once at the threshold', () => {
    const { changed, happenings } = foldMessages(
      [],
      [
        scored(0, 0.6),
        scored(1, null, 'assistant'),
        scored(2, 0.2),
        scored(3, null), // a photo without a caption: not scored
        scored(4, -0.4),
        scored(5, -0.8),
        scored(6, -0.9),
        scored(7, -0.95),
      ],
      thread,
      { ...policy, negativeAlert: -0.5 },
    );
    const [c] = changed as [ConversationState];
    expect(c.sentimentCount).toBe(6);
    expect(c.sentimentSum).toBeCloseTo(-2.25, 3);
    expect(c.openingSentiment).toBeCloseTo(0.133, 3);
    expect(c.closingSentiment).toBeCloseTo(-0.883, 3);
    expect(c.recentSentiments).toEqual([-0.8, -0.9, -0.95]);
    // (−0.4 − 0.8 + 0.2) / 3 = −0.33 is above −0.5; (−0.4 − 0.8 − 0.9) / 3 = −0.7 is the first at or below.
    expect(c.negativeAt).toEqual(at(6));
    expect(happenings.filter((h) => h.kind === 'negative')).toHaveLength(1);
  });

  it('leaves a score that comes late (older than the conversation holds) to a recount, without an alert', () => {
    const [c] = foldMessages([], [scored(2, 0.6), scored(3, -0.6), scored(4, -0.6)], thread, policy).changed as [
      ConversationState,
    ];
    c.id = 1;
    const late = foldMessages([c], [scored(1, -0.9)], thread, { ...policy, negativeAlert: -0.5 });
    expect(late.recountSentiment).toBe(true);
    expect(late.happenings.map((h) => h.kind)).toEqual(['message']);
    expect(c.sentimentCount).toBe(3); // counted by the recount, in time order
  });

  it('sends no alert without a threshold, or for an ended conversation', () => {
    const none = foldMessages([], [scored(0, -0.9)], thread, { ...policy, negativeAlert: null });
    expect(none.changed[0]!.negativeAt).toBeNull();
    expect(none.happenings.map((h) => h.kind)).not.toContain('negative');
    const [ended] = foldMessages([], [scored(0, 0.5), scored(10, 0.5)], thread, policy).changed as [ConversationState];
    ended.id = 1;
    Object.assign(ended, { endedAt: at(40), endReason: 'idle' });
    const late = foldMessages([ended], [scored(5, -1)], thread, { ...policy, negativeAlert: -0.1 });
    expect(late.happenings.map((h) => h.kind)).toEqual(['message']);
  });
});

describe('client policies', () => {
  it('quotes only when it helps (auto), or always, or never', () => {
    expect(shouldQuote('auto', { covers: 1, answersLatest: true })).toBe(false);
    expect(shouldQuote('auto', { covers: 2, answersLatest: true })).toBe(true);
    expect(shouldQuote('auto', { covers: 1, answersLatest: false })).toBe(true);
    expect(shouldQuote('always', { covers: 1, answersLatest: true })).toBe(true);
    expect(shouldQuote('never', { covers: 3, answersLatest: false })).toBe(false);
  });

  it('keeps the assistant silent after a handoff as the policy says', () => {
    const open = { handoffAt: at(10), endedAt: null };
    expect(silencedByHandoff(handoffOf('until-end'), open, at(10), at(500))).toBe(true);
    expect(silencedByHandoff(handoffOf('until-end'), { ...open, endedAt: at(50) }, at(10), at(60))).toBe(false);
    expect(silencedByHandoff(handoffOf('off'), open, at(10), at(11))).toBe(false);
    const twoHours = handoffOf(parseHandoffFlag('2h')!);
    expect(silencedByHandoff(twoHours, open, at(30), at(149))).toBe(true); // 2 h after the person's last message
    expect(silencedByHandoff(twoHours, open, at(30), at(151))).toBe(false);
    expect(silencedByHandoff(handoffOf('until-end'), { handoffAt: null, endedAt: null }, null, at(1))).toBe(false);
    expect(parseHandoffFlag('later')).toBeNull();
    expect(parseHandoffFlag('0s')).toBeNull();
    expect(parseHandoffFlag('UNTIL-END')).toBe('until-end');
  });

  it('reads periods as people type them', () => {
    expect(parseIdle('30s')).toBe(30_000);
    expect(parseIdle('2h')).toBe(7_200_000);
    expect(parseIdle('1d')).toBe(86_400_000);
    expect(parseIdle('0s')).toBeNull();
    expect(parseIdle('31d')).toBeNull();
    expect(parseIdle('1w')).toBeNull();
    expect(parseIdle('soon')).toBeNull();
    expect(parseDuration('500ms', ['ms'])).toBe(500);
    expect(parseDuration('500ms')).toBeNull(); // ms only where a caller allows it
    expect(formatDuration(7_200_000)).toBe('2h');
    expect(formatDuration(90_000)).toBe('90s');
    expect(idleFromEnv({})).toBe(3_600_000);
    expect(idleFromEnv({ WA_REPORT_CONVERSATION_IDLE: '45m' })).toBe(2_700_000);
    expect(() => idleFromEnv({ WA_REPORT_CONVERSATION_IDLE: 'a while' })).toThrow(/WA_REPORT_CONVERSATION_IDLE/);
  });
});
