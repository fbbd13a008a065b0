// One delivery attempt, start to finish: the Standard Webhooks body and headers, the POST, and the
// outcome written back (webhooks.record). Used by the daemon's worker and by the CLI's
// `webhooks test` / `webhooks redeliver`, which send at once.
import type { Store } from '../db/store.js';
import type { ClaimedDelivery, DeliveryPolicy, DeliveryState } from '../db/repositories/webhooks.js';
import { withoutContent } from '../domain/events.js';
import type { Verdict } from '../domain/webhooks.js';
import type { PostResult, Sender } from './sender.js';
import { webhookHeaders } from './signature.js';

/** The body receivers get: `{ "type", "timestamp", "data" }`, the same bytes on every attempt. */
export function eventBody(d: Pick<ClaimedDelivery, 'type' | 'occurredAt' | 'data' | 'includeContent'>): string {
  const data = d.data === null ? '{}' : d.includeContent ? d.data : JSON.stringify(withoutContent(JSON.parse(d.data)));
  return `{"type":${JSON.stringify(d.type)},"timestamp":${JSON.stringify(d.occurredAt.toISOString())},"data":${data}}`;
}

export interface AttemptOutcome {
  result: PostResult;
  verdict: Verdict;
  /** The delivery's new state; null when another daemon had taken it over meanwhile. */
  state: DeliveryState | null;
  endpointDisabled: string | null;
}

export async function attempt(
  store: Store,
  sender: Sender,
  d: ClaimedDelivery,
  owner: string,
  policy: DeliveryPolicy,
): Promise<AttemptOutcome> {
  let result: PostResult;
  if (d.data === null) {
    // Erased while it waited: nothing may be sent.
    result = {
      status: null,
      error: 'not sent: the event was erased with its contact',
      latencyMs: 0,
      response: null,
      retryAfter: null,
    };
  } else {
    const body = eventBody(d);
    result = await sender.post({
      url: d.url,
      body,
      allowHttp: d.allowHttp,
      headers: webhookHeaders(d.secrets, d.webhookId, body, new Date()),
    });
  }
  const recorded = await store.webhooks.record(d, owner, { ...result, at: new Date(), final: d.data === null }, policy);
  return { result, ...recorded };
}
