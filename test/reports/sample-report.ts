// Reports built from plain data for the renderer tests: a fixed sample (every role, a failure, an
// image, a reaction, replies, a DST change in Europe/Madrid) and a generated conversation of any size.
import { Writable } from 'node:stream';
import type { StoredMessage } from '../../src/domain/types.js';
import type {
  ConversationSource,
  DetailedReport,
  Lang,
  QuotedMessage,
  ReportThread,
  SummaryReport,
  SummaryRow,
} from '../../src/reports/types.js';
import { hasFailure } from '../../src/reports/format.js';
import { MULTILINGUAL } from '../helpers/multilingual.js';

export const CLIENT = { id: 1, name: 'Released', phoneNumber: '+15556383785' };
export const ZONE = 'Europe/Madrid';
export const GENERATED_AT = new Date('2024-03-31T12:00:00Z');

export const XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

let nextId = 1;
function msg(
  threadId: number,
  waId: string,
  fields: Partial<StoredMessage> & Pick<StoredMessage, 'role' | 'content' | 'createdAt'>,
): StoredMessage {
  const id = nextId++;
  return {
    id,
    threadId,
    clientId: CLIENT.id,
    type: 'text',
    wamid: `wamid.M${id}`,
    waId,
    phoneNumberId: '106540352242922',
    status: null,
    statusAt: null,
    errorCode: null,
    errorMessage: null,
    replyToWamid: null,
    answersWamid: null,
    raw: null,
    ...fields,
  };
}

const at = (iso: string) => new Date(iso);

const WA1 = '34123456789';
// Madrid moves from +01:00 to +02:00 at 2024-03-31T01:00:00Z (02:00 local becomes 03:00).
export const THREAD_1_MESSAGES: StoredMessage[] = [
  msg(1, WA1, {
    role: 'user',
    content: 'Hola, quisiera información sobre el alquiler',
    createdAt: at('2024-03-30T09:30:00Z'),
    wamid: 'wamid.U1',
  }),
  msg(1, WA1, {
    role: 'assistant',
    content: '¡Hola! Soy Released, el agente de IA para alquileres vacacionales. \n¿En qué puedo ayudarte?',
    createdAt: at('2024-03-30T09:30:05Z'),
    wamid: 'wamid.A1',
    status: 'read',
  }),
  msg(1, WA1, {
    role: 'user',
    type: 'image',
    content: '[image] Foto del salón, con "vistas"',
    createdAt: at('2024-03-30T09:31:10Z'),
    wamid: 'wamid.U2',
  }),
  msg(1, WA1, {
    role: 'assistant',
    content: '¡Qué bonito! ¿Para qué fechas?',
    createdAt: at('2024-03-30T09:32:00Z'),
    wamid: 'wamid.A2',
    status: 'delivered',
    replyToWamid: 'wamid.U2',
  }),
  msg(1, WA1, {
    role: 'user',
    type: 'reaction',
    content: '[reaction 👍 to wamid.A2]',
    createdAt: at('2024-03-30T09:33:00Z'),
    wamid: 'wamid.U3',
    replyToWamid: 'wamid.A2',
  }),
  msg(1, WA1, {
    role: 'user',
    content: 'Del 1 al 7 de abril, somos 4 😀',
    createdAt: at('2024-03-31T00:59:59Z'),
    wamid: 'wamid.U4',
  }),
  msg(1, WA1, {
    role: 'assistant',
    content: 'Perfecto, te envío opciones.',
    createdAt: at('2024-03-31T01:00:00Z'),
    wamid: 'wamid.A3',
    status: 'failed',
    errorCode: 131047,
    errorMessage:
      'Re-engagement message: More than 24 hours have passed since the customer last replied to this number.',
  }),
  msg(1, WA1, {
    role: 'agent',
    content: 'Soy Laura, del equipo de reservas.\r\nTe llamo en 5 minutos, ¿vale?',
    createdAt: at('2024-03-31T09:00:00Z'),
    wamid: 'wamid.G1',
    status: 'sent',
  }),
  msg(1, WA1, {
    role: 'user',
    type: 'location',
    content: '[location] Puerta del Sol, Madrid (40.4168, -3.7038)',
    createdAt: at('2024-03-31T09:05:00Z'),
    wamid: 'wamid.U5',
  }),
  msg(1, WA1, {
    role: 'user',
    content: `${XSS} =SUM(A1:A2), "comillas"\n\tsegunda línea`,
    createdAt: at('2024-03-31T09:06:00Z'),
    wamid: 'wamid.U6',
  }),
  msg(1, WA1, {
    role: 'user',
    content: '-¿Sigues ahí?',
    createdAt: at('2024-03-31T09:07:30.250Z'),
    wamid: 'wamid.U7',
    replyToWamid: 'wamid.GONE',
  }),
];

