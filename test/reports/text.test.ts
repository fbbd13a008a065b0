// Golden files: test/fixtures/reports/detailed.{es,en}.txt. After an intended change to the layout,
// regenerate them with `UPDATE_GOLDEN=1 npx vitest run test/reports/` and review the diff.
import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/reports/text.js';
import type { DetailedReport } from '../../src/reports/types.js';
import { expectGolden } from './golden.js';
import { generatedReport, NullWritable, sampleReport, seedExampleReport, StringWritable } from './sample-report.js';

async function text(report: DetailedReport): Promise<string> {
  const out = new StringWritable();
  await renderText(report, out);
  return out.text;
}

describe('renderText', () => {
  it('reproduces the original example layout exactly (plus the time zone line)', async () => {
    expect(await text(seedExampleReport('es'))).toBe(
      [
        'REPORTE DE CONVERSACIÓN',
        'Cliente: Released',
        'Usuario WhatsApp: +34123456789',
        'Fecha inicio: 2024-01-15 10:30:00',
        'Última actividad: 2024-01-15 11:45:00',
        'Total mensajes: 12',
        'Zona horaria: Europe/Madrid',
        '==================================================',
        '',
        '[2024-01-15 10:30:00] Usuario:',
        'Hola, quisiera información sobre el alquiler',
        '',
        '[2024-01-15 10:30:05] Asistente:',
        '¡Hola! Soy Released, el agente de IA para alquileres vacacionales. ',
        '¿En qué puedo ayudarte?',
        '',
      ].join('\n'),
    );
  });

  it('says the same in English', async () => {
    const en = await text(seedExampleReport('en'));
    expect(en.split('\n').slice(0, 10)).toEqual([
      'CONVERSATION REPORT',
      'Client: Released',
      'WhatsApp user: +34123456789',
      'Started: 2024-01-15 10:30:00',
      'Last activity: 2024-01-15 11:45:00',
      'Total messages: 12',
      'Time zone: Europe/Madrid',
      '='.repeat(50),
      '',
      '[2024-01-15 10:30:00] User:',
    ]);
    expect(en).toContain('\n[2024-01-15 10:30:05] Assistant:\n');
  });

  it('matches the Spanish golden file (every role, a failure, media, a reaction, replies, DST)', async () => {
    const out = await text(sampleReport({ lang: 'es' }));
    expect(out).toContain('[2024-03-31 01:59:59] Usuario:');
    expect(out).toContain(
      '[2024-03-31 03:00:00] Asistente:\nPerfecto, te envío opciones.\n⚠ Fallo: 131047 Re-engagement message:',
    );
    expect(out).toContain('[2024-03-31 11:00:00] Agente:\nSoy Laura, del equipo de reservas.\nTe llamo');
    expect(out).not.toContain('\r');
    // Two conversations: a blank line and the rule between them.
    expect(out).toContain(
      '-¿Sigues ahí?\n\n==================================================\n\nREPORTE DE CONVERSACIÓN\n',
    );
    await expectGolden('detailed.es.txt', Buffer.from(out));
  });

  it('matches the English golden file', async () => {
    const out = await text(sampleReport({ lang: 'en' }));
    expect(out).toContain('⚠ Error: 131047 Re-engagement message:');
    expect(out).toContain('] Agent:\n');
    await expectGolden('detailed.en.txt', Buffer.from(out));
  });

  it('says so when there are no conversations or no messages', async () => {
    const empty: DetailedReport = { ...sampleReport(), conversationCount: 0, async *conversations() {} };
    expect(await text(empty)).toBe(
      'REPORTE DE CONVERSACIÓN\nCliente: Released\nZona horaria: Europe/Madrid\n' +
        '==================================================\n\n' +
        '(sin conversaciones en este periodo)\n',
    );
    const base = sampleReport({ single: true });
    const silent: DetailedReport = {
      ...base,
      async *conversations() {
        for await (const c of base.conversations())
          yield { thread: { ...c.thread, messageCount: 0 }, batches: async function* () {} };
      },
    };
    expect(await text(silent)).toMatch(
      /Total mensajes: 0\nZona horaria: Europe\/Madrid\n={50}\n\n\(sin mensajes en este periodo\)\n$/,
    );
  });

  it('waits for drain instead of buffering the whole report', async () => {
    const out = new NullWritable({ slow: true, highWaterMark: 1024 });
    const result = await renderText(generatedReport(5000), out);
    expect(result).toEqual({ conversations: 1, messages: 5000 });
    expect(out.bytes).toBeGreaterThan(500_000);
    expect(out.maxBuffered).toBeLessThan(64 * 1024);
  });
});
