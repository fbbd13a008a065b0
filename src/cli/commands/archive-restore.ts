// `wa-report archive restore <file>`: an archive imported back, idempotently; erased contacts stay erased.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import { arg, defineCommand } from '../command.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

export const command = defineCommand({
  args: { file: arg('<file>', z.string()) },
  flags: { json: json('print the outcome as JSON') },
  async run({ args, options }, ctx) {
    const path = resolve(args.file);
    if (!existsSync(path)) throw new UsageError(`${args.file}: no such file.`);
    const store = await ctx.store();
    const { restoreArchive } = await import('../../privacy/restore.js');
    const r = await restoreArchive(store, path, { progress: (m) => ctx.io.stderr.write(`${m}\n`) });
    if (options.json) {
      writeJson(ctx, {
        threads: r.threads,
        messages_inserted: r.messagesInserted,
        messages_present: r.messagesPresent,
        messages_erased: r.messagesErased,
        status_events_inserted: r.statusEventsInserted,
        raw_events_inserted: r.rawEventsInserted,
        clients_created: r.clientsCreated,
      });
      return;
    }
    ctx.io.stderr.write(
      `Restored ${r.messagesInserted} messages into ${r.threads} conversations (${r.messagesPresent} were already ` +
        `there), ${r.statusEventsInserted} status events, ${r.rawEventsInserted} raw events` +
        (r.clientsCreated ? `; created ${r.clientsCreated} clients` : '') +
        (r.messagesErased ? `; ${r.messagesErased} messages of contacts erased since were not brought back` : '') +
        '.\n',
    );
  },
});