const WA2 = '5215512345678';
export const THREAD_2_MESSAGES: StoredMessage[] = [
  msg(2, WA2, {
    role: 'user',
    content: '=HYPERLINK("http://evil.example","click")',
    createdAt: at('2024-01-15T17:00:00Z'),
    wamid: 'wamid.V1',
  }),
  msg(2, WA2, {
    role: 'assistant',
    content: 'Buenas tardes 🌅',
    createdAt: at('2024-01-15T17:00:04Z'),
    wamid: 'wamid.V2',
    status: 'sent',
  }),
];

function thread(id: number, waId: string, contactName: string | null, messages: StoredMessage[]): ReportThread {
  return {
    id,
    waId,
    contactName,
    createdAt: messages[0]!.createdAt,
    lastMessageAt: messages[messages.length - 1]!.createdAt,
    messageCount: messages.length,
  };
}

function source(t: ReportThread, messages: StoredMessage[], batchSize = 4): ConversationSource {
  return {
    thread: t,
    async *batches() {
      for (let i = 0; i < messages.length; i += batchSize) yield messages.slice(i, i + batchSize);
    },
  };
}

export interface SampleOptions {
  lang?: Lang;
  /** Only the first conversation. */
  single?: boolean;
  range?: { start?: Date; end?: Date };
}

export function sampleReport(options: SampleOptions = {}): DetailedReport {
  const all = [...THREAD_1_MESSAGES, ...THREAD_2_MESSAGES];
  const byWamid = new Map(all.filter((m) => m.wamid).map((m) => [m.wamid!, m]));
  const sources = [
    source(thread(1, WA1, 'María José', THREAD_1_MESSAGES), THREAD_1_MESSAGES),
    source(thread(2, WA2, null, THREAD_2_MESSAGES), THREAD_2_MESSAGES),
  ].slice(0, options.single ? 1 : 2);
  return withOverview({
    client: CLIENT,
    timeZone: ZONE,
    lang: options.lang ?? 'es',
    generatedAt: GENERATED_AT,
    range: options.range ?? {
      start: new Date('2024-01-01T00:00:00+01:00'),
      end: new Date('2024-04-01T00:00:00+02:00'),
    },
    async lookup(wamid): Promise<QuotedMessage | null> {
      const m = byWamid.get(wamid);
      return m ? { wamid, role: m.role, content: m.content, createdAt: m.createdAt } : null;
    },
    conversationCount: sources.length,
    async *conversations() {
      yield* sources;
    },
  });
}

/** The original specification's example: thread of 12 messages, of which the first two are shown. */
export function seedExampleReport(lang: Lang = 'es'): DetailedReport {
  const messages = [
    msg(9, '34123456789', {
      role: 'user',
      content: 'Hola, quisiera información sobre el alquiler',
      createdAt: at('2024-01-15T09:30:00Z'),
    }),
    msg(9, '34123456789', {
      role: 'assistant',
      content: '¡Hola! Soy Released, el agente de IA para alquileres vacacionales. \n¿En qué puedo ayudarte?',
      createdAt: at('2024-01-15T09:30:05Z'),
    }),
  ];
  const t: ReportThread = {
    id: 9,
    waId: '34123456789',
    contactName: null,
    createdAt: at('2024-01-15T09:30:00Z'),
    lastMessageAt: at('2024-01-15T10:45:00Z'),
    messageCount: 12,
  };
  return withOverview({
    client: CLIENT,
    timeZone: ZONE,
    lang,
    generatedAt: GENERATED_AT,
    range: {},
    lookup: async () => null,
    conversationCount: 1,
    async *conversations() {
      yield source(t, messages);
    },
  });
}

/**
 * One conversation of `total` messages made on the fly, `batchSize` at a time (nothing kept), with
 * replies, reactions, images and failures mixed in. `onBatch` runs before each batch is produced.
 */
