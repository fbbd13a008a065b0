// `wa-report clients add`: a business phone number whose conversations are kept.
import type { QuoteReplies } from '../../domain/client-policy.js';
import type { ClientRecord } from '../../domain/types.js';
import { defineCommand, required } from '../command.js';
import type { CommandContext } from '../context.js';
import { clientFlags, printClient, readCsatQuestion, readSystemPrompt } from './clients-shared.js';

const flags = clientFlags();

export const command = defineCommand({
  flags: {
    ...flags,
    name: required(flags.name),
    phoneNumber: required(flags.phoneNumber),
    phoneNumberId: required(flags.phoneNumberId),
  },
  help: `
Example:
  wa-report clients add --name Released --phone-number +15556383785 --phone-number-id 106540352242922 --assistant
`,
  async run({ options }, ctx) {
    const client = await addClient(options, ctx);
    printClient(ctx, client, options.json, `Added client ${client.id} (${client.name}, ${client.phoneNumber}).`);
  },
});

export async function addClient(
  o: {
    name: string;
    phoneNumber: string;
    phoneNumberId: string;
    wabaId?: string;
    assistant?: boolean;
    model?: string;
    systemPromptFile?: string;
    conversationIdle?: number;
    quoteReplies?: QuoteReplies;
    handoff?: string;
    language?: string | null;
    csat?: boolean;
    csatScale?: number;
    csatQuestionFile?: string;
    csatTemplate?: string | null;
    csatComment?: boolean;
  },
  ctx: CommandContext,
): Promise<ClientRecord> {
  const systemPrompt = o.systemPromptFile ? readSystemPrompt(o.systemPromptFile) : null;
  const store = await ctx.store();
  return store.clients.create({
    name: o.name,
    phoneNumber: o.phoneNumber,
    phoneNumberId: o.phoneNumberId,
    wabaId: o.wabaId ?? null,
    assistantEnabled: o.assistant ?? false,
    assistantModel: o.model ?? null,
    systemPrompt,
    conversationIdleSeconds: o.conversationIdle ?? null,
    quoteReplies: o.quoteReplies ?? 'auto',
    handoff: o.handoff ?? 'until-end',
    language: o.language ?? null,
    csatEnabled: o.csat ?? false,
    csatScale: o.csatScale ?? 5,
    csatQuestion: o.csatQuestionFile ? readCsatQuestion(o.csatQuestionFile) : null,
    csatTemplate: o.csatTemplate ?? null,
    csatComment: o.csatComment ?? false,
  });
}
