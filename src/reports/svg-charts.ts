// Charts as SVG text, drawn on the server by Apache ECharts' SSR renderer (pure JavaScript, no
// canvas, no browser), so a page shows them without JavaScript and the same SVG can go into any
// report. The output is made fit for a strict Content-Security-Policy: ECharts writes text styles as
// style attributes, which `style-src 'self'` blocks, so they become SVG presentation attributes.
import { BarChart, HeatmapChart } from 'echarts/charts';
import { GridComponent, LegendComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, HeatmapChart, GridComponent, LegendComponent, VisualMapComponent, SVGRenderer]);

export { CHART_COLOURS } from './chart-colours.js';

const TEXT = '#333a45';
const FONT = 'system-ui, sans-serif';
/** Charts are drawn about 520 units wide and shown at 350–600 px: 14 reads as 10–16 px. */
const SIZE = 14;
/** From this many bars a series is drawn as one path (ECharts' large mode): 4× faster and smaller. */
const LARGE_FROM = 60;

export interface BarSeries {
  name: string;
  values: number[];
  colour: string;
}

export interface BarChartInput {
  categories: string[];
  series: BarSeries[];
  stacked?: boolean;
  /** Horizontal bars (categories on the y axis). */
  horizontal?: boolean;
  width?: number;
  height?: number;
  /** Axis value labels as percentages of 1. */
  percent?: boolean;
}

export function barChartSvg(input: BarChartInput): string {
  const width = input.width ?? 520;
  const height = input.height ?? 280;
  const category = {
    type: 'category' as const,
    data: input.categories,
    axisLabel: { color: TEXT, fontFamily: FONT, fontSize: SIZE, hideOverlap: true },
    axisLine: { lineStyle: { color: '#8a94a3' } },
  };
  const value = {
    type: 'value' as const,
    minInterval: input.percent ? undefined : 1,
    max: input.percent ? 1 : undefined,
    axisLabel: {
      color: TEXT,
      fontFamily: FONT,
      fontSize: SIZE,
      formatter: input.percent ? (v: number) => `${Math.round(v * 100)} %` : undefined,
    },
    splitLine: { lineStyle: { color: '#e3e7ec' } },
  };
  return render(width, height, {
    animation: false,
    legend:
      input.series.length > 1
        ? { top: 0, itemWidth: 14, itemGap: 12, textStyle: { color: TEXT, fontFamily: FONT, fontSize: SIZE } }
        : undefined,
    grid: {
      left: input.horizontal ? 150 : 56,
      right: 24,
      top: input.series.length > 1 ? 16 + 24 * Math.ceil(input.series.length / 2) : 12,
      bottom: 32,
    },
    xAxis: input.horizontal ? value : category,
    yAxis: input.horizontal ? { ...category, inverse: true } : value,
    series: input.series.map((s) => ({
      type: 'bar',
      name: s.name,
      data: s.values,
      stack: input.stacked ? 'all' : undefined,
      itemStyle: { color: s.colour },
      barMaxWidth: 48,
      large: true,
      largeThreshold: LARGE_FROM,
    })),
  });
}

/** Weekday × hour counts as a heat map (rows Monday…Sunday, columns 0–23). */
export function heatmapSvg(grid: number[][], weekdays: string[], width = 520, height = 280): string {
  const max = Math.max(1, ...grid.flat());
  const data = grid.flatMap((row, d) => row.map((n, h) => [h, d, n]));
  return render(width, height, {
    animation: false,
    grid: { left: 56, right: 16, top: 8, bottom: 56 },
    xAxis: {
      type: 'category',
      data: Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')),
      axisLabel: { color: TEXT, fontFamily: FONT, fontSize: SIZE },
      splitArea: { show: false },
    },
    yAxis: {
      type: 'category',
      data: weekdays,
      inverse: true,
      axisLabel: { color: TEXT, fontFamily: FONT, fontSize: SIZE },
    },
    visualMap: {
      min: 0,
      max,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      textStyle: { color: TEXT, fontFamily: FONT, fontSize: SIZE },
      inRange: { color: ['#f1f5fb', '#2563a6'] },
    },
    series: [{ type: 'heatmap', data, itemStyle: { borderColor: '#ffffff', borderWidth: 1 } }],
  });
}

/** A chart to draw, as data: what chart-pool.ts sends to its worker threads. */
export type ChartRequest =
  | { kind: 'bar'; input: BarChartInput }
  | { kind: 'heatmap'; grid: number[][]; weekdays: string[]; width?: number; height?: number };

export function drawChart(r: ChartRequest): string {
  return r.kind === 'bar' ? barChartSvg(r.input) : heatmapSvg(r.grid, r.weekdays, r.width, r.height);
}

interface SvgPainter {
  renderToString(options: { useViewBox?: boolean; cssAnimation?: boolean; cssEmphasis?: boolean }): string;
}

function render(width: number, height: number, option: Record<string, unknown>): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
    // Without <style> elements (hover and animation CSS), which the CSP would block. ECharts'
    // renderToSVGString does not pass these options on, so zrender's SVG painter is asked directly.
    const painter = (chart.getZr() as unknown as { painter: SvgPainter }).painter;
    return cspSafe(painter.renderToString({ useViewBox: true, cssAnimation: false, cssEmphasis: false }));
  } finally {
    chart.dispose();
  }
}

/** style="a:b;c:d" → a="b" c="d" (SVG presentation attributes); the chart itself is hidden from screen readers. */
export function cspSafe(svg: string): string {
  return svg
    .replace(/ style="([^"]*)"/g, (_, css: string) =>
      css
        .split(';')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => {
          const i = d.indexOf(':');
          const name = d.slice(0, i).trim();
          const value = d.slice(i + 1).trim();
          return /^[a-z-]+$/.test(name) ? ` ${name}="${value.replace(/"/g, '&quot;')}"` : '';
        })
        .join(''),
    )
    .replace(/^<svg /, '<svg aria-hidden="true" focusable="false" ');
}
