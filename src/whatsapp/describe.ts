// The content of one message object as readable text for reports: `[image] caption`,
// `[location] name (lat, lng)`, `[reaction 👍 to wamid…]`, interactive replies, orders, flows…
import { asArray, firstError, id, isRecord, safeStringify, text, toWaId, type Rec } from './values.js';

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

const MAX_EDIT_DEPTH = 3;

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
