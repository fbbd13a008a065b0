// WhatsApp Cloud API webhook → plain domain data. A pure function: no I/O, no clock (see `ParseOptions`).
//
// The one rule: nothing is dropped silently. Every part of a WhatsApp notification ends up as a message,
// a status, a contact, or a raw event in `unknown`; and nothing throws, whatever the input.
//
// Shapes handled (Meta's webhook reference, https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components, and the fixtures in test/fixtures/whatsapp/):
//   {"object":"whatsapp_business_account","entry":[{"id":<WABA>,"changes":[{"field":…,"value":{…}}]}]}
//   field "messages":           value.metadata, value.contacts[], value.messages[] (user → business),
//                               value.statuses[] (lifecycle of what the business sent), value.errors[]
//   field "smb_message_echoes": value.message_echoes[] (the business typed it in the WhatsApp Business app)
//   any other field:            kept raw as `change:<field>`.
//
// Raw event kinds (`unknown[].kind`):
//   change:<field>          a change of any other field (account_update, history, calls, templates, …)
//   errors                  `value.errors[]` (problems not tied to one message, e.g. 130429)
//   value-extra:<field>     keys of a messages/echoes value this parser does not know (or of the wrong type)
//   malformed-entry / malformed-change   not an object, no `changes` array, or no metadata.phone_number_id
//   malformed-message / malformed-status / malformed-contact   an item that is not an object or lacks its id
//   message-without-wa-id   neither a phone wa_id nor a business-scoped user id identifies the user
//   parse-error             defensive only; unreachable for anything JSON.parse produces
// Change-level payloads are webhook bodies narrowed to that one change, so they can be parsed again later
// (e.g. once `history` is supported); item-level payloads are the item itself.
import type { RawEventInput, Role } from '../domain/types.js';
import { describeMessage } from './describe.js';
import {
  asArray,
  firstError,
  id,
  isRecord,
  parseTimestamp,
  safeStringify,
  text,
  toUserId,
  toWaId,
  type Rec,
} from './values.js';
import type { BusinessNumber, ParsedContact, ParsedMessage, ParsedStatus, ParsedWebhook } from './types.js';

export const WHATSAPP_OBJECT = 'whatsapp_business_account';

export interface ParseOptions {
  /**
   * When the request arrived. Only used when a message or status has no usable `timestamp` and neither
   * the entry nor any sibling in the same change has one either. Without it the parser falls back to the
   * clock, which is the only impure thing it ever does.
   */
  receivedAt?: Date;
}

// Change fields whose `value` carries conversation data; everything else is kept raw.
// `history` (coexistence back-fill of up to 180 days) is deliberately NOT parsed: its messages would look
// like fresh inbound messages and wake the assistant for conversations that ended months ago, and its
// statuses come in another dialect (UPPERCASE, `history_context`). It is stored raw, replayable later.
const CONVERSATION_FIELDS = new Set(['messages', 'smb_message_echoes']);

// Keys of a conversation `value` this parser consumes; any other key is kept raw (`value-extra:<field>`).
const CONSUMED_VALUE_KEYS = new Set([
  'messaging_product',
  'metadata',
  'contacts',
  'messages',
  'message_echoes',
  'statuses',
  'errors',
]);

// ---------------------------------------------------------------------------------------------
// The walk over the notification.

interface ContactInfo {
  waId: string | null;
  userId: string | null;
  name: string | null;
}

interface ChangeContext {
  phoneNumberId: string;
  contacts: ContactInfo[];
  /** Best time for items without a usable timestamp of their own. */
  fallbackTime: () => Date;
}

class Collector {
  readonly messages: ParsedMessage[] = [];
  readonly statuses: ParsedStatus[] = [];
  readonly contacts = new Map<string, ParsedContact>();
  readonly businessNumbers = new Map<string, BusinessNumber>();
  readonly unknown: RawEventInput[] = [];

  raw(kind: string, payload: unknown, phoneNumberId: string | null = null, waId: string | null = null): void {
    this.unknown.push({ kind, phoneNumberId, waId, payload: safeStringify(payload) });
  }
}

/** A webhook body holding only `change` (and one entry): stored raw, it can be fed to the parser again. */
function narrowBody(object: unknown, entry: Rec, change: unknown): unknown {
  // Only the entry's id and time: any other entry key is kept once, as its own raw event
  // ('entry-extra'), not copied into every change (a large key times thousands of changes would
  // multiply one request into gigabytes).
  const small: Rec = {};
  if (isScalar(entry.id)) small.id = entry.id;
  if (isScalar(entry.time)) small.time = entry.time;
  return { object, entry: [{ ...small, changes: [change] }] };
}

