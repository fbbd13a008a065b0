// The daemon's configuration: defaults, overrides and every problem reported at once.
import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from '../../src/server/config.js';

describe('ingest configuration', () => {
  it('talks to the current Graph API version unless WHATSAPP_GRAPH_URL says otherwise', () => {
    expect(loadIngestConfig({ WHATSAPP_APP_SECRET: 's' }).graphUrl).toBe('https://graph.facebook.com/v26.0');
    const own = loadIngestConfig({ WHATSAPP_APP_SECRET: 's', WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9/v99.0/' });
    expect(own.graphUrl).toBe('http://127.0.0.1:9/v99.0');
  });

  it('names every invalid variable at once', () => {
    expect(() => loadIngestConfig({ PORT: 'x', LOG_LEVEL: 'loud', WHATSAPP_GRAPH_URL: 'ftp://x' })).toThrow(
      /PORT[\s\S]*WHATSAPP_GRAPH_URL[\s\S]*LOG_LEVEL[\s\S]*WHATSAPP_APP_SECRET/,
    );
  });
});
