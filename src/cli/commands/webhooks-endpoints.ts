// `wa-report webhooks add|list|remove|enable|disable|rotate-secret`: where event webhooks go.
import { formatEventList } from '../../domain/webhooks.js';
import { addEndpoint, endpointDocument, rotateSecret } from '../../events/admin.js';
import type { EndpointRecord } from '../../db/repositories/webhooks.js';
import { arg, bool, defineCommand, required, text } from '../command.js';
import type { CommandContext } from '../context.js';
import { json } from '../flags.js';
import { clientIdFlag } from '../number-flags.js';
import { writeJson, writeRows } from '../output.js';
import { endpointIdSchema, settings } from './webhooks-shared.js';

function printSecret(ctx: CommandContext, e: EndpointRecord, secret: string, asJson: boolean, verb: string): void {
  if (asJson) writeJson(ctx, { endpoint: endpointDocument(e), secret });
  else ctx.io.stdout.write(`${secret}\n`);
  ctx.io.stderr.write(
    `${verb} webhook endpoint ${e.id} (${e.url}). Its signing secret is shown only now: give it to the receiver, ` +
      'which verifies the webhook-signature header with any Standard Webhooks library.\n',
  );
}

export const add = defineCommand({
  flags: {
    url: required(text('--url <url>', 'where events are POSTed: https://…')),
    events: text(
      '--events <names>',
      'comma-separated event names (default: all), e.g. conversation.ended,message.failed',
    ),
    clientId: clientIdFlag("only this client's events (default: every client's)"),
    includeContent: bool('--include-content', 'include message text in message events (default: ids and counts only)'),
    allowHttp: bool('--allow-http', 'allow a plain http:// URL (only on a network you trust)'),
    json: json('print {endpoint, secret} as JSON'),
  },
  help: `
Events: conversation.started, conversation.ended, conversation.handoff, message.received, message.sent,
message.failed, contact.erased (payloads: docs/events.md). Deliveries follow Standard Webhooks 1.0: headers
webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256>).

Example:
  wa-report webhooks add --url https://hooks.example.com/wa --events conversation.ended,message.failed
`,
  async run({ options: o }, ctx) {
    const store = await ctx.store();
    const { endpoint, secret } = await addEndpoint(
      store,
      {
        url: o.url,
        events: o.events,
        clientId: o.clientId ?? null,
        includeContent: o.includeContent,
        allowHttp: o.allowHttp,
      },
      settings(ctx),
    );
    printSecret(ctx, endpoint, secret, Boolean(o.json), 'Added');
  },
});

export const list = defineCommand({
  flags: { json: json('JSON: {endpoints[]}') },
  async run({ options }, ctx) {
    const store = await ctx.store();
    const endpoints = await store.webhooks.list();
    if (options.json) {
      writeJson(ctx, { endpoints: endpoints.map(endpointDocument) });
      return;
    }
    writeRows(
      ctx,
      endpoints,
      [
        { header: 'id', cell: (e) => String(e.id) },
        { header: 'url', cell: (e) => e.url },
        { header: 'events', cell: (e) => formatEventList(e.events) },
        { header: 'client', cell: (e) => (e.clientId === null ? 'all' : String(e.clientId)) },
        { header: 'content', cell: (e) => (e.includeContent ? 'yes' : 'no') },
        {
          header: 'state',
          cell: (e) =>
            e.disabledAt
              ? ctx.out.red(`disabled: ${e.disabledReason ?? ''}`)
              : e.failingSince
                ? ctx.out.yellow(`failing since ${e.failingSince.toISOString()}`)
                : 'enabled',
          plain: (e) => (e.disabledAt ? `disabled: ${e.disabledReason ?? ''}` : e.failingSince ? 'failing' : 'enabled'),
        },
        { header: 'created', cell: (e) => e.createdAt.toISOString() },
      ],
      'No webhook endpoints. Add one with `wa-report webhooks add --url https://…`.',
    );
  },
});

export const remove = defineCommand({
  args: { id: arg('<endpoint-id>', endpointIdSchema) },
  flags: {},
  async run({ args }, ctx) {
    const store = await ctx.store();
    const e = await store.webhooks.get(args.id);
    await store.webhooks.remove(args.id);
    ctx.io.stderr.write(`Removed webhook endpoint ${e.id} (${e.url}) and its deliveries.\n`);
  },
});

function setEnabled(enabled: boolean) {
  return defineCommand({
    args: { id: arg('<endpoint-id>', endpointIdSchema) },
    flags: { json: json('print the endpoint as JSON') },
    async run({ args, options }, ctx) {
      const store = await ctx.store();
      const e = await store.webhooks.setEnabled(args.id, enabled);
      if (options.json) writeJson(ctx, endpointDocument(e));
      else
        ctx.io.stderr.write(
          enabled
            ? `Enabled webhook endpoint ${e.id}: waiting deliveries are sent again.\n`
            : `Disabled webhook endpoint ${e.id}: nothing is sent to it until \`wa-report webhooks enable ${e.id}\`.\n`,
        );
    },
  });
}

export const enable = setEnabled(true);
export const disable = setEnabled(false);

export const rotate = defineCommand({
  args: { id: arg('<endpoint-id>', endpointIdSchema) },
  flags: { json: json('print {endpoint, secret} as JSON') },
  async run({ args, options }, ctx) {
    const store = await ctx.store();
    const { endpoint, secret } = await rotateSecret(store, args.id);
    printSecret(ctx, endpoint, secret, Boolean(options.json), 'Rotated the secret of');
    ctx.io.stderr.write(
      `For 24 hours (until ${endpoint.previousSecretUntil?.toISOString()}) every delivery is signed with both ` +
        'secrets, so the receiver can switch without missing an event.\n',
    );
  },
});
