// The fonts PDF reports are set in, all from npm packages whose licences allow redistribution:
// DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew and symbols; Bitstream Vera / DejaVu licence),
// Noto Sans SC and Noto Sans KR (Chinese, Japanese kana, Korean) and Noto Emoji (monochrome emoji),
// the last three under the SIL Open Font License 1.1, shipped by @expo-google-fonts.
//
// PDF has no font fallback: every piece of text is set in the first font of the chain that has a
// glyph for each of its characters (emoji try the emoji font first). Files are read the first time
// a character needs them and kept for the process (the CJK ones are 6–10 MB each).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';

const require = createRequire(import.meta.url);

export type FontId = 'sans' | 'emoji' | 'sc' | 'kr';
export type Weight = 'regular' | 'bold';

const FILES: Record<FontId, Record<Weight, string>> = {
  sans: { regular: 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf', bold: 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf' },
  emoji: {
    regular: '@expo-google-fonts/noto-emoji/400Regular/NotoEmoji_400Regular.ttf',
    bold: '@expo-google-fonts/noto-emoji/700Bold/NotoEmoji_700Bold.ttf',
  },
  sc: {
    regular: '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf',
    bold: '@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf',
  },
  kr: {
    regular: '@expo-google-fonts/noto-sans-kr/400Regular/NotoSansKR_400Regular.ttf',
    bold: '@expo-google-fonts/noto-sans-kr/700Bold/NotoSansKR_700Bold.ttf',
  },
};

const TEXT_CHAIN: readonly FontId[] = ['sans', 'sc', 'kr', 'emoji'];
const EMOJI_CHAIN: readonly FontId[] = ['emoji', 'sans', 'sc', 'kr'];

const buffers = new Map<string, Buffer>();
const coverage = new Map<FontId, fontkit.Font>();

/** The bytes of a font file (read once per process). */
export function fontFile(id: FontId, weight: Weight): Buffer {
  const path = FILES[id][weight];
  let b = buffers.get(path);
  if (!b) {
    b = readFileSync(require.resolve(path));
    buffers.set(path, b);
  }
  return b;
}

/** The name a PDF document registers a font under. */
export function fontName(id: FontId, weight: Weight): string {
  return `${id}-${weight}`;
}

function covers(id: FontId, codePoint: number): boolean {
  let f = coverage.get(id);
  if (!f) {
    f = fontkit.create(fontFile(id, 'regular'));
    coverage.set(id, f);
  }
  return f.hasGlyphForCodePoint(codePoint);
}

/** Characters that are drawn by the glyph before them or not at all (no font needs a glyph for them). */
export function isInvisible(codePoint: number): boolean {
  return (
    codePoint === 0x200d || // zero-width joiner
    codePoint === 0x200c ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f) || // variation selectors (emoji / text presentation)
    (codePoint >= 0xe0020 && codePoint <= 0xe007f) // tag characters (flag sub-regions)
  );
}

const PICTOGRAPHIC = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const choices = new Map<string, FontId>();

/**
 * The font a grapheme is set in: the first of the chain with a glyph for every visible character
 * of it; DejaVu Sans when none has (the PDF then shows DejaVu's missing-glyph box, the one case a
 * box appears).
 */
export function fontFor(grapheme: string): FontId {
  const known = choices.get(grapheme);
  if (known) return known;
  const chain = PICTOGRAPHIC.test(grapheme) ? EMOJI_CHAIN : TEXT_CHAIN;
  let chosen: FontId = 'sans';
  for (const id of chain) {
    let all = true;
    for (const ch of grapheme) {
      const cp = ch.codePointAt(0) as number;
      if (!isInvisible(cp) && !covers(id, cp)) {
        all = false;
        break;
      }
    }
    if (all) {
      chosen = id;
      break;
    }
  }
  if (choices.size > 20_000) choices.clear();
  choices.set(grapheme, chosen);
  return chosen;
}
