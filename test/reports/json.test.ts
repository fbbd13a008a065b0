// Golden file: test/fixtures/reports/detailed.json. After an intended change to the document,
// regenerate it with `UPDATE_GOLDEN=1 npx vitest run test/reports/`, review the diff and update
// docs/report-json.md.
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/reports/json.js';
import type { DetailedReport } from '../../src/reports/types.js';
import { expectGolden } from './golden.js';
import { generatedReport, NullWritable, sampleReport, StringWritable } from './sample-report.js';

async function json(report: DetailedReport): Promise<string> {
  const out = new StringWritable();
  await renderJson(report, out);
  return out.text;
}

describe('renderJson', () => {
  it('matches the golden file and is exactly JSON.stringify(doc, null, 2)', async () => {
    const out = await json(sampleReport());
    const doc = JSON.parse(out);
    expect(out).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    await expectGolden('detailed.json', Buffer.from(out));
  });

  it(
    'writes awkward text exactly as JSON.stringify would (quotes, controls, ' + 'U+2028, lone surrogates, emoji)',
    async () => {
      const base = sampleReport();
      const awkward = [
        '"quoted" \\ back',
        'line\nbreak\ttab\u0000nul',
        'sep\u2028para\u2029',
        'lone \ud800 half',
        '👍🏽 ñ',
        '',
      ];
      const report: DetailedReport = {
        ...base,
        async *conversations() {
          for await (const c of base.conversations()) {
            yield {
              thread: c.thread,
              batches: async function* () {
                let i = 0;
                for await (const batch of c.batches()) {
                  yield batch.map((m) => {
                    i += 1;
                    return {
                      ...m,
                      content: awkward[(i - 1) % awkward.length] as string,
                      errorMessage: i % 2 ? (awkward[i % awkward.length] as string) : null,
                    };
                  });
                }
              },
            };
          }
        },
      };
      const out = await json(report);
      expect(out).toBe(`${JSON.stringify(JSON.parse(out), null, 2)}\n`);
      expect(
        JSON.parse(out)
          .conversations[0].messages.slice(0, 6)
          .map((m: { content: string }) => m.content),
      ).toEqual(awkward);
    },
  );

  it('follows the documented schema', async () => {
    const doc = JSON.parse(await json(sampleReport()));
    expect(Object.keys(doc)).toEqual(['client', 'time_zone', 'generated_at', 'range', 'conversations']);
    expect(doc.client).toEqual({ id: 1, name: 'Released', phone_number: '+15556383785' });
    expect(doc.time_zone).toBe('Europe/Madrid');
    expect(doc.generated_at).toBe('2024-03-31T14:00:00.000+02:00');
    expect(doc.range).toEqual({ start: '2024-01-01T00:00:00.000+01:00', end: '2024-04-01T00:00:00.000+02:00' });
    const [first] = doc.conversations;
    expect(Object.keys(first)).toEqual([
      'thread_id',
      'wa_id',
      'contact_name',
      'created_at',
      'last_message_at',
      'message_count',
      'messages',
    ]);
    expect(first).toMatchObject({ thread_id: 1, wa_id: '+34123456789', contact_name: 'María José', message_count: 11 });
    expect(first.messages).toHaveLength(11);
    expect(Object.keys(first.messages[0])).toEqual([
      'id',
      'wamid',
      'role',
      'type',
      'content',
      'created_at',
      'status',
      'error_code',
      'error_message',
      'reply_to_wamid',
    ]);
    // Both sides of the DST change carry their own offset.
    expect(first.messages[5].created_at).toBe('2024-03-31T01:59:59.000+01:00');
    expect(first.messages[6]).toMatchObject({
      created_at: '2024-03-31T03:00:00.000+02:00',
      status: 'failed',
      error_code: 131047,
    });
    expect(first.messages.map((m: { role: string }) => m.role)).toContain('agent');
    expect(first.messages[4]).toMatchObject({ type: 'reaction', reply_to_wamid: 'wamid.A2' });
  });

  it('is valid with no conversations, no messages and no range', async () => {
    const base = sampleReport({ range: {} });
    const empty: DetailedReport = { ...base, conversationCount: 0, async *conversations() {} };
    const out = await json(empty);
    expect(JSON.parse(out)).toMatchObject({ range: { start: null, end: null }, conversations: [] });
    expect(out).toBe(`${JSON.stringify(JSON.parse(out), null, 2)}\n`);

    const silent: DetailedReport = {
      ...base,
      async *conversations() {
        for await (const c of base.conversations()) yield { thread: c.thread, batches: async function* () {} };
      },
    };
    const out2 = await json(silent);
    expect(JSON.parse(out2).conversations.map((c: { messages: unknown[] }) => c.messages)).toEqual([[], []]);
    expect(out2).toBe(`${JSON.stringify(JSON.parse(out2), null, 2)}\n`);
  });

  it('stays valid JSON and says it is incomplete when the data source fails half-way', async () => {
    const base = sampleReport();
    const broken: DetailedReport = {
      ...base,
      async *conversations() {
        for await (const c of base.conversations()) {
          yield {
            thread: c.thread,
            async *batches() {
              yield* c.batches();
              throw new Error('connection reset');
            },
          };
        }
      },
    };
    const out = new StringWritable();
    await expect(renderJson(broken, out)).rejects.toThrow('connection reset');
    const doc = JSON.parse(out.text);
    expect(doc.error.message).toMatch(/incomplete/);
    expect(doc.conversations).toHaveLength(1);
    expect(doc.conversations[0].messages).toHaveLength(11);
  });

  it('waits for drain instead of buffering the whole document', async () => {
    const out = new NullWritable({ slow: true, highWaterMark: 1024 });
    expect(await renderJson(generatedReport(3000), out)).toEqual({ conversations: 1, messages: 3000 });
    expect(out.bytes).toBeGreaterThan(900_000);
    expect(out.maxBuffered).toBeLessThan(64 * 1024);
  });
});
