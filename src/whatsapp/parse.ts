// WhatsApp Cloud API webhook → plain domain data. A pure function: no I/O, no clock (see `ParseOptions`).
//
// The one rule: nothing is dropped silently. Every part of a WhatsApp notification ends up as a message,
// a status, a contact, or a raw event in `unknown`; and nothing throws, whatever the input.
//
// Shapes handled (see /work/shared/WHATSAPP-FACTS.md §4 and the fixtures in test/fixtures/whatsapp/):
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
import { normalizeWaId } from '../domain/phone.js';
import type { RawEventInput, Role } from '../domain/types.js';
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

/** What a message says, independent of who sent it. */
export interface MessageDescription {
  /** The WhatsApp `type` (`unknown` when absent). Interactive subtypes go into `content`, not here. */
  type: string;
  /** Readable text for reports; never empty. */
  content: string;
  /** The message this one answers: `context.id`, the reacted message, or the edited/deleted message. */
  replyToWamid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
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

const MAX_EDIT_DEPTH = 3;

// ---------------------------------------------------------------------------------------------
// Small, total helpers: they accept anything and never throw.

type Rec = Record<string, unknown>;

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] | null {
  return Array.isArray(value) ? value : null;
}

/** A trimmed non-empty string, or null. Numbers are accepted where WhatsApp is known to mix them in. */
function text(value: unknown): string | null {
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? null : t;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A non-empty string kept exactly as sent (ids are opaque and case-sensitive). */
function id(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

const MAX_RAW_DEPTH = 64;

/** Whether `value` nests objects or arrays deeper than `limit` levels (it stops looking there). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (nestsDeeperThan(v, limit - 1)) return true;
  }
  return false;
}

function safeStringify(value: unknown): string {
  try {
    // Absurd nesting is cut at the same depth on every Node version: Node 20 overflows its stack
    // on it, Node 26 would store all of it.
    if (nestsDeeperThan(value, MAX_RAW_DEPTH)) return JSON.stringify(prune(value, 0, new Set())) ?? 'null';
    const json = JSON.stringify(value);
    return json === undefined ? 'null' : json;
  } catch {
    // Cycles and BigInt (from non-JSON callers). Keep the shallow part, where the ids are, and
    // mark what was cut.
    try {
      return JSON.stringify(prune(value, 0, new Set())) ?? 'null';
    } catch {
      return '"[unserializable]"';
    }
  }
}

function prune(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_RAW_DEPTH) return `[cut: nested deeper than ${MAX_RAW_DEPTH} levels]`;
  if (ancestors.has(value)) return '[circular]';
  ancestors.add(value);
  const copy = Array.isArray(value)
    ? value.map((v) => prune(v, depth + 1, ancestors))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, prune(v, depth + 1, ancestors)]));
  ancestors.delete(value);
  return copy;
}

/** A WhatsApp user id as stored: digits only; null when the value is not a phone number. */
export function toWaId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) value = String(value);
  if (typeof value !== 'string' || value.length > 40) return null;
  try {
    return normalizeWaId(value);
  } catch {
    return null;
  }
}

// Business-scoped user ids (2026): "US.13491208655302741918", "user.9373…"; up to 256 characters.
const BSUID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

function toUserId(value: unknown): string | null {
  return typeof value === 'string' && BSUID.test(value) ? value : null;
}

/**
 * WhatsApp timestamps are Unix *seconds*, usually as strings ("1749416383"), sometimes as numbers
 * (`entry[].time`, older payloads). Milliseconds are never sent, so an implausibly large value is
 * treated as invalid rather than guessed at.
 */
export function parseTimestamp(value: unknown): Date | null {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && /^\s*\d{1,11}(\.\d+)?\s*$/.test(value)) seconds = Number(value);
  else return null;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds >= 1e11) return null;
  return new Date(Math.round(seconds * 1000));
}

function errorCode(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value)) return Number(value);
  return null;
}

interface ErrorParts {
  code: number | null;
  title: string | null;
  details: string | null;
}

/**
 * The first error of an `errors[]`. Meta documents `{code, title, message, error_data:{details}}` but
 * real captures drop `title`/`href`, and old SDK fixtures put `details` at the top; `message` often
 * just repeats the title.
 */
function firstError(errors: unknown): ErrorParts | null {
  const first = asArray(errors)?.find(isRecord);
  if (!first) return null;
  const title = text(first.title) ?? text(first.message);
  const message = text(first.message);
  const details =
    text(isRecord(first.error_data) ? first.error_data.details : null) ??
    text(first.details) ??
    (message !== title ? message : null);
  return { code: errorCode(first.code), title, details };
}

// ---------------------------------------------------------------------------------------------
// Content of one message object.

