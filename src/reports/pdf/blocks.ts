// Blocks every PDF report starts with: a title, the facts of its header, a rule under them.
import type { TextStyle } from './layout.js';
import { COLORS, type PdfWriter } from './writer.js';

/** The facts of a header as a two-column grid of "label  value". */
export function drawFacts(w: PdfWriter, facts: [string, string][]): void {
  const label: TextStyle = { size: 8.5, weight: 'bold', color: COLORS.muted };
  const value: TextStyle = { size: 9, weight: 'regular', color: COLORS.text };
  const col = w.width / 2;
  const labelWidth = 92;
  for (let i = 0; i < facts.length; i += 2) {
    w.ensure(14);
    for (let k = 0; k < 2; k++) {
      const f = facts[i + k];
      if (!f) continue;
      const x = w.left + k * col;
      w.text.draw(w.text.fit(f[0], labelWidth - 4, label), x, w.y, label);
      w.text.draw(w.text.fit(f[1], col - labelWidth - 8, value), x + labelWidth, w.y, value);
    }
    w.y += 14;
  }
}

export function drawTitle(w: PdfWriter, title: string): void {
  const style: TextStyle = { size: 15, weight: 'bold', color: COLORS.text };
  w.ensure(30);
  w.text.draw(w.text.fit(title, w.width, style), w.left, w.y, style);
  w.y += 24;
}

export function drawRule(w: PdfWriter): void {
  w.text.ink.line(w.left, w.y, w.left + w.width, w.y, 0.75, COLORS.rule);
  w.y += 10;
}
