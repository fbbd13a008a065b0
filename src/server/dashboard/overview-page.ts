// The overview page's model: headline figures (`stats`' own), and for each figure a chart (SVG from
// the server) with its data table, every row linking to the conversations behind it.
import type { Store } from '../../db/store.js';
import type { Grain } from '../../domain/zone-clock.js';
import { buildOverview, type Overview } from '../../reports/overview.js';
import { exactPeriod, viewQuery, type View } from './filters.js';
import type { DashboardLabels } from './labels.js';
import { formatters, type Formatters } from './format.js';
import { CHART_COLOURS } from '../../reports/chart-colours.js';
import { drawCharts } from '../../reports/chart-pool.js';
import type { BarChartInput, ChartRequest } from '../../reports/svg-charts.js';

export interface ChartModel {
  id: string;
  title: string;
  svg: string;
  /** The data behind it: a header row and rows of cells, each cell text or a link. */
  head: string[];
  rows: { key?: string; cells: (string | { text: string; href: string })[] }[];
  /** Where the whole chart's conversations are. */
  link: { text: string; href: string } | null;
}

export interface FigureModel {
  /** Stable name, for tests and the CLI's JSON. */
  name: string;
  label: string;
  value: string;
  /** The raw number (data-value), or '' when there is none. */
  raw: string;
}

const base = '/dashboard';

function bucketLabel(key: string, grain: Grain, f: Formatters): string {
  if (grain === 'hour') return `${key.slice(5, 10)} ${key.slice(11, 13)}h`;
  if (grain === 'month') return f.month(key);
  return f.day(key);
}

