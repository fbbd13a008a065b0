// `wa-report db encrypt` (and `keys rotate`, which runs the same pass): every stored value not
// sealed with WA_REPORT_ENCRYPTION_KEY is sealed with it, a batch of rows per transaction.
import { UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { wholeNumber } from '../number-flags.js';

export const batchSize = () =>
  wholeNumber('--batch-size <n>', 'rows per transaction (default 500)', { min: 1, max: 10_000, default: 500 });

export const command = defineCommand({
  flags: { batchSize: batchSize() },
  help: `
Resumable: an interrupted run is finished by running it again. From the first batch on, the database
is marked encrypted and refuses plaintext writes from processes without the key.

Example:
  export WA_REPORT_ENCRYPTION_KEY=$(wa-report keys generate)   # keep a copy somewhere safe
  wa-report db encrypt
`,
  async run({ options }, ctx) {
    await reencryptAll('encrypt', options.batchSize, ctx);
  },
});

export async function reencryptAll(kind: 'encrypt' | 'rotate', batchSize: number, ctx: CommandContext): Promise<void> {
  const store = await ctx.store();
  if (kind === 'rotate' && store.keys.ids.length < 2) {
    throw new UsageError(
      'Nothing to rotate from: set WA_REPORT_ENCRYPTION_KEY to the new key and WA_REPORT_ENCRYPTION_KEYS_OLD to ' +
        'the old one(s), then run `wa-report keys rotate`.',
    );
  }
  const { reencrypt } = await import('../../privacy/reencrypt.js');
  const result = await reencrypt(store, {
    batchSize,
    progress: (m) => ctx.io.stderr.isTTY && ctx.io.stderr.write(`\r${m}`),
    failAfterBatches: ctx.faults.encryptFailAfterBatches,
  });
  if (ctx.io.stderr.isTTY) ctx.io.stderr.write('\n');
  const changed = Object.entries(result.changed)
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
  const next =
    kind === 'rotate'
      ? 'Restart every process with the new key (old key in WA_REPORT_ENCRYPTION_KEYS_OLD), run `wa-report keys ' +
        'rotate` once more, and check `wa-report keys status` shows nothing under the old key. Keep the old key ' +
        'as long as an archive you may restore uses it.\n'
      : 'New content is encrypted from now on.\n';
  ctx.io.stderr.write(
    `${kind === 'encrypt' ? 'Encrypted' : 'Re-encrypted'} with key ${store.keys.current?.id}: ${changed} ` +
      `(of ${result.examined} rows examined). ${next}`,
  );
}
