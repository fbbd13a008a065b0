// JSON written in pieces with the same bytes as JSON.stringify(document, null, 2).

/** Indentation of `level` in a document pretty-printed with two spaces. */
export const pad = (level: number): string => '  '.repeat(level);

/** A value pretty-printed as it would be at `level` inside the whole document. */
export function nested(value: unknown, level: number): string {
  return JSON.stringify(value, null, 2).replaceAll('\n', `\n${pad(level)}`);
}
