// Every word a report shows, in the two languages reports come in. `es` reproduces the original
// Spanish text report word for word; `en` says the same in English.
import type { Role } from '../domain/types.js';
import type { CsatLabels } from './csat.js';
import type { SentimentLabels } from './sentiment.js';
import type { Lang } from './types.js';

/** Placeholders for media messages (content "[image] caption" and the like). */
export type MediaKind = 'image' | 'video' | 'audio' | 'voice' | 'document' | 'sticker' | 'location' | 'contacts';

export interface Labels {
  /** BCP 47 tag for `lang` attributes and Intl formatting. */
  locale: string;
  // The text report (seed layout).
  title: string;
  client: string;
  waUser: string;
  started: string;
  lastActivity: string;
  totalMessages: string;
  timeZone: string;
  /** Prefix of the line under a failed message: "⚠ Fallo: 131047 Re-engagement message". */
  failure: string;
  noDetails: string;
  noMessages: string;
  noConversations: string;
  roles: Record<Role, string>;
  // HTML and summaries.
  contact: string;
  generated: string;
  range: string;
  rangeAll: string;
  conversations: string;
  contents: string;
  messages: string;
  failed: string;
  activeLast24h: string;
  /** Conversations inside threads, with a start and an end. */
  sessions: string;
  open: string;
  medianDuration: string;
  firstResponse: string;
  handoffRate: string;
  botOnly: string;
  /** Sentiment of users' messages. */
  sentiment: SentimentLabels;
  csat: CsatLabels;
  perDay: string;
  day: string;
  summaryTitle: string;
  replyTo: string;
  reactionTo: string;
  quotedMissing: string;
  statuses: Record<'sending' | 'sent' | 'delivered' | 'read' | 'played' | 'failed', string>;
  media: Record<MediaKind, string>;
  /** Names of the figures the PDF and workbook reports list (src/reports/figures.ts). */
  figures: FigureLabels;
}

export interface FigureLabels {
  statsTitle: string;
  figure: string;
  value: string;
  page: string;
  of: string;
  summary: string;
  byRole: string;
  deliveryRate: string;
  readRate: string;
  responseMedian: string;
  responseP90: string;
  answers: string;
  sessionsOpen: string;
  sessionsIdle: string;
  sessionsClosed: string;
  durationMedian: string;
  durationP90: string;
  firstResponseMedian: string;
  firstResponseP90: string;
  handoffs: string;
  handoffRate: string;
  botOnlyRate: string;
  sentimentScored: string;
  sentimentPositive: string;
  sentimentNeutral: string;
  sentimentNegative: string;
  sentimentMean: string;
  sentimentOpening: string;
  sentimentClosing: string;
  csatSurveys: string;
  csatSent: string;
  csatAnswered: string;
  csatResponseRate: string;
  csatScore: string;
  csatMean: string;
  thread: string;
  sessions: string;
  /** Values the workbook writes when a message field is empty. */
  none: string;
}

