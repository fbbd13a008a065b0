// The HTTP API's administration, admin tokens only: event webhook endpoints and their deliveries
// (what `wa-report webhooks …` does), and closing a conversation. Every answer is no-store.
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { Store } from '../db/store.js';
import {
  addEndpoint,
  deliveryDocument,
  endpointDocument,
  redeliver,
  rotateSecret,
  sendTest,
  type SentNow,
} from '../events/admin.js';
import type { WebhookSettings } from '../events/policy.js';
import type { Sender } from '../events/sender.js';
import { sessionDocument } from '../reports/documents.js';
import { clientId, contact, idText, jsonBody, limitText, noStore, param, query, wrap } from './api-helpers.js';
import type { Authenticator } from './auth.js';
import { HttpError } from './http-error.js';

export interface AdminApiDeps {
  store: Store;
  authenticator: Authenticator;
  sender: Sender;
  webhooks: WebhookSettings;
  /** The daemon's lease owner name. */
  owner: string;
}

const endpointBody = z.strictObject(
  {
    url: z.string({ error: 'url: required, the https:// address events are sent to' }),
    events: z.union([z.array(z.string()), z.string()], { error: 'events: a list of event names, or "*"' }).optional(),
    client_id: z.number().int().positive({ error: 'client_id: a client id' }).nullable().optional(),
    include_content: z.boolean({ error: 'include_content: true or false' }).optional(),
    allow_http: z.boolean({ error: 'allow_http: true or false' }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : undefined) },
);

function sentDocument(s: SentNow) {
  return {
    delivery_id: s.deliveryId,
    state: s.state,
    delivered: s.state === 'delivered',
    http_status: s.httpStatus,
    error: s.error,
    latency_ms: s.latencyMs,
    endpoint_disabled: s.endpointDisabled,
  };
}

export function mountAdminApi(app: Express, deps: AdminApiDeps): void {
  const admin = [deps.authenticator.bearer('admin'), noStore];
  const id = (req: Request, name = 'id') => param(idText, String(req.params[name] ?? ''), name);
  const { store } = deps;

  app.get(
    '/webhooks',
    ...admin,
    wrap(async (_req, res) => {
      res.json({ endpoints: (await store.webhooks.list()).map(endpointDocument) });
    }),
  );

  app.post(
    '/webhooks',
    ...admin,
    ...jsonBody,
    wrap(async (req, res) => {
      const parsed = endpointBody.safeParse(req.body ?? {});
      if (!parsed.success) {
        throw new HttpError(400, 'bad_body', parsed.error.issues.map((i) => i.message).join('; '));
      }
      const b = parsed.data;
      const { endpoint, secret } = await addEndpoint(
        store,
        {
          url: b.url,
          events: Array.isArray(b.events) ? b.events.join(',') : b.events,
          clientId: b.client_id ?? null,
          includeContent: b.include_content,
          allowHttp: b.allow_http,
        },
        deps.webhooks,
      );
      res.status(201).json({ endpoint: endpointDocument(endpoint), secret });
    }),
  );

  app.delete(
    '/webhooks/:id',
    ...admin,
    wrap(async (req, res) => {
      await store.webhooks.remove(id(req));
      res.json({ removed: id(req) });
    }),
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/webhooks/:id/${action}`,
      ...admin,
      wrap(async (req, res) => {
        res.json({ endpoint: endpointDocument(await store.webhooks.setEnabled(id(req), enabled)) });
      }),
    );
  }

  app.post(
    '/webhooks/:id/test',
    ...admin,
    wrap(async (req, res) => {
      res.json(sentDocument(await sendTest(store, deps.sender, id(req), deps.webhooks, deps.owner)));
    }),
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    ...admin,
    wrap(async (req, res) => {
      const { endpoint, secret } = await rotateSecret(store, id(req));
      res.json({ endpoint: endpointDocument(endpoint), secret });
    }),
  );

  const deliveries = async (req: Request, res: Response, endpointId?: number) => {
    const failed = query(req, 'failed');
    if (failed !== undefined && failed !== '1' && failed !== '0') {
      throw new HttpError(400, 'bad_parameter', `failed: "${failed}" must be 1 or 0.`);
    }
    if (endpointId !== undefined) await store.webhooks.get(endpointId);
    const list = await store.deliveries.list({
      endpointId,
      failed: failed === '1',
      limit: param(limitText, query(req, 'limit'), 'limit'),
    });
    res.json({ deliveries: list.map(deliveryDocument) });
  };
  app.get(
    '/webhooks/deliveries',
    ...admin,
    wrap((req, res) => deliveries(req, res)),
  );
  app.get(
    '/webhooks/:id/deliveries',
    ...admin,
    wrap((req, res) => deliveries(req, res, id(req))),
  );

  app.post(
    '/webhooks/deliveries/:id/redeliver',
    ...admin,
    wrap(async (req, res) => {
      res.json(sentDocument(await redeliver(store, deps.sender, id(req), deps.webhooks, deps.owner)));
    }),
  );

  app.post(
    '/clients/:clientId/conversations/:waId/close',
    ...admin,
    wrap(async (req, res) => {
      const client = clientId(req);
      const waId = contact(req);
      await store.clients.get(client);
      const thread = await store.conversations.threadOf(client, waId);
      const closed = thread === null ? null : await store.conversations.close(thread);
      if (!closed) {
        throw new HttpError(404, 'not_open', `No open conversation with ${waId} for client ${client}.`);
      }
      res.json({
        closed: true,
        conversation: sessionDocument({ ...closed, id: closed.id as number, contactName: null }),
      });
    }),
  );
}
