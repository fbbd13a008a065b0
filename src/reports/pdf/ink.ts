// The page's drawing operators, written straight into its content stream: pdfkit's own text and
// path calls cost tens of microseconds each (a save/restore, a matrix, several small writes per
// piece of text), which dominated a 100,000-message transcript. Here a page's operators are gathered
// as text and become the page's content stream when the page ends, deflated at a fast level; pdfkit
// still owns the document, the fonts (their subsets are built from the glyphs encoded here) and the
// file structure. These are internals of the pdfkit version package.json pins; the PDF tests read
// every page back with poppler.
//
// Callers use top-left coordinates, y growing downwards (as pdfkit's API does); the operators are
// in PDF's own (origin at the bottom left), so pdfkit's initial flip of the page is not needed.
import { deflate } from 'node:zlib';
import type { Doc } from './pdfkit.js';

interface GlyphPosition {
  xAdvance: number;
  advanceWidth: number;
  xOffset: number;
  yOffset: number;
}

/** What ink needs of a pdfkit font. */
interface PdfFont {
  id: string;
  ref(): unknown;
  encode(text: string): [string[], GlyphPosition[]];
}

interface PdfPage {
  height: number;
  fonts: Record<string, unknown>;
  content: { buffer: Uint8Array[]; data: { Length?: number; Filter?: string }; compress: boolean };
}

const n = (v: number) => String(Math.round(v * 100) / 100);

const colorCache = new Map<string, string>();
function rgb(hex: string): string {
  let c = colorCache.get(hex);
  if (!c) {
    const v = (i: number) => n(Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255);
    c = `${v(0)} ${v(1)} ${v(2)}`;
    colorCache.set(hex, c);
  }
  return c;
}

/** A word's glyphs as TJ operands (adjustments in 1000ths of the font size) and its advance. */
interface EncodedWord {
  operands: string;
  advance: number;
}

export class Ink {
  private parts: string[] = [];
  private fill = '';
  private stroke = '';
  /** Inside a text object (BT … ET), and its font and size: consecutive text shares one. */
  private inText = false;
  private textFont = '';
  /** TJ operands of whole pieces already drawn, per font. */
  private readonly pieces = new Map<string, string | null>();
  /** Encoded words per font: the same words come back on every page. */
  private readonly words = new Map<string, Map<string, EncodedWord | null>>();

  constructor(private readonly doc: Doc) {}

  private get page(): PdfPage {
    return (this.doc as unknown as { page: PdfPage }).page;
  }

  private fillColor(color: string): void {
    if (color !== this.fill) {
      this.parts.push(`${rgb(color)} rg`);
      this.fill = color;
    }
  }

  private endText(): void {
    if (this.inText) {
      this.parts.push('ET');
      this.inText = false;
      this.textFont = '';
    }
  }

  rect(x: number, y: number, w: number, h: number, color: string): void {
    this.endText();
    this.fillColor(color);
    this.parts.push(`${n(x)} ${n(this.page.height - y - h)} ${n(w)} ${n(h)} re f`);
  }

  /**
   * A rectangle with round corners, drawn as a smaller rectangle filled and stroked with a line
   * `radius` × 2 wide and round joins: the same shape as four Bézier corners, in a tenth of the operators.
   */
  roundedRect(x: number, y: number, w: number, h: number, radius: number, color: string): void {
    this.endText();
    this.fillColor(color);
    if (color !== this.stroke) {
      this.parts.push(`${rgb(color)} RG`);
      this.stroke = color;
    }
    const r = Math.max(0, Math.min(radius, w / 2, h / 2));
    this.parts.push(
      `${n(2 * r)} w 1 j ${n(x + r)} ${n(this.page.height - y - h + r)} ${n(w - 2 * r)} ${n(h - 2 * r)} re B 0 j`,
    );
  }

  line(x1: number, y1: number, x2: number, y2: number, width: number, color: string): void {
    this.endText();
    if (color !== this.stroke) {
      this.parts.push(`${rgb(color)} RG`);
      this.stroke = color;
    }
    const H = this.page.height;
    this.parts.push(`${n(width)} w ${n(x1)} ${n(H - y1)} m ${n(x2)} ${n(H - y2)} l S`);
  }

