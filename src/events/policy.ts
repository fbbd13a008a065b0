// How event webhooks are delivered, from the environment (the daemon and the CLI read the same):
//   WA_REPORT_WEBHOOK_RETRY            delays between attempts (default 5s,5m,30m,2h,5h,10h,10h)
//   WA_REPORT_WEBHOOK_LEASE            how long a claim holds before another daemon may take over (60s)
//   WA_REPORT_WEBHOOKS_ALLOW_PRIVATE   1: loopback and private destinations allowed
import type { DeliveryPolicy } from '../db/repositories/webhook-deliveries.js';
import { parseDuration } from '../domain/durations.js';
import { DEFAULT_RETRY_SCHEDULE_MS, parseRetrySchedule } from '../domain/webhooks.js';

export interface WebhookSettings extends DeliveryPolicy {
  allowPrivate: boolean;
}

export const DEFAULT_LEASE_MS = 60_000;

/** The settings, and every problem found (each says how to fix it). */
export function webhookSettingsFromEnv(env: NodeJS.ProcessEnv): { settings: WebhookSettings; problems: string[] } {
  const problems: string[] = [];
  let retrySchedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS;
  const retry = env.WA_REPORT_WEBHOOK_RETRY?.trim();
  if (retry) {
    try {
      retrySchedule = parseRetrySchedule(retry);
    } catch (error) {
      problems.push(`WA_REPORT_WEBHOOK_RETRY: ${(error as Error).message}`);
    }
  }
  let leaseMs = DEFAULT_LEASE_MS;
  const lease = env.WA_REPORT_WEBHOOK_LEASE?.trim();
  if (lease) {
    const ms = parseDuration(lease, ['s', 'm', 'h']);
    if (ms === null || ms < 1_000)
      problems.push(`WA_REPORT_WEBHOOK_LEASE: "${lease}" is not a period such as 60s or 2m`);
    else leaseMs = ms;
  }
  const allow = env.WA_REPORT_WEBHOOKS_ALLOW_PRIVATE?.trim();
  if (allow && !['0', '1', 'true', 'false'].includes(allow)) {
    problems.push(`WA_REPORT_WEBHOOKS_ALLOW_PRIVATE: "${allow}" must be 1 or 0`);
  }
  return { settings: { retrySchedule, leaseMs, allowPrivate: allow === '1' || allow === 'true' }, problems };
}
