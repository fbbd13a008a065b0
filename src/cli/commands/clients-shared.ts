// What `clients add` and `clients update` share: the client's flags, how each is checked, and how
// a client is confirmed (JSON on stdout, or a line for the person on stderr).
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { parseHandoffFlag, QUOTE_REPLIES } from '../../domain/client-policy.js';
import { parseIdle } from '../../domain/conversations.js';
import { normalizeWaId } from '../../domain/phone.js';
import type { ClientRecord } from '../../domain/types.js';
import { UsageError } from '../../errors.js';
import { clientDocument } from '../../reports/documents.js';
import { bool, flag, text } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

const phoneNumberSchema = z.string().transform((value, ctx) => {
  try {
    return `+${normalizeWaId(value, 'phone number')}`;
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a phone number; use the international form with country code, e.g. +15556383785`,
    });
    return z.NEVER;
  }
});

const phoneNumberIdSchema = z
  .string()
  .trim()
  .regex(
    /^\d{1,32}$/,
    'must be the numeric phone number ID from Meta (WhatsApp Manager → Phone numbers, or the webhook metadata), ' +
      'e.g. 106540352242922',
  );

export const clientIdSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .positive('must be a positive client id');

/** The flags of a client, checked and typed (all optional here; `add` requires three). */
export function clientFlags() {
  return {
    name: flag('--name <name>', 'business name shown in reports', nameSchema.optional()),
    phoneNumber: flag(
      '--phone-number <number>',
      'display phone number, international form: +15556383785',
      phoneNumberSchema.optional(),
    ),
    phoneNumberId: flag(
      '--phone-number-id <id>',
      'Cloud API phone number ID webhooks are routed on (digits)',
      phoneNumberIdSchema.optional(),
    ),
    wabaId: flag(
      '--waba-id <id>',
      'WhatsApp Business Account ID (digits)',
      z
        .string()
        .trim()
        .regex(/^\d{1,32}$/, 'must be the numeric WhatsApp Business Account ID')
        .optional(),
    ),
    assistant: bool('--assistant', 'answer users with the AI assistant', {
      flags: '--no-assistant',
      description: 'do not answer users automatically',
    }),
    model: flag(
      '--model <model>',
      'model for this client (default: OPENAI_MODEL)',
      z.string().trim().min(1, 'must not be empty').optional(),
    ),
    systemPromptFile: text('--system-prompt-file <file>', 'system prompt for the assistant, read from a UTF-8 file'),
    conversationIdle: flag(
      '--conversation-idle <period>',
      'a conversation ends after this long without a message: 30m, 2h, 1d (default WA_REPORT_CONVERSATION_IDLE, 1h)',
      z
        .string()
        .optional()
        .transform((s, ctx) => {
          if (s === undefined) return undefined;
          const ms = parseIdle(s);
          if (ms === null) {
            ctx.addIssue({ code: 'custom', message: `"${s}" is not a period from 1s to 30d, such as 30m, 2h or 1d` });
            return z.NEVER;
          }
          return ms / 1000;
        }),
    ),
    quoteReplies: flag(
      '--quote-replies <when>',
      "auto (quote the user's message only when the answer covers several or is not next to it), always or never",
      z.enum(QUOTE_REPLIES, { error: (i) => `"${String(i.input)}" must be auto, always or never` }).optional(),
    ),
    handoff: flag(
      '--handoff <policy>',
      'after a person answers in a conversation the assistant stays silent: until-end (default), off, or for a ' +
        'period such as 2h',
      z
        .string()
        .optional()
        .transform((s, ctx) => {
          if (s === undefined) return undefined;
          const stored = parseHandoffFlag(s);
          if (stored === null) {
            ctx.addIssue({ code: 'custom', message: `"${s}" must be off, until-end or a period such as 30m or 2h` });
            return z.NEVER;
          }
          return stored;
        }),
    ),
    language: flag(
      '--language <lang>',
      'the language its users write in, for sentiment: es, en, or auto (detected from each message, the default)',
      z
        .enum(['es', 'en', 'auto'], { error: (i) => `"${String(i.input)}" must be es, en or auto` })
        .optional()
        .transform((s) => (s === undefined ? undefined : s === 'auto' ? null : s)),
    ),
    csat: bool('--csat', 'send a satisfaction survey (CSAT) when a conversation ends', {
      flags: '--no-csat',
      description: 'send no survey',
    }),
    csatScale: flag(
      '--csat-scale <n>',
      '3 (reply buttons) or 5 (a list), default 5',
      z
        .enum(['3', '5'], { error: (i) => `"${String(i.input)}" must be 3 or 5` })
        .optional()
        .transform((s) => (s ? Number(s) : undefined)),
    ),
    csatQuestionFile: text(
      '--csat-question-file <file>',
      "the survey's question, read from a UTF-8 file (default in the client's language)",
    ),
    csatTemplate: flag(
      '--csat-template <name:lang>',
      "an approved template sent when WhatsApp's 24-hour window has closed (e.g. csat_survey:es); none: send nothing",
      z
        .string()
        .trim()
        .regex(/^(none|[a-z0-9_]{1,512}:[A-Za-z_]{2,10})$/, 'must be name:language, such as csat_survey:es, or none')
        .optional()
        .transform((s) => (s === undefined ? undefined : s === 'none' ? null : s)),
    ),
    csatComment: bool('--csat-comment', 'after a score, ask what could be better and keep the answer with it', {
      flags: '--no-csat-comment',
      description: 'ask for no comment',
    }),
    json: json('print the client as JSON'),
  };
}

const nameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

/** Reads a system prompt file: UTF-8 text, at most 64 KiB. */
/** Reads a CSAT question file: UTF-8 text, at most 1,024 characters (WhatsApp's limit for the body). */
export function readCsatQuestion(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw new UsageError(`--csat-question-file: cannot read ${path}: no such file.`);
  }
  if (!text) throw new UsageError(`--csat-question-file: ${path} is empty.`);
  if ([...text].length > 1024) {
    throw new UsageError(
      `--csat-question-file: ${path} holds more than 1,024 characters, WhatsApp's limit for a message body.`,
    );
  }
  return text;
}

export function readSystemPrompt(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new UsageError(`--system-prompt-file: cannot read ${path}: no such file.`);
  }
  if (size > 64 * 1024) {
    throw new UsageError(`--system-prompt-file: ${path} is ${size} bytes; a system prompt may be at most 64 KiB.`);
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!text) throw new UsageError(`--system-prompt-file: ${path} is empty.`);
  return text;
}

/** The client as JSON on stdout (`--json`), or `message` for the person on stderr. */
export function printClient(ctx: CommandContext, client: ClientRecord, asJson: boolean | undefined, message: string) {
  if (asJson) writeJson(ctx, clientDocument(client));
  else ctx.io.stderr.write(`${message}\n`);
}
