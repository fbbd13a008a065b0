// `wa-report demo`: sample data through the real pipeline, then what to try next.
import { z } from 'zod';
import { defineCommand, flag } from '../command.js';
import { count } from '../output.js';

export const command = defineCommand({
  flags: {
    conversations: flag(
      '--conversations <n>',
      'conversations per client (default 14)',
      z.coerce.number().int('must be a whole number').min(1, 'at least 1').max(1000, 'at most 1000').default(14),
    ),
    seed: flag(
      '--seed <n>',
      'random seed: the same seed gives the same data',
      z.coerce.number().int('must be a whole number').default(20240115),
    ),
  },
  async run({ options }, ctx) {
    const target = ctx.target();
    const err = ctx.io.stderr;
    err.write(
      `Filling ${target.display} with demo conversations through the real ingest pipeline ` +
        '(local stand-ins for WhatsApp and the model)…\n',
    );
    const [{ runDemo }, { KeyRing }] = await Promise.all([
      import('../../demo/demo.js'),
      import('../../domain/key-ring.js'),
    ]);
    const result = await runDemo({
      target,
      conversations: options.conversations,
      seed: options.seed,
      keys: KeyRing.fromEnv(ctx.io.env),
      progress: (line) => err.write(`${line}\n`),
    });
    err.write(
      `${ctx.err.green('Done')} in ${result.seconds.toFixed(1)} s: ${result.clients.length} clients, ` +
        `${count(result.conversations)} conversations, ${count(result.inbound)} messages from users, ` +
        `${count(result.replies)} answers, ${count(result.statuses)} delivery statuses.\n\n` +
        `Try next:\n` +
        `  wa-report --list\n` +
        `  wa-report history --wa-id +${result.sampleWaId} --client-id ${result.clients[0]?.id ?? 1}\n` +
        `  wa-report db status\n` +
        `Run the daemon itself with \`wa-report ingest --help\`.\n`,
    );
  },
});