function media(label: string, body: unknown): string {
  const caption = isRecord(body) ? text(body.caption) : null;
  return caption ? `[${label}] ${caption}` : `[${label}]`;
}

function describeLocation(loc: unknown): string {
  if (!isRecord(loc)) return '[location]';
  const place = [text(loc.name), text(loc.address)].filter((p): p is string => p !== null).join(', ');
  const lat = text(loc.latitude);
  const lng = text(loc.longitude);
  const where = lat !== null && lng !== null ? `(${lat}, ${lng})` : null;
  const parts = [place || null, where].filter((p): p is string => p !== null);
  if (parts.length === 0) {
    const url = text(loc.url);
    return url ? `[location] ${url}` : '[location]';
  }
  return `[location] ${parts.join(' ')}`;
}

function describeSharedContact(contact: unknown): string | null {
  if (!isRecord(contact)) return null;
  const name = isRecord(contact.name) ? contact.name : {};
  const fullName =
    text(name.formatted_name) ??
    ([text(name.first_name), text(name.last_name)].filter(Boolean).join(' ') || null) ??
    text(isRecord(contact.org) ? contact.org.company : null);
  // A shared contact's `phones[].wa_id` is set only when the number is on WhatsApp; prefer it because
  // `phone` is free text typed by whoever saved the contact ("+1 (415) 555-0829").
  const phones = (asArray(contact.phones) ?? [])
    .filter(isRecord)
    .map((p) => {
      const waId = toWaId(p.wa_id);
      return waId ? `+${waId}` : text(p.phone);
    })
    .filter((p): p is string => p !== null);
  if (!fullName && phones.length === 0) return null;
  return phones.length ? `${fullName ?? 'contact'} (${phones.join(', ')})` : (fullName as string);
}

function describeContacts(contacts: unknown): string {
  const described = (asArray(contacts) ?? []).map(describeSharedContact).filter((c): c is string => c !== null);
  return described.length ? `[contacts] ${described.join(', ')}` : '[contacts]';
}

