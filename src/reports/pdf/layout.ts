// Setting text on a PDF page the way a chat reads: lines broken where Unicode allows (UAX #14, so
// Chinese and Japanese break between characters), each piece in a font that has its glyphs
// (fonts.ts), and right-to-left scripts ordered by the Unicode bidirectional algorithm (bidi-js),
// with Arabic joined by fontkit's shaper. pdfkit draws each piece at the place computed here.
//
// pdfkit lays a string out word by word (split at spaces) and fontkit reverses the glyphs of a
// right-to-left word itself, so a right-to-left piece is handed over with its words in visual
// order and each word in logical order.
import { createRequire } from 'node:module';
import type * as BidiModule from 'bidi-js';
import LineBreaker from 'linebreak';
import { Ink } from './ink.js';
import type { Doc } from './pdfkit.js';
import { fontFile, fontFor, fontName, isInvisible, type FontId, type Weight } from './fonts.js';

export interface TextStyle {
  size: number;
  weight: Weight;
  color: string;
}

/** A run of text drawn in one call: one font, one direction, in the order pdfkit expects. */
export interface Piece {
  font: FontId;
  text: string;
  width: number;
}

export interface Line {
  pieces: Piece[];
  width: number;
}

export interface Paragraphs {
  lines: Line[];
  /** The text's base direction (a right-to-left message is aligned right). */
  rtl: boolean;
}

/** Characters DejaVu Sans draws left to right: most messages are only these, and skip the bidi and fallback work. */
const SIMPLE = /^[\n\x20-\x7e\u00a0-\u024f\u2010-\u2027\u2030-\u205e\u20ac\u2122\u2190-\u21ff\u2713\u2714\u26a0]*$/;
const STRONG_RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]|\ud802[\udc00-\udfff]|\ud83a[\udc00-\udfff]/;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
// bidi-js is a UMD module whose types describe an ES default export: loaded as what it is.
const bidiFactory = createRequire(import.meta.url)('bidi-js') as typeof BidiModule.default;
const bidi = bidiFactory();
const FONT_IDS: FontId[] = ['sans', 'emoji', 'sc', 'kr'];
/** DejaVu Sans's ascent (1901 / 2048 em): where the baseline lies below the top of a line. */
const BASELINE = 1901 / 2048;

