// `wa-report archive`: conversations last active before a date into a verified .jsonl.gz archive,
// then deleted from the database.
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDateBound, systemTimeZone } from '../../domain/dates.js';
import { UsageError } from '../../errors.js';
import { defineCommand, flag, text } from '../command.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';
import { optionalClientId } from './contact-flags.js';

export const command = defineCommand({
  flags: {
    before: flag(
      '--before <date>',
      'conversations whose last message is before this date (ISO 8601, in --tz)',
      z.string({ error: 'required: archive conversations last active before this date, e.g. --before 2024-01-01' }),
    ),
    clientId: optionalClientId('only this client'),
    out: flag(
      '--out <file>',
      'the archive to write (gzipped JSON lines, docs/archive-format.md)',
      z.string({ error: 'required: the archive file to write, e.g. --out archive-2023.jsonl.gz' }).min(1, 'required'),
    ),
    batchSize: flag(
      '--batch-size <n>',
      'conversations deleted per transaction (default 100)',
      z.coerce
        .number()
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(10_000, 'must be at most 10000')
        .optional(),
    ),
    tz: text('--tz <zone>', "IANA time zone of --before (default: the system's)"),
    json: json('print the outcome as JSON'),
  },
  help: `
The file is written, fsynced, read back and verified (counts and SHA-256) before anything is deleted.
Interrupted at any point, nothing is lost: rerun the same command to finish. A conversation that
changed after it was archived (a new message or status) stays in the database.

Examples:
  wa-report archive --before 2024-01-01 --out archive-2023.jsonl.gz
  wa-report archive restore archive-2023.jsonl.gz
`,
  async run({ options: o }, ctx) {
    const tz = o.tz ?? ctx.io.env.TZ ?? systemTimeZone();
    const before = parseDateBound(o.before, tz, 'start', '--before');
    if (before.getTime() > Date.now()) {
      throw new UsageError(`--before: ${o.before} is in the future; archiving would take every conversation.`);
    }
    const store = await ctx.store();
    if (o.clientId !== undefined) await store.clients.get(o.clientId);
    const { archive } = await import('../../privacy/archive.js');
    const r = await archive(store, {
      before,
      clientId: o.clientId,
      out: resolve(o.out),
      batchSize: o.batchSize,
      failAfterBatches: ctx.faults.archiveFailAfterBatches,
      progress: (m) => ctx.io.stderr.write(`${m}\n`),
    });
    if (o.json) {
      writeJson(ctx, {
        file: r.file,
        resumed: r.resumed,
        threads: r.threads,
        messages: r.messages,
        status_events: r.statusEvents,
        raw_events: r.rawEvents,
        deleted_threads: r.deletedThreads,
        kept_changed: r.keptChanged,
        remaining: r.remaining,
      });
      return;
    }
    if (!r.file) {
      const whose = o.clientId === undefined ? '' : ` for client ${o.clientId}`;
      ctx.io.stderr.write(
        `No conversation was last active before ${before.toISOString()}${whose}: nothing archived, no file written.\n`,
      );
      return;
    }
    ctx.io.stderr.write(
      `Archived to ${r.file}: ${r.threads} conversations, ${r.messages} messages, ${r.statusEvents} status events, ` +
        `${r.rawEvents} raw events; ${r.deletedThreads} conversations deleted from the database.\n` +
        (r.keptChanged
          ? `${r.keptChanged} conversations changed after they were archived and were kept in the database.\n`
          : '') +
        (r.remaining
          ? `${r.remaining} more conversations qualify but are not in this archive: run again with another --out.\n`
          : '') +
        `Restore with: wa-report archive restore ${r.file}\n`,
    );
  },
});
