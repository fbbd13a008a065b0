// Satisfaction surveys on their way out: the daemon claims the surveys queued when conversations
// ended and sends each as a native WhatsApp interactive message (reply buttons for 3 points, a list
// for 1–5) while the user's 24-hour window is open; outside it, the client's approved template if it
// has one, else nothing, with the reason kept. After a score it asks for a comment when the client
// wants one. Each is stored as a message of the thread, so its statuses are tracked like any other.
import type { Logger } from 'pino';
import type { SurveyClaim } from '../db/repositories/csat.js';
import type { Store } from '../db/store.js';
import { DEFAULT_QUESTIONS, surveyInteractive, type CsatLanguage } from '../domain/csat.js';
import { detectLanguage } from '../domain/sentiment/index.js';
import type { GraphClient } from '../whatsapp/graph.js';
import { describeGraphError, GraphError } from '../whatsapp/graph-error.js';

/** WhatsApp's customer-service window: free-form messages only this long after the user's last one. */
export const SERVICE_WINDOW_MS = 24 * 3_600_000;

export const COMMENT_QUESTIONS: Record<CsatLanguage, string> = {
  es: '¡Gracias! ¿Hay algo que podamos mejorar? Puedes contestar en un mensaje.',
  en: 'Thank you! Is there anything we could do better? You can answer in one message.',
};

export interface SurveyorOptions {
  store: Store;
  graph: GraphClient;
  logger: Logger;
  now?: () => Date;
}

export class Surveyor {
  constructor(private readonly o: SurveyorOptions) {}

  /** Sends what is due; returns how many surveys and comment questions were looked at. */
  async runOnce(): Promise<number> {
    const now = this.o.now?.() ?? new Date();
    const claims = await this.o.store.csat.claim(now);
    for (const c of claims) {
      try {
        await this.send(c, now);
      } catch (error) {
        const reason =
          error instanceof GraphError
            ? error.ambiguous
              ? `WhatsApp may have received it (${describeGraphError(error)}); not sent again`
              : `WhatsApp refused it: ${describeGraphError(error)}`
            : `not sent: ${error instanceof Error ? error.message : String(error)}`;
        this.o.logger.warn({ survey: c.id, kind: c.kind, reason }, 'satisfaction survey not sent');
        await this.o.store.csat.notSent(c, 'failed', reason);
      }
    }
    return claims.length;
  }

  private language(c: SurveyClaim): CsatLanguage {
    if (c.clientLanguage === 'es' || c.clientLanguage === 'en') return c.clientLanguage;
    return (c.lastUserText ? detectLanguage(c.lastUserText) : null) ?? 'en';
  }

  private async send(c: SurveyClaim, now: Date): Promise<void> {
    const { store, graph } = this.o;
    const lang = this.language(c);
    const to = `+${c.waId}`;
    const open = c.lastUserAt !== null && now.getTime() - c.lastUserAt.getTime() < SERVICE_WINDOW_MS;
    if (c.kind === 'comment') {
      if (!open) return store.csat.notSent(c, 'skipped', 'outside the 24-hour window');
      const body = COMMENT_QUESTIONS[lang];
      const sent = await graph.sendText({ phoneNumberId: c.phoneNumberId, to, body });
      const raw = JSON.stringify({ type: 'text', text: { body } });
      await store.csat.sent(c, { wamid: sent.wamid, type: 'text', content: body, raw, at: now }, 'text');
      return;
    }
    if (c.lastUserAt && c.endedAt && c.lastUserAt.getTime() > c.endedAt.getTime()) {
      return store.csat.notSent(c, 'skipped', 'the user wrote again before it went out (a new conversation began)');
    }
    if (open) {
      const question = c.question ?? DEFAULT_QUESTIONS[lang];
      const interactive = surveyInteractive({ id: c.id, scale: c.scale, question, lang });
      const message = { type: 'interactive', interactive };
      const sent = await graph.sendMessage({ phoneNumberId: c.phoneNumberId, to, message });
      const content = `[survey] ${question}`;
      await store.csat.sent(
        c,
        { wamid: sent.wamid, type: 'interactive', content, raw: JSON.stringify(message), at: now },
        'interactive',
      );
      return;
    }
    if (c.template) {
      const [name, code] = c.template.split(':') as [string, string];
      const message = { type: 'template', template: { name, language: { code } } };
      const sent = await graph.sendMessage({ phoneNumberId: c.phoneNumberId, to, message });
      const content = `[template ${name}] satisfaction survey`;
      await store.csat.sent(
        c,
        { wamid: sent.wamid, type: 'template', content, raw: JSON.stringify(message), at: now },
        'template',
      );
      return;
    }
    const reason =
      c.lastUserAt === null
        ? 'the user never wrote'
        : "outside WhatsApp's 24-hour window, and no template is set (clients update --csat-template name:lang)";
    await store.csat.notSent(c, 'skipped', reason);
  }
}