/** What a page can show of a message: \r\n as \n, tabs as spaces, no other control characters. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const DROPPED = /[\x00-\x08\x0b-\x1f\x7f]/g;

export function cleanText(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(/\t/g, '    ')
    .replace(DROPPED, '');
}

export class TextSetter {
  private readonly registered = new Set<string>();
  private current = '';
  private currentSize = 0;
  /** Words measured, per font and size: a transcript repeats the same words thousands of times. */
  private readonly widths = new Map<string, Map<string, number>>();

  /** The page's operators (drawn by the writer, flushed when a page ends). */
  readonly ink: Ink;

  constructor(private readonly doc: Doc) {
    this.ink = new Ink(doc);
  }

  /** Selects a font (registering it with the document the first time) and size. */
  use(font: FontId, weight: Weight, size: number): void {
    const name = fontName(font, weight);
    if (!this.registered.has(name)) {
      this.doc.registerFont(name, fontFile(font, weight));
      this.registered.add(name);
    }
    if (name !== this.current) {
      this.doc.font(name);
      this.current = name;
    }
    if (size !== this.currentSize) {
      this.doc.fontSize(size);
      this.currentSize = size;
    }
  }

  width(font: FontId, style: Pick<TextStyle, 'size' | 'weight'>, text: string): number {
    const key = `${font}-${style.weight}-${style.size}`;
    let cache = this.widths.get(key);
    if (!cache) {
      cache = new Map();
      this.widths.set(key, cache);
    }
    const known = cache.get(text);
    if (known !== undefined) return known;
    this.use(font, style.weight, style.size);
    const w = this.doc.widthOfString(text);
    if (cache.size > 50_000) cache.clear();
    cache.set(text, w);
    return w;
  }

  /**
   * Bounds what is kept per word (called between pages of a long export): pdfkit keeps every word it
   * lays out, glyph arrays and all, for the whole document.
   */
  trimCaches(): void {
    for (const c of this.widths.values()) if (c.size > 20_000) c.clear();
    const families = (this.doc as unknown as { _fontFamilies?: Record<string, { layoutCache?: object }> })
      ._fontFamilies;
    for (const f of Object.values(families ?? {})) {
      if (f.layoutCache && Object.keys(f.layoutCache).length > 5_000) f.layoutCache = Object.create(null) as object;
    }
  }

  /**
   * Draws a line at (x, y), the top of the line box; `right` aligns it to x + boxWidth. Every piece
   * sits on the same baseline (DejaVu's ascent below y), whatever its font's ascent.
   */
  draw(line: Line, x: number, y: number, style: TextStyle, align: 'left' | 'right' = 'left', boxWidth = 0): void {
    let at = align === 'right' ? x + boxWidth - line.width : x;
    const baseline = y + BASELINE * style.size;
    for (const p of line.pieces) {
      this.use(p.font, style.weight, style.size);
      this.ink.text(p.text, style.size, style.color, at, baseline);
      at += p.width;
    }
  }

  /** One line, cut with "…" if it would not fit `maxWidth` (headers, table cells). */
  fit(text: string, maxWidth: number, style: Pick<TextStyle, 'size' | 'weight'>): Line {
    // Labels, times and marks repeat on every bubble and page: each is fitted once.
    const key = `${style.weight}|${style.size}|${maxWidth}|${text}`;
    const known = this.fitted.get(key);
    if (known) return known;
    const line = this.fitOnce(text, maxWidth, style);
    if (this.fitted.size >= 5000) this.fitted.clear();
    this.fitted.set(key, line);
    return line;
  }

  private readonly fitted = new Map<string, Line>();

  private fitOnce(text: string, maxWidth: number, style: Pick<TextStyle, 'size' | 'weight'>): Line {
    const clean = cleanText(text).replace(/\n+/g, ' ');
    const first = this.lines(clean, Number.POSITIVE_INFINITY, style).lines[0] ?? { pieces: [], width: 0 };
    if (first.width <= maxWidth) return first;
    const ellipsis = this.width('sans', style, '…');
    const chars = [...graphemes.segment(clean)].map((s) => s.segment);
    let lo = 0;
    let hi = chars.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const w = this.lines(chars.slice(0, mid).join(''), Number.POSITIVE_INFINITY, style).lines[0]?.width ?? 0;
      if (w + ellipsis <= maxWidth) lo = mid;
      else hi = mid - 1;
    }
    return this.lines(`${chars.slice(0, lo).join('').trimEnd()}…`, Number.POSITIVE_INFINITY, style).lines[0] ?? first;
  }

  /** Breaks `text` into lines no wider than `maxWidth`. */
  lines(text: string, maxWidth: number, style: Pick<TextStyle, 'size' | 'weight'>): Paragraphs {
    const clean = cleanText(text);
    if (SIMPLE.test(clean)) return { lines: this.simpleLines(clean, maxWidth, style), rtl: false };
    // Text in other scripts or with emoji costs a grapheme walk and the bidi algorithm; the same
    // message (a greeting, a thumbs-up, a template) is laid out once.
    const key = `${style.weight}|${style.size}|${maxWidth}|${clean}`;
    const known = this.laidOut.get(key);
    if (known) return known;
    const laid = this.complexLines(clean, maxWidth, style);
    if (this.laidOut.size >= 2000) this.laidOut.delete(this.laidOut.keys().next().value as string);
    this.laidOut.set(key, laid);
    return laid;
  }

  private readonly laidOut = new Map<string, Paragraphs>();

  /** Latin text in one font: words measured and laid greedily. */
  private simpleLines(text: string, maxWidth: number, style: Pick<TextStyle, 'size' | 'weight'>): Line[] {
    const out: Line[] = [];
    for (const paragraph of text.split('\n')) {
      const whole = this.width('sans', style, paragraph);
      if (whole <= maxWidth) {
        out.push({ pieces: [{ font: 'sans', text: paragraph, width: whole }], width: whole });
        continue;
      }
      const space = this.width('sans', style, ' ');
      let line = '';
      let width = 0;
      const push = () => {
        out.push({ pieces: [{ font: 'sans', text: line, width }], width });
        line = '';
        width = 0;
      };
      for (const word of paragraph.split(' ')) {
        let w = this.width('sans', style, word);
        const gap = line === '' ? 0 : space;
        if (width + gap + w <= maxWidth) {
          line = line === '' ? word : `${line} ${word}`;
          width += gap + w;
          continue;
        }
        if (line !== '') push();
        if (w <= maxWidth) {
          line = word;
          width = w;
          continue;
        }
        // A word longer than the line (a link, a number): cut it where it reaches the edge.
        let rest = word;
        while (w > maxWidth) {
          let n = Math.max(1, Math.floor((rest.length * maxWidth) / w));
          while (n > 1 && this.width('sans', style, rest.slice(0, n)) > maxWidth) n -= 1;
          line = rest.slice(0, n);
          width = this.width('sans', style, line);
          push();
          rest = rest.slice(n);
          w = this.width('sans', style, rest);
        }
        line = rest;
        width = w;
      }
      push();
    }
    return out;
  }

  /** Any script: fonts per grapheme, break opportunities from UAX #14, bidi reordering per line. */
  private complexLines(input: string, maxWidth: number, style: Pick<TextStyle, 'size' | 'weight'>): Paragraphs {
    // Characters no font draws (joiners, variation selectors) are left out; each grapheme gets its font.
    let text = '';
    const fonts: number[] = [];
    for (const { segment } of graphemes.segment(input)) {
      let kept = '';
      for (const ch of segment) if (!isInvisible(ch.codePointAt(0) as number)) kept += ch;
      if (kept === '') continue;
      const f = kept === '\n' || kept === ' ' ? 0 : FONT_IDS.indexOf(fontFor(kept));
      for (let i = 0; i < kept.length; i++) fonts.push(f);
      text += kept;
    }
    const hasRtl = STRONG_RTL.test(text);
    const levels = hasRtl ? bidi.getEmbeddingLevels(text, 'auto') : null;
    const rtl = levels ? (levels.paragraphs[0]?.level ?? 0) % 2 === 1 : false;
    const level = (i: number) => (levels ? (levels.levels[i] as number) : 0);

    const measure = (a: number, b: number): number => {
      let w = 0;
      let s = a;
      for (let i = a + 1; i <= b; i++) {
        if (i === b || fonts[i] !== fonts[s]) {
          w += this.width(FONT_IDS[fonts[s] as number] as FontId, style, text.slice(s, i));
          s = i;
        }
      }
      return w;
    };

    // Most messages are one line: no break opportunities to look for.
    if (!text.includes('\n') && measure(0, text.length) <= maxWidth) {
      return { lines: [this.visualLine(text, fonts, level, 0, text.length, style)], rtl };
    }

    // Break opportunities: [start, end) segments, `hard` after a newline.
    const segments: { a: number; b: number; hard: boolean }[] = [];
    const breaker = new LineBreaker(text);
    let last = 0;
    for (let br = breaker.nextBreak(); br; br = breaker.nextBreak()) {
      segments.push({ a: last, b: br.position, hard: br.required });
      last = br.position;
    }

    const ranges: [number, number][] = [];
    let start = 0;
    let width = 0;
    const trimmedEnd = (a: number, b: number) => {
      let e = b;
      while (e > a && (text[e - 1] === ' ' || text[e - 1] === '\n')) e -= 1;
      return e;
    };
    for (const seg of segments) {
      const end = trimmedEnd(seg.a, seg.b);
      const w = measure(seg.a, end);
      if (width > 0 && width + w > maxWidth) {
        ranges.push([start, seg.a]);
        start = seg.a;
        width = 0;
      }
      if (w > maxWidth) {
        // One unbreakable piece wider than the line: cut it at grapheme boundaries.
        let a = seg.a;
        for (const { index, segment } of graphemes.segment(text.slice(seg.a, end))) {
          const i = seg.a + index;
          if (i > a && measure(a, i + segment.length) > maxWidth) {
            ranges.push([a, i]);
            a = i;
          }
        }
        start = a;
        width = measure(a, seg.b);
      } else {
        width += measure(seg.a, seg.b);
      }
      if (seg.hard) {
        ranges.push([start, seg.b]);
        start = seg.b;
        width = 0;
      }
    }
    if (start < text.length || ranges.length === 0) ranges.push([start, text.length]);

    const lines = ranges.map(([a, b]) => this.visualLine(text, fonts, level, a, trimmedEnd(a, b), style));
    return { lines, rtl };
  }

  /** The pieces of text[a, b) in the order they appear on the page (Unicode bidi rule L2 over runs). */
  private visualLine(
    text: string,
    fonts: number[],
    level: (i: number) => number,
    a: number,
    b: number,
    style: Pick<TextStyle, 'size' | 'weight'>,
  ): Line {
    const runs: { a: number; b: number; level: number; font: number }[] = [];
    for (let i = a; i < b; i++) {
      const r = runs.at(-1);
      if (r && r.level === level(i) && r.font === fonts[i]) r.b = i + 1;
      else runs.push({ a: i, b: i + 1, level: level(i), font: fonts[i] as number });
    }
    const max = runs.reduce((m, r) => Math.max(m, r.level), 0);
    const minOdd = runs.reduce((m, r) => (r.level % 2 === 1 ? Math.min(m, r.level) : m), Number.POSITIVE_INFINITY);
    for (let lv = max; lv >= minOdd && lv > 0; lv--) {
      for (let i = 0; i < runs.length;) {
        if ((runs[i] as (typeof runs)[number]).level < lv) {
          i += 1;
          continue;
        }
        let j = i;
        while (j < runs.length && (runs[j] as (typeof runs)[number]).level >= lv) j += 1;
        const reversed = runs.slice(i, j).reverse();
        runs.splice(i, j - i, ...reversed);
        i = j;
      }
    }
    const pieces: Piece[] = [];
    for (const r of runs) {
      const font = FONT_IDS[r.font] as FontId;
      const t = text.slice(r.a, r.b);
      if (r.level % 2 === 0) {
        pieces.push({ font, text: t, width: this.width(font, style, t) });
      } else if (STRONG_RTL.test(t)) {
        // Words (and the spaces between them) one piece each, last word first: pdfkit would keep
        // a word's trailing space on the wrong side once fontkit reverses the word.
        for (const token of t.split(/( +)/).reverse()) {
          if (token !== '') pieces.push({ font, text: token, width: this.width(font, style, token) });
        }
      } else {
        const mirrored = [...graphemes.segment(t)]
          .map((g) => bidi.getMirroredCharacter(g.segment) ?? g.segment)
          .reverse()
          .join('');
        pieces.push({ font, text: mirrored, width: this.width(font, style, mirrored) });
      }
    }
    return { pieces, width: pieces.reduce((w, p) => w + p.width, 0) };
  }
}
