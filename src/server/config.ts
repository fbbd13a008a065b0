// The daemon's configuration: environment (systemd EnvironmentFile=) overridden by flags, validated
// at start with every problem reported at once.
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { idleFromEnv } from '../domain/conversations.js';
import { negativeAlertFromEnv, sentimentModeFromEnv, type SentimentMode } from '../domain/sentiment/index.js';
import { parseDuration } from '../domain/durations.js';
import { UsageError } from '../errors.js';
import { webhookSettingsFromEnv, type WebhookSettings } from '../events/policy.js';

export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com/v26.0';

export interface IngestConfig {
  port: number;
  host: string | undefined;
  verifyToken: string | null;
  appSecret: string | null;
  insecureSkipSignature: boolean;
  accessToken: string | null;
  graphUrl: string;
  openai: {
    apiKey: string | null;
    baseURL: string | undefined;
    model: string;
    api: 'chat' | 'responses';
    timeoutMs: number;
    maxRetries: number;
  };
  contextMessages: number;
  apiToken: string | null;
  /** Scope of WA_REPORT_API_TOKEN: read (default) or admin (contact export and erase). */
  apiTokenScope: 'read' | 'admin';
  /** Express "trust proxy" (WA_REPORT_TRUST_PROXY), so the failure limit sees clients behind a proxy; null: off. */
  trustProxy: string | number | null;
  logLevel: string;
  shutdownTimeoutMs: number;
  maxPendingRows: number;
  replyConcurrency: number;
  /** How long a daemon's claim on a conversation lasts unless renewed (WA_REPORT_REPLY_LEASE_MS). */
  replyLeaseMs: number;
  /** Retention: archive conversations idle longer than this, once a day, into `dir`; null: off. */
  archive: { afterMs: number; after: string; dir: string } | null;
  /** Idle period of clients without their own (WA_REPORT_CONVERSATION_IDLE). */
  conversationIdleMs: number;
  /** WA_REPORT_SENTIMENT_ALERT: a closing sentiment at or below it sends sentiment.negative; null: off. */
  sentimentAlert: number | null;
  /** WA_REPORT_SENTIMENT: score user messages as they are stored (lexicon, the default) or not (off). */
  sentiment: SentimentMode;
  /** Event webhook delivery (WA_REPORT_WEBHOOK_RETRY, …_LEASE, WA_REPORT_WEBHOOKS_ALLOW_PRIVATE). */
  webhooks: WebhookSettings;
}

export interface IngestFlags {
  port?: string;
  host?: string;
  insecureSkipSignature?: boolean;
  shutdownTimeout?: string;
  archiveAfter?: string;
  archiveDir?: string;
}

/** "365d", "52w", "12h" → milliseconds (retention periods). */
export function parseRetention(text: string): number | null {
  return parseDuration(text, ['h', 'd', 'w']);
}