function isScalar(v: unknown): boolean {
  return (typeof v === 'string' && v.length <= 64) || typeof v === 'number';
}

const ENVELOPE_KEYS = new Set(['object', 'entry']);
const ENTRY_KEYS = new Set(['id', 'time', 'changes']);

function phoneNumberIdOf(metadata: unknown): string | null {
  if (!isRecord(metadata)) return null;
  const raw =
    typeof metadata.phone_number_id === 'number' ? String(metadata.phone_number_id) : metadata.phone_number_id;
  return typeof raw === 'string' && /^\S{1,64}$/.test(raw.trim()) ? raw.trim() : null;
}

function readContacts(value: unknown): ContactInfo[] {
  return (asArray(value) ?? []).filter(isRecord).map((c) => ({
    waId: toWaId(c.wa_id),
    userId: toUserId(c.user_id),
    name: text(isRecord(c.profile) ? c.profile.name : null),
  }));
}

/**
 * The user's id for a message. `from` (inbound) or `to` (echo) is the phone-based wa_id. Users who adopted
 * a WhatsApp username may have no phone shared: then `from` is "" or absent and only the business-scoped
 * user id (`from_user_id` / `to_user_id`, mirrored in `contacts[].user_id`) identifies them; the Graph API
 * accepts that id as a recipient, so it is a usable thread key.
 */
function resolveUser(phoneField: unknown, userIdField: unknown, contacts: ContactInfo[]): string | null {
  const phone = toWaId(phoneField);
  if (phone) return phone;
  const userId = toUserId(userIdField);
  if (userId) {
    const contact = contacts.find((c) => c.userId === userId);
    return contact?.waId ?? userId;
  }
  // `from` unusable and no user id: a value carries the contact of the one user it is about.
  if (contacts.length === 1) {
    const only = contacts[0] as ContactInfo;
    return only.waId ?? only.userId;
  }
  return null;
}

function contactNameFor(waId: string, contacts: ContactInfo[]): string | null {
  return contacts.find((c) => c.waId === waId || c.userId === waId)?.name ?? null;
}

function parseMessage(out: Collector, item: unknown, role: Role, ctx: ChangeContext): void {
  if (!isRecord(item) || id(item.id) === null) {
    out.raw('malformed-message', item, ctx.phoneNumberId, null);
    return;
  }
  // Echoes are written by the business: the user is the recipient (`to`), not the sender.
  const waId =
    role === 'user'
      ? resolveUser(item.from, item.from_user_id, ctx.contacts)
      : resolveUser(item.to, item.to_user_id, ctx.contacts);
  if (waId === null) {
    out.raw('message-without-wa-id', item, ctx.phoneNumberId, null);
    return;
  }
  const described = describeMessage(item);
  out.messages.push({
    waId,
    contactName: contactNameFor(waId, ctx.contacts),
    role,
    type: described.type,
    content: described.content,
    wamid: item.id as string,
    phoneNumberId: ctx.phoneNumberId,
    createdAt: parseTimestamp(item.timestamp) ?? ctx.fallbackTime(),
    // Inbound messages have no delivery status; echoes get theirs from later status webhooks, if any.
    status: null,
    errorCode: described.errorCode,
    errorMessage: described.errorMessage,
    replyToWamid: described.replyToWamid,
    raw: safeStringify(item),
  });
}

function parseStatus(out: Collector, item: unknown, ctx: ChangeContext): void {
  const status = isRecord(item) ? text(item.status) : null;
  if (!isRecord(item) || id(item.id) === null || status === null) {
    out.raw('malformed-status', item, ctx.phoneNumberId, null);
    return;
  }
  // `recipient_id` is a wa_id, a group id (recipient_type "group"), or "" for username users.
  const recipientId = toWaId(item.recipient_id) ?? text(item.recipient_id) ?? toUserId(item.recipient_user_id);
  const error = firstError(item.errors);
  out.statuses.push({
    wamid: item.id as string,
    // Kept as sent: sent/delivered/read/failed/played, and whatever Meta adds (deleted, warning, …).
    status,
    occurredAt: parseTimestamp(item.timestamp) ?? ctx.fallbackTime(),
    recipientId,
    errorCode: error?.code ?? null,
    errorTitle: error?.title ?? null,
    errorDetails: error?.details ?? null,
    phoneNumberId: ctx.phoneNumberId,
    raw: safeStringify(item),
  });
}

