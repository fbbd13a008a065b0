// `wa-report demo`: sample data through the real pipeline, then what to try next.
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOptions } from '../validate.js';

const schema = z.object({
  conversations: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'at least 1')
    .max(1000, 'at most 1000')
    .default(14),
  seed: z.coerce.number().int('must be a whole number').default(20240115),
});

export async function runDemoCommand(
  options: { conversations?: string; seed?: string },
  ctx: CommandContext,
): Promise<void> {
  const { conversations, seed } = parseOptions(schema, options, { conversations: '--conversations', seed: '--seed' });
  const target = ctx.target();
  const err = ctx.io.stderr;
  err.write(
    `Filling ${target.display} with demo conversations through the real ingest pipeline (local stand-ins for WhatsApp and the model)…\n`,
  );
  const { runDemo } = await import('../../demo/demo.js');
  const { KeyRing } = await import('../../domain/key-ring.js');
  const result = await runDemo({
    target,
    conversations,
    seed,
    keys: KeyRing.fromEnv(ctx.io.env),
    progress: (line) => err.write(`${line}\n`),
  });
  const n = (x: number) => x.toLocaleString('en-US');
  err.write(
    `${ctx.err.green('Done')} in ${result.seconds.toFixed(1)} s: ${result.clients.length} clients, ${n(result.conversations)} conversations, ` +
      `${n(result.inbound)} messages from users, ${n(result.replies)} answers, ${n(result.statuses)} delivery statuses.\n\n` +
      `Try next:\n` +
      `  wa-report --list\n` +
      `  wa-report history --wa-id +${result.sampleWaId} --client-id ${result.clients[0]?.id ?? 1}\n` +
      `  wa-report db status\n` +
      `Run the daemon itself with \`wa-report ingest --help\`.\n`,
  );
}
