// Managing event webhooks, the same from the CLI (`wa-report webhooks …`) and the HTTP API
// (/webhooks, admin tokens): adding an endpoint (its secret shown once), sending a test event or
// a delivery again right away, rotating a secret; and the JSON of endpoints and deliveries.
import type { Store } from '../db/store.js';
import type { EndpointRecord } from '../db/repositories/webhooks.js';
import type { DeliveryRecord, DeliveryState } from '../db/repositories/webhook-deliveries.js';
import { webhookTest } from '../domain/events.js';
import { DELIVERY_TIMEOUT_MS, parseEventList } from '../domain/webhooks.js';
import { UsageError } from '../errors.js';
import { attemptNow } from './delivery.js';
import { checkDestination, checkEndpointUrl, DestinationError } from './destination.js';
import type { WebhookSettings } from './policy.js';
import type { Sender } from './sender.js';
import { newSecret } from './signature.js';

export interface EndpointInput {
  url: string;
  /** Comma-separated event names, or * (default). */
  events?: string;
  clientId?: number | null;
  includeContent?: boolean;
  allowHttp?: boolean;
}

/** Checks and stores a new endpoint; returns it with its secret (shown once, never again). */
export async function addEndpoint(
  store: Store,
  input: EndpointInput,
  settings: WebhookSettings,
): Promise<{ endpoint: EndpointRecord; secret: string }> {
  const url = checkEndpointUrl(input.url, { allowHttp: Boolean(input.allowHttp) });
  let events: string;
  try {
    events = parseEventList(input.events ?? '*');
  } catch (error) {
    throw new UsageError(`--events: ${(error as Error).message}.`);
  }
  if (input.clientId !== undefined && input.clientId !== null) await store.clients.get(input.clientId);
  try {
    await checkDestination(url, settings.allowPrivate);
  } catch (error) {
    if (error instanceof DestinationError) throw new UsageError(`--url: ${error.message}.`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--url: ${new URL(url).hostname} does not resolve (${code ?? (error as Error).message}); check the address.`,
    );
  }
  const secret = newSecret();
  const endpoint = await store.webhooks.create({
    url,
    events,
    clientId: input.clientId ?? null,
    includeContent: Boolean(input.includeContent),
    allowHttp: Boolean(input.allowHttp),
    secret,
  });
  return { endpoint, secret };
}

/** A new secret for an endpoint (the old one keeps signing for 24 hours). */
export async function rotateSecret(store: Store, id: number): Promise<{ endpoint: EndpointRecord; secret: string }> {
  const secret = newSecret();
  return { endpoint: await store.webhooks.rotateSecret(id, secret), secret };
}

/** How sending a delivery now went. */
export interface SentNow {
  deliveryId: number;
  /** The delivery's state afterwards; null if it was still being sent when we stopped waiting. */
  state: DeliveryState | null;
  httpStatus: number | null;
  error: string | null;
  latencyMs: number | null;
  endpointDisabled: string | null;
  /** Who sent it: this process, or a daemon's worker that claimed it first. */
  sentBy: 'here' | 'worker';
}

/** Writes a webhook.test event for one endpoint and sends it now. */
export async function sendTest(store: Store, sender: Sender, id: number, settings: WebhookSettings, owner: string) {
  await store.webhooks.get(id);
  const webhookId = await store.deliveries.queueEvent(webhookTest(id, new Date()));
  const deliveryId = await store.deliveries.deliveryOf(webhookId, id);
  if (deliveryId === null) throw new UsageError(`Endpoint ${id}: the test event could not be queued.`);
  return sendNow(store, sender, deliveryId, settings, owner);
}

/** Queues a delivery again (same event, same webhook-id) and sends it now. */
export async function redeliver(
  store: Store,
  sender: Sender,
  deliveryId: number,
  settings: WebhookSettings,
  owner: string,
): Promise<SentNow> {
  const again = await store.deliveries.redeliver(deliveryId);
  return sendNow(store, sender, again, settings, owner);
}

async function sendNow(
  store: Store,
  sender: Sender,
  deliveryId: number,
  settings: WebhookSettings,
  owner: string,
): Promise<SentNow> {
  const claimed = await store.deliveries.claimOne(deliveryId, owner, settings);
  if (claimed) {
    const o = await attemptNow(store, sender, claimed, owner, settings);
    return {
      deliveryId,
      state: o.state,
      httpStatus: o.result.status,
      error: o.result.error,
      latencyMs: o.result.latencyMs,
      endpointDisabled: o.endpointDisabled,
      sentBy: 'here',
    };
  }
  const d = await store.deliveries.get(deliveryId);
  if (d.state === 'waiting') {
    // Behind an earlier delivery of its conversation: sent in order, after that one.
    return {
      deliveryId,
      state: 'waiting',
      httpStatus: null,
      error: null,
      latencyMs: null,
      endpointDisabled: (await store.webhooks.get(d.endpointId)).disabledReason,
      sentBy: 'worker',
    };
  }
  // A daemon's worker took it first (it wakes up on every commit): wait for its attempt.
  return awaitAttempt(store, deliveryId);
}

/** Waits (up to a delivery's time limit and a little more) for the first attempt of a delivery. */
async function awaitAttempt(store: Store, deliveryId: number): Promise<SentNow> {
  const end = Date.now() + DELIVERY_TIMEOUT_MS + 5_000;
  for (;;) {
    const d = await store.deliveries.get(deliveryId);
    const last = d.attemptLog.at(-1);
    if ((last && d.state !== 'delivering') || Date.now() > end) {
      const endpoint = await store.webhooks.get(d.endpointId);
      return {
        deliveryId,
        state: last && d.state !== 'delivering' ? d.state : null,
        httpStatus: last?.httpStatus ?? null,
        error: last?.error ?? null,
        latencyMs: last?.latencyMs ?? null,
        endpointDisabled: endpoint.disabledReason,
        sentBy: 'worker',
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- JSON ---------------------------------------------------------------------------------------

export function endpointDocument(e: EndpointRecord) {
  return {
    id: e.id,
    url: e.url,
    events: e.events === '*' ? ['*'] : e.events.split(','),
    client_id: e.clientId,
    include_content: e.includeContent,
    allow_http: e.allowHttp,
    enabled: e.disabledAt === null,
    disabled_at: e.disabledAt?.toISOString() ?? null,
    disabled_reason: e.disabledReason,
    failing_since: e.failingSince?.toISOString() ?? null,
    previous_secret_until: e.previousSecretUntil?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
  };
}

export function deliveryDocument(d: DeliveryRecord) {
  return {
    id: d.id,
    endpoint_id: d.endpointId,
    webhook_id: d.webhookId,
    type: d.type,
    occurred_at: d.occurredAt.toISOString(),
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
    last_status: d.lastStatus,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    attempt_log: d.attemptLog.map((a) => ({
      attempted_at: a.attemptedAt.toISOString(),
      http_status: a.httpStatus,
      error: a.error,
      latency_ms: a.latencyMs,
      response: a.response,
    })),
  };
}