export function generatedReport(
  total: number,
  options: { batchSize?: number; onBatch?: (index: number) => void } = {},
): DetailedReport {
  const batchSize = options.batchSize ?? 1000;
  const start = Date.parse('2024-03-01T08:00:00Z');
  const t: ReportThread = {
    id: 77,
    waId: '34600000000',
    contactName: 'Carga',
    createdAt: new Date(start),
    lastMessageAt: new Date(start + (total - 1) * 30_000),
    messageCount: total,
  };
  const make = (i: number): StoredMessage => {
    const role = i % 11 === 10 ? 'agent' : i % 2 === 0 ? 'user' : 'assistant';
    const kind = i % 50;
    const content =
      kind === 7
        ? `[image] Foto ${i}`
        : kind === 13
          ? `[reaction ❤️ to wamid.G${i - 1}]`
          : `Mensaje número ${i}, con "comillas", comas y un salto\nde línea ✅ ${'x'.repeat(i % 80)}`;
    return {
      id: i + 1,
      threadId: 77,
      clientId: 1,
      role,
      type: kind === 7 ? 'image' : kind === 13 ? 'reaction' : 'text',
      content,
      wamid: `wamid.G${i}`,
      waId: '34600000000',
      phoneNumberId: '1',
      createdAt: new Date(start + i * 30_000),
      status: role === 'user' ? null : i % 97 === 0 ? 'failed' : 'read',
      statusAt: null,
      errorCode: role !== 'user' && i % 97 === 0 ? 131047 : null,
      errorMessage: role !== 'user' && i % 97 === 0 ? 'Re-engagement message' : null,
      replyToWamid: kind === 13 || kind === 21 ? `wamid.G${i - 1 - (kind === 21 ? 400 : 0)}` : null,
      answersWamid: null,
      raw: null,
    };
  };
  return withOverview({
    client: CLIENT,
    timeZone: ZONE,
    lang: 'es',
    generatedAt: GENERATED_AT,
    range: {},
    async lookup(wamid) {
      const n = Number(wamid.slice('wamid.G'.length));
      return Number.isInteger(n) && n >= 0 && n < total
        ? { wamid, role: 'user', content: `Mensaje número ${n}`, createdAt: new Date(start + n * 30_000) }
        : null;
    },
    conversationCount: 1,
    async *conversations() {
      yield {
        thread: t,
        async *batches() {
          for (let b = 0; b * batchSize < total; b++) {
            options.onBatch?.(b);
            const batch: StoredMessage[] = [];
            for (let i = b * batchSize; i < Math.min(total, (b + 1) * batchSize); i++) batch.push(make(i));
            yield batch;
          }
        },
      };
    },
  });
}

/**
 * A report's `overview()` computed from its own messages, as the database's aggregates would: the
 * per-conversation counts, the totals and messages per day (figures of sessions, sentiment and CSAT
 * are the sample summary's).
 */
