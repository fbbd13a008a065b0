// Hashes that name stored data without holding it, and the one constant-time comparison of secrets.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RawEventInput } from './types.js';

/** The tombstone of an erased message (its wamid, hashed: a wamid encodes the phone number). */
export function wamidTombstone(wamid: string): string {
  return createHash('sha256').update('wamid:').update(wamid).digest('hex');
}

/** A raw event's identity (content_hash): also its tombstone once erased. */
export function rawEventHash(e: Pick<RawEventInput, 'kind' | 'payload'>): string {
  return createHash('sha256').update(e.kind).update('\u0000').update(e.payload).digest('hex');
}

/**
 * The audit's handle on a number. Phone numbers are guessable: it proves whether a given number
 * was erased, it does not hide which.
 */
export function waIdHash(waId: string): string {
  return createHash('sha256').update('wa-report:wa_id:').update(waId).digest('hex');
}

// Both sides are hashed with a key of this process first: equal lengths for timingSafeEqual, and
// neither the length nor any prefix of the secret can be learnt from the time a comparison takes.
const compareKey = randomBytes(32);

/** Whether a presented secret (token, signature) equals the expected one, in constant time. */
export function constantTimeEqual(given: string | Buffer, expected: string | Buffer): boolean {
  const a = createHmac('sha256', compareKey).update(given).digest();
  const b = createHmac('sha256', compareKey).update(expected).digest();
  return timingSafeEqual(a, b);
}
