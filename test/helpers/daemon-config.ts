// The daemon's configuration in tests: signed webhooks, and the Graph API and OpenAI stand-ins when
// given (without them the daemon only archives), on an ephemeral loopback port.
import { loadIngestConfig } from '../../src/server/config.js';
import type { GraphStandIn, ModelStandIn } from './standins.js';
import { APP_SECRET, VERIFY_TOKEN } from './webhooks.js';

export function daemonConfig(
  graph: GraphStandIn | null,
  model: ModelStandIn | null,
  extra: Record<string, string> = {},
) {
  return loadIngestConfig(
    {
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      ...(graph ? { WHATSAPP_ACCESS_TOKEN: 'graph-token', WHATSAPP_GRAPH_URL: graph.url } : {}),
      ...(model
        ? {
            OPENAI_API_KEY: 'sk-test',
            OPENAI_BASE_URL: model.url,
            OPENAI_MODEL: 'test-model',
            WA_REPORT_OPENAI_TIMEOUT_MS: '2000',
          }
        : {}),
      ...extra,
    },
    { port: '0', host: '127.0.0.1' },
  );
}
