// `wa-report clients update <client-id>`: change what is known of a client.
import type { ClientInput } from '../../domain/types.js';
import { UsageError } from '../../errors.js';
import { arg, bool, defineCommand } from '../command.js';
import { clientFlags, clientIdSchema, printClient, readCsatQuestion, readSystemPrompt } from './clients-shared.js';

export const command = defineCommand({
  args: { id: arg('<client-id>', clientIdSchema) },
  flags: {
    ...clientFlags(),
    clearSystemPrompt: bool('--clear-system-prompt', 'remove the system prompt'),
    defaultConversationIdle: bool(
      '--default-conversation-idle',
      "use the program's idle period again (WA_REPORT_CONVERSATION_IDLE)",
    ),
    active: { ...bool('--active', 'enable the client'), hidden: true },
  },
  async run({ args, options: o }, ctx) {
    if (o.systemPromptFile && o.clearSystemPrompt) {
      throw new UsageError('--system-prompt-file and --clear-system-prompt: choose one.');
    }
    const patch: Partial<ClientInput> = {};
    if (o.name !== undefined) patch.name = o.name;
    if (o.phoneNumber !== undefined) patch.phoneNumber = o.phoneNumber;
    if (o.phoneNumberId !== undefined) patch.phoneNumberId = o.phoneNumberId;
    if (o.wabaId !== undefined) patch.wabaId = o.wabaId;
    if (o.model !== undefined) patch.assistantModel = o.model;
    if (o.assistant !== undefined) patch.assistantEnabled = o.assistant;
    if (o.active !== undefined) patch.active = o.active;
    if (o.systemPromptFile) patch.systemPrompt = readSystemPrompt(o.systemPromptFile);
    if (o.clearSystemPrompt) patch.systemPrompt = null;
    if (o.conversationIdle !== undefined && o.defaultConversationIdle) {
      throw new UsageError('--conversation-idle and --default-conversation-idle: choose one.');
    }
    if (o.conversationIdle !== undefined) patch.conversationIdleSeconds = o.conversationIdle;
    if (o.defaultConversationIdle) patch.conversationIdleSeconds = null;
    if (o.quoteReplies !== undefined) patch.quoteReplies = o.quoteReplies;
    if (o.handoff !== undefined) patch.handoff = o.handoff;
    if (o.language !== undefined) patch.language = o.language;
    if (o.csat !== undefined) patch.csatEnabled = o.csat;
    if (o.csatScale !== undefined) patch.csatScale = o.csatScale;
    if (o.csatQuestionFile) patch.csatQuestion = readCsatQuestion(o.csatQuestionFile);
    if (o.csatTemplate !== undefined) patch.csatTemplate = o.csatTemplate;
    if (o.csatComment !== undefined) patch.csatComment = o.csatComment;
    if (Object.keys(patch).length === 0) {
      throw new UsageError(
        'Nothing to update: give at least one of --name, --phone-number, --phone-number-id, --waba-id, ' +
          '--assistant/--no-assistant, --model, --system-prompt-file, --clear-system-prompt, --conversation-idle, ' +
          '--default-conversation-idle, --quote-replies, --handoff, --language, --csat/--no-csat, --csat-scale, ' +
          '--csat-question-file, --csat-template, --csat-comment/--no-csat-comment.',
      );
    }
    const store = await ctx.store();
    const client = await store.clients.update(args.id, patch);
    printClient(ctx, client, o.json, `Updated client ${client.id} (${client.name}).`);
  },
});
