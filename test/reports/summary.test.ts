// Golden file: test/fixtures/reports/summary.es.txt (plain, piped layout). Regenerate with
// `UPDATE_GOLDEN=1 npx vitest run test/reports/`.
import { describe, expect, it } from 'vitest';
import { renderSummaryHtml, renderSummaryJson, renderSummaryText } from '../../src/reports/summary.js';
import { perDayChart, unicodeBar } from '../../src/reports/charts.js';
import { expectGolden } from './golden.js';
import { sampleSummary, StringWritable } from './sample-report.js';

describe('renderSummaryText', () => {
  it('prints totals, an aligned table and a bar chart without colour or borders when piped', async () => {
    const out = new StringWritable();
    await renderSummaryText(sampleSummary(), out);
    const text = out.text;
    // eslint-disable-next-line no-control-regex -- ESC [ starts every ANSI colour code; piped output has none
    expect(text).not.toMatch(/\x1b\[/);
    expect(text).not.toMatch(/[┌│─]/);
    expect(text).toContain('RESUMEN DE CONVERSACIONES\nCliente: Released (+15556383785)\n');
    expect(text).toContain('Mensajes: 13 (Usuario 8 · Asistente 4 · Agente 1) · Fallidos: 1');
    const lines = text.split('\n');
    const head = lines.find((l) => l.startsWith('Usuario WhatsApp'))!;
    const row = lines.find((l) => l.startsWith('+34123456789'))!;
    // Columns line up: the contact column starts at the same place in the header and the row.
    expect(row.indexOf('María')).toBe(head.indexOf('Contacto'));
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
    expect(text).toContain('2024-03-28 0\n');
    expect(text).toContain(`2024-03-31 6 ${'█'.repeat(40)}\n`);
    await expectGolden('summary.es.txt', Buffer.from(text));
  });

  it('draws a bordered, coloured table with colour on', async () => {
    const out = new StringWritable();
    await renderSummaryText(sampleSummary('en'), out, { color: true });
    // eslint-disable-next-line no-control-regex -- ESC [1m is the ANSI bold code the coloured title starts with
    expect(out.text).toMatch(/\x1b\[1mCONVERSATIONS SUMMARY/);
    expect(out.text).toContain('┌');
    expect(out.text).toContain('WhatsApp user');
  });

  it('draws bars to an eighth of a cell, never invisible for a non-zero day', () => {
    expect(unicodeBar(0, 10)).toBe('');
    expect(unicodeBar(10, 10, 4)).toBe('████');
    expect(unicodeBar(5, 10, 4)).toBe('██');
    expect(unicodeBar(1, 10, 4)).toBe('▍'); // 3.2 eighths → 3
    expect(unicodeBar(1, 100_000, 4)).toBe('▏');
  });
});

describe('renderSummaryHtml and renderSummaryJson', () => {
  it('escapes names and draws one SVG bar per day', async () => {
    const out = new StringWritable();
    await renderSummaryHtml(sampleSummary(), out);
    expect(out.text).toContain('María &lt;b&gt;José&lt;/b&gt;');
    expect(out.text.match(/<rect class="bar"/g)).toHaveLength(4);
    expect(out.text).toContain('<html lang="es">');
    const chart = perDayChart(sampleSummary().perDay);
    expect(chart.bars.map((b) => b.height)).toEqual([0, 64, 160, 192]);
  });

  it('writes the documented summary document', async () => {
    const out = new StringWritable();
    await renderSummaryJson(sampleSummary(), out);
    const doc = JSON.parse(out.text);
    expect(Object.keys(doc)).toEqual([
      'client',
      'time_zone',
      'generated_at',
      'range',
      'totals',
      'conversations',
      'per_day',
      'sessions',
      'sentiment',
      'csat',
    ]);
    expect(doc.range).toEqual({ start: '2024-03-28T00:00:00.000+01:00', end: null });
    expect(doc.totals).toEqual({
      conversations: 2,
      messages: 13,
      by_role: { user: 8, assistant: 4, agent: 1 },
      failed: 1,
      active_last_24h: 1,
    });
    expect(doc.conversations[0]).toEqual({
      thread_id: 1,
      wa_id: '+34123456789',
      contact_name: 'María <b>José</b>',
      created_at: '2024-03-30T10:30:00.000+01:00',
      last_message_at: '2024-03-31T11:07:30.250+02:00',
      message_count: 11,
      by_role: { user: 7, assistant: 3, agent: 1 },
      failed: 1,
    });
    expect(doc.per_day[3]).toEqual({ day: '2024-03-31', messages: 6 });
    expect(doc.csat).toEqual({
      surveys: 3,
      sent: 2,
      answered: 1,
      response_rate: 0.5,
      satisfaction_score: 1,
      mean: 5,
      distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1 },
      comments: 0,
      pending: 0,
      not_sent: [{ state: 'skipped', reason: "outside WhatsApp's 24-hour window", surveys: 1 }],
    });
    // As docs/report-json.md describes it: scores and ids, never content.
    expect(doc.sentiment).toEqual({
      scored_messages: 8,
      unscored_messages: 0,
      distribution: { negative: 2, neutral: 3, positive: 3 },
      mean: 0.061,
      sessions: { scored: 3, opening: -0.12, closing: 0.31, change: 0.43 },
      ratings: {
        rated: 0,
        by_source: { model: 0, lexicon: 0 },
        distribution: { negative: 0, neutral: 0, positive: 0 },
        mean_score: null,
        mean_predicted_csat: null,
      },
      worst_sessions: [
        {
          conversation_id: 2,
          thread_id: 1,
          wa_id: '+34123456789',
          started_at: '2024-03-30T11:00:00.000+01:00',
          mean: -0.42,
          closing: -0.2,
          scored_messages: 3,
        },
      ],
    });
  });
});
