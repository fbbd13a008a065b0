import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { normalizeWaId } from '../../domain/phone.js';
import type { ClientRecord } from '../../domain/types.js';
import { UsageError } from '../../errors.js';

export const CLIENT_FLAGS = {
  name: '--name',
  phoneNumber: '--phone-number',
  phoneNumberId: '--phone-number-id',
  wabaId: '--waba-id',
  assistantModel: '--model',
  systemPromptFile: '--system-prompt-file',
  id: '<client-id>',
};

export const phoneNumberSchema = z.string().transform((value, ctx) => {
  try {
    return `+${normalizeWaId(value, 'phone number')}`;
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a phone number; use the international form with country code, e.g. +15556383785`,
    });
    return z.NEVER;
  }
});

export const phoneNumberIdSchema = z
  .string()
  .trim()
  .regex(
    /^\d{1,32}$/,
    'must be the numeric phone number ID from Meta (WhatsApp Manager → Phone numbers, or the webhook metadata), e.g. 106540352242922',
  );

export const nameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const clientIdSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .positive('must be a positive client id');

/** Reads a system prompt file: UTF-8 text, at most 64 KiB. */
export function readSystemPrompt(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new UsageError(`--system-prompt-file: cannot read ${path}: no such file.`);
  }
  if (size > 64 * 1024)
    throw new UsageError(`--system-prompt-file: ${path} is ${size} bytes; a system prompt may be at most 64 KiB.`);
  const text = readFileSync(path, 'utf8').trim();
  if (!text) throw new UsageError(`--system-prompt-file: ${path} is empty.`);
  return text;
}

/** The documented JSON shape of a client (stable, snake_case). */
export function clientJson(c: ClientRecord) {
  return {
    id: c.id,
    name: c.name,
    phone_number: c.phoneNumber,
    phone_number_id: c.phoneNumberId,
    waba_id: c.wabaId,
    active: c.active,
    assistant_enabled: c.assistantEnabled,
    assistant_model: c.assistantModel,
    system_prompt: c.systemPrompt,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}
