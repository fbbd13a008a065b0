// `wa-report stats`: per client, conversations, messages by role and status, failures, delivery and
// read rates, response times and messages per day.
import { buildStatistics, type ClientStatistics } from '../../reports/build.js';
import { unicodeBar } from '../../reports/charts.js';
import { statisticsDocument } from '../../reports/documents.js';
import { formatRate, formatSeconds } from '../../reports/format.js';
import { csatLine } from '../../reports/csat.js';
import { labelsFor } from '../../reports/i18n.js';
import type { Lang } from '../../reports/types.js';
import { openingClosingLine, sentimentLine, signed } from '../../reports/sentiment.js';
import { parseReportOptions, parseSince, type RawReportOptions } from '../../reports/query-options.js';
import { defineCommand, text } from '../command.js';
import type { CommandContext } from '../context.js';
import { clientId, json, output, reportRange } from '../flags.js';
import { UsageError } from '../../errors.js';
import { count as n, refuseBinaryOnTerminal, withOutput, writeJson } from '../output.js';

export interface StatsResult {
  stats: ClientStatistics[];
  timeZone: string;
  since: Date | null;
  until: Date | null;
  lang: Lang;
  generatedAt: Date;
}

const STATS_FORMATS = ['text', 'json', 'pdf', 'xlsx'] as const;

