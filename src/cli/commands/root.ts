// `wa-report` itself: `--list`, the report flags of the original generate_report (`--client-id 1
// --format summary|detailed|json|…`), and, on a terminal, the interactive picker.
import { UsageError } from '../../errors.js';
import { bool, defineCommand, text } from '../command.js';

export const command = defineCommand({
  flags: {
    list: bool('--list', 'list active clients (same as `clients list`)'),
    json: bool('--json', 'with --list or a summary: JSON instead of a table'),
    clientId: text('--client-id <id>', 'with --format: the client to report on'),
    waId: text('--wa-id <number>', 'with --format detailed: one conversation (+34 612…, 34612…)'),
    format: text(
      '--format <format>',
      'summary (default; -o summary.pdf|.xlsx|.html|.json picks its format), detailed (the text report), or ' +
        'json, text, html, csv, pdf, xlsx',
    ),
    startDate: text('--start-date <date>', 'from this ISO 8601 date or time (inclusive)'),
    endDate: text('--end-date <date>', 'until this date (a bare date includes the whole day)'),
    tz: text('--tz <zone>', "IANA time zone reports are shown in (default: the system's)"),
    lang: text('--lang <lang>', 'es or en (default from LANG / LC_ALL)'),
    output: text('-o, --output <file>', 'write the report to a file instead of stdout'),
  },
  async run({ options }, ctx) {
    if (options.list) {
      const { listClients, printClients } = await import('./clients-list.js');
      printClients(await listClients({}, ctx), { json: options.json }, ctx);
      return;
    }
    if (options.clientId !== undefined || options.format !== undefined) {
      const format = (options.format ?? 'summary').toLowerCase();
      const { runExport, runSummary } = await import('./export.js');
      if (format === 'summary') await runSummary(options, ctx);
      else await runExport({ ...options, format: format === 'detailed' ? 'text' : format }, ctx);
      return;
    }
    if (ctx.io.stdinIsTTY && ctx.io.stdout.isTTY) {
      const { runPicker } = await import('./picker.js');
      await runPicker(ctx, { reportOptions: { tz: options.tz, lang: options.lang } });
      return;
    }
    // No terminal to ask on: never wait for input.
    ctx.io.stderr.write(ctx.help());
    throw new UsageError('No command given (and no terminal for the interactive picker).');
  },
});
