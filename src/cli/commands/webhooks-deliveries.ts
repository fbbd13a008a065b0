// `wa-report webhooks test|deliveries|redeliver`: sending events now and reading the delivery log.
import { deliveryDocument, redeliver, sendTest } from '../../events/admin.js';
import type { DeliveryRecord } from '../../db/repositories/webhook-deliveries.js';
import { arg, bool, defineCommand } from '../command.js';
import { json } from '../flags.js';
import { wholeNumber } from '../number-flags.js';
import { writeJson, writeRows } from '../output.js';
import { deliveryIdSchema, endpointIdSchema, reportSent, withSender } from './webhooks-shared.js';

export const test = defineCommand({
  args: { id: arg('<endpoint-id>', endpointIdSchema) },
  flags: {},
  help: '\nSends a webhook.test event to the endpoint now and says how the receiver answered (exit 1 if it failed).\n',
  async run({ args }, ctx) {
    const store = await ctx.store();
    return withSender(ctx, async (sender, s, owner) =>
      reportSent(ctx, `Test event to endpoint ${args.id}`, await sendTest(store, sender, args.id, s, owner)),
    );
  },
});

export const resend = defineCommand({
  args: { id: arg('<delivery-id>', deliveryIdSchema) },
  flags: {},
  help: "\nSends the delivery's event again now, with the same webhook-id (receivers deduplicate by it).\n",
  async run({ args }, ctx) {
    const store = await ctx.store();
    return withSender(ctx, async (sender, s, owner) =>
      reportSent(ctx, `Delivery ${args.id} again`, await redeliver(store, sender, args.id, s, owner)),
    );
  },
});

interface AttemptRow {
  d: DeliveryRecord;
  a: DeliveryRecord['attemptLog'][number] | null;
}

export const deliveries = defineCommand({
  args: { id: arg('[endpoint-id]', endpointIdSchema.optional()) },
  flags: {
    failed: bool('--failed', 'only deliveries that failed for good (dead-lettered)'),
    limit: wholeNumber('--limit <n>', 'the newest n deliveries (default 50)', { min: 1, max: 100_000, default: 50 }),
    json: json('JSON: {deliveries[]}, each with its attempt_log'),
  },
  async run({ args, options }, ctx) {
    const store = await ctx.store();
    if (args.id !== undefined) await store.webhooks.get(args.id);
    const list = await store.deliveries.list({ endpointId: args.id, failed: options.failed, limit: options.limit });
    if (options.json) {
      writeJson(ctx, { deliveries: list.map(deliveryDocument) });
      return;
    }
    // One row per attempt (a delivery not tried yet: one row without one).
    const rows = list.flatMap((d): AttemptRow[] =>
      d.attemptLog.length ? [...d.attemptLog].reverse().map((a) => ({ d, a })) : [{ d, a: null }],
    );
    writeRows(
      ctx,
      rows,
      [
        { header: 'delivery', cell: (r) => String(r.d.id) },
        { header: 'endpoint', cell: (r) => String(r.d.endpointId) },
        { header: 'event', cell: (r) => r.d.type },
        { header: 'webhook-id', cell: (r) => r.d.webhookId },
        { header: 'attempted', cell: (r) => r.a?.attemptedAt.toISOString() ?? '–' },
        {
          header: 'result',
          cell: (r) => {
            if (!r.a) return r.d.nextAttemptAt ? `due ${r.d.nextAttemptAt.toISOString()}` : '–';
            const text = r.a.httpStatus !== null ? `HTTP ${r.a.httpStatus}` : (r.a.error ?? '');
            const ok = r.a.httpStatus !== null && r.a.httpStatus < 300;
            return ok ? ctx.out.green(text) : ctx.out.red(text);
          },
          plain: (r) => (r.a ? (r.a.httpStatus !== null ? String(r.a.httpStatus) : (r.a.error ?? '')) : ''),
        },
        {
          header: 'latency',
          cell: (r) => (r.a ? `${r.a.latencyMs} ms` : ''),
          plain: (r) => String(r.a?.latencyMs ?? ''),
        },
        { header: 'state', cell: (r) => r.d.state },
      ],
      options.failed ? 'No failed deliveries.' : 'No deliveries yet.',
    );
  },
});
