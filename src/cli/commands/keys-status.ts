// `wa-report keys status`: the configured keys, and how many stored values are plaintext or sealed
// with each key id.
import { defineCommand } from '../command.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

export const command = defineCommand({
  flags: { json: json() },
  async run({ options }, ctx) {
    const store = await ctx.store();
    const { encryptionCensus } = await import('../../privacy/reencrypt.js');
    const census = await encryptionCensus(store);
    const keys = store.keys;
    const doc = {
      current_key_id: keys.current?.id ?? null,
      accepted_key_ids: keys.ids,
      database_key_id: store.encryptionKeyId,
      plaintext_values: census.plaintext,
      encrypted_values: census.byKey,
    };
    if (options.json) {
      writeJson(ctx, doc);
      return;
    }
    const lines = [
      `Current key:        ${doc.current_key_id ?? '(none: WA_REPORT_ENCRYPTION_KEY is not set)'}`,
      `Also accepted:      ${keys.ids.filter((k) => k !== doc.current_key_id).join(', ') || '–'}`,
      `Database marked:    ${doc.database_key_id ?? 'never encrypted'}`,
      `Plaintext values:   ${census.plaintext}`,
      ...Object.entries(census.byKey).map(
        ([k, n]) => `Sealed, key ${k}: ${n}${keys.knows(k) ? '' : '  (key not configured!)'}`,
      ),
    ];
    ctx.io.stdout.write(`${lines.join('\n')}\n`);
  },
});
