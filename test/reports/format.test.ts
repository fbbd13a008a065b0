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
