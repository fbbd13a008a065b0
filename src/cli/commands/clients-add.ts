import { z } from 'zod';
import type { ClientRecord } from '../../domain/types.js';
import type { CommandContext } from '../context.js';
import { parseOptions } from '../validate.js';
import {
  CLIENT_FLAGS,
  nameSchema,
  phoneNumberIdSchema,
  phoneNumberSchema,
  readSystemPrompt,
} from './clients-shared.js';

export interface ClientsAddOptions {
  name?: string;
  phoneNumber?: string;
  phoneNumberId?: string;
  wabaId?: string;
  assistant?: boolean;
  model?: string;
  systemPromptFile?: string;
  json?: boolean;
}

const schema = z.object({
  name: nameSchema,
  phoneNumber: phoneNumberSchema,
  phoneNumberId: phoneNumberIdSchema,
  wabaId: z
    .string()
    .trim()
    .regex(/^\d{1,32}$/, 'must be the numeric WhatsApp Business Account ID')
    .optional(),
  assistantModel: z.string().trim().min(1, 'must not be empty').optional(),
});

export async function runClientsAdd(options: ClientsAddOptions, ctx: CommandContext): Promise<ClientRecord> {
  const required = {
    name: options.name ?? '',
    phoneNumber: options.phoneNumber ?? '',
    phoneNumberId: options.phoneNumberId ?? '',
  };
  const input = parseOptions(
    schema,
    { ...required, wabaId: options.wabaId, assistantModel: options.model },
    CLIENT_FLAGS,
  );
  const systemPrompt = options.systemPromptFile ? readSystemPrompt(options.systemPromptFile) : null;
  const store = await ctx.store();
  return store.clients.create({
    name: input.name,
    phoneNumber: input.phoneNumber,
    phoneNumberId: input.phoneNumberId,
    wabaId: input.wabaId ?? null,
    assistantEnabled: options.assistant ?? false,
    assistantModel: input.assistantModel ?? null,
    systemPrompt,
  });
}
