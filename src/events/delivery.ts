// One delivery attempt: the Standard Webhooks body and headers, and the POST. The daemon's worker
// records attempts in batches; the CLI's `webhooks test` / `webhooks redeliver` (and the API's)
// send one at once and record it (`attemptNow`).
import type { Store } from '../db/store.js';
import type {
  AttemptResult,
  ClaimedDelivery,
  DeliveryPolicy,
  Recorded,
} from '../db/repositories/webhook-deliveries.js';
import { withoutContent } from '../domain/events.js';
import type { Sender } from './sender.js';
import { webhookHeaders } from './signature.js';

/** The body receivers get: `{ "type", "timestamp", "data" }`, the same bytes on every attempt. */
export function eventBody(d: Pick<ClaimedDelivery, 'type' | 'occurredAt' | 'data' | 'includeContent'>): string {
  const data = d.data === null ? '{}' : d.includeContent ? d.data : JSON.stringify(withoutContent(JSON.parse(d.data)));
  return `{"type":${JSON.stringify(d.type)},"timestamp":${JSON.stringify(d.occurredAt.toISOString())},"data":${data}}`;
}

/** Sends a claimed delivery once; what came of it. */
export async function send(sender: Sender, d: ClaimedDelivery): Promise<AttemptResult> {
  if (d.data === null) {
    // Erased while it waited: nothing may be sent.
    return {
      status: null,
      error: 'not sent: the event was erased with its contact',
      latencyMs: 0,
      response: null,
      retryAfter: null,
      at: new Date(),
      final: true,
    };
  }
  const body = eventBody(d);
  const result = await sender.post({
    url: d.url,
    body,
    allowHttp: d.allowHttp,
    headers: webhookHeaders(d.secrets, d.webhookId, body, new Date()),
  });
  return { ...result, at: new Date() };
}

export interface AttemptOutcome extends Recorded {
  result: AttemptResult;
}

/** Sends a claimed delivery and records the attempt at once. */
export async function attemptNow(
  store: Store,
  sender: Sender,
  d: ClaimedDelivery,
  owner: string,
  policy: DeliveryPolicy,
): Promise<AttemptOutcome> {
  const result = await send(sender, d);
  const [recorded] = await store.deliveries.record([{ delivery: d, result }], owner, policy);
  return { result, ...(recorded as Recorded) };
}