const optionalText = z
  .string()
  .trim()
  .transform((s) => (s === '' ? null : s))
  .nullable()
  .default(null);
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
  host: z
    .string()
    .trim()
    .optional()
    .transform((s) => (s ? s : undefined)),
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
        ctx.addIssue({
          code: 'custom',
          message: `WHATSAPP_GRAPH_URL: "${url}" is not an http(s) URL, e.g. ${DEFAULT_GRAPH_URL}`,
        });
        return z.NEVER;
      }
      return url.replace(/\/+$/, '');
    }),
  openaiApiKey: optionalText,
  openaiBaseUrl: z
    .string()
    .trim()
    .optional()
    .transform((s) => (s ? s : undefined)),
  openaiModel: z
    .string()
    .trim()
    .optional()
    .transform((s) => s || 'gpt-4o-mini'),
  modelApi: z
    .string()
    .trim()
    .optional()
    .transform((s, ctx) => {
      const v = s || 'chat';
      if (v !== 'chat' && v !== 'responses') {
        ctx.addIssue({
          code: 'custom',
          message: `WA_REPORT_MODEL_API: "${v}" must be "chat" (Chat Completions) or "responses" (Responses API)`,
        });
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
        ctx.addIssue({
          code: 'custom',
          message: `LOG_LEVEL: "${s}" must be one of fatal, error, warn, info, debug, trace, silent`,
        });
        return z.NEVER;
      }
      return v;
    }),
  shutdownTimeout: intIn('--shutdown-timeout', 0, 600, 10),
  maxPendingRows: intIn('WA_REPORT_QUEUE_MAX_ROWS', 100, 10_000_000, 50_000),
  replyConcurrency: intIn('WA_REPORT_REPLY_CONCURRENCY', 1, 256, 32),
  replyLeaseMs: intIn('WA_REPORT_REPLY_LEASE_MS', 1_000, 600_000, 30_000),
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
    replyLeaseMs: env.WA_REPORT_REPLY_LEASE_MS,
  });
  const problems: string[] = result.success ? [] : result.error.issues.map((i) => i.message);
  const insecure = Boolean(flags.insecureSkipSignature);
  if (!env.WHATSAPP_APP_SECRET?.trim() && !insecure) {
    problems.push(
      'WHATSAPP_APP_SECRET: required to verify webhook signatures (Meta app dashboard → App settings → Basic → ' +
        'App secret). For local experiments only: --insecure-skip-signature.',
    );
  }
  const after = flags.archiveAfter ?? env.WA_REPORT_ARCHIVE_AFTER;
  const dir = flags.archiveDir ?? env.WA_REPORT_ARCHIVE_DIR;
  let archive: IngestConfig['archive'] = null;
  if (after?.trim() || dir?.trim()) {
    const afterMs = after?.trim() ? parseRetention(after) : null;
    if (!after?.trim())
      problems.push('--archive-after (WA_REPORT_ARCHIVE_AFTER): required with --archive-dir, e.g. 365d');
    else if (afterMs === null || afterMs < 86_400_000)
      problems.push(
        `--archive-after (WA_REPORT_ARCHIVE_AFTER): "${after}" is not a period of at least a day, ` +
          'e.g. 365d, 52w or 720h',
      );
    if (!dir?.trim())
      problems.push(
        '--archive-dir (WA_REPORT_ARCHIVE_DIR): required with --archive-after: the directory archives are written to',
      );
    else {
      try {
        if (!statSync(dir).isDirectory()) throw new Error('not a directory');
        accessSync(dir, constants.W_OK);
      } catch {
        problems.push(
          `--archive-dir (WA_REPORT_ARCHIVE_DIR): ${dir} is not a writable directory; create it (mode 0700, ` +
            'owned by the service user)',
        );
      }
    }
    if (afterMs !== null && dir?.trim()) archive = { afterMs, after: (after as string).trim(), dir: resolve(dir) };
  }
  const scopeText = (env.WA_REPORT_API_TOKEN_SCOPE ?? '').trim().toLowerCase() || 'read';
  if (scopeText !== 'read' && scopeText !== 'admin')
    problems.push(`WA_REPORT_API_TOKEN_SCOPE: "${env.WA_REPORT_API_TOKEN_SCOPE}" must be read or admin`);
  let conversationIdleMs = 0;
  try {
    conversationIdleMs = idleFromEnv(env);
  } catch (error) {
    problems.push((error as Error).message);
  }
  let sentimentAlert: number | null = null;
  let sentiment: SentimentMode = 'lexicon';
  try {
    sentimentAlert = negativeAlertFromEnv(env);
    sentiment = sentimentModeFromEnv(env);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (sentiment === 'model' && !env.OPENAI_API_KEY?.trim()) {
    problems.push('WA_REPORT_SENTIMENT=model needs OPENAI_API_KEY (and OPENAI_MODEL): the model rates conversations');
  }
  const webhooks = webhookSettingsFromEnv(env);
  problems.push(...webhooks.problems);
  const proxyText = (env.WA_REPORT_TRUST_PROXY ?? '').trim();
  const trustProxy = proxyText === '' ? null : /^\d+$/.test(proxyText) ? Number(proxyText) : proxyText;
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
    openai: {
      apiKey: d.openaiApiKey,
      baseURL: d.openaiBaseUrl,
      model: d.openaiModel,
      api: d.modelApi as 'chat' | 'responses',
      timeoutMs: d.openaiTimeout,
      maxRetries: 3,
    },
    contextMessages: d.contextMessages,
    apiToken: d.apiToken,
    apiTokenScope: scopeText as 'read' | 'admin',
    trustProxy,
    logLevel: d.logLevel,
    shutdownTimeoutMs: d.shutdownTimeout * 1000,
    maxPendingRows: d.maxPendingRows,
    replyConcurrency: d.replyConcurrency,
    replyLeaseMs: d.replyLeaseMs,
    archive,
    conversationIdleMs,
    sentimentAlert,
    sentiment,
    webhooks: webhooks.settings,
  };
}
