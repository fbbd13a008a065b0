// CSAT surveys as WhatsApp interactive messages, and answers recognised in every form a user gives.
import { describe, expect, it } from 'vitest';
import { isSatisfied, LIMITS, recogniseAnswer, replyId, surveyInteractive } from '../../src/domain/csat.js';

const five = { id: 12, scale: 5 as const };
const three = { id: 12, scale: 3 as const };
const text = (t: string) => ({ type: 'text', text: t });

describe('CSAT surveys', () => {
  it('are reply buttons for a 3-point scale and a list for 1–5, within WhatsApp’s limits', () => {
    const buttons = surveyInteractive({ ...three, question: '¿Qué tal?', lang: 'es' });
    expect(buttons.type).toBe('button');
    const b = buttons.action as { buttons: { reply: { id: string; title: string } }[] };
    expect(b.buttons.map((x) => x.reply.id)).toEqual(['csat:12:1', 'csat:12:2', 'csat:12:3']);
    for (const x of b.buttons) expect([...x.reply.title].length).toBeLessThanOrEqual(LIMITS.buttonTitle);
    const list = surveyInteractive({ ...five, question: 'How was it?', lang: 'en' });
    expect(list.type).toBe('list');
    const l = list.action as {
      button: string;
      sections: { rows: { id: string; title: string; description: string }[] }[];
    };
    expect(l.sections[0]!.rows.map((r) => r.id)).toEqual([
      'csat:12:5',
      'csat:12:4',
      'csat:12:3',
      'csat:12:2',
      'csat:12:1',
    ]);
    for (const r of l.sections[0]!.rows) expect(r.title.length).toBeLessThanOrEqual(LIMITS.rowTitle);
    expect(l.button.length).toBeLessThanOrEqual(LIMITS.listButton);
  });

  it('recognises the interactive reply, a template button, digits, stars and short words in es and en', () => {
    expect(recogniseAnswer({ type: 'interactive', text: null, replyId: replyId(12, 4) }, five)).toEqual({
      score: 4,
      form: 'interactive',
    });
    expect(recogniseAnswer({ type: 'button', text: 'Bien', replyId: 'csat:12:3' }, three)).toEqual({
      score: 3,
      form: 'button',
    });
    // Another survey's reply, or a score beyond the scale, is not an answer to this one.
    expect(recogniseAnswer({ type: 'interactive', text: null, replyId: 'csat:99:4' }, five)).toBeNull();
    expect(recogniseAnswer({ type: 'interactive', text: null, replyId: 'csat:12:5' }, three)).toBeNull();
    expect(recogniseAnswer(text('5'), five)).toEqual({ score: 5, form: 'digit' });
    expect(recogniseAnswer(text(' 4/5 '), five)).toEqual({ score: 4, form: 'digit' });
    expect(recogniseAnswer(text('3 de 5'), five)).toEqual({ score: 3, form: 'digit' });
    expect(recogniseAnswer(text('4 estrellas'), five)).toEqual({ score: 4, form: 'digit' });
    expect(recogniseAnswer(text('6'), five)).toBeNull();
    expect(recogniseAnswer(text('4/5'), three)).toBeNull();
    expect(recogniseAnswer(text('⭐⭐⭐⭐'), five)).toEqual({ score: 4, form: 'stars' });
    expect(recogniseAnswer(text('⭐️⭐️⭐️⭐️⭐️'), three)).toEqual({ score: 3, form: 'stars' });
    expect(recogniseAnswer(text('Muy bien!'), five)).toEqual({ score: 5, form: 'word' });
    expect(recogniseAnswer(text('pésimo'), five)).toEqual({ score: 1, form: 'word' });
    expect(recogniseAnswer(text('bad'), three)).toEqual({ score: 1, form: 'word' });
    expect(recogniseAnswer(text('regular'), three)).toEqual({ score: 2, form: 'word' });
    // A question or a new request is not an answer: the assistant gets it.
    expect(recogniseAnswer(text('¿me pueden llamar?'), five)).toBeNull();
    expect(recogniseAnswer(text('bien, pero quiero cambiar mi pedido de mañana'), five)).toBeNull();
    expect(recogniseAnswer({ type: 'image', text: 'bien' }, five)).toBeNull();
  });

  it('counts 4 and 5 of 5, or 3 of 3, as satisfied', () => {
    expect([1, 2, 3, 4, 5].map((s) => isSatisfied(s, 5))).toEqual([false, false, false, true, true]);
    expect([1, 2, 3].map((s) => isSatisfied(s, 3))).toEqual([false, false, true]);
  });
});