export function withOverview(r: Omit<DetailedReport, 'overview'>): DetailedReport {
  return {
    ...r,
    async overview(): Promise<SummaryReport> {
      const base = sampleSummary(r.lang);
      const rows: SummaryRow[] = [];
      const totals = {
        conversations: 0,
        messages: 0,
        byRole: { user: 0, assistant: 0, agent: 0 },
        failed: 0,
        activeLast24h: 0,
      };
      const perDay = new Map<string, number>();
      const day = new Intl.DateTimeFormat('en-CA', {
        timeZone: r.timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
      for await (const c of r.conversations()) {
        const row: SummaryRow = {
          ...c.thread,
          byRole: { user: 0, assistant: 0, agent: 0 },
          failed: 0,
          sessions: 1,
          sentimentMean: null,
          csatMean: null,
        };
        for await (const batch of c.batches()) {
          for (const m of batch) {
            row.byRole[m.role] += 1;
            if (hasFailure(m)) row.failed += 1;
            const d = day.format(m.createdAt);
            perDay.set(d, (perDay.get(d) ?? 0) + 1);
          }
        }
        rows.push(row);
        totals.conversations += 1;
        totals.messages += row.byRole.user + row.byRole.assistant + row.byRole.agent;
        for (const k of ['user', 'assistant', 'agent'] as const) totals.byRole[k] += row.byRole[k];
        totals.failed += row.failed;
      }
      return {
        ...base,
        client: r.client,
        timeZone: r.timeZone,
        lang: r.lang,
        generatedAt: r.generatedAt,
        range: r.range,
        lookup: r.lookup,
        totals,
        conversations: rows,
        perDay: [...perDay].sort().map(([d, messages]) => ({ day: d, messages })),
      };
    },
  };
}

export function sampleSummary(lang: Lang = 'es'): SummaryReport {
  return {
    client: CLIENT,
    timeZone: ZONE,
    lang,
    generatedAt: GENERATED_AT,
    range: { start: new Date('2024-03-28T00:00:00+01:00') },
    lookup: async () => null,
    totals: {
      conversations: 2,
      messages: 13,
      byRole: { user: 8, assistant: 4, agent: 1 },
      failed: 1,
      activeLast24h: 1,
    },
    conversations: [
      {
        ...thread(1, WA1, 'María <b>José</b>', THREAD_1_MESSAGES),
        byRole: { user: 7, assistant: 3, agent: 1 },
        failed: 1,
        sessions: 2,
        sentimentMean: 0.12,
        csatMean: 4,
      },
      {
        ...thread(2, WA2, null, THREAD_2_MESSAGES),
        byRole: { user: 1, assistant: 1, agent: 0 },
        failed: 0,
        sessions: 1,
        sentimentMean: null,
        csatMean: null,
      },
    ],
    perDay: [
      { day: '2024-03-28', messages: 0 },
      { day: '2024-03-29', messages: 2 },
      { day: '2024-03-30', messages: 5 },
      { day: '2024-03-31', messages: 6 },
    ],
    sessions: {
      total: 3,
      open: 1,
      ended: { idle: 1, closed: 1 },
      durationSeconds: { median: 240, p90: 3_900 },
      firstResponseSeconds: { median: 12, p90: 75, answered: 3 },
      handoffs: 1,
      handoffRate: 1 / 3,
      botOnlyResolutionRate: 0.5,
      perDay: [
        { day: '2024-03-28', sessions: 0 },
        { day: '2024-03-29', sessions: 1 },
        { day: '2024-03-30', sessions: 1 },
        { day: '2024-03-31', sessions: 1 },
      ],
    },
    sentiment: {
      scored: 8,
      unscored: 0,
      distribution: { negative: 2, neutral: 3, positive: 3 },
      mean: 0.061,
      sessions: { scored: 3, opening: -0.12, closing: 0.31, change: 0.43 },
      ratings: {
        rated: 0,
        bySource: { model: 0, lexicon: 0 },
        distribution: { negative: 0, neutral: 0, positive: 0 },
        meanScore: null,
        meanPredictedCsat: null,
      },
      worst: [
        {
          conversationId: 2,
          threadId: 1,
          waId: WA1,
          startedAt: new Date('2024-03-30T10:00:00Z'),
          mean: -0.42,
          scoredMessages: 3,
          closing: -0.2,
        },
      ],
    },
    csat: {
      surveys: 3,
      sent: 2,
      answered: 1,
      responseRate: 0.5,
      satisfactionScore: 1,
      mean: 5,
      distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1 },
      comments: 0,
      pending: 0,
      notSent: [{ state: 'skipped', reason: "outside WhatsApp's 24-hour window", surveys: 1 }],
    },
  };
}

/** A sink that keeps nothing; `slow` makes every write complete on a later turn, so backpressure kicks in. */
export class NullWritable extends Writable {
  bytes = 0;
  maxBuffered = 0;
  constructor(options: { slow?: boolean; highWaterMark?: number } = {}) {
    super({
      highWaterMark: options.highWaterMark ?? 16 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        this.bytes += chunk.length;
        this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
        if (options.slow) setImmediate(cb);
        else cb();
      },
    });
  }
}

/** Collects everything written, as one string. */
export class StringWritable extends Writable {
  private chunks: Buffer[] = [];
  constructor() {
    super({
      write: (chunk: Buffer, _enc, cb) => {
        this.chunks.push(chunk);
        cb();
      },
    });
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.buffer.toString('utf8');
  }
}

/**
 * One conversation with a message in every script a report must draw (helpers/multilingual.ts),
 * a reply quoting the Arabic message, a failure and the formula-looking texts.
 */
export function multilingualReport(lang: Lang = 'es'): DetailedReport {
  const start = Date.parse('2024-03-01T08:00:00Z');
  const waId = '34600000001';
  const messages: StoredMessage[] = MULTILINGUAL.map((m, i) =>
    msg(5, waId, {
      role: m.role,
      content: m.content,
      wamid: `wamid.ML${i}`,
      createdAt: new Date(start + i * 60_000),
      status: m.role === 'user' ? null : i === 3 ? 'failed' : 'read',
      errorCode: i === 3 ? 131047 : null,
      errorMessage: i === 3 ? 'Re-engagement message' : null,
      replyToWamid: m.script === 'he' ? 'wamid.ML4' : null,
    }),
  );
  const t = thread(5, waId, 'Ana 😀 مرحبا', messages);
  const byWamid = new Map(messages.map((m) => [m.wamid as string, m]));
  return withOverview({
    client: CLIENT,
    timeZone: ZONE,
    lang,
    generatedAt: GENERATED_AT,
    range: {},
    async lookup(wamid) {
      const m = byWamid.get(wamid);
      return m ? { wamid, role: m.role, content: m.content, createdAt: m.createdAt } : null;
    },
    conversationCount: 1,
    async *conversations() {
      yield source(t, messages);
    },
  });
}
