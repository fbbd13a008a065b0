// The PDF renderer: text read back with poppler's pdftotext equals the text report's, every script
// of the multilingual fixture set in a shipped font that has its glyphs, metadata set, the first page
// of each golden fixture rendered with pdftoppm and compared with the image kept under test/fixtures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDetailedPdf } from '../../src/reports/pdf/transcript.js';
import { renderSummaryPdf } from '../../src/reports/pdf/tables.js';
import { renderText } from '../../src/reports/text.js';
import { fontFor, fontFile, isInvisible } from '../../src/reports/pdf/fonts.js';
import * as fontkit from 'fontkit';
import type { DetailedReport } from '../../src/reports/types.js';
import { MULTILINGUAL } from '../helpers/multilingual.js';
import { multilingualReport, sampleReport, sampleSummary, StringWritable } from './sample-report.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/reports/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wa-report-pdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pdf(report: DetailedReport, name: string): Promise<string> {
  const file = join(dir, `${name}.pdf`);
  const out = new StringWritable();
  await renderDetailedPdf(report, out);
  writeFileSync(file, out.buffer);
  return file;
}

const pdftotext = (file: string) => execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The messages of a text report, in order: "[time] Role:" and the text under it. */
function textMessages(text: string): string[] {
  return text
    .split(/\n\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] [^\n:]+:\n/)
    .slice(1)
    .map((block) => squash(block.split('\n⚠')[0] as string));
}

describe('PDF transcript', () => {
  it('holds the text report: the header facts, then every message in order', async () => {
    const file = await pdf(sampleReport({ single: true }), 'sample');
    const extracted = squash(pdftotext(file));
    const out = new StringWritable();
    await renderText(sampleReport({ single: true }), out);
    const text = out.text;
    for (const fact of ['REPORTE DE CONVERSACIÓN', 'Released', '+34123456789', 'Europe/Madrid', 'María José']) {
      expect(extracted).toContain(fact);
    }
    let at = 0;
    const messages = textMessages(text);
    expect(messages.length).toBeGreaterThan(5);
    for (const m of messages) {
      // Media and reactions are shown as placeholders ("Imagen", "Reacción a"), as in the HTML report.
      const shown = m.replace(/^\[(image|video|audio|document|sticker|location|voice)\] ?/, '');
      if (/^\[reaction /.test(shown) || shown === '') continue;
      const found = extracted.indexOf(shown, at);
      expect({ message: shown, found: found >= 0 }).toEqual({ message: shown, found: true });
      at = found;
    }
    // The failure line, delivery marks and day separators.
    expect(extracted).toMatch(/⚠ Fallo: 131047/);
    expect(extracted).toMatch(/✓✓/);
    expect(extracted).toMatch(/sábado, 30 de marzo de 2024/);
  });

  it('sets the metadata and makes no external reference', async () => {
    const file = await pdf(sampleReport(), 'meta');
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/Title:\s+REPORTE DE CONVERSACIÓN · Released/);
    expect(info).toMatch(/Producer:\s+wa-report/);
    expect(info).toMatch(/CreationDate:\s+\S/);
    const bytes = readFileSync(file, 'latin1');
    expect(bytes).not.toMatch(/\/URI|\/Launch|\/JavaScript|\/GoToR/);
    // A report of two conversations: a cover with contents, then one section each.
    const text = pdftotext(file);
    expect(text).toContain('Índice');
    expect(text.match(/Fecha inicio/g)?.length).toBe(2);
  });

  it('draws every script of the multilingual fixture with a font that has the glyphs', async () => {
    const coverage = new Map<string, fontkit.Font>();
    const font = (id: Parameters<typeof fontFile>[0]) => {
      let f = coverage.get(id);
      if (!f) coverage.set(id, (f = fontkit.create(fontFile(id, 'regular'))));
      return f;
    };
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    for (const m of MULTILINGUAL) {
      for (const { segment } of segmenter.segment(m.content)) {
        const id = fontFor(segment);
        for (const ch of segment) {
          const cp = ch.codePointAt(0) as number;
          if (isInvisible(cp) || cp < 0x20) continue;
          expect({ script: m.script, char: ch, has: font(id).hasGlyphForCodePoint(cp) }).toEqual({
            script: m.script,
            char: ch,
            has: true,
          });
        }
      }
    }
    const file = await pdf(multilingualReport(), 'multilingual');
    const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' });
    for (const name of ['DejaVuSans', 'NotoSansSC', 'NotoSansKR', 'NotoEmoji']) expect(fonts).toContain(name);
    const text = pdftotext(file);
    for (const m of MULTILINGUAL.filter((x) => ['es', 'fr-de', 'ru', 'el', 'zh', 'ja', 'ko'].includes(x.script))) {
      expect(squash(text)).toContain(squash(m.content));
    }
    // Right-to-left words come out whole (poppler reorders lines by itself).
    for (const m of MULTILINGUAL.filter((x) => x.script === 'ar' || x.script === 'he')) {
      for (const word of m.content.split(/[\s،,.؟?]+/).filter(Boolean)) expect(text).toContain(word);
    }
  });

  it('looks as reviewed: page 1 of each golden fixture equals the image under test/fixtures', async () => {
    const cases: [string, () => Promise<string>][] = [
      ['pdf-transcript', () => pdf(multilingualReport(), 'golden-transcript')],
      [
        'pdf-summary',
        async () => {
          const out = new StringWritable();
          await renderSummaryPdf(sampleSummary(), out);
          const file = join(dir, 'golden-summary.pdf');
          writeFileSync(file, out.buffer);
          return file;
        },
      ],
    ];
    for (const [name, make] of cases) {
      const file = await make();
      const png = join(FIXTURES, `${name}.png`);
      const render = (format: '-png' | '-pgm', target: string) =>
        execFileSync('pdftoppm', [
          ...(format === '-png' ? ['-png'] : []),
          ...['-r', '50', '-gray', '-f', '1', '-l', '1', '-singlefile', file, target],
        ]);
      if (process.env.WA_REPORT_UPDATE_GOLDEN === '1' || !existsSync(png)) {
        render('-png', join(FIXTURES, name));
        render('-pgm', join(FIXTURES, name));
      }
      render('-pgm', join(dir, name));
      const diff = pixelDifference(readFileSync(join(FIXTURES, `${name}.pgm`)), readFileSync(join(dir, `${name}.pgm`)));
      expect({ name, changedPixels: diff < 0.002 }).toEqual({ name, changedPixels: true });
    }
  });
});

/** The share of pixels that differ by more than a little between two binary PGM images of one size. */
function pixelDifference(a: Buffer, b: Buffer): number {
  const parse = (p: Buffer) => {
    const header = p.subarray(0, 64).toString('latin1');
    const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(header);
    if (!m) throw new Error('not a binary PGM');
    return { width: Number(m[1]), height: Number(m[2]), pixels: p.subarray(m[0].length) };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.width !== y.width || x.height !== y.height) return 1;
  let changed = 0;
  for (let i = 0; i < x.pixels.length; i++) if (Math.abs((x.pixels[i] ?? 0) - (y.pixels[i] ?? 0)) > 24) changed += 1;
  return changed / x.pixels.length;
}
