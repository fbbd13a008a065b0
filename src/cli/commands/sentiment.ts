// `wa-report sentiment score`: the analyser on lines of text (stdin → one JSON object per line), so
// anyone can check it on their own data. `wa-report sentiment backfill`: scores the user messages
// stored before sentiment existed, in batches that each commit (interrupted, it goes on where it
// stopped), and recounts their conversations' sentiment.
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { analyse } from '../../domain/sentiment/index.js';
import { defineCommand, flag } from '../command.js';
import { json } from '../flags.js';
import { writeJson } from '../output.js';

export const score = defineCommand({
  flags: {
    lang: flag(
      '--lang <lang>',
      'es, en, or auto: detected from each line (default)',
      z.enum(['es', 'en', 'auto'], { error: (i) => `"${String(i.input)}" must be es, en or auto` }).default('auto'),
    ),
  },
  help: `
Reads UTF-8 text on stdin, one message per line, and prints one JSON object per line:
  {"label":"negative","score":-0.62,"lang":"es"}
score runs from -1 (negative) to 1 (positive); a label is positive from 0.3, negative from -0.3.
Empty lines print {"label":"neutral","score":0,"lang":…} so that output lines match input lines.

Example:
  printf 'no me gusta nada\\nthanks, great service!\\n' | wa-report sentiment score`,
  async run({ options }, ctx) {
    const input = ctx.io.stdin ?? process.stdin;
    const lines = createInterface({ input, crlfDelay: Infinity });
    let out = '';
    for await (const line of lines) {
      const s = analyse(line, options.lang);
      out += `${JSON.stringify({ label: s.label, score: s.score, lang: s.lang })}\n`;
      if (out.length >= 65_536) {
        if (!ctx.io.stdout.write(out)) await new Promise((r) => ctx.io.stdout.once('drain', r));
        out = '';
      }
    }
    if (out) ctx.io.stdout.write(out);
  },
});

export const backfill = defineCommand({
  flags: {
    batch: flag(
      '--batch <n>',
      'messages scored per transaction (default 500)',
      z.coerce
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(10_000, 'must be at most 10000')
        .default(500),
    ),
    json: json('print the totals as JSON'),
  },
  help: `
Scores the user messages (texts and captions) that have no sentiment yet: those stored before this
version. Each batch commits with its position, so an interrupted backfill goes on where it stopped
when run again; the daemon may keep running meanwhile (new messages are scored as they are stored).`,
  async run({ options }, ctx) {
    const store = await ctx.store();
    const startedAt = await store.sentiment.backfillPosition();
    let scored = 0;
    let lastId = startedAt;
    let remaining = await store.sentiment.remaining(startedAt);
    const total = remaining;
    const progress = ctx.io.stderr.isTTY && !options.json;
    while (remaining > 0) {
      const step = await store.sentiment.backfillBatch(options.batch);
      scored += step.scored;
      remaining = step.remaining;
      if (step.lastId === lastId) break;
      lastId = step.lastId;
      if (progress) ctx.io.stderr.write(`\r${total - remaining}/${total} messages looked at, ${scored} scored`);
    }
    if (progress) ctx.io.stderr.write('\n');
    const result = { scored, looked_at: total - remaining, remaining, resumed_after_message_id: startedAt || null };
    if (options.json) writeJson(ctx, result);
    else
      ctx.io.stderr.write(
        `Sentiment backfill: ${scored} message${scored === 1 ? '' : 's'} scored ` +
          `(${result.looked_at} looked at${startedAt ? `, resumed after message ${startedAt}` : ''}); ` +
          `${remaining} left.\n`,
      );
  },
});
