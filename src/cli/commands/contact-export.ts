// `wa-report contact export`: everything stored about one WhatsApp user, across all clients, as one
// JSON document (docs/contact-export.md).
import { formatWaId } from '../../domain/phone.js';
import { defineCommand, required } from '../command.js';
import { output } from '../flags.js';
import { withOutput } from '../output.js';
import { contactWaId } from './contact-flags.js';

export const command = defineCommand({
  flags: { waId: required(contactWaId()), output: output('write to this file (default: stdout)') },
  async run({ options }, ctx) {
    const { waId } = options;
    const store = await ctx.store();
    const { exportContact } = await import('../../privacy/contact.js');
    // A personal-data dump: readable by its owner only.
    const { result: r, file } = await withOutput(ctx, options.output, (out) => exportContact(store, waId, out), 0o600);
    ctx.io.stderr.write(
      `${file ? `Wrote ${file}` : 'Exported'}: everything stored about ${formatWaId(waId)} — ` +
        `${r.conversations} conversation${r.conversations === 1 ? '' : 's'}, ${r.messages} messages, ` +
        `${r.statusEvents} status events, ${r.rawEvents} raw events.\n`,
    );
  },
});
