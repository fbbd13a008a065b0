// Reading values out of webhook JSON: small, total helpers that accept anything and never throw.
import { normalizeWaId } from '../domain/phone.js';

export type Rec = Record<string, unknown>;

export function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] | null {
  return Array.isArray(value) ? value : null;
}

/** A trimmed non-empty string, or null. Numbers are accepted where WhatsApp is known to mix them in. */
export function text(value: unknown): string | null {
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? null : t;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A non-empty string kept exactly as sent (ids are opaque and case-sensitive). */
export function id(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

const MAX_RAW_DEPTH = 64;

/** Whether `value` nests objects or arrays deeper than `limit` levels (it stops looking there). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (nestsDeeperThan(v, limit - 1)) return true;
  }
  return false;
}

export function safeStringify(value: unknown): string {
  try {
    // Absurd nesting is cut at the same depth on every Node version: Node 20 overflows its stack
    // on it, Node 26 would store all of it.
    if (nestsDeeperThan(value, MAX_RAW_DEPTH)) return JSON.stringify(prune(value, 0, new Set())) ?? 'null';
    const json = JSON.stringify(value);
    return json === undefined ? 'null' : json;
  } catch {
    // Cycles and BigInt (from non-JSON callers). Keep the shallow part, where the ids are, and
    // mark what was cut.
    try {
      return JSON.stringify(prune(value, 0, new Set())) ?? 'null';
    } catch {
      return '"[unserializable]"';
    }
  }
}

function prune(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_RAW_DEPTH) return `[cut: nested deeper than ${MAX_RAW_DEPTH} levels]`;
  if (ancestors.has(value)) return '[circular]';
  ancestors.add(value);
  const copy = Array.isArray(value)
    ? value.map((v) => prune(v, depth + 1, ancestors))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, prune(v, depth + 1, ancestors)]));
  ancestors.delete(value);
  return copy;
}

/** A WhatsApp user id as stored: digits only; null when the value is not a phone number. */
export function toWaId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) value = String(value);
  if (typeof value !== 'string' || value.length > 40) return null;
  try {
    return normalizeWaId(value);
  } catch {
    return null;
  }
}

// Business-scoped user ids (2026): "US.13491208655302741918", "user.9373…"; up to 256 characters.
const BSUID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

export function toUserId(value: unknown): string | null {
  return typeof value === 'string' && BSUID.test(value) ? value : null;
}

/**
 * WhatsApp timestamps are Unix *seconds*, usually as strings ("1749416383"), sometimes as numbers
 * (`entry[].time`, older payloads). Milliseconds are never sent, so an implausibly large value is
 * treated as invalid rather than guessed at.
 */
export function parseTimestamp(value: unknown): Date | null {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && /^\s*\d{1,11}(\.\d+)?\s*$/.test(value)) seconds = Number(value);
  else return null;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds >= 1e11) return null;
  return new Date(Math.round(seconds * 1000));
}

export function errorCode(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value)) return Number(value);
  return null;
}

export interface ErrorParts {
  code: number | null;
  title: string | null;
  details: string | null;
}

/**
 * The first error of an `errors[]`. Meta documents `{code, title, message, error_data:{details}}` but
 * real captures drop `title`/`href`, and old SDK fixtures put `details` at the top; `message` often
 * just repeats the title.
 */
export function firstError(errors: unknown): ErrorParts | null {
  const first = asArray(errors)?.find(isRecord);
  if (!first) return null;
  const title = text(first.title) ?? text(first.message);
  const message = text(first.message);
  const details =
    text(isRecord(first.error_data) ? first.error_data.details : null) ??
    text(first.details) ??
    (message !== title ? message : null);
  return { code: errorCode(first.code), title, details };
}
