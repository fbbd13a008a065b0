import { UsageError } from '../errors.js';

/**
 * WhatsApp ids are stored as WhatsApp sends them: digits only. Inputs may carry '+', spaces,
 * dashes, dots or parentheses ("+34 612-34-56-78").
 */
export function normalizeWaId(input: string, field = 'wa_id'): string {
  const trimmed = input.trim();
  if (!/^\+?[\d\s\-.()]+$/.test(trimmed)) {
    throw new UsageError(
      `${field}: "${input}" is not a phone number; use digits with an optional leading '+', e.g. +34612345678.`,
    );
  }
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 6 || digits.length > 15) {
    throw new UsageError(
      `${field}: "${input}" has ${digits.length} digits; an international number has 6 to 15 (country code ` +
        'included), e.g. +34612345678.',
    );
  }
  return digits;
}

/** A display phone number in E.164: '+' and digits. */
export function normalizePhoneNumber(input: string, field = 'phone_number'): string {
  return `+${normalizeWaId(input, field)}`;
}

/** How reports show a wa_id: +34612345678. */
export function formatWaId(waId: string): string {
  // Business-scoped user ids (users with a WhatsApp username, "US.1349…") are shown as they are.
  if (/[A-Za-z]/.test(waId)) return waId;
  return waId.startsWith('+') ? waId : `+${waId}`;
}

// A prefix of letters (a country code such as "US", or "user"), a dot, then the id itself.
const BUSINESS_SCOPED_USER_ID = /^[A-Za-z]{2,10}\.[A-Za-z0-9._-]{4,245}$/;

/**
 * A contact as the data-rights commands take it: a phone number (normalized to digits), or a
 * business-scoped user id ("US.13491208655302741918"), which is how users who share no phone
 * number are stored.
 */
export function normalizeContactId(input: string, field = 'wa_id'): string {
  const trimmed = input.trim();
  if (BUSINESS_SCOPED_USER_ID.test(trimmed)) return trimmed;
  return normalizeWaId(input, field);
}
