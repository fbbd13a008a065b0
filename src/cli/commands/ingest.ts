// `wa-report ingest`: the webhook daemon in the foreground (systemd runs it like this).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from '../../errors.js';
import type { IngestFlags } from '../../server/config.js';
import { bool, defineCommand, text } from '../command.js';
import type { CommandContext } from '../context.js';

export const command = defineCommand({
  flags: {
    port: text('--port <port>', 'port to listen on (default: PORT, else 8082)'),
    host: text('--host <host>', 'address to listen on (default: HOST, else all interfaces)'),
    shutdownTimeout: text(
      '--shutdown-timeout <seconds>',
      'on SIGTERM, how long answers in progress may take (default 10)',
    ),
    insecureSkipSignature: bool(
      '--insecure-skip-signature',
      'accept webhooks without verifying X-Hub-Signature-256 (local experiments only)',
    ),
    archiveAfter: text(
      '--archive-after <period>',
      'retention: once a day, archive conversations idle longer than this (365d, 52w), then delete them',
    ),
    archiveDir: text('--archive-dir <dir>', 'with --archive-after: where the daily archives (.jsonl.gz) go'),
    printSystemdUnit: bool('--print-systemd-unit', 'print a systemd unit for this installation and exit'),
    user: text('--user <name>', 'with --print-systemd-unit: the service user (default wa-report)'),
    environmentFile: text(
      '--environment-file <path>',
      'with --print-systemd-unit: the EnvironmentFile (default /etc/wa-report/wa-report.env)',
    ),
  },
  help: `
Needs WHATSAPP_APP_SECRET (webhook signatures) and, to answer users, OPENAI_API_KEY and
WHATSAPP_ACCESS_TOKEN; without them it archives only. Logs are JSON lines on stdout (pretty on a
terminal); SIGTERM/SIGINT stop it cleanly. Endpoints: GET/POST /webhook, GET /healthz, GET /metrics,
and the reporting API (see the README).

Examples:
  WHATSAPP_APP_SECRET=… WHATSAPP_VERIFY_TOKEN=… wa-report ingest --port 8082
  wa-report ingest --print-systemd-unit | sudo tee /etc/systemd/system/wa-report.service
`,
  async run({ options }, ctx) {
    if (options.printSystemdUnit) {
      ctx.io.stdout.write(await systemdUnit(options));
      return;
    }
    await runDaemon(options, ctx);
  },
});

async function systemdUnit(o: {
  user?: string;
  environmentFile?: string;
  shutdownTimeout?: string;
  archiveDir?: string;
  archiveAfter?: string;
}): Promise<string> {
  const { parseRetention } = await import('../../server/config.js');
  if (o.archiveDir !== undefined && !/^[\w./@+-]+$/.test(resolve(o.archiveDir))) {
    throw new UsageError(
      `--archive-dir: "${o.archiveDir}" has spaces or special characters a systemd unit would need quoted; ` +
        'choose a plain path such as /var/lib/wa-report/archives.',
    );
  }
  if (o.archiveAfter !== undefined && parseRetention(o.archiveAfter) === null) {
    throw new UsageError(`--archive-after: "${o.archiveAfter}" is not a period such as 365d, 52w or 720h.`);
  }
  const { render } = await import('ejs');
  const template = readFileSync(new URL('../../../templates/wa-report.service.ejs', import.meta.url), 'utf8');
  return render(template, {
    user: o.user ?? 'wa-report',
    environmentFile: o.environmentFile ?? '/etc/wa-report/wa-report.env',
    node: process.execPath,
    bin: fileURLToPath(new URL('../../../bin/wa-report.js', import.meta.url)),
    // The README installed with the package (npm ships it with every package).
    readme: pathToFileURL(fileURLToPath(new URL('../../../README.md', import.meta.url))).href,
    // systemd waits a little longer than the daemon's own limit before it kills.
    stopTimeout: (o.shutdownTimeout === undefined ? 10 : Number(o.shutdownTimeout)) + 20,
    archiveDir: o.archiveDir ? resolve(o.archiveDir) : null,
    archiveAfter: o.archiveAfter ?? '365d',
  });
}

async function runDaemon(options: IngestFlags, ctx: CommandContext) {
  const [{ loadIngestConfig }, { startDaemon }, { KeyRing }] = await Promise.all([
    import('../../server/config.js'),
    import('../../server/main.js'),
    import('../../domain/key-ring.js'),
  ]);
  // Everything is checked before the database or the port is touched.
  const config = loadIngestConfig(ctx.io.env, options);
  const daemon = await startDaemon(config, {
    target: ctx.target(),
    handleSignals: true,
    defaultMetrics: true,
    keys: KeyRing.fromEnv(ctx.io.env),
  });
  await daemon.closed;
}
