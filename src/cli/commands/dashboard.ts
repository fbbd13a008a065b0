// `wa-report dashboard`: serves the web dashboard on the local database (no webhooks) and prints a
// one-time sign-in link. Ctrl-C stops it.
import { UsageError } from '../../errors.js';
import { defineCommand, text } from '../command.js';

export const command = defineCommand({
  flags: {
    port: text('--port <port>', 'port to listen on (default 8083; 0 picks a free one)'),
    host: text('--host <host>', 'address to listen on (default 127.0.0.1: this machine only)'),
  },
  help: `
Prints a link that signs you in once (valid 10 minutes); anyone else signs in with an API token
(\`wa-report tokens create --scope read\`). \`wa-report ingest\` serves the same dashboard at /dashboard.

Examples:
  wa-report demo && wa-report dashboard
  wa-report dashboard --port 9000 --host 0.0.0.0     # other machines too (sign in with a token)
`,
  async run({ options }, ctx) {
    const port = options.port === undefined ? 8083 : Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port: "${options.port}" is not a port number (0 to 65535).`);
    }
    const host = options.host ?? '127.0.0.1';
    const store = await ctx.store();
    const { startDashboardServer } = await import('../../server/dashboard-server.js');
    let server;
    try {
      server = await startDashboardServer({
        store,
        port,
        host,
        env: ctx.io.env,
        report: (error) => {
          const e = error as Error;
          ctx.io.stderr.write(
            `dashboard: a request failed: ${ctx.global.debug ? (e?.stack ?? String(e)) : e?.message}\n`,
          );
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new UsageError(`--port: ${host}:${port} is in use; choose another with --port (or 0 for any).`);
      }
      throw error;
    }
    ctx.io.stderr.write(
      `Dashboard of ${ctx.target().display} at ${server.origin}/dashboard (Ctrl-C stops it).\n` +
        'Open this link to sign in (it works once, for 10 minutes):\n',
    );
    ctx.io.stdout.write(`${server.signInLink()}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    ctx.io.stderr.write('Dashboard stopped.\n');
  },
});
