// CSAT surveys answered natively on WhatsApp: the survey as an interactive message (reply buttons for
// a 3-point scale, WhatsApp allowing at most 3; a list for 1–5), and the recognition of an answer in
// whatever form the user gives it: the interactive reply, a template's quick-reply button, a digit
// ("5", "4/5"), stars ("⭐⭐⭐⭐") or a short word in Spanish or English ("muy bien", "bad").
// Pure: the daemon sends what this builds and stores what it recognises.

export const CSAT_SCALES = [3, 5] as const;
export type CsatScale = (typeof CSAT_SCALES)[number];

export type CsatLanguage = 'es' | 'en';

/** How an answer was given. */
export type CsatForm = 'interactive' | 'button' | 'digit' | 'stars' | 'word';

export interface CsatAnswer {
  /** 1..scale */
  score: number;
  form: CsatForm;
}

/** WhatsApp's limits on interactive messages (characters). */
export const LIMITS = { body: 1024, buttonTitle: 20, listButton: 20, rowTitle: 24, rowDescription: 72 } as const;

export const DEFAULT_QUESTIONS: Record<CsatLanguage, string> = {
  es: '¿Cómo valorarías la atención que recibiste?',
  en: 'How would you rate the help you got?',
};

const SCALE_WORDS: Record<CsatLanguage, Record<CsatScale, string[]>> = {
  es: { 3: ['😞 Mal', '😐 Regular', '😀 Bien'], 5: ['Muy mal', 'Mal', 'Regular', 'Bien', 'Excelente'] },
  en: { 3: ['😞 Bad', '😐 Okay', '😀 Good'], 5: ['Very bad', 'Bad', 'Okay', 'Good', 'Excellent'] },
};

const LIST_TEXT: Record<CsatLanguage, { button: string; section: string }> = {
  es: { button: 'Valorar', section: 'Tu valoración' },
  en: { button: 'Rate', section: 'Your rating' },
};

/** The reply id of a score: `csat:<survey>:<score>`, which identifies the survey it answers. */
export const replyId = (surveyId: number, score: number) => `csat:${surveyId}:${score}`;

/** The `interactive` object of a survey (Cloud API send body: {type: 'interactive', interactive}). */
export function surveyInteractive(survey: { id: number; scale: CsatScale; question: string; lang: CsatLanguage }) {
  const words = SCALE_WORDS[survey.lang][survey.scale];
  const body = { text: survey.question.slice(0, LIMITS.body) };
  if (survey.scale === 3) {
    return {
      type: 'button',
      body,
      action: {
        buttons: words.map((title, i) => ({
          type: 'reply',
          reply: { id: replyId(survey.id, i + 1), title: title.slice(0, LIMITS.buttonTitle) },
        })),
      },
    };
  }
  return {
    type: 'list',
    body,
    action: {
      button: LIST_TEXT[survey.lang].button,
      sections: [
        {
          title: LIST_TEXT[survey.lang].section,
          rows: words
            .map((description, i) => ({
              id: replyId(survey.id, i + 1),
              title: `${'⭐'.repeat(i + 1)} ${i + 1}`.slice(0, LIMITS.rowTitle),
              description: description.slice(0, LIMITS.rowDescription),
            }))
            .reverse(),
        },
      ],
    },
  };
}

// Short answers, on a 1–5 scale (converted for a 3-point survey). Keys: lower case, accents removed.
const WORDS = new Map<string, number>(
  Object.entries({
    excelente: 5,
    excelent: 5,
    excellent: 5,
    perfecto: 5,
    perfect: 5,
    genial: 5,
    great: 5,
    'muy bien': 5,
    'muy bueno': 5,
    'muy buena': 5,
    'very good': 5,
    amazing: 5,
    awesome: 5,
    bien: 4,
    bueno: 4,
    buena: 4,
    good: 4,
    'bastante bien': 4,
    nice: 4,
    regular: 3,
    normal: 3,
    'mas o menos': 3,
    ok: 3,
    okay: 3,
    meh: 3,
    'so so': 3,
    mal: 2,
    malo: 2,
    mala: 2,
    bad: 2,
    poor: 2,
    'muy mal': 1,
    'muy malo': 1,
    'muy mala': 1,
    pesimo: 1,
    pesima: 1,
    fatal: 1,
    horrible: 1,
    terrible: 1,
    awful: 1,
    'very bad': 1,
  }),
);

const fold = (text: string) =>
  text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[!¡.,;:¿?]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** A 1–5 score on the survey's scale: 1–2 → 1, 3 → 2, 4–5 → 3 for a 3-point survey. */
function onScale(score5: number, scale: CsatScale): number {
  if (scale === 5) return score5;
  return score5 <= 2 ? 1 : score5 === 3 ? 2 : 3;
}

/**
 * The score in an answer to survey `surveyId`, or null when the message is not an answer (then it
 * is an ordinary message: the assistant answers it). `replyId`: the interactive reply's id, or a
 * template button's payload, when the message has one.
 */
export function recogniseAnswer(
  message: { type: string; text: string | null; replyId?: string | null },
  survey: { id: number; scale: CsatScale },
): CsatAnswer | null {
  if (message.replyId) {
    const m = /^csat:(\d+):(\d)$/.exec(message.replyId);
    if (!m || Number(m[1]) !== survey.id) return null;
    const score = Number(m[2]);
    if (score < 1 || score > survey.scale) return null;
    return { score, form: message.type === 'button' ? 'button' : 'interactive' };
  }
  if (message.type !== 'text' || message.text === null) return null;
  const text = message.text.trim();
  if (text.length === 0 || text.length > 40) return null;
  const digit = /^(\d)(?:\s*(?:\/|de|of|out of)\s*(\d))?\s*(?:⭐|★|estrellas?|stars?)?$/iu.exec(text);
  if (digit) {
    const score = Number(digit[1]);
    const outOf = digit[2] ? Number(digit[2]) : survey.scale;
    if (outOf !== survey.scale || score < 1 || score > survey.scale) return null;
    return { score, form: 'digit' };
  }
  const stars = /^(?:[⭐★🌟]\uFE0F?\s*){1,5}$/u.exec(text);
  if (stars) {
    const n = [...text.matchAll(/[⭐★🌟]/gu)].length;
    return n <= 5 ? { score: onScale(n, survey.scale), form: 'stars' } : null;
  }
  const word = WORDS.get(fold(text));
  return word === undefined ? null : { score: onScale(word, survey.scale), form: 'word' };
}

/** The reply id of an inbound message (its raw JSON): an interactive reply's id, or a template button's payload. */
export function replyIdOf(raw: string | null): string | null {
  if (!raw || (!raw.includes('"button_reply"') && !raw.includes('"list_reply"') && !raw.includes('"button"')))
    return null;
  try {
    const m = JSON.parse(raw) as {
      interactive?: { button_reply?: { id?: unknown }; list_reply?: { id?: unknown } };
      button?: { payload?: unknown };
    };
    const id = m.interactive?.button_reply?.id ?? m.interactive?.list_reply?.id ?? m.button?.payload;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** "Top" answers (Chatwoot's satisfaction score): 4 and 5 of 5, 3 of 3. */
export function isSatisfied(score: number, scale: CsatScale): boolean {
  return scale === 5 ? score >= 4 : score >= 3;
}
