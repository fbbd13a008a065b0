// One way to check what a person or a program typed: a zod schema per input, every problem reported
// at once, one `name: message` line each (the CLI names flags, the HTTP API query parameters).
import type { z } from 'zod';
import { UsageError } from '../errors.js';

/**
 * Validates parsed options against one schema and reports every problem at once, one
 * `--flag: message` line each. `flags` maps schema keys to the flag the user typed.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  flags: Record<string, string> = {},
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    return `${flags[key] ?? (key || 'options')}: ${issue.message}`;
  });
  throw new UsageError(lines.join('\n'));
}