function parseContacts(out: Collector, items: unknown[], phoneNumberId: string): void {
  for (const item of items) {
    if (!isRecord(item)) {
      out.raw('malformed-contact', item, phoneNumberId, null);
      continue;
    }
    const name = text(isRecord(item.profile) ? item.profile.name : null);
    if (name === null) continue; // nothing to learn: the wa_id is on the message/status itself
    const waId = toWaId(item.wa_id) ?? toUserId(item.user_id);
    if (waId === null) {
      out.raw('malformed-contact', item, phoneNumberId, null);
      continue;
    }
    const key = `${phoneNumberId}\u0000${waId}`;
    out.contacts.delete(key); // the latest name wins, in payload order
    out.contacts.set(key, { phoneNumberId, waId, name });
  }
}

/** Latest valid timestamp among the items of a value: a better stand-in than the clock. */
function latestTimestamp(value: Rec): Date | null {
  let latest: Date | null = null;
  for (const key of ['messages', 'message_echoes', 'statuses']) {
    for (const item of asArray(value[key]) ?? []) {
      const t = isRecord(item) ? parseTimestamp(item.timestamp) : null;
      if (t && (!latest || t > latest)) latest = t;
    }
  }
  return latest;
}

function firstContactWaId(value: unknown): string | null {
  if (!isRecord(value)) return null;
  for (const c of readContacts(value.contacts)) {
    if (c.waId ?? c.userId) return c.waId ?? c.userId;
  }
  return null;
}

function parseChange(
  out: Collector,
  object: unknown,
  entry: Rec,
  change: unknown,
  entryTime: Date | null,
  clock: () => Date,
): void {
  if (!isRecord(change)) {
    out.raw('malformed-change', narrowBody(object, entry, change));
    return;
  }
  const field = text(change.field);
  const value = change.value;
  const phoneNumberId = isRecord(value) ? phoneNumberIdOf(value.metadata) : null;

  if (phoneNumberId !== null && isRecord(value) && isRecord(value.metadata)) {
    const known = out.businessNumbers.get(phoneNumberId);
    const display = text(value.metadata.display_phone_number);
    const wabaId = text(entry.id);
    out.businessNumbers.set(phoneNumberId, {
      phoneNumberId,
      displayPhoneNumber: known?.displayPhoneNumber ?? display,
      wabaId: known?.wabaId ?? wabaId,
    });
  }

  if (field === null || !CONVERSATION_FIELDS.has(field)) {
    out.raw(`change:${field ?? 'unknown'}`, narrowBody(object, entry, change), phoneNumberId, firstContactWaId(value));
    return;
  }
  // Without metadata.phone_number_id nothing here can be attributed to a business: keep it whole.
  if (!isRecord(value) || phoneNumberId === null) {
    out.raw('malformed-change', narrowBody(object, entry, change), phoneNumberId, firstContactWaId(value));
    return;
  }

  const contacts = readContacts(value.contacts);
  let sibling: Date | null | undefined;
  const ctx: ChangeContext = {
    phoneNumberId,
    contacts,
    // Fallback order for a missing/invalid timestamp: entry.time, then the latest timestamp of the other
    // items of this change, then when the request was received (the clock only as a last resort).
    fallbackTime: () => {
      if (entryTime) return entryTime;
      if (sibling === undefined) sibling = latestTimestamp(value);
      return sibling ?? clock();
    },
  };

  const extra: Rec = {};
  const keep = (key: string) => {
    extra[key] = value[key];
  };
  for (const key of Object.keys(value)) {
    if (!CONSUMED_VALUE_KEYS.has(key)) keep(key);
  }

  const contactItems = asArray(value.contacts);
  if (contactItems) parseContacts(out, contactItems, phoneNumberId);
  else if (value.contacts !== undefined) keep('contacts');

  for (const [key, role] of [
    ['messages', 'user'],
    ['message_echoes', 'agent'],
  ] as const) {
    const items = asArray(value[key]);
    if (items) for (const item of items) parseMessage(out, item, role, ctx);
    else if (value[key] !== undefined) keep(key);
  }

  const statuses = asArray(value.statuses);
  if (statuses) for (const item of statuses) parseStatus(out, item, ctx);
  else if (value.statuses !== undefined) keep('statuses');

  // `value.errors`: problems not tied to one message (e.g. 130429 throughput). Stored raw with context.
  if (value.errors !== undefined && !(Array.isArray(value.errors) && value.errors.length === 0)) {
    const narrowed = {
      ...change,
      value: { messaging_product: value.messaging_product, metadata: value.metadata, errors: value.errors },
    };
    out.raw('errors', narrowBody(object, entry, narrowed), phoneNumberId, null);
  }
  if (Object.keys(extra).length > 0) {
    const narrowed = {
      ...change,
      value: { messaging_product: value.messaging_product, metadata: value.metadata, ...extra },
    };
    out.raw(`value-extra:${field}`, narrowBody(object, entry, narrowed), phoneNumberId, firstContactWaId(value));
  }
}

