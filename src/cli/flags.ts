// Flags several commands share, each declared once.
import { bool, text } from './command.js';

export const json = (what = 'JSON output') => bool('--json', what);

export const output = (what = 'write to this file (default: stdout; - is stdout)') => text('-o, --output <file>', what);

export const clientId = (what = 'the client (see `wa-report --list`)') => text('--client-id <id>', what);

export const waId = (what = 'one WhatsApp user: +34 612 345 678, 34612345678, …') => text('--wa-id <number>', what);

export const tz = (what = "IANA time zone for dates and times (default: the system's)") => text('--tz <zone>', what);

export const lang = () => text('--lang <lang>', 'es or en (default from LANG / LC_ALL)');

/** A report's period and how it is shown: checked with the client by parseReportOptions (reports/query-options.ts). */
export function reportRange() {
  return {
    startDate: text(
      '--start-date <date>',
      'from this ISO 8601 date or time, e.g. 2024-01-15 or 2024-01-15T10:30 (inclusive)',
    ),
    endDate: text('--end-date <date>', 'until this date or time (a bare date includes the whole day)'),
    tz: tz(),
    lang: lang(),
  };
}

/** A report of a client, one of its users or all of them, in a period. */
export function reportFlags() {
  return { clientId: clientId(), waId: waId(), ...reportRange() };
}
