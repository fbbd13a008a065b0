// The daemon's configuration: environment (systemd EnvironmentFile=) overridden by flags, validated
// at start with every problem reported at once.
import { z } from 'zod';
import { UsageError } from '../errors.js';

export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com/v24.0';

export interface IngestConfig {
  port: number;
  host: string | undefined;
  verifyToken: string | null;
  appSecret: string | null;
  insecureSkipSignature: boolean;
  accessToken: string | null;
  graphUrl: string;
  openai: { apiKey: string | null; baseURL: string | undefined; model: string; api: 'chat' | 'responses'; timeoutMs: number; maxRetries: number };
  contextMessages: number;
  apiToken: string | null;
  logLevel: string;
  shutdownTimeoutMs: number;
  maxPendingRows: number;
  replyConcurrency: number;
}

export interface IngestFlags {
  port?: string;
  host?: string;
  insecureSkipSignature?: boolean;
  shutdownTimeout?: string;
}

const optionalText = z.string().trim().transform((s) => (s === '' ? null : s)).nullable().default(null);
const intIn = (name: string, min: number, max: number, dflt: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return dflt;
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name}: "${s}" is not a whole number between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

const schema = z.object({
  port: intIn('PORT (--port)', 0, 65535, 8082),
  host: z.string().trim().optional().transform((s) => (s ? s : undefined)),
  verifyToken: optionalText,
  appSecret: optionalText,
  accessToken: optionalText,
  graphUrl: z
    .string()
    .trim()
    .optional()
    .transform((s, ctx) => {
      const url = s || DEFAULT_GRAPH_URL;
      if (!/^https?:\/\//.test(url)) {
        ctx.addIssue({ code: 'custom', message: `WHATSAPP_GRAPH_URL: "${url}" is not an http(s) URL, e.g. ${DEFAULT_GRAPH_URL}` });
        return z.NEVER;
      }
      return url.replace(/\/+$/, '');
    }),
  openaiApiKey: optionalText,
  openaiBaseUrl: z.string().trim().optional().transform((s) => (s ? s : undefined)),
  openaiModel: z.string().trim().optional().transform((s) => s || 'gpt-4o-mini'),
  modelApi: z
    .string()
    .trim()
    .optional()
    .transform((s, ctx) => {
      const v = s || 'chat';
      if (v !== 'chat' && v !== 'responses') {
        ctx.addIssue({ code: 'custom', message: `WA_REPORT_MODEL_API: "${v}" must be "chat" (Chat Completions) or "responses" (Responses API)` });
        return z.NEVER;
      }
      return v;
    }),
  openaiTimeout: intIn('WA_REPORT_OPENAI_TIMEOUT_MS', 100, 600_000, 60_000),
  contextMessages: intIn('WA_REPORT_CONTEXT_MESSAGES', 0, 200, 10),
  apiToken: optionalText,
  logLevel: z
    .string()
    .trim()
    .optional()
    .transform((s, ctx) => {
      const v = (s || 'info').toLowerCase();
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)) {
        ctx.addIssue({ code: 'custom', message: `LOG_LEVEL: "${s}" must be one of fatal, error, warn, info, debug, trace, silent` });
        return z.NEVER;
      }
      return v;
    }),
  shutdownTimeout: intIn('--shutdown-timeout', 0, 600, 10),
  maxPendingRows: intIn('WA_REPORT_QUEUE_MAX_ROWS', 100, 10_000_000, 50_000),
  replyConcurrency: intIn('WA_REPORT_REPLY_CONCURRENCY', 1, 256, 32),
});

export function loadIngestConfig(env: NodeJS.ProcessEnv, flags: IngestFlags = {}): IngestConfig {
  const result = schema.safeParse({
    port: flags.port ?? env.PORT,
    host: flags.host ?? env.HOST,
    verifyToken: env.WHATSAPP_VERIFY_TOKEN,
    appSecret: env.WHATSAPP_APP_SECRET,
    accessToken: env.WHATSAPP_ACCESS_TOKEN,
    graphUrl: env.WHATSAPP_GRAPH_URL,
    openaiApiKey: env.OPENAI_API_KEY,
    openaiBaseUrl: env.OPENAI_BASE_URL,
    openaiModel: env.OPENAI_MODEL,
    modelApi: env.WA_REPORT_MODEL_API,
    openaiTimeout: env.WA_REPORT_OPENAI_TIMEOUT_MS,
    contextMessages: env.WA_REPORT_CONTEXT_MESSAGES,
    apiToken: env.WA_REPORT_API_TOKEN,
    logLevel: env.LOG_LEVEL,
    shutdownTimeout: flags.shutdownTimeout,
    maxPendingRows: env.WA_REPORT_QUEUE_MAX_ROWS,
    replyConcurrency: env.WA_REPORT_REPLY_CONCURRENCY,
  });
  const problems: string[] = result.success ? [] : result.error.issues.map((i) => i.message);
  const insecure = Boolean(flags.insecureSkipSignature);
  if (!env.WHATSAPP_APP_SECRET?.trim() && !insecure) {
    problems.push('WHATSAPP_APP_SECRET: required to verify webhook signatures (Meta app dashboard → App settings → Basic → App secret). For local experiments only: --insecure-skip-signature.');
  }
  if (problems.length || !result.success) {
    throw new UsageError(`Invalid configuration for \`wa-report ingest\`:\n  ${problems.join('\n  ')}`);
  }
  const d = result.data;
  return {
    port: d.port,
    host: d.host,
    verifyToken: d.verifyToken,
    appSecret: insecure ? null : d.appSecret,
    insecureSkipSignature: insecure,
    accessToken: d.accessToken,
    graphUrl: d.graphUrl,
    openai: { apiKey: d.openaiApiKey, baseURL: d.openaiBaseUrl, model: d.openaiModel, api: d.modelApi as 'chat' | 'responses', timeoutMs: d.openaiTimeout, maxRetries: 3 },
    contextMessages: d.contextMessages,
    apiToken: d.apiToken,
    logLevel: d.logLevel,
    shutdownTimeoutMs: d.shutdownTimeout * 1000,
    maxPendingRows: d.maxPendingRows,
    replyConcurrency: d.replyConcurrency,
  };
}
