// Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com): a secret `whsec_<base64>`,
// and `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`,
// one signature per secret (space-separated) while a rotated secret still signs. Receivers verify
// with any Standard Webhooks library (the tests use the `standardwebhooks` package).
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new secret: 32 random bytes. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

/** The value of the webhook-signature header for a body, signed with every secret given. */
export function signatureHeader(
  secrets: readonly string[],
  webhookId: string,
  timestamp: number,
  body: string,
): string {
  return secrets
    .map((s) => `v1,${createHmac('sha256', keyOf(s)).update(`${webhookId}.${timestamp}.${body}`).digest('base64')}`)
    .join(' ');
}

/** The three Standard Webhooks headers of one attempt (the timestamp is the attempt's, in seconds). */
export function webhookHeaders(
  secrets: readonly string[],
  webhookId: string,
  body: string,
  at: Date,
): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, webhookId, timestamp, body),
  };
}
