import { describe, expect, it } from 'vitest';
import {
  dayKey,
  failureLine,
  formatDateTime,
  formatIso,
  formatLongDay,
  hasFailure,
  statusMark,
  truncate,
} from '../../src/reports/format.js';
import { labelsFor } from '../../src/reports/i18n.js';

describe('times in the report zone', () => {
  it('shows wall-clock time on both sides of a DST change (Europe/Madrid, 2024-03-31)', () => {
    expect(formatDateTime(new Date('2024-03-31T00:59:59Z'), 'Europe/Madrid')).toBe('2024-03-31 01:59:59');
    expect(formatDateTime(new Date('2024-03-31T01:00:00Z'), 'Europe/Madrid')).toBe('2024-03-31 03:00:00');
    expect(formatIso(new Date('2024-03-31T00:59:59.5Z'), 'Europe/Madrid')).toBe('2024-03-31T01:59:59.500+01:00');
    expect(formatIso(new Date('2024-03-31T01:00:00Z'), 'Europe/Madrid')).toBe('2024-03-31T03:00:00.000+02:00');
  });

  it('writes ISO 8601 with the offset, negative and half-hour zones included, never Z', () => {
    const at = new Date('2024-01-15T09:30:00.007Z');
    expect(formatIso(at, 'Europe/Madrid')).toBe('2024-01-15T10:30:00.007+01:00');
    expect(formatIso(at, 'UTC')).toBe('2024-01-15T09:30:00.007+00:00');
    expect(formatIso(at, 'America/Mexico_City')).toBe('2024-01-15T03:30:00.007-06:00');
    expect(formatIso(at, 'Asia/Kolkata')).toBe('2024-01-15T15:00:00.007+05:30');
    expect(formatIso(at, 'America/St_Johns')).toBe('2024-01-15T06:00:00.007-03:30');
    expect(new Date(formatIso(at, 'America/St_Johns')).getTime()).toBe(at.getTime());
  });

  it('keys days by the zone, not by UTC, and midnight is 00 (never 24)', () => {
    const lateUtc = new Date('2024-01-15T23:30:00Z');
    expect(dayKey(lateUtc, 'UTC')).toBe('2024-01-15');
    expect(dayKey(lateUtc, 'Europe/Madrid')).toBe('2024-01-16');
    expect(formatDateTime(new Date('2024-01-15T23:00:00Z'), 'Europe/Madrid')).toBe('2024-01-16 00:00:00');
    expect(formatLongDay(lateUtc, 'Europe/Madrid', 'es')).toBe('martes, 16 de enero de 2024');
    expect(formatLongDay(lateUtc, 'Europe/Madrid', 'en')).toBe('Tuesday, January 16, 2024');
  });

  it('equals Intl for random instants in many zones, in and out of order, near transitions and odd years', () => {
    // The formatter keeps a cursor per zone (last quarter-hour, last local day): interleaving zones
    // and jumping back and forth in time must never show a stale day or offset.
    const zones = [
      'UTC',
      'Europe/Madrid',
      'America/Mexico_City',
      'America/St_Johns',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Pacific/Apia',
      'America/Santiago',
      'Asia/Tehran',
    ];
    const reference = (at: Date, timeZone: string) => {
      const parts = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }).formatToParts(at);
      const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
      const day = `${get('year').padStart(4, '0')}-${get('month')}-${get('day')}`;
      return `${day} ${get('hour')}:${get('minute')}:${get('second')}`;
    };
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const instants: number[] = [];
    let walk = Date.UTC(2024, 2, 30);
    for (let i = 0; i < 3000; i++) {
      walk += Math.floor(random() * 3 * 3600_000); // in order, minutes to hours apart, across DST changes
      instants.push(walk);
      if (i % 7 === 0) instants.push(Date.UTC(1970 + Math.floor(random() * 80), 0, 1) + Math.floor(random() * 3e10));
    }
    instants.push(Date.UTC(999, 11, 31, 23, 59, 59), Date.UTC(10000, 0, 1, 0, 0, 1), Date.UTC(1000, 0, 1, 12));
    for (const ms of instants) {
      for (const zone of zones) {
        const at = new Date(ms);
        const expected = reference(at, zone);
        expect(formatDateTime(at, zone), `${at.toISOString()} in ${zone}`).toBe(expected);
        expect(dayKey(at, zone)).toBe(expected.slice(0, expected.indexOf(' ')));
        const iso = formatIso(at, zone);
        expect(iso.replace('T', ' ').slice(0, expected.length)).toBe(expected);
        // (Before time zones, local mean time had offsets in seconds, which ISO 8601's ±hh:mm cannot carry.)
        if (ms >= 0 && expected.length === 19) expect(new Date(iso).getTime()).toBe(ms);
      }
    }
  });
});

describe('marks and failures', () => {
  it('marks delivery like WhatsApp', () => {
    expect(statusMark('sent')).toBe('✓');
    expect(statusMark('delivered')).toBe('✓✓');
    expect(statusMark('read')).toBe('✓✓');
    expect(statusMark('failed')).toBe('⚠');
    expect(statusMark(null)).toBe('');
  });

  it('shows a failure for failed messages and for inbound errors, not for stale errors under a later status', () => {
    const es = labelsFor('es');
    const en = labelsFor('en');
    const failed = { status: 'failed', errorCode: 131047, errorMessage: 'Re-engagement message' };
    expect(hasFailure(failed)).toBe(true);
    expect(failureLine(failed, es)).toBe('⚠ Fallo: 131047 Re-engagement message');
    expect(failureLine(failed, en)).toBe('⚠ Error: 131047 Re-engagement message');
    expect(failureLine({ errorCode: null, errorMessage: null }, en)).toBe('⚠ Error: no details');
    expect(hasFailure({ status: null, errorCode: 131051, errorMessage: 'Message type unknown' })).toBe(true);
    expect(hasFailure({ status: 'read', errorCode: 131047, errorMessage: 'x' })).toBe(false);
  });

  it('truncates by graphemes, never inside an emoji', () => {
    expect(truncate('hola', 10)).toBe('hola');
    expect(truncate('abcdefgh', 5)).toBe('abcd…');
    expect(truncate('👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦', 3)).toBe('👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦');
    expect(truncate('👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦x', 3)).toBe('👨‍👩‍👧‍👦👨‍👩‍👧‍👦…');
  });
});