const es: Labels = {
  locale: 'es',
  title: 'REPORTE DE CONVERSACIÓN',
  client: 'Cliente:',
  waUser: 'Usuario WhatsApp:',
  started: 'Fecha inicio:',
  lastActivity: 'Última actividad:',
  totalMessages: 'Total mensajes:',
  timeZone: 'Zona horaria:',
  failure: '⚠ Fallo:',
  noDetails: 'sin detalles',
  noMessages: '(sin mensajes en este periodo)',
  noConversations: '(sin conversaciones en este periodo)',
  roles: { user: 'Usuario', assistant: 'Asistente', agent: 'Agente' },
  contact: 'Contacto:',
  generated: 'Generado:',
  range: 'Periodo:',
  rangeAll: 'todo el historial',
  conversations: 'Conversaciones',
  contents: 'Índice',
  messages: 'Mensajes',
  failed: 'Fallidos',
  activeLast24h: 'Activas en las últimas 24 h',
  sessions: 'Sesiones',
  open: 'abiertas',
  medianDuration: 'duración mediana',
  firstResponse: 'primera respuesta (mediana)',
  handoffRate: 'Derivadas a una persona',
  botOnly: 'resueltas solo por el asistente',
  csat: {
    title: 'Satisfacción (CSAT)',
    satisfied: 'satisfechos',
    mean: 'media',
    of5: 'de 5',
    answers: 'respuestas',
    answeredOf: 'respondidas de',
    sent: 'enviadas',
    notSent: 'sin enviar',
    waiting: 'por enviar',
  },
  sentiment: {
    title: 'Sentimiento',
    positive: 'positivos',
    neutral: 'neutros',
    negative: 'negativos',
    mean: 'media',
    messages: 'mensajes',
    notScored: 'aún sin puntuar (wa-report sentiment backfill)',
    openingClosing: 'Inicio → cierre',
    sessions: 'sesiones',
    positiveShare: 'mensajes positivos',
    meanSentiment: 'sentimiento medio (−1 a 1)',
  },
  perDay: 'Mensajes por día',
  day: 'Día',
  summaryTitle: 'RESUMEN DE CONVERSACIONES',
  replyTo: 'En respuesta a',
  reactionTo: 'Reacción a',
  quotedMissing: 'mensaje no disponible',
  statuses: {
    sending: 'enviando',
    sent: 'enviado',
    delivered: 'entregado',
    read: 'leído',
    played: 'reproducido',
    failed: 'fallido',
  },
  media: {
    image: 'Imagen',
    video: 'Vídeo',
    audio: 'Audio',
    voice: 'Nota de voz',
    document: 'Documento',
    sticker: 'Sticker',
    location: 'Ubicación',
    contacts: 'Contactos',
  },
  figures: {
    statsTitle: 'ESTADÍSTICAS',
    figure: 'Indicador',
    value: 'Valor',
    page: 'Página',
    of: 'de',
    summary: 'Resumen',
    byRole: 'por rol',
    deliveryRate: 'Tasa de entrega',
    readRate: 'Tasa de lectura',
    responseMedian: 'Tiempo de respuesta, mediana (s)',
    responseP90: 'Tiempo de respuesta, p90 (s)',
    answers: 'Respuestas medidas',
    sessionsOpen: 'Sesiones abiertas',
    sessionsIdle: 'Sesiones terminadas por inactividad',
    sessionsClosed: 'Sesiones cerradas',
    durationMedian: 'Duración de sesión, mediana (s)',
    durationP90: 'Duración de sesión, p90 (s)',
    firstResponseMedian: 'Primera respuesta, mediana (s)',
    firstResponseP90: 'Primera respuesta, p90 (s)',
    handoffs: 'Sesiones derivadas a una persona',
    handoffRate: 'Tasa de derivación',
    botOnlyRate: 'Resueltas solo por el asistente',
    sentimentScored: 'Mensajes con sentimiento',
    sentimentPositive: 'Mensajes positivos',
    sentimentNeutral: 'Mensajes neutros',
    sentimentNegative: 'Mensajes negativos',
    sentimentMean: 'Sentimiento medio (−1 a 1)',
    sentimentOpening: 'Sentimiento al inicio',
    sentimentClosing: 'Sentimiento al cierre',
    csatSurveys: 'Encuestas CSAT',
    csatSent: 'Encuestas enviadas',
    csatAnswered: 'Encuestas respondidas',
    csatResponseRate: 'Tasa de respuesta CSAT',
    csatScore: 'Puntuación CSAT (satisfechos)',
    csatMean: 'CSAT medio (1 a 5)',
    thread: 'Conversación',
    sessions: 'Sesiones',
    none: '',
  },
};