/**
 * Parses a WhatsApp Cloud API webhook body (already JSON-parsed). Never throws.
 *
 * When `isWhatsApp` is false (not a `whatsapp_business_account` notification, or `entry` is not an array)
 * every list is empty: the caller keeps the original body raw.
 */
export function parseWebhook(body: unknown, options: ParseOptions = {}): ParsedWebhook {
  try {
    return parseOrThrow(body, options);
  } catch {
    // Unreachable for anything JSON.parse produces (every part is guarded below); a hostile object
    // (throwing getters, proxies) is reported as "not understood", so the caller keeps the body raw.
    return {
      object: null,
      isWhatsApp: false,
      messages: [],
      statuses: [],
      contacts: [],
      businessNumbers: [],
      unknown: [],
    };
  }
}

function parseOrThrow(body: unknown, options: ParseOptions): ParsedWebhook {
  const object = isRecord(body) && typeof body.object === 'string' ? body.object : null;
  const entries = isRecord(body) ? asArray(body.entry) : null;
  if (object !== WHATSAPP_OBJECT || entries === null) {
    return { object, isWhatsApp: false, messages: [], statuses: [], contacts: [], businessNumbers: [], unknown: [] };
  }
  const out = new Collector();
  const envelopeExtra = Object.keys(body as Rec).filter((k) => !ENVELOPE_KEYS.has(k));
  if (envelopeExtra.length)
    out.raw('envelope-extra', Object.fromEntries(['object', ...envelopeExtra].map((k) => [k, (body as Rec)[k]])));
  let now: Date | null = null;
  const receivedAt =
    options.receivedAt instanceof Date && !Number.isNaN(options.receivedAt.getTime()) ? options.receivedAt : null;
  const clock = () => (now ??= receivedAt ?? new Date());

  for (const entry of entries) {
    try {
      if (!isRecord(entry) || !Array.isArray(entry.changes)) {
        out.raw('malformed-entry', { object, entry: [entry] });
        continue;
      }
      const entryTime = parseTimestamp(entry.time);
      const extra = Object.keys(entry).filter((k) => !ENTRY_KEYS.has(k) || (k !== 'changes' && !isScalar(entry[k])));
      if (extra.length)
        out.raw('entry-extra', {
          object,
          entry: [Object.fromEntries(['id', ...extra].filter((k) => k in entry).map((k) => [k, entry[k]]))],
        });
      for (const change of entry.changes) {
        // One broken change must not cost the others; parseChange only throws on inputs JSON cannot
        // produce (getters, proxies), but the ingester must never fail on a payload.
        const before = { m: out.messages.length, s: out.statuses.length, u: out.unknown.length };
        try {
          parseChange(out, object, entry, change, entryTime, clock);
        } catch (error) {
          out.messages.length = before.m;
          out.statuses.length = before.s;
          out.unknown.length = before.u;
          out.raw('parse-error', {
            error: String((error as Error)?.message ?? error).slice(0, 200),
            body: narrowBody(object, entry, change),
          });
        }
      }
    } catch (error) {
      out.raw('parse-error', {
        error: String((error as Error)?.message ?? error).slice(0, 200),
        body: { object, entry: [entry] },
      });
    }
  }

  return {
    object,
    isWhatsApp: true,
    messages: out.messages,
    statuses: out.statuses,
    contacts: [...out.contacts.values()],
    businessNumbers: [...out.businessNumbers.values()],
    unknown: out.unknown,
  };
}
