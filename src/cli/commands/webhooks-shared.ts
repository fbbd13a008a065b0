// What the `wa-report webhooks …` commands share: delivery settings from the environment, a
// sender for what the CLI sends itself (test, redeliver), and how an attempt is reported.
import { hostname } from 'node:os';
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import type { SentNow } from '../../events/admin.js';
import { webhookSettingsFromEnv, type WebhookSettings } from '../../events/policy.js';
import { Sender } from '../../events/sender.js';
import { VERSION } from '../../server/version.js';
import type { CommandContext } from '../context.js';

export const endpointIdSchema = z.coerce
  .number({ error: 'must be an endpoint id (see `wa-report webhooks list`)' })
  .int('must be a whole number')
  .positive('must be an endpoint id (see `wa-report webhooks list`)');

export const deliveryIdSchema = z.coerce
  .number({ error: 'must be a delivery id (see `wa-report webhooks deliveries`)' })
  .int('must be a whole number')
  .positive('must be a delivery id (see `wa-report webhooks deliveries`)');

export function settings(ctx: CommandContext): WebhookSettings {
  const { settings, problems } = webhookSettingsFromEnv(ctx.io.env);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return settings;
}

/** Runs `fn` with a sender that is closed afterwards. */
export async function withSender<T>(
  ctx: CommandContext,
  fn: (sender: Sender, s: WebhookSettings, owner: string) => Promise<T>,
) {
  const s = settings(ctx);
  const sender = new Sender({ allowPrivate: s.allowPrivate, userAgent: `wa-report/${VERSION}` });
  try {
    return await fn(sender, s, `cli:${hostname()}:${process.pid}`);
  } finally {
    sender.close();
  }
}

/** How an immediate send went, for a person (stderr); the exit code (0 delivered, 1 otherwise). */
export function reportSent(ctx: CommandContext, what: string, sent: SentNow): number {
  if (sent.state === null) {
    ctx.io.stderr.write(`${what}: delivery ${sent.deliveryId} is still being sent by the daemon.\n`);
    return 1;
  }
  if (sent.state === 'waiting') {
    ctx.io.stderr.write(
      sent.endpointDisabled
        ? `${what}: delivery ${sent.deliveryId} waits: the endpoint is disabled (${sent.endpointDisabled}); ` +
            'enable it with `wa-report webhooks enable`.\n'
        : `${what}: delivery ${sent.deliveryId} waits behind an earlier delivery of its conversation; the daemon ` +
            'sends it right after that one.\n',
    );
    return 0;
  }
  const answer = sent.httpStatus !== null ? `HTTP ${sent.httpStatus}` : (sent.error ?? 'no answer');
  const detail = sent.httpStatus !== null && sent.error ? ` (${sent.error})` : '';
  const by = sent.sentBy === 'worker' ? ' by the daemon' : '';
  if (sent.state === 'delivered') {
    ctx.io.stderr.write(`${what}: delivered${by} (${answer}, ${sent.latencyMs} ms), delivery ${sent.deliveryId}.\n`);
    return 0;
  }
  const next =
    sent.state === 'pending'
      ? 'the daemon tries again on the retry schedule'
      : 'not retried (see `wa-report webhooks deliveries --failed`)';
  ctx.io.stderr.write(
    `${what}: not delivered${by}: ${answer}${detail} after ${sent.latencyMs} ms; delivery ${sent.deliveryId}, ` +
      `${next}.\n` +
      (sent.endpointDisabled ? `The endpoint is disabled: ${sent.endpointDisabled}.\n` : ''),
  );
  return 1;
}