export async function overviewModel(store: Store, view: View, labels: DashboardLabels, lang: 'en' | 'es', now: Date) {
  // Charts are drawn on worker threads (chart-pool.ts): the heatmap as soon as its figures are read,
  // while the others are (it is chart 0); the rest are collected as requests and drawn together
  // below, a chart's svg holding its request's index until then.
  let heatmap: Promise<string[]> = Promise.resolve([]);
  const o = await buildOverview(
    store,
    { clientId: view.clientId, start: view.start, end: view.end, timeZone: view.timeZone, grain: view.grain, now },
    {
      heatmap: (grid) => {
        heatmap = drawCharts([{ kind: 'heatmap', grid, weekdays: labels.weekdaysShort }], 0);
        // A failed drawing fails the page below (awaited there), never as an unhandled rejection while
        // the other figures are read.
        heatmap.catch(() => undefined);
      },
    },
  );
  const requests: ChartRequest[] = [];
  // Request i is chart i + 1 (push returns the new length).
  const barChartSvg = (input: BarChartInput) => String(requests.push({ kind: 'bar', input }));
  const f = formatters(lang, view.timeZone);
  const L = labels.figures;
  const conversationsOf = (v: View, extra: Record<string, string | number> = {}) =>
    `${base}/conversations?${viewQuery(v, extra)}`;
  const single = view.clientId !== undefined ? o.clients[0] : undefined;
  const s = single?.statistics;

  const figures: FigureModel[] = [
    {
      name: 'conversations',
      label: L.conversations,
      value: f.n(o.totals.conversations),
      raw: String(o.totals.conversations),
    },
    { name: 'active_users', label: L.activeUsers, value: f.n(o.totals.activeUsers), raw: String(o.totals.activeUsers) },
    { name: 'messages', label: L.messages, value: f.n(o.totals.messages), raw: String(o.totals.messages) },
    { name: 'messages_user', label: L.user, value: f.n(o.totals.byRole.user), raw: String(o.totals.byRole.user) },
    {
      name: 'messages_assistant',
      label: L.assistant,
      value: f.n(o.totals.byRole.assistant),
      raw: String(o.totals.byRole.assistant),
    },
    { name: 'messages_agent', label: L.agent, value: f.n(o.totals.byRole.agent), raw: String(o.totals.byRole.agent) },
    { name: 'failed', label: L.failedMessages, value: f.n(o.totals.failed), raw: String(o.totals.failed) },
    { name: 'sessions', label: L.sessions, value: f.n(o.totals.sessions), raw: String(o.totals.sessions) },
  ];
  if (s) {
    const rate = (name: string, label: string, x: number | null) =>
      figures.push({ name, label, value: f.rate(x), raw: x === null ? '' : String(x) });
    const secs = (name: string, label: string, x: number | null) =>
      figures.push({ name, label, value: f.seconds(x), raw: x === null ? '' : String(x) });
    rate('delivery_rate', L.deliveryRate, s.deliveryRate);
    rate('read_rate', L.readRate, s.readRate);
    secs('first_response_median', `${L.firstResponse} (${L.median})`, s.sessions.firstResponseSeconds.median);
    secs('first_response_p90', `${L.firstResponse} (${L.p90})`, s.sessions.firstResponseSeconds.p90);
    secs('resolution_median', `${L.resolution} (${L.median})`, s.sessions.durationSeconds.median);
    secs('resolution_p90', `${L.resolution} (${L.p90})`, s.sessions.durationSeconds.p90);
    rate('handoff_rate', L.handoffRate, s.sessions.handoffRate);
    rate('bot_only_rate', L.botOnly, s.sessions.botOnlyResolutionRate);
    rate('csat_score', L.csatScore, s.csat.satisfactionScore);
    rate('csat_response_rate', L.csatResponse, s.csat.responseRate);
  }

  const charts: ChartModel[] = [];
  const categories = o.series.map((p) => bucketLabel(p.key, o.grain, f));
  const bucketLink = (p: Overview['series'][number], extra: Record<string, string | number> = {}) => ({
    text: bucketLabel(p.key, o.grain, f),
    href: conversationsOf(exactPeriod(view, p.start, p.end), extra),
  });
  charts.push({
    id: 'messages',
    title: labels.charts.messages,
    svg: barChartSvg({
      categories,
      stacked: true,
      series: [
        { name: L.user, values: o.series.map((p) => p.user), colour: CHART_COLOURS.user },
        { name: L.assistant, values: o.series.map((p) => p.assistant), colour: CHART_COLOURS.assistant },
        { name: L.agent, values: o.series.map((p) => p.agent), colour: CHART_COLOURS.agent },
      ],
    }),
    head: [labels.when, L.user, L.assistant, L.agent],
    rows: o.series.map((p) => ({
      key: p.key,
      cells: [bucketLink(p), f.n(p.user), f.n(p.assistant), f.n(p.agent)],
    })),
    link: { text: labels.viewConversations, href: conversationsOf(view) },
  });
  charts.push({
    id: 'sessions',
    title: labels.charts.sessions,
    svg: barChartSvg({
      categories,
      series: [
        { name: L.sessions, values: o.series.map((p) => p.sessions), colour: CHART_COLOURS.user },
        { name: L.handoffs, values: o.series.map((p) => p.handoffs), colour: CHART_COLOURS.agent },
      ],
    }),
    head: [labels.when, L.sessions, L.handoffs],
    rows: o.series.map((p) => ({
      cells: [bucketLink(p), f.n(p.sessions), { text: f.n(p.handoffs), href: bucketLink(p, { handoff: 1 }).href }],
    })),
    link: { text: labels.viewConversations, href: conversationsOf(view) },
  });
  charts.push({
    id: 'failed',
    title: labels.charts.failed,
    svg: barChartSvg({
      categories,
      series: [{ name: L.failedMessages, values: o.series.map((p) => p.failed), colour: CHART_COLOURS.failed }],
    }),
    head: [labels.when, L.failedMessages],
    rows: o.series.map((p) => ({
      cells: [
        bucketLink(p, { failed: 1 }),
        { text: f.n(p.failed), href: `${base}/failed?${viewQuery(exactPeriod(view, p.start, p.end))}` },
      ],
    })),
    link: { text: labels.viewFailed, href: `${base}/failed?${viewQuery(view)}` },
  });
  charts.push({
    id: 'heatmap',
    title: labels.charts.heatmap,
    svg: '0',
    head: [labels.weekday, ...Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'))],
    rows: o.heatmap.map((row, d) => ({ cells: [labels.weekdays[d] as string, ...row.map((n) => f.n(n))] })),
    link: { text: labels.viewConversations, href: conversationsOf(view) },
  });

  const sum = <T>(pick: (c: Overview['clients'][number]) => T, add: (a: T, b: T) => T, zero: T) =>
    o.clients.reduce((a, c) => add(a, pick(c)), zero);
  const sentiment = sum(
    (c) => c.statistics.sentiment.distribution,
    (a, b) => ({
      negative: a.negative + b.negative,
      neutral: a.neutral + b.neutral,
      positive: a.positive + b.positive,
    }),
    { negative: 0, neutral: 0, positive: 0 },
  );
  const labelsOf = { negative: L.negative, neutral: L.neutral, positive: L.positive };
  const kinds = ['negative', 'neutral', 'positive'] as const;
  charts.push({
    id: 'sentiment',
    title: labels.charts.sentiment,
    svg: barChartSvg({
      categories: kinds.map((k) => labelsOf[k]),
      series: [{ name: L.messages, values: kinds.map((k) => sentiment[k]), colour: CHART_COLOURS.neutral }],
      height: 200,
    }),
    head: [labels.sentiment, L.messages],
    rows: kinds.map((k) => ({
      cells: [{ text: labelsOf[k], href: conversationsOf(view, { sentiment: k }) }, f.n(sentiment[k])],
    })),
    link: null,
  });
  const csat = sum(
    (c) => c.statistics.csat.distribution,
    (a, b) => ({ 1: a[1] + b[1], 2: a[2] + b[2], 3: a[3] + b[3], 4: a[4] + b[4], 5: a[5] + b[5] }),
    { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 },
  );
  const scores = [1, 2, 3, 4, 5] as const;
  charts.push({
    id: 'csat',
    title: labels.charts.csat,
    svg: barChartSvg({
      categories: scores.map(String),
      series: [{ name: labels.answered, values: scores.map((k) => csat[k]), colour: CHART_COLOURS.assistant }],
      height: 200,
    }),
    head: [labels.score, labels.answered],
    rows: scores.map((k) => ({ cells: [{ text: String(k), href: conversationsOf(view, { csat: k }) }, f.n(csat[k])] })),
    link: { text: labels.viewConversations, href: conversationsOf(view, { csat: 'answered' }) },
  });

  // Rates and times: per client (percentiles do not add up across clients).
  const names = o.clients.map((c) => c.statistics.clientName);
  const rates = [
    { name: L.deliveryRate, pick: (c: Overview['clients'][number]) => c.statistics.deliveryRate },
    { name: L.readRate, pick: (c: Overview['clients'][number]) => c.statistics.readRate },
    { name: L.handoffRate, pick: (c: Overview['clients'][number]) => c.statistics.sessions.handoffRate },
    { name: L.botOnly, pick: (c: Overview['clients'][number]) => c.statistics.sessions.botOnlyResolutionRate },
    { name: L.csatScore, pick: (c: Overview['clients'][number]) => c.statistics.csat.satisfactionScore },
    { name: L.csatResponse, pick: (c: Overview['clients'][number]) => c.statistics.csat.responseRate },
  ];
  const palette = ['#2563a6', '#1b7f5a', '#9a5b00', '#6b4fa3', '#b3261e', '#5f6b7a'];
  const clientLink = (c: Overview['clients'][number]) => ({
    text: c.statistics.clientName,
    href: `${base}?${viewQuery({ ...view, clientId: c.statistics.clientId })}`,
  });
  charts.push({
    id: 'rates',
    title: labels.charts.rates,
    svg: barChartSvg({
      categories: names,
      horizontal: true,
      percent: true,
      height: Math.max(200, 80 + names.length * 90),
      series: rates.map((r, i) => ({
        name: r.name,
        values: o.clients.map((c) => r.pick(c) ?? 0),
        colour: palette[i] as string,
      })),
    }),
    head: [labels.client, ...rates.map((r) => r.name)],
    rows: o.clients.map((c) => ({ cells: [clientLink(c), ...rates.map((r) => f.rate(r.pick(c)))] })),
    link: { text: labels.viewConversations, href: conversationsOf(view, { handoff: 1 }) },
  });
  const times = [
    {
      name: `${L.firstResponse} (${L.median})`,
      pick: (c: Overview['clients'][number]) => c.statistics.sessions.firstResponseSeconds.median,
    },
    {
      name: `${L.firstResponse} (${L.p90})`,
      pick: (c: Overview['clients'][number]) => c.statistics.sessions.firstResponseSeconds.p90,
    },
    {
      name: `${L.resolution} (${L.median})`,
      pick: (c: Overview['clients'][number]) => c.statistics.sessions.durationSeconds.median,
    },
    {
      name: `${L.resolution} (${L.p90})`,
      pick: (c: Overview['clients'][number]) => c.statistics.sessions.durationSeconds.p90,
    },
  ];
  charts.push({
    id: 'times',
    title: labels.charts.times,
    svg: barChartSvg({
      categories: names,
      horizontal: true,
      height: Math.max(200, 80 + names.length * 70),
      series: times.map((t, i) => ({
        name: t.name,
        values: o.clients.map((c) => t.pick(c) ?? 0),
        colour: palette[i] as string,
      })),
    }),
    head: [labels.client, ...times.map((t) => t.name)],
    rows: o.clients.map((c) => ({ cells: [clientLink(c), ...times.map((t) => f.seconds(t.pick(c)))] })),
    link: { text: labels.viewConversations, href: conversationsOf(view) },
  });

  const perClient = o.clients.map((c) => ({
    id: c.statistics.clientId,
    link: clientLink(c),
    conversations: f.n(c.statistics.conversations),
    activeUsers: f.n(c.activeUsers),
    messages: f.n(c.statistics.messages),
    failed: f.n(c.statistics.failed),
    deliveryRate: f.rate(c.statistics.deliveryRate),
    firstResponse: f.seconds(c.statistics.sessions.firstResponseSeconds.median),
    csat: f.rate(c.statistics.csat.satisfactionScore),
  }));
  const svgs = (await Promise.all([heatmap, drawCharts(requests, 1)])).flat();
  for (const c of charts) c.svg = svgs[Number(c.svg)] as string;
  return { overview: o, figures, charts, perClient, single: s ?? null };
}
