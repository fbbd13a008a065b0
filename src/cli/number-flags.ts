// Flags whose value is a whole number, checked with the value in the message.
import { z } from 'zod';
import { flag } from './command.js';

/** `--limit <n>` and the like: `"x" must be a whole number from 1 to 100000.` */
export function wholeNumber(flags: string, description: string, range: { min: number; max: number; default: number }) {
  return flag(
    flags,
    description,
    z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return range.default;
        const n = Number(s);
        if (!/^\d+$/.test(s.trim()) || n < range.min || n > range.max) {
          ctx.addIssue({ code: 'custom', message: `"${s}" must be a whole number from ${range.min} to ${range.max}.` });
          return z.NEVER;
        }
        return n;
      }),
  );
}

/** `--client-id <id>`, optional: the same check and message as the report flags'. */
export function clientIdFlag(description: string) {
  return flag(
    '--client-id <id>',
    description,
    z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return undefined;
        if (!/^\d+$/.test(s.trim()) || Number(s) < 1) {
          ctx.addIssue({ code: 'custom', message: `"${s}" is not a client id; run \`wa-report --list\` to see them.` });
          return z.NEVER;
        }
        return Number(s);
      }),
  );
}
