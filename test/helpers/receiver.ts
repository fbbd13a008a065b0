// A webhook receiver on 127.0.0.1 standing in for a customer's endpoint: it verifies every delivery
// with the `standardwebhooks` package (an implementation independent of ours), records it, and
// answers as the test tells it (status, Retry-After, delay, or no answer at all).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  webhookId: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body ({type, timestamp, data}). */
  event: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Which of the receiver's secrets verified it (index), or null when none did. */
  verifiedWith: number | null;
  receivedAt: number;
  headers: IncomingMessage['headers'];
}

export type ReceiverAnswer =
  { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

export interface Receiver {
  url: string;
  port: number;
  deliveries: Delivery[];
  /** The secrets deliveries are verified with (set after `webhooks add`). */
  secrets: string[];
  /** How to answer the n-th request (0-based); default 200. */
  answer: (n: number, d: Delivery) => ReceiverAnswer;
  /** Deliveries by webhook-id, in arrival order, without repeats. */
  unique(): Delivery[];
  /** Repeats of a webhook-id that had already been answered 2xx. */
  duplicates(): number;
  /** Stop listening (connections refused) and start again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(options: { port?: number } = {}): Promise<Receiver> {
  let server: Server | null = null;
  let requests = 0;
  const acknowledged = new Set<string>();
  let duplicates = 0;
  const r: Receiver = {
    url: '',
    port: options.port ?? 0,
    deliveries: [],
    secrets: [],
    answer: () => ({ status: 200 }),
    unique() {
      const seen = new Set<string>();
      return r.deliveries.filter((d) => (seen.has(d.webhookId) ? false : (seen.add(d.webhookId), true)));
    },
    duplicates: () => duplicates,
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const headers = {
            'webhook-id': String(req.headers['webhook-id'] ?? ''),
            'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
            'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
          };
          let verifiedWith: number | null = null;
          r.secrets.forEach((secret, i) => {
            if (verifiedWith !== null) return;
            try {
              new Webhook(secret).verify(body, headers);
              verifiedWith = i;
            } catch {
              /* not this one */
            }
          });
          let event: Delivery['event'];
          try {
            event = JSON.parse(body) as Delivery['event'];
          } catch {
            event = { type: '(unparsable)', timestamp: '', data: {} };
          }
          const d: Delivery = {
            webhookId: headers['webhook-id'],
            timestamp: headers['webhook-timestamp'],
            signature: headers['webhook-signature'],
            body,
            event,
            verifiedWith,
            receivedAt: Date.now(),
            headers: req.headers,
          };
          r.deliveries.push(d);
          const a = r.answer(requests++, d);
          if (a === 'hang') return; // never answers: the sender's time limit applies
          const send = () => {
            if (a.status >= 200 && a.status < 300) {
              if (acknowledged.has(d.webhookId)) duplicates++;
              acknowledged.add(d.webhookId);
            }
            res.writeHead(a.status, { 'content-type': 'text/plain', ...(a.headers ?? {}) });
            res.end(a.body ?? 'ok');
          };
          if (a.delayMs) setTimeout(send, a.delayMs);
          else send();
        });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(r.port, '127.0.0.1', () => resolve());
      });
      r.port = (server!.address() as AddressInfo).port;
      r.url = `http://127.0.0.1:${r.port}/hooks`;
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async close() {
      await r.stop();
    },
  };
  await r.start();
  return r;
}
