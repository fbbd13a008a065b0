// `wa-report ingest`: the webhook daemon in the foreground (systemd runs it like this).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { loadIngestConfig, parseDuration, type IngestFlags } from '../../server/config.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';

export interface IngestOptions extends IngestFlags {
  printSystemdUnit?: boolean;
  user?: string;
  environmentFile?: string;
}

export function renderSystemdUnit(options: {
  user?: string;
  environmentFile?: string;
  shutdownTimeoutSeconds?: number;
  archiveDir?: string;
  archiveAfter?: string;
}): string {
  const template = readFileSync(new URL('../../../templates/wa-report.service.ejs', import.meta.url), 'utf8');
  return ejs.render(template, {
    user: options.user ?? 'wa-report',
    environmentFile: options.environmentFile ?? '/etc/wa-report/wa-report.env',
    node: process.execPath,
    bin: fileURLToPath(new URL('../../../bin/wa-report.js', import.meta.url)),
    // systemd waits a little longer than the daemon's own limit before it kills.
    stopTimeout: (options.shutdownTimeoutSeconds ?? 10) + 20,
    archiveDir: options.archiveDir ? resolve(options.archiveDir) : null,
    archiveAfter: options.archiveAfter ?? '365d',
  });
}

export async function runIngest(options: IngestOptions, ctx: CommandContext): Promise<number> {
  if (options.printSystemdUnit) {
    if (options.archiveDir !== undefined && !/^[\w./@+-]+$/.test(resolve(options.archiveDir))) {
      throw new UsageError(
        `--archive-dir: "${options.archiveDir}" has spaces or special characters a systemd unit would need quoted; choose a plain path such as /var/lib/wa-report/archives.`,
      );
    }
    if (options.archiveAfter !== undefined && parseDuration(options.archiveAfter) === null) {
      throw new UsageError(`--archive-after: "${options.archiveAfter}" is not a period such as 365d, 52w or 720h.`);
    }
    const shutdown = options.shutdownTimeout === undefined ? undefined : Number(options.shutdownTimeout);
    ctx.io.stdout.write(
      renderSystemdUnit({
        user: options.user,
        environmentFile: options.environmentFile,
        shutdownTimeoutSeconds: shutdown,
        archiveDir: options.archiveDir,
        archiveAfter: options.archiveAfter,
      }),
    );
    return 0;
  }
  // Validate everything before touching the database or the port.
  const config = loadIngestConfig(ctx.io.env, options);
  const target = ctx.target();
  const { startDaemon } = await import('../../server/main.js');
  const { KeyRing } = await import('../../domain/key-ring.js');
  const daemon = await startDaemon(config, {
    target,
    handleSignals: true,
    defaultMetrics: true,
    keys: KeyRing.fromEnv(ctx.io.env),
  });
  await daemon.closed;
  return 0;
}
