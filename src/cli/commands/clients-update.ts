import { z } from 'zod';
import type { ClientInput, ClientRecord } from '../../domain/types.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { parseOptions } from '../validate.js';
import {
  CLIENT_FLAGS,
  clientIdSchema,
  nameSchema,
  phoneNumberIdSchema,
  phoneNumberSchema,
  readSystemPrompt,
} from './clients-shared.js';

export interface ClientsUpdateOptions {
  name?: string;
  phoneNumber?: string;
  phoneNumberId?: string;
  wabaId?: string;
  assistant?: boolean;
  model?: string;
  systemPromptFile?: string;
  clearSystemPrompt?: boolean;
  active?: boolean;
  json?: boolean;
}

const schema = z.object({
  id: clientIdSchema,
  name: nameSchema.optional(),
  phoneNumber: phoneNumberSchema.optional(),
  phoneNumberId: phoneNumberIdSchema.optional(),
  wabaId: z
    .string()
    .trim()
    .regex(/^\d{1,32}$/, 'must be the numeric WhatsApp Business Account ID')
    .optional(),
  assistantModel: z.string().trim().min(1, 'must not be empty').optional(),
});

export async function runClientsUpdate(
  id: string,
  options: ClientsUpdateOptions,
  ctx: CommandContext,
): Promise<ClientRecord> {
  const input = parseOptions(
    schema,
    {
      id,
      name: options.name,
      phoneNumber: options.phoneNumber,
      phoneNumberId: options.phoneNumberId,
      wabaId: options.wabaId,
      assistantModel: options.model,
    },
    CLIENT_FLAGS,
  );
  if (options.systemPromptFile && options.clearSystemPrompt) {
    throw new UsageError('--system-prompt-file and --clear-system-prompt: choose one.');
  }
  const patch: Partial<ClientInput> = {};
  if (input.name !== undefined) patch.name = input.name;
  if (input.phoneNumber !== undefined) patch.phoneNumber = input.phoneNumber;
  if (input.phoneNumberId !== undefined) patch.phoneNumberId = input.phoneNumberId;
  if (input.wabaId !== undefined) patch.wabaId = input.wabaId;
  if (input.assistantModel !== undefined) patch.assistantModel = input.assistantModel;
  if (options.assistant !== undefined) patch.assistantEnabled = options.assistant;
  if (options.active !== undefined) patch.active = options.active;
  if (options.systemPromptFile) patch.systemPrompt = readSystemPrompt(options.systemPromptFile);
  if (options.clearSystemPrompt) patch.systemPrompt = null;
  if (Object.keys(patch).length === 0) {
    throw new UsageError(
      'Nothing to update: give at least one of --name, --phone-number, --phone-number-id, --waba-id, --assistant/--no-assistant, --model, --system-prompt-file, --clear-system-prompt.',
    );
  }
  const store = await ctx.store();
  return store.clients.update(input.id, patch);
}

/** `clients disable <id>` / `clients enable <id>`: hides a client from `--list` without deleting anything. */
export async function runClientsSetActive(id: string, active: boolean, ctx: CommandContext): Promise<ClientRecord> {
  const input = parseOptions(z.object({ id: clientIdSchema }), { id }, CLIENT_FLAGS);
  const store = await ctx.store();
  return store.clients.update(input.id, { active });
}
