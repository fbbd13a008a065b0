// `wa-report keys generate`: a new random key for WA_REPORT_ENCRYPTION_KEY, on stdout.
import { defineCommand } from '../command.js';

export const command = defineCommand({
  flags: {},
  async run(_input, ctx) {
    const { generateKey } = await import('../../domain/key-ring.js');
    const { key, id } = generateKey();
    ctx.io.stdout.write(`${key}\n`);
    ctx.io.stderr.write(
      `Key id ${id}. Keep the key secret and backed up: without it the encrypted messages are lost.\n` +
        'Use it with WA_REPORT_ENCRYPTION_KEY=<key> (e.g. in the systemd EnvironmentFile), then run ' +
        '`wa-report db encrypt` for existing rows.\n',
    );
  },
});
