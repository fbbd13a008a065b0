// `wa-report stats` and `wa-report failed`: the seed's SQL questions and more, per client.
import { UsageError } from '../../errors.js';
import { formatWaId } from '../../domain/phone.js';
import type { StoredMessage } from '../../domain/types.js';
import { buildStatistics, type ClientStatistics } from '../../reports/build.js';
import type { CommandContext } from '../context.js';
import { writeJson, writeRows } from '../output.js';
import { parseReportOptions, parseSince, type RawReportOptions } from '../../reports/query-options.js';

export async function runStats(
  options: RawReportOptions & { since?: string },
  ctx: CommandContext,
): Promise<{ stats: ClientStatistics[]; timeZone: string; since: Date | null }> {
  const o = parseReportOptions(options, ctx.io.env);
  const now = new Date();
  const since = options.since ? parseSince(options.since, o.timeZone, now) : null;
  const store = await ctx.store();
  const stats = await buildStatistics(store, {
    clientId: o.clientId,
    since: since ?? undefined,
    timeZone: o.timeZone,
    now,
  });
  return { stats, timeZone: o.timeZone, since };
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
export function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function bars(perDay: { day: string; messages: number }[], width = 40, days = 14): string[] {
  const recent = perDay.slice(-days);
  const max = Math.max(1, ...recent.map((d) => d.messages));
  return recent.map((d) => {
    const exact = (d.messages / max) * width;
    const full = Math.floor(exact);
    const part = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][Math.floor((exact - full) * 8)] ?? '';
    return `${d.day} ${'█'.repeat(full)}${part} ${d.messages}`;
  });
}

export function printStats(
  r: { stats: ClientStatistics[]; timeZone: string; since: Date | null },
  json: boolean,
  ctx: CommandContext,
): void {
  if (json) {
    writeJson(ctx, {
      time_zone: r.timeZone,
      since: r.since?.toISOString() ?? null,
      clients: r.stats.map((s) => ({
        client_id: s.clientId,
        client_name: s.clientName,
        conversations: s.conversations,
        active_last_24h: s.activeLast24h,
        messages: s.messages,
        messages_by_role: s.messagesByRole,
        outbound_by_status: s.outboundByStatus,
        failed: s.failed,
        delivery_rate: s.deliveryRate,
        read_rate: s.readRate,
        response_time_seconds: {
          median: s.responseSeconds.median,
          p90: s.responseSeconds.p90,
          answers: s.responseSeconds.answers,
        },
        messages_per_day: s.perDay,
      })),
    });
    return;
  }
  const c = ctx.out;
  const out = ctx.io.stdout;
  const n = (x: number) => x.toLocaleString('en-US');
  out.write(c.dim(`Statistics${r.since ? ` since ${r.since.toISOString()}` : ''} · days in ${r.timeZone}\n\n`));
  for (const s of r.stats) {
    out.write(`${c.bold(s.clientName)} ${c.dim(`(client ${s.clientId})`)}\n`);
    const line = (label: string, value: string) => out.write(`  ${label.padEnd(22)}${value}\n`);
    line('Conversations', `${n(s.conversations)}   active in the last 24 h: ${n(s.activeLast24h)}`);
    line(
      'Messages',
      `${n(s.messages)}   user ${n(s.messagesByRole.user)} · assistant ${n(s.messagesByRole.assistant)} · agent ${n(s.messagesByRole.agent)}`,
    );
    line('Failed', s.failed ? `${c.red(n(s.failed))}   (list: wa-report failed --client-id ${s.clientId})` : '0');
    line('Delivered / read', `${pct(s.deliveryRate)} / ${pct(s.readRate)}`);
    line(
      'Response time',
      `median ${duration(s.responseSeconds.median)} · p90 ${duration(s.responseSeconds.p90)} (${n(s.responseSeconds.answers)} answers)`,
    );
    if (s.perDay.length) {
      out.write(`  Messages per day${s.perDay.length > 14 ? ' (last 14 days)' : ''}\n`);
      for (const b of bars(s.perDay)) out.write(`    ${c.cyan(b)}\n`);
    }
    out.write('\n');
  }
}

export async function runFailed(
  options: RawReportOptions & { limit?: string },
  ctx: CommandContext,
): Promise<StoredMessage[]> {
  const o = parseReportOptions(options, ctx.io.env);
  const limit = options.limit === undefined ? 100 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new UsageError(`--limit: "${options.limit}" must be a whole number from 1 to 100000.`);
  const store = await ctx.store();
  if (o.clientId !== undefined) await store.clients.get(o.clientId);
  return store.messages.failed({ clientId: o.clientId, limit });
}

export function printFailed(rows: StoredMessage[], json: boolean, ctx: CommandContext): void {
  if (json) {
    writeJson(ctx, {
      messages: rows.map((m) => ({
        id: m.id,
        client_id: m.clientId,
        thread_id: m.threadId,
        wa_id: formatWaId(m.waId),
        wamid: m.wamid,
        role: m.role,
        type: m.type,
        content: m.content,
        created_at: m.createdAt.toISOString(),
        error_code: m.errorCode,
        error_message: m.errorMessage,
      })),
    });
    return;
  }
  writeRows(
    ctx,
    rows,
    [
      { header: 'id', cell: (m) => String(m.id) },
      { header: 'client', cell: (m) => String(m.clientId) },
      { header: 'wa_id', cell: (m) => formatWaId(m.waId) },
      {
        header: 'created',
        cell: (m) => m.createdAt.toISOString().slice(0, 16).replace('T', ' '),
        plain: (m) => m.createdAt.toISOString(),
      },
      { header: 'error', cell: (m) => (m.errorMessage ?? '').slice(0, 60), plain: (m) => m.errorMessage ?? '' },
      { header: 'content', cell: (m) => m.content.slice(0, 40), plain: (m) => m.content },
    ],
    'No failed messages.',
  );
}
