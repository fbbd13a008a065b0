import { UsageError } from '../errors.js';

/**
 * WhatsApp ids are stored as WhatsApp sends them: digits only. Inputs may carry '+', spaces,
 * dashes, dots or parentheses ("+34 612-34-56-78").
 */
export function normalizeWaId(input: string, field = 'wa_id'): string {
  const trimmed = input.trim();
  if (!/^\+?[\d\s\-.()]+$/.test(trimmed)) {
    throw new UsageError(`${field}: "${input}" is not a phone number; use digits with an optional leading '+', e.g. +34612345678.`);
  }
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 6 || digits.length > 15) {
    throw new UsageError(`${field}: "${input}" has ${digits.length} digits; an international number has 6 to 15 (country code included), e.g. +34612345678.`);
  }
  return digits;
}

/** A display phone number in E.164: '+' and digits. */
export function normalizePhoneNumber(input: string, field = 'phone_number'): string {
  return `+${normalizeWaId(input, field)}`;
}

/** How reports show a wa_id: +34612345678. */
export function formatWaId(waId: string): string {
  return waId.startsWith('+') ? waId : `+${waId}`;
}