const en: Labels = {
  locale: 'en',
  title: 'CONVERSATION REPORT',
  client: 'Client:',
  waUser: 'WhatsApp user:',
  started: 'Started:',
  lastActivity: 'Last activity:',
  totalMessages: 'Total messages:',
  timeZone: 'Time zone:',
  failure: '⚠ Error:',
  noDetails: 'no details',
  noMessages: '(no messages in this period)',
  noConversations: '(no conversations in this period)',
  roles: { user: 'User', assistant: 'Assistant', agent: 'Agent' },
  contact: 'Contact:',
  generated: 'Generated:',
  range: 'Period:',
  rangeAll: 'whole history',
  conversations: 'Conversations',
  contents: 'Contents',
  messages: 'Messages',
  failed: 'Failed',
  activeLast24h: 'Active in the last 24 h',
  sessions: 'Sessions',
  open: 'open',
  medianDuration: 'median length',
  firstResponse: 'first response (median)',
  handoffRate: 'Handed to a person',
  botOnly: 'resolved by the assistant alone',
  csat: {
    title: 'Satisfaction (CSAT)',
    satisfied: 'satisfied',
    mean: 'mean',
    of5: 'of 5',
    answers: 'answers',
    answeredOf: 'answered of',
    sent: 'sent',
    notSent: 'not sent',
    waiting: 'waiting',
  },
  sentiment: {
    title: 'Sentiment',
    positive: 'positive',
    neutral: 'neutral',
    negative: 'negative',
    mean: 'mean',
    messages: 'messages',
    notScored: 'not scored yet (wa-report sentiment backfill)',
    openingClosing: 'Opening → closing',
    sessions: 'sessions',
    positiveShare: 'positive messages',
    meanSentiment: 'mean sentiment (−1 to 1)',
  },
  perDay: 'Messages per day',
  day: 'Day',
  summaryTitle: 'CONVERSATIONS SUMMARY',
  replyTo: 'Replying to',
  reactionTo: 'Reaction to',
  quotedMissing: 'message not available',
  statuses: {
    sending: 'sending',
    sent: 'sent',
    delivered: 'delivered',
    read: 'read',
    played: 'played',
    failed: 'failed',
  },
  media: {
    image: 'Image',
    video: 'Video',
    audio: 'Audio',
    voice: 'Voice note',
    document: 'Document',
    sticker: 'Sticker',
    location: 'Location',
    contacts: 'Contacts',
  },
  figures: {
    statsTitle: 'STATISTICS',
    figure: 'Figure',
    value: 'Value',
    page: 'Page',
    of: 'of',
    summary: 'Summary',
    byRole: 'by role',
    deliveryRate: 'Delivery rate',
    readRate: 'Read rate',
    responseMedian: 'Response time, median (s)',
    responseP90: 'Response time, p90 (s)',
    answers: 'Answers measured',
    sessionsOpen: 'Open sessions',
    sessionsIdle: 'Sessions ended idle',
    sessionsClosed: 'Sessions closed',
    durationMedian: 'Session length, median (s)',
    durationP90: 'Session length, p90 (s)',
    firstResponseMedian: 'First response, median (s)',
    firstResponseP90: 'First response, p90 (s)',
    handoffs: 'Sessions handed to a person',
    handoffRate: 'Handoff rate',
    botOnlyRate: 'Resolved by the assistant alone',
    sentimentScored: 'Messages with a sentiment',
    sentimentPositive: 'Positive messages',
    sentimentNeutral: 'Neutral messages',
    sentimentNegative: 'Negative messages',
    sentimentMean: 'Mean sentiment (−1 to 1)',
    sentimentOpening: 'Opening sentiment',
    sentimentClosing: 'Closing sentiment',
    csatSurveys: 'CSAT surveys',
    csatSent: 'Surveys sent',
    csatAnswered: 'Surveys answered',
    csatResponseRate: 'CSAT response rate',
    csatScore: 'CSAT score (satisfied)',
    csatMean: 'Mean CSAT (1 to 5)',
    thread: 'Conversation',
    sessions: 'Sessions',
    none: '',
  },
};

const LABELS: Record<Lang, Labels> = { es, en };

export function labelsFor(lang: Lang): Labels {
  return LABELS[lang];
}

/** A label without its trailing colon, for table headers and HTML <dt>. */
export function bare(label: string): string {
  return label.endsWith(':') ? label.slice(0, -1) : label;
}
