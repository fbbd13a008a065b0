// A real `wa-report ingest` process, as systemd would run it: its own environment, JSON logs on
// stdout (kept, parsed), killed with a signal by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BIN, baseEnv } from './cli.js';
import type { GraphStandIn, ModelStandIn } from './standins.js';
import { APP_SECRET } from './webhooks.js';

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Every JSON log line so far. */
  logs: { msg?: string; [key: string]: unknown }[];
}

/** Starts the daemon with the assistant on (Graph and model stand-ins) and waits until it listens. */
export async function startDaemonProcess(
  dbUrl: string,
  graph: GraphStandIn,
  model: ModelStandIn,
  env: Record<string, string> = {},
): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [BIN, '--db', dbUrl, 'ingest', '--port', '0', '--host', '127.0.0.1'], {
    env: baseEnv({
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_ACCESS_TOKEN: 'graph-token',
      WHATSAPP_GRAPH_URL: graph.url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: model.url,
      OPENAI_MODEL: 'test-model',
      LOG_LEVEL: 'info',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const logs: DaemonProcess['logs'] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        logs.push(entry);
        if (entry.msg === 'wa-report ingest listening') resolve(`http://127.0.0.1:${entry.port}`);
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) => reject(new Error(`ingest exited with ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error('ingest did not start within 20 s')), 20_000);
  });
  return { child, url, exited, logs };
}
