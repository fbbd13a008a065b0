// The flags that name a WhatsApp user (and optionally one client), checked and typed.
import { z } from 'zod';
import { normalizeContactId, normalizeWaId } from '../../domain/phone.js';
import { flag } from '../command.js';

const waIdSchema = (normalize: (input: string, field: string) => string) =>
  z.string({ error: 'required: the WhatsApp number, e.g. --wa-id +34612345678' }).transform((s, ctx) => {
    try {
      return normalize(s, '--wa-id');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^--wa-id: /, '') });
      return z.NEVER;
    }
  });

/** `--wa-id`, a phone number (the conversation commands). */
export const phoneWaId = () =>
  flag('--wa-id <number>', "the user's WhatsApp number, e.g. +34612345678", waIdSchema(normalizeWaId));

/** `--wa-id`, a phone number or a business-scoped user id (the data-rights commands). */
export const contactWaId = () =>
  flag('--wa-id <number>', "the user's WhatsApp number, e.g. +34612345678", waIdSchema(normalizeContactId));

export const optionalClientId = (what: string) =>
  flag(
    '--client-id <id>',
    what,
    z.coerce
      .number({ error: 'must be a client id (a number)' })
      .int('must be a client id (a number)')
      .positive('must be a client id (a number)')
      .optional(),
  );
