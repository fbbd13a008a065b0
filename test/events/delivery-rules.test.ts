// What a receiver's answer means, when a delivery is tried again, where events may go, and the
// signatures, checked against the `standardwebhooks` package's own signing.
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  judge,
  nextAttemptAt,
  parseEventList,
  parseRetryAfter,
  parseRetrySchedule,
  subscribes,
} from '../../src/domain/webhooks.js';
import { eventUid, withoutContent } from '../../src/domain/events.js';
import { checkEndpointUrl, isInternalAddress } from '../../src/events/destination.js';
import { newSecret, signatureHeader, webhookHeaders } from '../../src/events/signature.js';
import { eventBody } from '../../src/events/delivery.js';

const now = new Date('2026-01-01T00:00:00Z');

describe('delivery rules', () => {
  it('judges answers: 2xx delivered; network errors, 408, 429 and 5xx retried; 410 gone; the rest refused', () => {
    expect(judge(204)).toEqual({ outcome: 'delivered' });
    expect(judge(null)).toEqual({ outcome: 'retry', retryAfterMs: null });
    for (const s of [408, 429, 500, 502, 503]) expect(judge(s).outcome).toBe('retry');
    expect(judge(410)).toEqual({ outcome: 'gone' });
    for (const s of [301, 400, 401, 404, 413]) expect(judge(s).outcome).toBe('rejected');
    expect(judge(429, '7', now)).toEqual({ outcome: 'retry', retryAfterMs: 7000 });
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('retries on the schedule, a longer Retry-After winning (up to a day), then dead-letters', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(nextAttemptAt(1, DEFAULT_RETRY_SCHEDULE_MS, null, now)).toEqual(new Date(now.getTime() + 5000));
    expect(nextAttemptAt(1, DEFAULT_RETRY_SCHEDULE_MS, 60_000, now)).toEqual(new Date(now.getTime() + 60_000));
    expect(nextAttemptAt(1, [1000], 10 * 86_400_000, now)).toEqual(new Date(now.getTime() + 86_400_000));
    expect(nextAttemptAt(8, DEFAULT_RETRY_SCHEDULE_MS, null, now)).toBeNull();
    expect(parseRetrySchedule('1s,2s,4s')).toEqual([1000, 2000, 4000]);
    expect(() => parseRetrySchedule('1s,often')).toThrow(/not understood: "often"/);
  });

  it('matches endpoints by event and client; webhook.test only when asked', () => {
    const e = { id: 1, events: 'conversation.ended,message.failed', clientId: 2, includeContent: false };
    expect(subscribes(e, 'message.failed', 2)).toBe(true);
    expect(subscribes(e, 'message.failed', 3)).toBe(false);
    expect(subscribes(e, 'message.received', 2)).toBe(false);
    expect(subscribes({ ...e, events: '*', clientId: null }, 'webhook.test', 2)).toBe(false);
    expect(parseEventList('message.failed, conversation.ended,message.failed')).toBe(
      'conversation.ended,message.failed',
    );
    expect(parseEventList('')).toBe('*');
    expect(() => parseEventList('webhook.test')).toThrow(/unknown event/);
  });

  it('refuses internal destinations, IPv4-mapped and NAT64 included', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
    ]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of [
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      'ff02::1',
    ]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) {
      expect(isInternalAddress(a), a).toBe(false);
    }
    expect(() => checkEndpointUrl('ftp://example.com', { allowHttp: true })).toThrow(/not supported/);
    expect(checkEndpointUrl('https://example.com/hook', { allowHttp: false })).toBe('https://example.com/hook');
  });
});

describe('signatures', () => {
  it('are what standardwebhooks computes and verifies, with every secret during a rotation', () => {
    const [a, b] = [newSecret(), newSecret()];
    const body = eventBody({
      type: 'message.received',
      occurredAt: now,
      data: JSON.stringify({ message_id: 1, content: 'hola' }),
      includeContent: false,
    });
    expect(JSON.parse(body)).toEqual({
      type: 'message.received',
      timestamp: now.toISOString(),
      data: { message_id: 1 },
    });
    const when = new Date();
    const headers = webhookHeaders([a, b], 'evt_x', body, when);
    expect(headers['webhook-signature']).toBe(
      `${new Webhook(a).sign('evt_x', when, body)} ${new Webhook(b).sign('evt_x', when, body)}`,
    );
    expect(() => new Webhook(a).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(b).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    // A body changed by one byte does not verify.
    expect(() => new Webhook(a).verify(body.replace('1', '2'), headers)).toThrow();
    expect(signatureHeader([a], 'evt_x', 1, body)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('names events stably: the same change has the same webhook-id', () => {
    expect(eventUid({ key: 'message.received:5' })).toBe(eventUid({ key: 'message.received:5' }));
    expect(eventUid({ key: 'message.received:5' })).not.toBe(eventUid({ key: 'message.received:6' }));
    expect(eventUid({})).not.toBe(eventUid({}));
    expect(withoutContent({ a: 1, content: 'x' })).toEqual({ a: 1 });
  });
});
