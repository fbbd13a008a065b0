// `wa-report keys rotate`: everything re-encrypted with the new WA_REPORT_ENCRYPTION_KEY.
import { defineCommand } from '../command.js';
import { batchSize, reencryptAll } from './db-encrypt.js';

export const command = defineCommand({
  flags: { batchSize: batchSize() },
  help: `
Resumable: an interrupted run is finished by running it again. Keep the old key in
WA_REPORT_ENCRYPTION_KEYS_OLD for every process until this has completed.

Example:
  WA_REPORT_ENCRYPTION_KEY=<new> WA_REPORT_ENCRYPTION_KEYS_OLD=<old> wa-report keys rotate
`,
  async run({ options }, ctx) {
    await reencryptAll('rotate', options.batchSize, ctx);
  },
});
