// Which of the analyser's languages a short message is written in: Spanish or English, from the
// words only the one or the other uses (a message is too short for character statistics) and the
// marks only Spanish has (ñ, ¿, ¡, accented vowels). null when nothing tells them apart.

export const SENTIMENT_LANGUAGES = ['es', 'en'] as const;
export type SentimentLanguage = (typeof SENTIMENT_LANGUAGES)[number];

export function isSentimentLanguage(value: string): value is SentimentLanguage {
  return (SENTIMENT_LANGUAGES as readonly string[]).includes(value);
}

// Frequent words of each language that the other does not use (no "no", "me", "a", "de"/"the" overlap).
const SPANISH = new Set(
  (
    'el la los las un una unos unas y o pero que qué porque por para con sin del al lo le les se su sus mi mis ' +
    'tu tus es son está esta están estan estoy soy fue era muy más mas ya aún aun también tambien hay tengo tiene ' +
    'tienen hola gracias buenas buenos dias días favor cuando cuándo donde dónde como cómo cuanto cuánto quiero ' +
    'puedo puede necesito nada nunca todo todos bien mal bueno malo pedido cita hoy mañana manana ayer ahora ' +
    'nos usted ustedes ustedes q xq pq xfa porfa tmb también eso esto ese esta este sí si llegó llego ' +
    'vale genial pésimo pesimo gusta encanta servicio atención atencion'
  ).split(' '),
);
const ENGLISH = new Set(
  (
    'the an and or but that what because for with without of to in on at is are was were am be been it its ' +
    'my your you i we they he she this these those there here have has had do does did dont doesnt didnt cant ' +
    'not very so too just still already also hi hello thanks thank thx ty please pls when where how why who ' +
    'can could would will want need order today tomorrow yesterday now good bad great love hate service ' +
    'ok okay yes yeah im ive its got get'
  ).split(' '),
);
const SPANISH_MARKS = /[ñ¿¡áéíóú]/iu;

/** The language of `text` by its words, or null when they do not tell. */
export function detectLanguage(text: string): SentimentLanguage | null {
  let es = SPANISH_MARKS.test(text) ? 2 : 0;
  let en = 0;
  for (const word of text.toLowerCase().match(/[\p{L}']+/gu) ?? []) {
    const w = word.replace(/'/g, '');
    if (SPANISH.has(w)) es += 1;
    if (ENGLISH.has(w)) en += 1;
  }
  if (es === en) return null;
  return es > en ? 'es' : 'en';
}