  /** `text` in the document's current font (TextSetter.use), its baseline at y. */
  text(text: string, size: number, color: string, x: number, baseline: number): void {
    if (text === '') return;
    const font = (this.doc as unknown as { _font: PdfFont })._font;
    const page = this.page;
    page.fonts[font.id] ??= font.ref();
    this.fillColor(color);
    const y = page.height - baseline;
    if (!this.inText) {
      this.parts.push('BT');
      this.inText = true;
    }
    const tf = `/${font.id} ${n(size)} Tf`;
    const head = `${tf === this.textFont ? '' : `${tf} `}1 0 0 1 ${n(x)} ${n(y)} Tm`;
    this.textFont = tf;
    const pieceKey = `${font.id}\u0000${text}`;
    let operands = this.pieces.get(pieceKey);
    if (operands === undefined) {
      operands = this.operands(font, text);
      if (this.pieces.size > 20_000) this.pieces.clear();
      this.pieces.set(pieceKey, operands);
    }
    this.parts.push(operands === null ? `${head} ${placedGlyphs(font, text, size, x, y)}` : `${head} [${operands}] TJ`);
  }

  /** TJ operands of `text`, word by word as pdfkit lays it out; null if a glyph sits off its advance. */
  private operands(font: PdfFont, text: string): string | null {
    let cache = this.words.get(font.id);
    if (!cache) {
      cache = new Map();
      this.words.set(font.id, cache);
    }
    let operands = '';
    for (const word of text.match(/[^ \t]*[ \t]*/g) ?? []) {
      if (word === '') continue;
      let e = cache.get(word);
      if (e === undefined) {
        e = encodeWord(font, word);
        if (cache.size > 20_000) cache.clear();
        cache.set(word, e);
      }
      if (e === null) return null;
      operands += e.operands;
    }
    return operands;
  }

  /**
   * Makes the page's operators its content stream (call once per page, before it ends). The
   * deflating runs on libuv's thread pool, beside the layout of the next page; the page may only
   * end (pdfkit's flushPages) once the promise has resolved.
   */
  flush(): Promise<void> {
    const page = (this.doc as unknown as { page: PdfPage | null }).page;
    if (!page) return Promise.resolve();
    this.endText();
    const content = page.content;
    const text = Buffer.from(`${this.parts.join('\n')}\n`, 'latin1');
    this.parts = [];
    this.fill = '';
    this.stroke = '';
    content.compress = false;
    return new Promise((resolve, reject) => {
      deflate(text, { level: 1 }, (error, bytes) => {
        if (error) {
          reject(error);
          return;
        }
        content.buffer = [bytes];
        content.data.Length = bytes.length;
        content.data.Filter = 'FlateDecode';
        resolve();
      });
    });
  }
}

/**
 * Glyph ids (4 hex digits each, as pdfkit encodes them) as a PDF literal string of two bytes a
 * glyph: half the bytes of hex strings in every content stream.
 */
function glyphString(hex: string): string {
  let s = '(';
  for (let i = 0; i < hex.length; i += 2) {
    const c = Number.parseInt(hex.slice(i, i + 2), 16);
    s +=
      c === 0x28 || c === 0x29 || c === 0x5c
        ? `\\${String.fromCharCode(c)}`
        : c === 0x0d
          ? '\\r'
          : String.fromCharCode(c);
  }
  return `${s})`;
}

/** A word's TJ operands with kerning adjustments; null when a glyph is placed off its advance. */
function encodeWord(font: PdfFont, word: string): EncodedWord | null {
  const [encoded, positions] = font.encode(word);
  let operands = '';
  let segment = '';
  let advance = 0;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i] as GlyphPosition;
    if (p.xOffset || p.yOffset) return null;
    segment += encoded[i];
    const adjust = p.xAdvance - p.advanceWidth;
    if (adjust !== 0) {
      operands += `${glyphString(segment)} ${n(-adjust)} `;
      segment = '';
    }
    advance += p.xAdvance;
  }
  if (segment) operands += `${glyphString(segment)} `;
  return { operands, advance };
}

/** Glyph by glyph, for text with marks placed off their advance (Arabic vowels, some emoji). */
function placedGlyphs(font: PdfFont, text: string, size: number, x: number, y: number): string {
  const [encoded, positions] = font.encode(text);
  const scale = size / 1000;
  let ops = '';
  let at = x;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i] as GlyphPosition;
    ops += `1 0 0 1 ${n(at + p.xOffset * scale)} ${n(y + p.yOffset * scale)} Tm <${encoded[i]}> Tj `;
    at += p.xAdvance * scale;
  }
  return ops;
}
