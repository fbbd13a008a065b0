// Prometheus metrics of one daemon (a registry per app, so tests can run several side by side).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'wa_report_' });
  const registers = [registry];
  return {
    registry,
    webhooks: new Counter({
      name: 'wa_report_webhooks_total',
      help: 'Webhook requests by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    messagesStored: new Counter({
      name: 'wa_report_messages_stored_total',
      help: 'New messages committed (duplicates not counted)',
      registers,
    }),
    statusesStored: new Counter({
      name: 'wa_report_statuses_stored_total',
      help: 'Status events committed',
      registers,
    }),
    batches: new Counter({ name: 'wa_report_commits_total', help: 'Write transactions committed', registers }),
    commitFailures: new Counter({
      name: 'wa_report_commit_failures_total',
      help: 'Write transactions that failed',
      registers,
    }),
    queueDepth: new Gauge({ name: 'wa_report_write_queue_depth', help: 'Rows waiting to be committed', registers }),
    commitSeconds: new Histogram({
      name: 'wa_report_commit_seconds',
      help: 'Write transaction latency',
      registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    replies: new Counter({
      name: 'wa_report_replies_total',
      help: 'Assistant replies by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    replyTakeovers: new Counter({
      name: 'wa_report_reply_takeovers_total',
      help: 'Conversations taken over from a daemon whose claim ran out',
      registers,
    }),
    modelSeconds: new Histogram({
      name: 'wa_report_openai_seconds',
      help: 'Model call latency',
      registers,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    }),
    graphSeconds: new Histogram({
      name: 'wa_report_graph_seconds',
      help: 'Graph API send latency',
      registers,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15],
    }),
    webhookDeliveries: new Counter({
      name: 'wa_report_webhook_deliveries_total',
      help: 'Event webhook delivery attempts by outcome (delivered, retry, dead, gone, rejected)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhookSeconds: new Histogram({
      name: 'wa_report_webhook_delivery_seconds',
      help: 'Event webhook delivery latency (request to answer)',
      registers,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    }),
    outboxDepth: new Gauge({
      name: 'wa_report_outbox_depth',
      help: 'Event deliveries waiting or in flight (enabled endpoints)',
      registers,
    }),
    outboxOldestSeconds: new Gauge({
      name: 'wa_report_outbox_oldest_seconds',
      help: 'Age of the oldest event delivery waiting or in flight (0 when none)',
      registers,
    }),
    conversationsEnded: new Counter({
      name: 'wa_report_conversations_ended_total',
      help: 'Conversations this daemon ended for being idle',
      registers,
    }),
    replyQueue: new Gauge({
      name: 'wa_report_reply_queue_depth',
      help: 'Conversations waiting for an answer',
      registers,
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createMetrics>;
