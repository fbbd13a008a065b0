// Periods as people type them: 30s, 90m, 2h, 7d, 52w (and 500ms where a caller allows it). One
// parser for retention, --since, the conversation idle period, the handoff pause and the webhook
// retry schedule.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

/**
 * Milliseconds of "<whole number><unit>", or null when the text is not one (or absurdly long: at
 * most 100,000 of the unit, ~270 years in weeks, so that a date can always be computed from it).
 * `units` limits what is accepted ("365d" for retention, never "30s").
 */
export function parseDuration(text: string, units: readonly DurationUnit[] = ['s', 'm', 'h', 'd', 'w']): number | null {
  const m = /^(\d+)\s*(ms|[smhdw])$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] as string).toLowerCase() as DurationUnit;
  if (!units.includes(unit) || Number(m[1]) > 100_000) return null;
  return Number(m[1]) * UNIT_MS[unit];
}

/** The shortest way to write a whole number of seconds: 3600 → "1h", 90 → "90s". */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