/** Flow (`nfm_reply`) answers arrive as a JSON *string* inside the JSON; show the answers, not the token. */
function describeFlowReply(reply: Rec): string {
  const raw = reply.response_json;
  if (typeof raw === 'string') {
    try {
      const answers: unknown = JSON.parse(raw);
      if (isRecord(answers)) {
        const shown = Object.entries(answers)
          .filter(([key]) => key !== 'flow_token')
          .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : safeStringify(value)}`);
        if (shown.length) return `[flow] ${shown.join(', ')}`;
      }
    } catch {
      /* not JSON: fall back to the visible text below */
    }
  }
  const visible = text(reply.body) ?? text(reply.name);
  return visible ? `[flow] ${visible}` : '[flow]';
}

function describeInteractive(interactive: unknown): string {
  if (!isRecord(interactive)) return '[interactive]';
  const subtype = text(interactive.type);
  const reply = subtype !== null && isRecord(interactive[subtype]) ? (interactive[subtype] as Rec) : null;
  switch (subtype) {
    case 'button_reply': {
      const title = reply ? (text(reply.title) ?? text(reply.id)) : null;
      return title ? `[button] ${title}` : '[button]';
    }
    case 'list_reply': {
      const title = reply ? (text(reply.title) ?? text(reply.id)) : null;
      const description = reply ? text(reply.description) : null;
      if (!title) return '[list]';
      return description ? `[list] ${title} — ${description}` : `[list] ${title}`;
    }
    case 'nfm_reply':
      return reply ? describeFlowReply(reply) : '[flow]';
    case 'call_permission_reply': {
      const response = reply ? text(reply.response) : null;
      return response ? `[call permission] ${response}` : '[call permission]';
    }
    case null:
      return '[interactive]';
    default: {
      const title = reply ? (text(reply.title) ?? text(reply.body)) : null;
      return title ? `[interactive ${subtype}] ${title}` : `[interactive ${subtype}]`;
    }
  }
}

function describeOrder(order: unknown): string {
  if (!isRecord(order)) return '[order]';
  const items = (asArray(order.product_items) ?? []).filter(isRecord).map((item) => {
    const product = text(item.product_retailer_id) ?? 'item';
    const quantity = text(item.quantity);
    const price = text(item.item_price);
    const currency = text(item.currency);
    const priced = price ? ` @ ${price}${currency ? ` ${currency}` : ''}` : '';
    return `${quantity ? `${quantity} × ` : ''}${product}${priced}`;
  });
  const note = text(order.text);
  const head = `[order] ${items.length} item${items.length === 1 ? '' : 's'}`;
  return `${head}${items.length ? `: ${items.join(', ')}` : ''}${note ? ` — ${note}` : ''}`;
}

function describeReaction(reaction: unknown): string {
  const target = isRecord(reaction) ? id(reaction.message_id) : null;
  // A removed reaction arrives as a reaction without `emoji`, or with an empty one.
  const emoji = isRecord(reaction) ? text(reaction.emoji) : null;
  if (emoji) return target ? `[reaction ${emoji} to ${target}]` : `[reaction ${emoji}]`;
  return target ? `[reaction removed from ${target}]` : '[reaction removed]';
}

function describeReferral(referral: Rec): string {
  const source = text(referral.source_type) ?? 'ad';
  const what = text(referral.headline) ?? text(referral.body) ?? text(referral.source_url) ?? text(referral.source_id);
  return what ? `[via ${source}: ${what}]` : `[via ${source}]`;
}

/** Type, readable content, reply target and error of one message object (inbound or echo). */
export function describeMessage(message: unknown): MessageDescription {
  return describeAt(message, 0);
}

function describeAt(message: unknown, depth: number): MessageDescription {
  const m: Rec = isRecord(message) ? message : {};
  const type = text(m.type) ?? 'unknown';
  const body = m[type];
  const error = firstError(m.errors);
  let replyToWamid = isRecord(m.context) ? id(m.context.id) : null;
  let content: string;

  switch (type) {
    case 'text':
      content = (isRecord(body) ? text(body.body) : null) ?? '[text]';
      break;
    case 'image':
    case 'video':
      content = media(type, body);
      break;
    case 'audio':
      // Push-to-talk recordings are audio with `voice: true`.
      content = isRecord(body) && body.voice === true ? '[voice]' : '[audio]';
      break;
    case 'document': {
      const filename = isRecord(body) ? text(body.filename) : null;
      const caption = isRecord(body) ? text(body.caption) : null;
      const parts = [filename, caption].filter((p): p is string => p !== null);
      content = parts.length ? `[document] ${parts.join(' — ')}` : '[document]';
      break;
    }
    case 'sticker':
      content = '[sticker]';
      break;
    case 'location':
      content = describeLocation(body);
      break;
    case 'contacts':
      content = describeContacts(body);
      break;
    case 'interactive':
      content = describeInteractive(body);
      break;
    case 'button': {
      // A quick-reply button of a template: `text` is what the user saw, `payload` what the business set.
      const label = isRecord(body) ? (text(body.text) ?? text(body.payload)) : null;
      content = label ? `[button] ${label}` : '[button]';
      break;
    }
    case 'reaction':
      content = describeReaction(body);
      replyToWamid = (isRecord(body) ? id(body.message_id) : null) ?? replyToWamid;
      break;
    case 'order':
      content = describeOrder(body);
      break;
    case 'system': {
      const said = isRecord(body) ? (text(body.body) ?? text(body.type)) : null;
      content = said ? `[system] ${said}` : '[system]';
      break;
    }
    case 'edit': {
      // An edit is a new message (new wamid) that points at the original and carries the new content.
      const original = isRecord(body) ? id(body.original_message_id) : null;
      const inner =
        isRecord(body) && isRecord(body.message) && depth < MAX_EDIT_DEPTH
          ? describeAt(body.message, depth + 1).content
          : null;
      content = `[edit${original ? ` of ${original}` : ''}]${inner ? ` ${inner}` : ''}`;
      replyToWamid = original ?? replyToWamid;
      break;
    }
    case 'revoke': {
      const original = isRecord(body) ? id(body.original_message_id) : null;
      content = original ? `[deleted ${original}]` : '[deleted]';
      replyToWamid = original ?? replyToWamid;
      break;
    }
    case 'unsupported':
    case 'unknown': {
      // Newer API: `unsupported` (+ `unsupported.type`); older API: `unknown`. Both carry error 131051.
      const subtype = isRecord(body) ? text(body.type) : null;
      content = `[${type}]${error?.title ? ` ${error.title}` : ''}${subtype ? ` (${subtype})` : ''}`;
      break;
    }
    default:
      content = `[${type}]`;
  }

  // Click-to-WhatsApp ads: the first message of the conversation carries the ad it came from.
  if (isRecord(m.referral)) content = `${content} ${describeReferral(m.referral)}`;
  // Group messages (2025+) come from a participant; say so, they are not part of a 1:1 chat.
  const group = id(m.group_id);
  if (group) content = `[group ${group}] ${content}`;

  const errorMessage = error
    ? [error.title, error.details].filter((p, i, all): p is string => p !== null && all.indexOf(p) === i).join(': ') ||
      null
    : null;
  return { type, content, replyToWamid, errorCode: error?.code ?? null, errorMessage };
}

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
