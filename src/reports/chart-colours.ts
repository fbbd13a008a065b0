// The charts' colours, apart from the chart code so pages can name them without loading ECharts.
/** Colours with at least 3:1 contrast against white (WCAG 1.4.11 for graphics). */
export const CHART_COLOURS = {
  user: '#2563a6',
  assistant: '#1b7f5a',
  agent: '#9a5b00',
  failed: '#b3261e',
  neutral: '#5f6b7a',
  positive: '#1b7f5a',
  negative: '#b3261e',
} as const;