export const command = defineCommand({
  flags: {
    clientId: clientId(),
    ...reportRange(),
    since: text('--since <when>', 'only what happened since: 7d, 24h, 2w or an ISO date'),
    until: text('--until <when>', 'only what happened before: an ISO date or time (exclusive), or 24h (ago)'),
    json: json(),
    format: text('--format <format>', 'text (default), json, pdf or xlsx'),
    output: output(),
  },
  help: `
Examples:
  wa-report stats --since 7d
  wa-report stats --client-id 1 --json | jq .clients[0].csat
  wa-report stats --format pdf -o stats.pdf          # a page per client, with the chart
  wa-report stats --format xlsx -o stats.xlsx        # one column per client, messages per day
`,
  async run({ options }, ctx) {
    const format = options.json ? 'json' : (options.format ?? 'text');
    if (!(STATS_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format: "${format}" is not one of ${STATS_FORMATS.join(', ')}.`);
    }
    if (format === 'pdf' || format === 'xlsx') {
      refuseBinaryOnTerminal(ctx, options.output, format, format);
      const result = await runStats(options, ctx);
      const { renderStatistics } = await import('../../reports/index.js');
      const { file } = await withOutput(ctx, options.output, (out) => renderStatistics(format, result, out));
      if (file) ctx.io.stderr.write(`Wrote ${file}: statistics of ${result.stats.length} clients (${format}).\n`);
      return;
    }
    if (options.output !== undefined && options.output !== '-') {
      if (format === 'text') {
        throw new UsageError(
          '-o: the text statistics go to stdout; use --format json, pdf or xlsx with -o, or redirect.',
        );
      }
      const result = await runStats(options, ctx);
      await withOutput(ctx, options.output, async (out) => {
        printStats(result, true, { ...ctx, io: { ...ctx.io, stdout: out } });
      });
      return;
    }
    printStats(await runStats(options, ctx), format === 'json', ctx);
  },
});

export async function runStats(
  options: RawReportOptions & { since?: string; until?: string },
  ctx: CommandContext,
): Promise<StatsResult> {
  const o = parseReportOptions(options, ctx.io.env);
  const now = new Date();
  const since = options.since ? parseSince(options.since, o.timeZone, now) : null;
  const until = options.until ? parseSince(options.until, o.timeZone, now, '--until') : null;
  if (since && until && until <= since) throw new UsageError('--until must be later than --since.');
  const store = await ctx.store();
  const stats = await buildStatistics(store, {
    clientId: o.clientId,
    since: since ?? undefined,
    until: until ?? undefined,
    timeZone: o.timeZone,
    now,
  });
  return { stats, timeZone: o.timeZone, since, until, lang: o.lang, generatedAt: now };
}

const pct = formatRate;
/** `stats` prints English (its JSON is the interface for other languages). */
const labels = labelsFor('en');

/** The last `days` days as bars of at most `width` cells. */
function bars(perDay: { day: string; messages: number }[], width = 40, days = 14): string[] {
  const recent = perDay.slice(-days);
  const max = Math.max(1, ...recent.map((d) => d.messages));
  return recent.map((d) => `${d.day} ${unicodeBar(d.messages, max, width)} ${d.messages}`);
}

export function printStats(r: StatsResult, asJson: boolean, ctx: CommandContext): void {
  if (asJson) {
    writeJson(ctx, {
      time_zone: r.timeZone,
      since: r.since?.toISOString() ?? null,
      until: r.until?.toISOString() ?? null,
      clients: r.stats.map(statisticsDocument),
    });
    return;
  }
  const c = ctx.out;
  const out = ctx.io.stdout;
  const since = r.since ? ` since ${r.since.toISOString()}` : '';
  const period = `${since}${r.until ? ` until ${r.until.toISOString()}` : ''}`;
  out.write(c.dim(`Statistics${period} · days in ${r.timeZone}\n\n`));
  for (const s of r.stats) {
    out.write(`${c.bold(s.clientName)} ${c.dim(`(client ${s.clientId})`)}\n`);
    const line = (label: string, value: string) => out.write(`  ${label.padEnd(22)}${value}\n`);
    const roles = s.messagesByRole;
    line('Conversations', `${n(s.conversations)}   active in the last 24 h: ${n(s.activeLast24h)}`);
    line(
      'Messages',
      `${n(s.messages)}   user ${n(roles.user)} · assistant ${n(roles.assistant)} · agent ${n(roles.agent)}`,
    );
    line('Failed', s.failed ? `${c.red(n(s.failed))}   (list: wa-report failed --client-id ${s.clientId})` : '0');
    line('Delivered / read', `${pct(s.deliveryRate)} / ${pct(s.readRate)}`);
    const rt = s.responseSeconds;
    line(
      'Response time',
      `median ${formatSeconds(rt.median)} · p90 ${formatSeconds(rt.p90)} (${n(rt.answers)} answers)`,
    );
    const ss = s.sessions;
    line(
      'Sessions',
      `${n(ss.total)}   open ${n(ss.open)} · ended idle ${n(ss.ended.idle)} · closed ${n(ss.ended.closed)}`,
    );
    line(
      'Session length',
      `median ${formatSeconds(ss.durationSeconds.median)} · p90 ${formatSeconds(ss.durationSeconds.p90)}`,
    );
    line(
      'First response',
      `median ${formatSeconds(ss.firstResponseSeconds.median)} · p90 ${formatSeconds(ss.firstResponseSeconds.p90)} ` +
        `(${n(ss.firstResponseSeconds.answered)} sessions)`,
    );
    line(
      'Handoff / bot-only',
      `${pct(ss.handoffRate)} handed to a person (${n(ss.handoffs)}) · ${pct(ss.botOnlyResolutionRate)} ` +
        'resolved by the assistant alone',
    );
    line('Sentiment', sentimentLine(s.sentiment, labels.sentiment, pct));
    line('Opening → closing', openingClosingLine(s.sentiment, labels.sentiment));
    line('CSAT', csatLine(s.csat, labels.csat, pct));
    for (const x of s.csat.notSent.slice(0, 3)) line('', `${x.surveys} ${x.state}: ${x.reason}`);
    const ratings = s.sentiment.ratings;
    if (ratings.rated) {
      line(
        'Model ratings',
        `${n(ratings.rated)} sessions (${n(ratings.bySource.lexicon)} by the lexicon when the model failed) · ` +
          `mean ${signed(ratings.meanScore)} · predicted CSAT ${ratings.meanPredictedCsat?.toFixed(1) ?? '–'} / 5`,
      );
    }
    const worst = s.sentiment.worst.filter((w) => w.mean < 0).slice(0, 3);
    if (worst.length) {
      line('Worst sessions', worst.map((w) => `#${w.conversationId} (${signed(w.mean)})`).join(' · '));
    }
    if (s.perDay.length) {
      out.write(`  Messages per day${s.perDay.length > 14 ? ' (last 14 days)' : ''}\n`);
      for (const b of bars(s.perDay)) out.write(`    ${c.cyan(b)}\n`);
    }
    out.write('\n');
  }
}
