// `wa-report demo`: fills a database through the real ingest pipeline (signed webhooks over HTTP
// into the daemon, the assistant answering through the real OpenAI SDK and Graph client) against
// local stand-ins. Several weeks of conversations in Spanish and English, with delivery statuses,
// failures, media and a client whose answers are typed by people in the WhatsApp Business app.
import { createHmac, randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { DbTarget } from '../db/target.js';
import { openStore } from '../db/store.js';
import type { KeyRing } from '../domain/key-ring.js';
import { loadIngestConfig } from '../server/config.js';
import { startDaemon } from '../server/main.js';
import { startDemoGraph, startDemoModel } from './standins.js';
import { mulberry32 } from '../domain/random.js';

export interface DemoOptions {
  target: DbTarget;
  /** Conversations per client (default 14). */
  conversations?: number;
  days?: number;
  seed?: number;
  progress?: (line: string) => void;
  now?: Date;
  /** Keys for content at rest (WA_REPORT_ENCRYPTION_KEY…): demo data is stored like real data. */
  keys?: KeyRing;
}

export interface DemoResult {
  clients: { id: number; name: string }[];
  conversations: number;
  inbound: number;
  replies: number;
  statuses: number;
  seconds: number;
  /** A user of the first client, for the commands suggested next. */
  sampleWaId: string;
}

interface DemoClient {
  name: string;
  phone: string;
  phoneNumberId: string;
  lang: 'es' | 'en';
  assistant: boolean;
  prompt: string;
}

const CLIENTS: DemoClient[] = [
  {
    name: 'Café Released',
    phone: '+34911234567',
    phoneNumberId: '100000000000001',
    lang: 'es',
    assistant: true,
    prompt: 'Eres el asistente de Café Released, una cafetería en Madrid. Responde en español, breve y amable.',
  },
  {
    name: 'Northwind Dental',
    phone: '+15550102000',
    phoneNumberId: '100000000000002',
    lang: 'en',
    assistant: true,
    prompt:
      'You are the assistant of Northwind Dental, a dental clinic. Answer briefly and kindly; never give medical ' +
      'diagnoses.',
  },
  {
    name: 'Tienda Ñandú',
    phone: '+34600000333',
    phoneNumberId: '100000000000003',
    lang: 'es',
    assistant: false,
    prompt: '',
  },
];

const NAMES = {
  es: [
    'Ana García',
    'Luis Martínez',
    'Lucía Fernández',
    'Javier López',
    'Carmen Ruiz',
    'Pablo Sánchez',
    'Marta Díaz',
    'Diego Romero',
    'Elena Torres',
    'Sergio Navarro',
    'Laura Gil',
    'Andrés Molina',
    'Sofía Ortega',
    'Raúl Castro',
    'Irene Delgado',
    'Óscar Rubio',
  ],
  en: [
    'Emma Johnson',
    'Liam Smith',
    'Olivia Brown',
    'Noah Davis',
    'Ava Wilson',
    'James Taylor',
    'Mia Anderson',
    'Lucas Thomas',
    'Amelia Moore',
    'Ethan Martin',
    'Harper Lee',
    'Mason Clark',
    'Ella Lewis',
    'Logan Walker',
    'Chloe Hall',
    'Jack Young',
  ],
};

const QUESTIONS = {
  es: [
    'Hola, ¿abrís el domingo?',
    '¿Tenéis leche de avena?',
    'Quería reservar una mesa para 4 a las 9',
    '¿Cuánto cuesta el menú del día?',
    '¿Hacéis pedidos para llevar?',
    'Gracias 😊',
    '¿Tenéis opciones sin gluten?',
    '¿Dónde estáis exactamente?',
    '¿Puedo pagar con tarjeta?',
    '¿Hay wifi?',
    'Perfecto, nos vemos mañana',
    '¿Aceptáis perros en la terraza?',
  ],
  en: [
    'Hi, can I book a cleaning next week?',
    'Do you take my insurance?',
    'My tooth hurts since yesterday',
    'What time do you open on Saturday?',
    'Can I move my appointment to Friday?',
    'Thanks!',
    'How much is a whitening session?',
    'Is there parking nearby?',
    'Do you treat children?',
    'I need to cancel tomorrow',
    'Great, see you then 👍',
    'Can you send me the address?',
  ],
};

const AGENT_ANSWERS = [
  '¡Hola! Sí, lo tenemos en tienda.',
  'Te lo enviamos mañana por mensajería.',
  'El precio es 24,90 €.',
  'Gracias a ti, ¡un saludo!',
  'Abrimos de 10 a 20 h.',
  'Ahora mismo lo consulto y te digo.',
];

function answerFor(system: string, last: string): string {
  const es = /español|Eres/.test(system);
  const l = last.toLowerCase();
  if (es) {
    if (l.includes('domingo') || l.includes('horario'))
      return 'Sí, los domingos abrimos de 9:00 a 15:00. ¡Te esperamos!';
    if (l.includes('reserv')) return 'Claro, ¿me confirmas el día y el nombre para la reserva?';
    if (l.includes('menú') || l.includes('cuesta')) return 'El menú del día cuesta 13,50 € e incluye bebida y postre.';
    if (l.includes('gracias') || l.includes('perfecto')) return '¡Gracias a ti! Que tengas un buen día ☕';
    if (l.startsWith('[image]')) return '¡Qué buena pinta! ¿Quieres que te la preparemos igual?';
    if (l.startsWith('[location]')) return 'Estamos a 5 minutos andando de ahí, en la calle Mayor 12.';
    return 'Déjame comprobarlo y te respondo enseguida. ¿Algo más en lo que pueda ayudarte?';
  }
  if (l.includes('book') || l.includes('appointment'))
    return 'Of course! We have slots on Tuesday at 10:00 and Thursday at 16:30. Which suits you?';
  if (l.includes('insurance')) return 'We work with most major insurers. Could you tell me which one you have?';
  if (l.includes('hurt') || l.includes('pain'))
    return 'Sorry to hear that. We can see you today at 17:00 for an urgent visit; shall I book it?';
  if (l.includes('thank') || l.includes('great')) return "You're welcome! See you soon 😊";
  if (l.startsWith('[image]')) return 'Thanks for the picture. The dentist will review it at your visit.';
  return "Thanks for your message! I'll check and get back to you right away.";
}

const two = (n: number) => String(n % 100).padStart(2, '0');

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const rand = mulberry32(options.seed ?? 20240115);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const progress = options.progress ?? (() => {});
  const perClient = options.conversations ?? 14;
  const days = options.days ?? 42;
  const realNow = options.now ?? new Date();

  // Users of one conversation per client are outside WhatsApp's window for some answers.
  const closedWindow = new Set<string>();
  const graph = await startDemoGraph({
    windowClosed: (to) => closedWindow.has(to) && rand() < 0.5,
    clock: () => clock,
  });
  const model = await startDemoModel(answerFor);
  let clock = new Date(realNow.getTime() - days * 86_400_000);
  const secret = randomBytes(16).toString('hex');

  const store = await openStore(options.target, { keys: options.keys });
  const clients: { id: number; name: string; def: DemoClient }[] = [];
  try {
    for (const def of CLIENTS) {
      const existing = await store.clients.findByPhoneNumberId(def.phoneNumberId);
      const client =
        existing ??
        (await store.clients.create({
          name: def.name,
          phoneNumber: def.phone,
          phoneNumberId: def.phoneNumberId,
          assistantEnabled: def.assistant,
          systemPrompt: def.prompt || null,
          assistantModel: 'demo-model',
        }));
      clients.push({ id: client.id, name: client.name, def });
    }
  } finally {
    await store.close();
  }

  const config = loadIngestConfig(
    {
      WHATSAPP_APP_SECRET: secret,
      WHATSAPP_ACCESS_TOKEN: 'demo',
      WHATSAPP_GRAPH_URL: graph.url,
      OPENAI_API_KEY: 'demo',
      OPENAI_BASE_URL: model.url,
      OPENAI_MODEL: 'demo-model',
    },
    { port: '0', host: '127.0.0.1' },
  );
  const daemon = await startDaemon(config, {
    target: options.target,
    keys: options.keys,
    logger: pino({ level: 'silent' }),
    replier: { now: () => clock },
    graph: { backoffMs: { base: 1, max: 5 }, maxAttempts: 1 },
  });

  let counter = 0;
  const id = (kind: string) => `wamid.demo.${kind}.${options.seed ?? 20240115}.${++counter}`;
  const post = async (payload: unknown) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${daemon.url}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
    if (res.status !== 200) throw new Error(`the demo daemon answered ${res.status}: ${await res.text()}`);
  };
  const envelope = (def: DemoClient, field: string, value: Record<string, unknown>) => ({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '200000000000001',
        changes: [
          {
            field,
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: def.phone.slice(1), phone_number_id: def.phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  });
  const seconds = (d: Date) => String(Math.floor(d.getTime() / 1000));

  // Every exchange of every conversation, in time order, so the assistant sees time pass.
  interface Exchange {
    at: Date;
    client: (typeof clients)[number];
    waId: string;
    name: string;
    q: number;
  }
  const exchanges: Exchange[] = [];
  for (const client of clients) {
    const lang = client.def.lang;
    for (let c = 0; c < perClient; c++) {
      // Numbers as users have them: a Spanish mobile is +34 6 and eight digits, a US one +1 and ten.
      const waId =
        lang === 'es'
          ? `346${two(client.id)}${String(c).padStart(6, '0')}`
          : `1555${two(client.id)}${String(c).padStart(5, '0')}`;
      const name = NAMES[lang][c % NAMES[lang].length] as string;
      if (c === perClient - 1) closedWindow.add(waId);
      const sessions = 3 + Math.floor(rand() * 6);
      for (let s = 0; s < sessions; s++) {
        const day = Math.floor(rand() * (days - 1));
        const hour = 8 + Math.floor(rand() * 13);
        let at = new Date(clock.getTime() + day * 86_400_000 + hour * 3_600_000 + Math.floor(rand() * 3_600_000));
        const turns = 2 + Math.floor(rand() * 7);
        for (let q = 0; q < turns; q++) {
          exchanges.push({ at, client, waId, name, q });
          at = new Date(at.getTime() + 60_000 + Math.floor(rand() * 600_000));
        }
      }
    }
  }
  exchanges.sort((a, b) => a.at.getTime() - b.at.getTime());

  const statuses = new Map<string, { def: DemoClient; list: Record<string, unknown>[] }>();
  const addStatus = (def: DemoClient, wamid: string, to: string, at: Date) => {
    const entry = statuses.get(def.phoneNumberId) ?? { def, list: [] };
    statuses.set(def.phoneNumberId, entry);
    const r = rand();
    const ts = (ms: number) => seconds(new Date(at.getTime() + ms));
    const base = { id: wamid, recipient_id: to };
    entry.list.push({
      ...base,
      status: 'sent',
      timestamp: ts(1_000),
      conversation: { id: 'conv', origin: { type: 'service' } },
      pricing: { billable: false, pricing_model: 'PMP', category: 'service' },
    });
    if (r < 0.04) {
      entry.list.push({
        ...base,
        status: 'failed',
        timestamp: ts(4_000),
        errors: [
          {
            code: 131026,
            title: 'Message undeliverable',
            message: 'Message undeliverable',
            error_data: { details: 'Receiver is incapable of receiving this message' },
          },
        ],
      });
      return;
    }
    entry.list.push({ ...base, status: 'delivered', timestamp: ts(3_000) });
    if (r < 0.8) entry.list.push({ ...base, status: 'read', timestamp: ts(30_000 + Math.floor(rand() * 600_000)) });
  };

  let inbound = 0;
  let echoes = 0;
  let done = 0;
  for (const ex of exchanges) {
    const def = ex.client.def;
    const lang = def.lang;
    clock = ex.at;
    const mid = id('in');
    const r = rand();
    let message: Record<string, unknown>;
    if (r < 0.05)
      message = {
        type: 'image',
        image: {
          id: `media-${counter}`,
          mime_type: 'image/jpeg',
          sha256: 'demo',
          caption: lang === 'es' ? 'Mirad esta foto' : 'Here is a photo',
        },
      };
    else if (r < 0.08)
      message = {
        type: 'location',
        location: { latitude: 40.4168, longitude: -3.7038, name: 'Puerta del Sol', address: 'Madrid' },
      };
    else message = { type: 'text', text: { body: pick(QUESTIONS[lang]) } };
    await post(
      envelope(def, 'messages', {
        contacts: [{ profile: { name: ex.name }, wa_id: ex.waId }],
        messages: [{ from: ex.waId, id: mid, timestamp: seconds(ex.at), ...message }],
      }),
    );
    inbound++;
    if (def.assistant) {
      clock = new Date(ex.at.getTime() + 20_000 + Math.floor(rand() * 40_000));
      await daemon.replier?.idle();
    } else if (rand() < 0.85) {
      // A person answers from the WhatsApp Business app: an echo, then its statuses.
      const at = new Date(ex.at.getTime() + 60_000 + Math.floor(rand() * 1_800_000));
      const eid = id('echo');
      await post(
        envelope(def, 'smb_message_echoes', {
          message_echoes: [
            {
              from: def.phone.slice(1),
              to: ex.waId,
              id: eid,
              timestamp: seconds(at),
              type: 'text',
              text: { body: pick(AGENT_ANSWERS) },
            },
          ],
        }),
      );
      addStatus(def, eid, ex.waId, at);
      echoes++;
    }
    if (rand() < 0.03) {
      await post(
        envelope(def, 'messages', {
          messages: [
            {
              from: ex.waId,
              id: id('reaction'),
              timestamp: seconds(new Date(ex.at.getTime() + 5_000)),
              type: 'reaction',
              reaction: { message_id: mid, emoji: '👍' },
            },
          ],
        }),
      );
      inbound++;
    }
    if (++done % 100 === 0) progress(`  ${done}/${exchanges.length} exchanges`);
  }

  // Delivery statuses of every sent answer, in Meta-sized batches.
  for (const answer of graph.sent) {
    const client = clients.find((c) => c.def.phoneNumberId === answer.phoneNumberId);
    if (client) addStatus(client.def, answer.wamid, answer.to, answer.at);
  }
  const replies = graph.attempts + echoes;
  let statusCount = 0;
  for (const { def, list } of statuses.values()) {
    for (let i = 0; i < list.length; i += 500) {
      await post(envelope(def, 'messages', { statuses: list.slice(i, i + 500) }));
    }
    statusCount += list.length;
  }

  await daemon.close();
  await graph.close();
  await model.close();
  return {
    clients: clients.map((c) => ({ id: c.id, name: c.name })),
    conversations: clients.length * perClient,
    inbound,
    replies,
    statuses: statusCount,
    seconds: (performance.now() - started) / 1000,
    sampleWaId: exchanges.find((e) => e.client === clients[0])?.waId ?? '',
  };
}
