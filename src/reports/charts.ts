// Charts of messages per day, drawn the same way wherever they appear: unicode bars for terminals
// and the geometry of the SVG bar chart of the HTML summary.
import type { SummaryReport } from './types.js';

/** Width of the longest bar, in character cells. */
const BAR_WIDTH = 40;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `value` against `max` in unicode blocks, to an eighth of a cell; never invisible when value > 0. */
export function unicodeBar(value: number, max: number, width = BAR_WIDTH): string {
  if (value <= 0 || max <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

export interface ChartBar {
  day: string;
  messages: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The day's label under the bar, shown for about a dozen evenly spaced days. */
  label: string | null;
}

export interface Chart {
  width: number;
  height: number;
  plotTop: number;
  plotBottom: number;
  plotLeft: number;
  plotRight: number;
  max: number;
  bars: ChartBar[];
}

/** Geometry of the messages-per-day bar chart (the template only draws what this computes). */
export function perDayChart(perDay: SummaryReport['perDay'], width = 800, height = 240): Chart {
  const plotLeft = 44;
  const plotRight = width - 12;
  const plotTop = 12;
  const plotBottom = height - 36;
  const max = Math.max(1, ...perDay.map((d) => d.messages));
  const step = perDay.length ? (plotRight - plotLeft) / perDay.length : 0;
  const labelEvery = Math.max(1, Math.ceil(perDay.length / 12));
  const round = (n: number) => Math.round(n * 100) / 100;
  const bars = perDay.map((d, i) => {
    const h = ((plotBottom - plotTop) * d.messages) / max;
    return {
      day: d.day,
      messages: d.messages,
      x: round(plotLeft + i * step + step * 0.1),
      y: round(plotBottom - h),
      width: round(Math.max(1, step * 0.8)),
      height: round(h),
      label: i % labelEvery === 0 ? d.day : null,
    };
  });
  return { width, height, plotTop, plotBottom, plotLeft, plotRight, max, bars };
}
