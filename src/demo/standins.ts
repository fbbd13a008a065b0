// Local stand-ins for the WhatsApp Graph API and an OpenAI-compatible model, for `wa-report demo`:
// the daemon's real clients talk to them over loopback HTTP, so the demo runs the production
// pipeline with no network and no keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer the stand-in accepted: what the daemon stored as sent. */
export interface DemoSend {
  wamid: string;
  phoneNumberId: string;
  to: string;
  /** The demo's clock when it was sent. */
  at: Date;
}

export interface DemoGraph {
  url: string;
  /** Send attempts, accepted or refused. */
  attempts: number;
  /** The accepted ones, in order. */
  sent: DemoSend[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** Accepts sends, except to recipients the demo says are outside the 24-hour window (131047). */
export async function startDemoGraph(options: {
  windowClosed: (to: string) => boolean;
  clock: () => Date;
}): Promise<DemoGraph> {
  let n = 0;
  const state = { attempts: 0, sent: [] as DemoSend[] };
  const server = createServer(async (req, res) => {
    const body = (await readJson(req)) as { to?: string } | null;
    const phoneNumberId = /\/([^/]+)\/messages$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !phoneNumberId || !body?.to) {
      send(res, 400, { error: { message: 'Invalid request', type: 'OAuthException', code: 100 } });
      return;
    }
    state.attempts++;
    const to = body.to.replace(/^\+/, '');
    if (options.windowClosed(to)) {
      send(res, 400, {
        error: {
          message: 'Re-engagement message',
          type: 'OAuthException',
          code: 131047,
          error_data: {
            messaging_product: 'whatsapp',
            details:
              'Message failed to send because more than 24 hours have passed since the customer last replied to ' +
              'this number.',
          },
        },
      });
      return;
    }
    n++;
    const wamid = `wamid.demo.${Date.now().toString(36)}.${n}`;
    state.sent.push({ wamid, phoneNumberId, to, at: options.clock() });
    send(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: to }],
      messages: [{ id: wamid }],
    });
  });
  const url = `${await listen(server)}/v26.0`;
  return {
    url,
    get attempts() {
      return state.attempts;
    },
    sent: state.sent,
    close: closer(server),
  };
}

export interface DemoModel {
  url: string;
  close(): Promise<void>;
}

/** An OpenAI-compatible Chat Completions endpoint with canned, language-aware answers. */
export async function startDemoModel(answer: (system: string, last: string) => string): Promise<DemoModel> {
  let n = 0;
  const server = createServer(async (req, res) => {
    const body = (await readJson(req)) as { model?: string; messages?: { role: string; content: string }[] } | null;
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions') || !Array.isArray(body?.messages)) {
      send(res, 404, {
        error: {
          message: 'Only POST /v1/chat/completions is served by the demo model.',
          type: 'invalid_request_error',
          code: null,
        },
      });
      return;
    }
    const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
    const last = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const content = answer(system, last);
    n++;
    send(res, 200, {
      id: `chatcmpl-demo-${n}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'demo',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    });
  });
  const url = `${await listen(server)}/v1`;
  return { url, close: closer(server) };
}
