// Builders for WhatsApp Cloud API webhook bodies in Meta's shape, and a signed POST.
import { createHmac } from 'node:crypto';

export const APP_SECRET = 'test-app-secret-0123456789';
export const VERIFY_TOKEN = 'test-verify-token';
export const PHONE_NUMBER_ID = '106540352242922';
export const DISPLAY_PHONE = '15550783881';
export const WABA_ID = '102290129340398';

let counter = 0;
export function wamid(prefix = 'in'): string {
  counter++;
  return `wamid.test.${prefix}.${process.pid}.${Date.now().toString(36)}.${counter}`;
}

export interface InboundText {
  from: string;
  text: string;
  id?: string;
  name?: string;
  timestamp?: number; // unix seconds
  phoneNumberId?: string;
  contextId?: string;
}

function envelope(field: string, value: Record<string, unknown>, phoneNumberId = PHONE_NUMBER_ID) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA_ID,
        changes: [
          {
            field,
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: DISPLAY_PHONE, phone_number_id: phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

export function textMessage(m: InboundText) {
  const id = m.id ?? wamid();
  const message: Record<string, unknown> = {
    from: m.from,
    id,
    timestamp: String(m.timestamp ?? Math.floor(Date.now() / 1000)),
    type: 'text',
    text: { body: m.text },
  };
  if (m.contextId) message.context = { from: DISPLAY_PHONE, id: m.contextId };
  return envelope(
    'messages',
    { contacts: [{ profile: { name: m.name ?? 'Test User' }, wa_id: m.from }], messages: [message] },
    m.phoneNumberId,
  );
}

/** Several messages (possibly from several users) in one POST, as Meta batches them. */
export function batch(messages: InboundText[]) {
  const byNumber = new Map<string, InboundText[]>();
  for (const m of messages) {
    const key = m.phoneNumberId ?? PHONE_NUMBER_ID;
    const list = byNumber.get(key);
    if (list) list.push(m);
    else byNumber.set(key, [m]);
  }
  return {
    object: 'whatsapp_business_account',
    entry: [...byNumber].map(([phoneNumberId, list]) => ({
      id: WABA_ID,
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: DISPLAY_PHONE, phone_number_id: phoneNumberId },
            contacts: list.map((m) => ({ profile: { name: m.name ?? 'Test User' }, wa_id: m.from })),
            messages: list.map((m) => ({
              from: m.from,
              id: m.id ?? wamid(),
              timestamp: String(m.timestamp ?? Math.floor(Date.now() / 1000)),
              type: 'text',
              text: { body: m.text },
            })),
          },
        },
      ],
    })),
  };
}

export interface StatusInput {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  recipient: string;
  timestamp: number;
  error?: { code: number; title: string; details?: string };
}

export function statusUpdate(statuses: StatusInput[]) {
  return envelope('messages', {
    statuses: statuses.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: String(s.timestamp),
      recipient_id: s.recipient,
      ...(s.error
        ? {
            errors: [
              {
                code: s.error.code,
                title: s.error.title,
                message: s.error.title,
                error_data: { details: s.error.details ?? s.error.title },
              },
            ],
          }
        : {}),
    })),
  });
}

/** A message the business sent from the WhatsApp Business app (coexistence echo). */
/** A user's tap on an interactive message: a reply button (button_reply) or a list row (list_reply). */
export function interactiveReply(m: {
  from: string;
  replyId: string;
  title: string;
  kind?: 'button_reply' | 'list_reply';
  id?: string;
  contextId?: string;
}) {
  const kind = m.kind ?? 'button_reply';
  const message: Record<string, unknown> = {
    from: m.from,
    id: m.id ?? wamid(),
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: 'interactive',
    interactive: { type: kind, [kind]: { id: m.replyId, title: m.title } },
  };
  if (m.contextId) message.context = { from: DISPLAY_PHONE, id: m.contextId };
  return envelope('messages', { contacts: [{ profile: { name: 'Test User' }, wa_id: m.from }], messages: [message] });
}

export function echoMessage(m: { to: string; text: string; id?: string; timestamp?: number }) {
  return envelope('smb_message_echoes', {
    message_echoes: [
      {
        from: DISPLAY_PHONE,
        to: m.to,
        id: m.id ?? wamid('echo'),
        timestamp: String(m.timestamp ?? Math.floor(Date.now() / 1000)),
        type: 'text',
        text: { body: m.text },
      },
    ],
  });
}

export function sign(body: string | Buffer, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function postWebhook(
  url: string,
  payload: unknown,
  options: { secret?: string | null; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const body = options.raw ?? JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.secret !== null) headers['x-hub-signature-256'] = sign(body, options.secret ?? APP_SECRET);
  const res = await fetch(`${url}/webhook`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
