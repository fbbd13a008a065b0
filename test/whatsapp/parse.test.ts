import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeMessage } from '../../src/whatsapp/describe.js';
import { parseWebhook } from '../../src/whatsapp/parse.js';
import { parseTimestamp } from '../../src/whatsapp/values.js';
import type { ParsedWebhook } from '../../src/whatsapp/types.js';
import { mulberry32 } from '../../src/domain/random.js';

// Real payloads from public projects; see test/fixtures/whatsapp/README.md for where each came from.
const FIXTURES = fileURLToPath(new URL('../fixtures/whatsapp/', import.meta.url));
const WABA = 'whatsapp_business_account';

type Json = unknown;
type Rec = Record<string, unknown>;
/** A notification as far as these tests reach into it: its first entry's first change's first message. */
type FirstMessage = { entry: [{ changes: [{ value: { messages: [unknown] } }] }] };

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) return listJson(full);
    return d.name.endsWith('.json') ? [full] : [];
  });
}

const allFiles = listJson(FIXTURES)
  .map((f) => path.relative(FIXTURES, f).split(path.sep).join('/'))
  .sort();
// api-examples/ are Meta's send-message request/response bodies, not webhooks.
const webhookFiles = allFiles.filter((f) => !f.startsWith('api-examples/'));
const apiExampleFiles = allFiles.filter((f) => f.startsWith('api-examples/'));

function load(rel: string): Json {
  return JSON.parse(readFileSync(path.join(FIXTURES, rel), 'utf8'));
}

function parseFixture(rel: string): ParsedWebhook {
  return parseWebhook(load(rel), { receivedAt: RECEIVED_AT });
}

const RECEIVED_AT = new Date('2030-01-01T00:00:00Z');

// ---------------------------------------------------------------------------------------------
// An independent walk over the JSON: where WhatsApp puts message and status objects.

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const idOf = (v: unknown): string | null => (isRec(v) && typeof v.id === 'string' ? v.id : null);

interface Ids {
  messages: string[];
  statuses: string[];
}

function idsInBody(body: unknown): Ids {
  const ids: Ids = { messages: [], statuses: [] };
  if (!isRec(body)) return ids;
  for (const entry of arr(body.entry)) {
    if (!isRec(entry)) continue;
    for (const change of arr(entry.changes)) {
      const value = isRec(change) ? change.value : null;
      if (!isRec(value)) continue;
      for (const m of [...arr(value.messages), ...arr(value.message_echoes)]) {
        const id = idOf(m);
        if (id !== null) ids.messages.push(id);
      }
      for (const h of arr(value.history)) {
        for (const t of isRec(h) ? arr(h.threads) : []) {
          for (const m of isRec(t) ? arr(t.messages) : []) {
            const id = idOf(m);
            if (id !== null) ids.messages.push(id);
          }
        }
      }
      for (const s of arr(value.statuses)) {
        const id = idOf(s);
        if (id !== null) ids.statuses.push(id);
      }
    }
  }
  return ids;
}

/** Where every id ended up: parsed messages/statuses, or inside a raw event. */
function idsInResult(result: ParsedWebhook): Ids {
  const ids: Ids = {
    messages: result.messages.map((m) => m.wamid ?? '<null>'),
    statuses: result.statuses.map((s) => s.wamid),
  };
  for (const u of result.unknown) {
    const payload: unknown = JSON.parse(u.payload);
    if (u.kind === 'malformed-message' || u.kind === 'message-without-wa-id') {
      const id = idOf(payload);
      if (id !== null) ids.messages.push(id);
    } else if (u.kind === 'malformed-status') {
      const id = idOf(payload);
      if (id !== null) ids.statuses.push(id);
    } else if (u.kind === 'parse-error') {
      const inner = idsInBody(isRec(payload) ? payload.body : null);
      ids.messages.push(...inner.messages);
      ids.statuses.push(...inner.statuses);
    } else if (u.kind !== 'malformed-contact') {
      const inner = idsInBody(payload);
      ids.messages.push(...inner.messages);
      ids.statuses.push(...inner.statuses);
    }
  }
  return ids;
}

const sorted = (xs: string[]) => [...xs].sort();

const BAD_TEXT = /undefined|\[object Object\]|NaN/;
const WA_ID = /^\d{6,15}$/;
const BSUID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

/** What every result must satisfy, whatever the input (also used by the fuzz test). */
function checkShape(result: ParsedWebhook): void {
  for (const key of ['messages', 'statuses', 'contacts', 'businessNumbers', 'unknown'] as const) {
    expect(Array.isArray(result[key]), key).toBe(true);
  }
  for (const m of result.messages) {
    expect(typeof m.content).toBe('string');
    expect(m.content.length).toBeGreaterThan(0);
    expect(m.content).not.toMatch(BAD_TEXT);
    expect(typeof m.waId).toBe('string');
    expect(WA_ID.test(m.waId) || BSUID.test(m.waId), m.waId).toBe(true);
    expect(['user', 'agent']).toContain(m.role);
    expect(typeof m.type).toBe('string');
    expect(m.type.length).toBeGreaterThan(0);
    expect(typeof m.wamid).toBe('string');
    expect(typeof m.phoneNumberId).toBe('string');
    expect(m.phoneNumberId.length).toBeGreaterThan(0);
    expect(m.createdAt).toBeInstanceOf(Date);
    expect(Number.isNaN(m.createdAt.getTime())).toBe(false);
    expect(m.status).toBeNull();
    expect(typeof m.raw).toBe('string');
    expect(m.contactName === null || (typeof m.contactName === 'string' && m.contactName.length > 0)).toBe(true);
  }
  for (const s of result.statuses) {
    expect(typeof s.wamid).toBe('string');
    expect(typeof s.status).toBe('string');
    expect(s.status.length).toBeGreaterThan(0);
    expect(Number.isNaN(s.occurredAt.getTime())).toBe(false);
    expect(typeof s.raw).toBe('string');
    expect(typeof s.phoneNumberId).toBe('string');
  }
  for (const c of result.contacts) {
    expect(c.name).toBe(c.name.trim());
    expect(c.name.length).toBeGreaterThan(0);
    expect(WA_ID.test(c.waId) || BSUID.test(c.waId)).toBe(true);
  }
  for (const u of result.unknown) {
    expect(typeof u.kind).toBe('string');
    expect(typeof u.payload).toBe('string');
    expect(() => JSON.parse(u.payload)).not.toThrow();
  }
  if (!result.isWhatsApp) {
    expect(result.messages.length + result.statuses.length + result.contacts.length + result.unknown.length).toBe(0);
  }
}

function checkNothingLost(body: unknown, result: ParsedWebhook): void {
  if (!result.isWhatsApp) return;
  const expected = idsInBody(body);
  const got = idsInResult(result);
  expect(sorted(got.messages)).toEqual(sorted(expected.messages));
  expect(sorted(got.statuses)).toEqual(sorted(expected.statuses));
}

// ---------------------------------------------------------------------------------------------

describe('fixtures', () => {
  it('are all there (a clean clone must carry them)', () => {
    expect(webhookFiles.length).toBe(220);
    expect(apiExampleFiles.length).toBe(4);
  });

  it.each(webhookFiles)('%s: every message and status comes out exactly once, readable', (rel) => {
    const body = load(rel);
    const before = JSON.stringify(body);
    const result = parseWebhook(body, { receivedAt: RECEIVED_AT });
    expect(JSON.stringify(body)).toBe(before); // the input is not touched
    checkShape(result);
    checkNothingLost(body, result);
    // Pure: the same input gives the same output.
    expect(parseWebhook(body, { receivedAt: RECEIVED_AT })).toEqual(result);
    // Each message's raw is exactly its own object.
    for (const m of result.messages) expect(idOf(JSON.parse(m.raw as string))).toBe(m.wamid);
    for (const s of result.statuses) expect(idOf(JSON.parse(s.raw as string))).toBe(s.wamid);
  });

  it('covers the whole corpus: counts of parsed messages/statuses and of what was kept raw', () => {
    let messages = 0;
    let statuses = 0;
    const kinds = new Map<string, number>();
    for (const rel of webhookFiles) {
      const r = parseFixture(rel);
      messages += r.messages.length;
      statuses += r.statuses.length;
      for (const u of r.unknown) kinds.set(u.kind, (kinds.get(u.kind) ?? 0) + 1);
    }
    // 114 message objects in the corpus = 91 parsed + 18 kept raw as `message-without-wa-id` (netflie's
    // placeholder senders "PHONE_NUMBER"/"WHATSAPP_ID" and the one system message without any user id: no
    // thread is invented for them) + 5 inside `history` changes (kept raw as change:history).
    // 33 status objects = 32 parsed + 1 call status inside a `calls` change (kept raw as change:calls).
    expect({ messages, statuses }).toEqual({ messages: 91, statuses: 32 });
    expect(kinds.get('message-without-wa-id')).toBe(18);
    expect(kinds.get('change:history')).toBe(2);
    expect(kinds.has('parse-error')).toBe(false);
    expect(kinds.has('malformed-message')).toBe(false);
  });

  it('every message object of the corpus has a readable description, even when its sender is unusable', () => {
    for (const rel of webhookFiles) {
      const ids = idsInBody(load(rel));
      if (ids.messages.length === 0) continue;
      const body = load(rel) as Rec;
      for (const entry of arr(body.entry)) {
        for (const change of isRec(entry) ? arr(entry.changes) : []) {
          const value = isRec(change) && isRec(change.value) ? change.value : {};
          for (const m of [...arr(value.messages), ...arr(value.message_echoes)]) {
            const d = describeMessage(m);
            expect(d.content.length, rel).toBeGreaterThan(0);
            expect(d.content, rel).not.toMatch(BAD_TEXT);
          }
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

function only(result: ParsedWebhook) {
  expect(result.messages).toHaveLength(1);
  return result.messages[0]!;
}

function messageOf(rel: string) {
  return only(parseFixture(rel));
}

describe('message types', () => {
  it('text: body, sender, profile name, business number, time, raw', () => {
    const body = load('pywa/message__text.json') as Rec;
    const r = parseWebhook(body);
    const m = only(r);
    expect(m).toMatchObject({
      waId: '972987654321',
      contactName: 'Test Name',
      role: 'user',
      type: 'text',
      content: 'Body Text',
      wamid: 'wamid.xyzxyz',
      phoneNumberId: '1122334455667',
      status: null,
      replyToWamid: null,
      errorCode: null,
      errorMessage: null,
    });
    expect(m.createdAt.toISOString()).toBe(new Date(1697043223 * 1000).toISOString());
    expect(JSON.parse(m.raw as string)).toEqual({
      from: '972987654321',
      id: 'wamid.xyzxyz',
      timestamp: '1697043223',
      text: { body: 'Body Text' },
      type: 'text',
    });
    expect(r.contacts).toEqual([{ phoneNumberId: '1122334455667', waId: '972987654321', name: 'Test Name' }]);
    expect(r.businessNumbers).toEqual([
      { phoneNumberId: '1122334455667', displayPhoneNumber: '972123456789', wabaId: expect.any(String) },
    ]);
    expect(r.unknown).toEqual([]);
  });

  it('a real capture (heyoo) and a reply keep context.id', () => {
    expect(messageOf('heyoo/data.json')).toMatchObject({
      waId: '255757294146',
      contactName: 'Jordan Kalebu',
      content: 'Hi',
      phoneNumberId: '104469288944395',
    });
    expect(messageOf('pywa/message__reply.json')).toMatchObject({
      content: 'replied text',
      replyToWamid: 'wamid.xyzxyz==',
    });
    expect(messageOf('meta-docs/text__block03.json')).toMatchObject({
      content: 'Is this still available?',
      replyToWamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA',
    });
  });

  it('media: image, video, audio, voice, document, sticker', () => {
    expect(messageOf('meta-docs/image__block02.json')).toMatchObject({ type: 'image', content: '[image] Taj Mahal' });
    expect(messageOf('pywa/message__image.json')).toMatchObject({ type: 'image', content: '[image]' });
    expect(messageOf('pywa/message__video.json')).toMatchObject({ type: 'video', content: '[video] caption' });
    expect(messageOf('pywa/message__audio.json')).toMatchObject({ type: 'audio', content: '[audio]' });
    expect(messageOf('pywa/message__voice.json')).toMatchObject({ type: 'audio', content: '[voice]' });
    expect(messageOf('meta-docs/audio__block02.json')).toMatchObject({ content: '[voice]' });
    expect(messageOf('meta-docs/document__block02.json')).toMatchObject({
      type: 'document',
      content: '[document] receipt.pdf — my receipt',
    });
    expect(messageOf('whatsapp-business-java-api/documentMessage.json')).toMatchObject({
      content: '[document] 4_641947.pdf',
    });
    expect(messageOf('pywa/message__animated_sticker.json')).toMatchObject({ type: 'sticker', content: '[sticker]' });
  });

  it('location with and without a name', () => {
    expect(messageOf('meta-docs/location__block02.json').content).toBe(
      '[location] Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.44221496582, -122.16165924072)',
    );
    expect(messageOf('pywa/message__current_location.json').content).toBe('[location] (12.25089, 43.90539)');
  });

  it('shared contacts', () => {
    expect(messageOf('meta-docs/contacts__block02.json').content).toBe('[contacts] Barbara J. Johnson (+14125550829)');
    expect(messageOf('pywa/message__contacts.json').content).toBe(
      '[contacts] Chandler Bing (+972987654321), Monica (+972987654321), Rachel Green (+972987654321)',
    );
    // Placeholder numbers are shown as sent rather than dropped.
    const netflie = describeMessage(
      (load('netflie-whatsapp-cloud-api/build_from_payload_can_build_a_contact_notification.json') as FirstMessage)
        .entry[0].changes[0].value.messages[0],
    );
    expect(netflie.content).toBe('[contacts] CONTACT_FORMATTED_NAME (CONTACT_PHONE)');
  });

  it('interactive: button_reply, list_reply, nfm_reply (flow), call_permission_reply, missing body', () => {
    expect(messageOf('meta-docs/interactive-reply-buttons-messages__block05.json')).toMatchObject({
      type: 'interactive',
      content: '[button] Change',
      replyToWamid: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA',
    });
    expect(messageOf('meta-docs/interactive-list-messages__block04.json')).toMatchObject({
      type: 'interactive',
      content: '[list] Priority Mail Express — Next Day to 2 Days',
    });
    expect(messageOf('pywa/callback_selection__callback.json').content).toBe('[list] title');
    const flow = messageOf('pywa/flow_completion__completion.json');
    expect(flow.type).toBe('interactive');
    expect(flow.content).toBe(
      '[flow] comment_text: Comment Text, delivery_rating: 4, purchase_rating: 2, recommend_radio: 0, cs_rating: 0',
    );
    expect(flow.replyToWamid).toBe('wamid.gvwegfretge==');
    expect(messageOf('pywa/call_permission_update__reject.json').content).toBe('[call permission] reject');
    expect(messageOf('pywa/message__interactive_message_with_err.json').content).toBe('[interactive]');
    expect(
      describeMessage({
        type: 'interactive',
        interactive: { type: 'nfm_reply', nfm_reply: { response_json: 'not json', body: 'Sent' } },
      }).content,
    ).toBe('[flow] Sent');
    expect(
      describeMessage({
        type: 'interactive',
        interactive: { type: 'product_reply', product_reply: { title: 'Shoes' } },
      }).content,
    ).toBe('[interactive product_reply] Shoes');
  });

  it('template quick-reply button', () => {
    expect(messageOf('meta-docs/button__block02.json')).toMatchObject({
      type: 'button',
      content: '[button] Unsubscribe',
      replyToWamid: 'wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=',
    });
  });

  it('reactions point at the reacted message; an empty or missing emoji is a removal', () => {
    const target = 'wamid.HBgNMTU1NTEyMzQ1NjcVAgASGBQzQUYwMDAwMDAwMDAwMDAwMDAA';
    expect(messageOf('vercel-chat/sample_messages__reaction.json')).toMatchObject({
      type: 'reaction',
      content: `[reaction 👍 to ${target}]`,
      replyToWamid: target,
    });
    // Captured with \ud83d\udc4d escapes, as Meta sends them.
    expect(messageOf('whatsapp-business-java-api/reactMessage.json').content).toMatch(/^\[reaction 👍 to wamid\./);
    for (const rel of ['pywa/message__unreaction_empty.json', 'pywa/message__unreaction_no_emoji.json']) {
      expect(messageOf(rel)).toMatchObject({
        content: '[reaction removed from wamid.yzxyzx=]',
        replyToWamid: 'wamid.yzxyzx=',
      });
    }
  });

  it('order', () => {
    expect(messageOf('meta-docs/order__block02.json').content).toBe(
      '[order] 2 items: 2 × di9ozbzfi4 @ 30 USD, 1 × nqryix03ez @ 25 USD — Love these!',
    );
    expect(messageOf('pywa/message__order.json').content).toBe(
      '[order] 3 items: 3 × HAMBURGER @ 30 ILS, 2 × FRENCH_FRIES @ 35 ILS, 2 × SODA @ 10 ILS',
    );
  });

  it('system messages', () => {
    expect(messageOf('meta-docs/system__block02.json')).toMatchObject({
      type: 'system',
      content: '[system] User Sheena Nelson changed from 16505551234 to 12195555358',
      waId: '16505551234',
    });
    expect(messageOf('pywa/system__identity_change.json').content).toBe('[system] User identity changed');
  });

  it('referral: a text message from a Click-to-WhatsApp ad', () => {
    expect(messageOf('meta-docs/text__block04.json')).toMatchObject({
      type: 'text',
      content: 'Can I get more info about this? [via ad: Chat with us]',
    });
  });

  it('unsupported / unknown carry the message-level error', () => {
    expect(messageOf('pywa/message__unsupported_with_type.json')).toMatchObject({
      type: 'unsupported',
      content: '[unsupported] Message type unknown (pool)',
      errorCode: 131051,
      errorMessage: 'Message type unknown: Message type is currently not supported.',
    });
    expect(messageOf('whatsapp-business-java-api/messageDeleted.json')).toMatchObject({
      content: '[unsupported] Message type unknown',
      errorCode: 131051,
    });
    // Older API: type "unknown", `details` at the top of the error.
    const old = (
      load('netflie-whatsapp-cloud-api/build_from_payload_can_build_an_unknown_notification.json') as FirstMessage
    ).entry[0].changes[0].value.messages[0];
    expect(describeMessage(old)).toMatchObject({
      type: 'unknown',
      content: '[unknown] Unsupported message type',
      errorCode: 131051,
      errorMessage: 'Unsupported message type: Message type is not currently supported',
    });
  });

  it('edits and deletions point at the original message', () => {
    const original = 'wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=';
    expect(messageOf('meta-docs-kapso/onboarding-business-app-users__block12.json')).toMatchObject({
      type: 'edit',
      content: `[edit of ${original}] [image] Updated image caption`,
      replyToWamid: original,
    });
    expect(messageOf('meta-docs-kapso/onboarding-business-app-users__block14.json')).toMatchObject({
      type: 'revoke',
      content: `[deleted ${original}]`,
      replyToWamid: original,
    });
  });

  it('types not known yet become "[<type>]" and are still stored', () => {
    expect(messageOf('pywa/chat_opened__chat_opened.json')).toMatchObject({
      type: 'request_welcome',
      content: '[request_welcome]',
    });
    const body = bodyWith({
      messages: [
        {
          from: '34612345678',
          id: 'wamid.FUTURE',
          timestamp: '1750000000',
          type: 'poll_vote',
          poll_vote: { option: 2 },
        },
      ],
    });
    expect(only(parseWebhook(body))).toMatchObject({
      type: 'poll_vote',
      content: '[poll_vote]',
      wamid: 'wamid.FUTURE',
    });
    expect(describeMessage({ id: 'x' })).toMatchObject({ type: 'unknown', content: '[unknown]' });
    expect(describeMessage('nonsense')).toMatchObject({ type: 'unknown', content: '[unknown]' });
  });

  it('group messages say they come from a group', () => {
    expect(messageOf('meta-docs/group__block02.json').content).toBe(
      '[group HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA] What does everyone think about this?',
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** A minimal `messages` notification around `value` (metadata added). */
function bodyWith(value: Rec, extra: { field?: string; time?: unknown } = {}): Rec {
  return {
    object: WABA,
    entry: [
      {
        id: 'WABA1',
        ...(extra.time !== undefined ? { time: extra.time } : {}),
        changes: [
          {
            field: extra.field ?? 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: 'PNID1' },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

describe('echoes, identities and contacts', () => {
  it("business echoes are agent messages in the user's thread (`to`, not `from`)", () => {
    const m = messageOf('meta-docs/smb_message_echoes__block02.json');
    expect(m).toMatchObject({
      role: 'agent',
      waId: '16505551234',
      type: 'text',
      content: "Here's the info you requested! https://www.meta.com/quest/quest-3/",
      phoneNumberId: '106540352242922',
      status: null,
    });
    // Placeholder `to`: the user is the one contact of the value.
    expect(messageOf('pywa/outgoing_message__text.json')).toMatchObject({
      role: 'agent',
      waId: '972987654321',
      contactName: 'Test Name',
      content: 'Test message',
    });
    expect(messageOf('pywa/outgoing_message__edit.json')).toMatchObject({
      role: 'agent',
      type: 'edit',
      content: '[edit of wamid.zzzzzz] Text was edited',
    });
  });

  it('username users without a phone number are keyed by their business-scoped user id', () => {
    expect(messageOf('meta-docs/business-scoped-user-ids__block24.json')).toMatchObject({
      waId: 'user.93737...',
      contactName: 'Sheena Nelson',
    });
    // When both are there the phone-based wa_id wins.
    expect(messageOf('vercel-chat/sample_messages__text_message_with_business_scoped_user_ids.json')).toMatchObject({
      waId: '15551234567',
      contactName: 'Test User',
    });
    const status = parseFixture('meta-docs/business-scoped-user-ids__block22.json').statuses[0]!;
    expect(status.recipientId).toBe('user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6');
  });

  it('a message whose sender cannot be identified is kept raw, not invented', () => {
    const r = parseFixture('vercel-chat/sample_messages__system_message_user_changed_user_id.json');
    expect(r.messages).toEqual([]);
    expect(r.unknown.map((u) => u.kind)).toEqual(['message-without-wa-id']);
    expect(JSON.parse(r.unknown[0]!.payload)).toMatchObject({
      id: 'wamid.HBgNMTU1NTEyMzQ1NjcVAgASGBQzQUYwMDAwMDAwMDAwMDAwMDAD',
      type: 'system',
    });
  });

  it('wa_ids are normalised to digits; contact names trimmed; nameless contacts not emitted', () => {
    const r = parseWebhook(
      bodyWith({
        contacts: [
          { profile: { name: '  Ana López  ' }, wa_id: '+34 612-34-56-78' },
          { wa_id: '447700900123' },
          { profile: { name: '   ' }, wa_id: '15551234567' },
        ],
        messages: [
          { from: '+34 612-34-56-78', id: 'wamid.A', timestamp: '1750000000', type: 'text', text: { body: 'hola' } },
          { from: '447700900123', id: 'wamid.B', timestamp: '1750000001', type: 'text', text: { body: 'hi' } },
        ],
      }),
    );
    expect(r.messages.map((m) => [m.waId, m.contactName])).toEqual([
      ['34612345678', 'Ana López'],
      ['447700900123', null],
    ]);
    expect(r.contacts).toEqual([{ phoneNumberId: 'PNID1', waId: '34612345678', name: 'Ana López' }]);
    expect(r.unknown).toEqual([]);
  });

  it('batches: several entries, changes, messages and statuses in one POST', () => {
    const parts = [
      'pywa/message__text.json',
      'meta-docs/image__block02.json',
      'whatsapp-business-java-api/reEngagementMessageError.json',
      'meta-docs/smb_message_echoes__block02.json',
      'pywa/account_update__account_deleted.json',
    ];
    const bodies = parts.map((p) => load(p) as Rec);
    const merged = { object: WABA, entry: bodies.flatMap((b) => b.entry as unknown[]) };
    const r = parseWebhook(merged);
    expect(r.messages.map((m) => m.content)).toEqual([
      'Body Text',
      '[image] Taj Mahal',
      "Here's the info you requested! https://www.meta.com/quest/quest-3/",
    ]);
    expect(r.statuses.map((s) => s.errorCode)).toEqual([131047]);
    expect(r.unknown.map((u) => u.kind)).toEqual(['change:account_update']);
    expect(r.businessNumbers.map((b) => b.phoneNumberId)).toEqual([
      '1122334455667',
      '106540352242922',
      '109999999999999',
    ]);
    // Messages and statuses in the same value.
    const mixed = parseWebhook(
      bodyWith({
        messages: [{ from: '34612345678', id: 'wamid.IN', timestamp: '1750000000', type: 'text', text: { body: 'a' } }],
        statuses: [{ id: 'wamid.OUT', status: 'read', timestamp: '1750000001', recipient_id: '34612345678' }],
      }),
    );
    expect([mixed.messages.length, mixed.statuses.length]).toEqual([1, 1]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('statuses', () => {
  it('failed 131047 (re-engagement) with title and details', () => {
    const r = parseFixture('whatsapp-business-java-api/reEngagementMessageError.json');
    expect(r.statuses).toEqual([
      {
        wamid: 'wamid.HBgNN5NzAzMDkTUyNzkzNhUEjA1MjUwNCAUIyNEYUQ0OTVGNTY0MwA=',
        status: 'failed',
        occurredAt: new Date(1682651887 * 1000),
        recipientId: '5511111111111',
        errorCode: 131047,
        errorTitle: 'Re-engagement message',
        errorDetails:
          'Message failed to send because more than 24 hours have passed ' +
          'since the customer last replied to this number.',
        phoneNumberId: '109999999999999',
        raw: expect.any(String),
      },
    ]);
  });

  it('failed 131026 as really captured (different title, no href)', () => {
    const s = parseFixture('github-issues/restfb-issue-1344__status_failed_131026.json').statuses[0]!;
    expect(s).toMatchObject({
      status: 'failed',
      errorCode: 131026,
      errorTitle: 'Receiver is incapable of receiving this message',
      errorDetails: 'Message Undeliverable.',
      recipientId: 'REDACTED',
    });
    // Only a title (netflie): details stay null.
    expect(
      parseFixture('netflie-whatsapp-cloud-api/build_from_payload_can_build_a_status_notification_with_errors.json')
        .statuses[0],
    ).toMatchObject({ errorCode: 131053, errorTitle: 'ERROR_TITLE', errorDetails: null });
  });

  it('sent / delivered / read / played; pricing and conversation stay in raw', () => {
    const sent = parseFixture('pywa/message_status__sent.json').statuses[0]!;
    expect(sent).toMatchObject({
      status: 'sent',
      recipientId: '972987654321',
      errorCode: null,
      errorTitle: null,
      errorDetails: null,
    });
    expect(JSON.parse(sent.raw as string)).toMatchObject({
      pricing: { category: 'service' },
      conversation: { id: '7270432eae37498234f4444b35ffc5' },
    });
    expect(parseFixture('pywa/message_status__delivered.json').statuses[0]!.status).toBe('delivered');
    expect(parseFixture('whatsapp-business-java-api/textMessageStatusRead.json').statuses[0]!.status).toBe('read');
    expect(parseFixture('pywa/message_status__played.json').statuses[0]!.status).toBe('played');
    expect(parseFixture('pywa/message_status__group.json').statuses[0]!.recipientId).toBe('fowefinoewcnw');
  });

  it('unknown statuses are kept as sent; statuses without id or status are kept raw', () => {
    const r = parseWebhook(
      bodyWith({
        statuses: [
          { id: 'wamid.1', status: 'deleted', timestamp: '1750000000', recipient_id: '34612345678' },
          { id: 'wamid.2', status: 'warning', timestamp: '1750000000', recipient_id: '34612345678' },
          { status: 'read', timestamp: '1750000000' },
          { id: 'wamid.3', timestamp: '1750000000' },
        ],
      }),
    );
    expect(r.statuses.map((s) => s.status)).toEqual(['deleted', 'warning']);
    expect(r.unknown.map((u) => u.kind)).toEqual(['malformed-status', 'malformed-status']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('everything else is kept raw', () => {
  it('other change fields become change:<field>, replayable', () => {
    const r = parseFixture('pywa/account_update__account_deleted.json');
    expect(r.unknown).toHaveLength(1);
    expect(r.unknown[0]).toMatchObject({ kind: 'change:account_update', phoneNumberId: null });
    // The payload is itself a webhook body holding only that change.
    const again = parseWebhook(JSON.parse(r.unknown[0]!.payload));
    expect(again.unknown).toEqual(r.unknown);

    const history = parseFixture('meta-docs/history__block02.json');
    expect(history.messages).toEqual([]);
    expect(history.unknown[0]).toMatchObject({ kind: 'change:history', phoneNumberId: '106540352242922' });
    expect(parseFixture('pywa/user_marketing_preferences__resume.json').unknown[0]).toMatchObject({
      kind: 'change:user_preferences',
      waId: '972987654321',
    });
    expect(parseFixture('pywa/call_status__call_status.json').unknown[0]!.kind).toBe('change:calls');
  });

  it('value-level errors', () => {
    const r = parseFixture('meta-docs/errors__block02.json');
    expect(r.unknown).toHaveLength(1);
    expect(r.unknown[0]).toMatchObject({ kind: 'errors', phoneNumberId: '106540352242922' });
    expect(JSON.parse(r.unknown[0]!.payload).entry[0].changes[0].value.errors[0].code).toBe(130429);
    // Next to a message: both kept.
    const mixed = parseFixture('pywa/message__interactive_message_with_err.json');
    expect([mixed.messages.length, mixed.unknown.map((u) => u.kind)]).toEqual([1, ['errors']]);
  });

  it('unexpected keys of a messages value are kept, malformed parts reported', () => {
    const r = parseWebhook(
      bodyWith({
        messages: [null, 'x', { type: 'text' }, { id: '', type: 'text' }],
        statuses: 'nope',
        contacts: [42],
        surprise: { a: 1 },
      }),
    );
    expect(r.messages).toEqual([]);
    expect(r.unknown.map((u) => u.kind).sort()).toEqual([
      'malformed-contact',
      'malformed-message',
      'malformed-message',
      'malformed-message',
      'malformed-message',
      'value-extra:messages',
    ]);
    const extra = JSON.parse(r.unknown.find((u) => u.kind === 'value-extra:messages')!.payload);
    expect(extra.entry[0].changes[0].value).toMatchObject({ statuses: 'nope', surprise: { a: 1 } });
  });

  it('a messages change without phone_number_id is kept whole', () => {
    const body = {
      object: WABA,
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: { messages: [{ from: '34612345678', id: 'wamid.X', type: 'text', text: { body: 'a' } }] },
            },
          ],
        },
      ],
    };
    const r = parseWebhook(body);
    expect(r.messages).toEqual([]);
    expect(r.unknown.map((u) => u.kind)).toEqual(['malformed-change']);
    expect(idsInResult(r).messages).toEqual(['wamid.X']);
  });

  it(
    'not a WhatsApp Business Account notification → isWhatsApp false, ' + 'nothing parsed (the caller keeps the body)',
    () => {
      for (const rel of [
        ...apiExampleFiles,
        'meta-docs-kapso/account_update__block09.json',
        'meta-docs-kapso/account_update__block10.json',
      ]) {
        const r = parseFixture(rel);
        expect(r.isWhatsApp, rel).toBe(false);
        checkShape(r);
      }
      expect(parseWebhook({ object: 'page', entry: [] })).toMatchObject({ object: 'page', isWhatsApp: false });
      expect(parseWebhook({ object: WABA, entry: {} })).toMatchObject({ object: WABA, isWhatsApp: false });
      expect(parseWebhook({ object: WABA, entry: [] })).toMatchObject({ isWhatsApp: true, messages: [], unknown: [] });
    },
  );
});

describe('timestamps', () => {
  it('are unix seconds, as strings or numbers; anything else is rejected', () => {
    expect(parseTimestamp('1749416383')?.toISOString()).toBe('2025-06-08T20:59:43.000Z');
    expect(parseTimestamp(1669233778)?.toISOString()).toBe('2022-11-23T20:02:58.000Z');
    for (const bad of [
      'WEBHOOK_TRIGGER_TIMESTAMP',
      '',
      '-5',
      '0',
      0,
      1749416383000,
      NaN,
      Infinity,
      null,
      undefined,
      {},
      [],
      '1e9',
    ]) {
      expect(parseTimestamp(bad), String(bad)).toBeNull();
    }
  });

  it('fall back to entry.time, then to a sibling, then to receivedAt', () => {
    const noTs = { from: '34612345678', id: 'wamid.NOTS', type: 'text', text: { body: 'a' } };
    const withEntryTime = parseWebhook(bodyWith({ messages: [noTs] }, { time: 1700000000 }), {
      receivedAt: RECEIVED_AT,
    });
    expect(withEntryTime.messages[0]!.createdAt.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    const withSibling = parseWebhook(
      bodyWith({
        messages: [noTs, { ...noTs, id: 'wamid.TS', timestamp: '1700000100' }],
        statuses: [{ id: 'wamid.S', status: 'sent', timestamp: 'garbage' }],
      }),
      { receivedAt: RECEIVED_AT },
    );
    expect(withSibling.messages.map((m) => m.createdAt.getTime())).toEqual([1700000100000, 1700000100000]);
    expect(withSibling.statuses[0]!.occurredAt.getTime()).toBe(1700000100000);
    const alone = parseWebhook(bodyWith({ messages: [noTs] }), { receivedAt: RECEIVED_AT });
    expect(alone.messages[0]!.createdAt).toEqual(RECEIVED_AT);
    // Without receivedAt the clock is the last resort: still a valid date.
    expect(Number.isNaN(parseWebhook(bodyWith({ messages: [noTs] })).messages[0]!.createdAt.getTime())).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('never throws', () => {
  it('on garbage', () => {
    const circular: Rec = { object: WABA };
    circular.entry = [circular];
    const hostile = {
      object: WABA,
      get entry(): unknown {
        throw new Error('boom');
      },
    };
    let deep: unknown = { from: '34612345678', id: 'wamid.DEEP', type: 'text', text: { body: 'deep' } };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const inputs: unknown[] = [
      null,
      undefined,
      0,
      42,
      NaN,
      -1,
      true,
      '',
      'x'.repeat(5_000_000),
      [],
      [1, 2, 3],
      {},
      () => 1,
      Symbol('s'),
      10n,
      { object: WABA },
      { object: WABA, entry: null },
      { object: WABA, entry: 'x' },
      { object: WABA, entry: [null, 1, 'x', [], {}, { changes: null }, { changes: {} }] },
      {
        object: WABA,
        entry: [
          {
            changes: [
              null,
              1,
              'x',
              [],
              {},
              { field: 'messages' },
              { field: 'messages', value: [] },
              { field: 42, value: {} },
            ],
          },
        ],
      },
      bodyWith({ messages: [{ id: 'wamid.N', from: 34612345678, type: ['text'], text: 'body', timestamp: {} }] }),
      bodyWith({
        messages: [
          { id: 'wamid.T', from: '34612345678', type: '__proto__' },
          { id: 'wamid.U', from: '34612345678', type: 'constructor' },
        ],
      }),
      bodyWith({
        messages: [
          {
            id: 'wamid.E',
            from: '34612345678',
            type: 'edit',
            edit: {
              message: {
                type: 'edit',
                edit: { message: { type: 'edit', edit: { message: { type: 'edit', edit: {} } } } },
              },
            },
          },
        ],
      }),
      bodyWith({ messages: [deep] }),
      circular,
      hostile,
    ];
    for (const input of inputs) {
      let result: ParsedWebhook | undefined;
      expect(() => {
        result = parseWebhook(input);
      }).not.toThrow();
      checkShape(result!);
    }
    const numeric = parseWebhook(inputs[20]);
    expect(numeric.messages[0]).toMatchObject({ waId: '34612345678', type: 'unknown', content: '[unknown]' });
  });

  it('keeps the ids of absurdly nested payloads (their raw is cut, not lost)', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { nested: deep };
    const r = parseWebhook(
      bodyWith({
        messages: [
          {
            from: '34612345678',
            id: 'wamid.DEEP',
            timestamp: '1750000000',
            type: 'text',
            text: { body: 'hi' },
            extra: deep,
          },
        ],
      }),
    );
    const m = only(r);
    expect(m.content).toBe('hi');
    expect(JSON.parse(m.raw as string)).toMatchObject({ id: 'wamid.DEEP', text: { body: 'hi' } });
    expect(m.raw).toContain('[cut: nested deeper than 64 levels]');
    const change = parseWebhook(bodyWith({ messages: [{ id: 'wamid.H', extra: deep }] }, { field: 'history' }));
    expect(idsInResult(change).messages).toEqual(['wamid.H']);
  });

  it('on 2,000 mutated corpus payloads (seeded)', () => {
    const rand = mulberry32(0x5eed_2024);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const bodies = webhookFiles.map(load);
    const huge = 'ü'.repeat(100_000);
    const wrong: unknown[] = [
      null,
      0,
      -1,
      1.5,
      1e300,
      true,
      false,
      '',
      ' ',
      'x',
      '123',
      '+34 612',
      [],
      {},
      [null],
      { a: 1 },
      huge,
      undefined,
    ];
    const seen = { messages: 0, statuses: 0, unknown: 0, notWhatsApp: 0 };

    for (let i = 0; i < 2000; i++) {
      const body = structuredClone(pick(bodies));
      const mutations = 1 + Math.floor(rand() * 5);
      for (let k = 0; k < mutations; k++) mutate(body, rand, pick, wrong);
      let result: ParsedWebhook | undefined;
      try {
        result = parseWebhook(body, { receivedAt: RECEIVED_AT });
      } catch (error) {
        throw new Error(`iteration ${i} threw: ${(error as Error).message}`, { cause: error });
      }
      try {
        checkShape(result);
        checkNothingLost(body, result);
      } catch (error) {
        throw new Error(`iteration ${i}: ${(error as Error).message}`, { cause: error });
      }
      seen.messages += result.messages.length;
      seen.statuses += result.statuses.length;
      seen.unknown += result.unknown.length;
      seen.notWhatsApp += result.isWhatsApp ? 0 : 1;
    }
    // The mutations must leave enough intact to exercise every path, not only the "reject" ones.
    // (seed 0x5eed2024 gives 349 messages, 92 statuses, 1,374 raw events, 458 non-WhatsApp bodies)
    expect(seen.messages).toBeGreaterThan(200);
    expect(seen.statuses).toBeGreaterThan(50);
    expect(seen.unknown).toBeGreaterThan(500);
    expect(seen.notWhatsApp).toBeGreaterThan(10);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz helpers.

/** Every (container, key) pair of a JSON value. */
function slots(root: unknown): Array<[Rec | unknown[], string | number]> {
  const out: Array<[Rec | unknown[], string | number]> = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push([node, i]);
        stack.push(child);
      });
    } else if (isRec(node)) {
      for (const [k, child] of Object.entries(node)) {
        out.push([node, k]);
        stack.push(child);
      }
    }
  }
  return out;
}

function mutate(body: unknown, rand: () => number, pick: <T>(xs: readonly T[]) => T, wrong: unknown[]): void {
  const all = slots(body);
  if (all.length === 0) return;
  const [container, key] = pick(all);
  const get = () => (container as Record<string | number, unknown>)[key];
  const set = (v: unknown) => {
    (container as Record<string | number, unknown>)[key] = v;
  };
  switch (Math.floor(rand() * 6)) {
    case 0: // delete
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key as string];
      break;
    case 1: // wrong type
      set(pick(wrong));
      break;
    case 2: {
      // nest deeply
      let v = get();
      const depth = 1 + Math.floor(rand() * 2000);
      const asArray = rand() < 0.5;
      for (let d = 0; d < depth; d++) v = asArray ? [v] : { nested: v };
      set(v);
      break;
    }
    case 3: // duplicate an array element
      if (Array.isArray(container)) container.push(structuredClone(get()));
      else set([get(), get()]);
      break;
    case 4: // another plausible WhatsApp type / status
      set(
        pick([
          'text',
          'image',
          'interactive',
          'reaction',
          'order',
          'edit',
          'revoke',
          'unsupported',
          'failed',
          'messages',
          'smb_message_echoes',
          'history',
          'read',
        ]),
      );
      break;
    default: // swap with another value of the same payload
      set(structuredClone(pick(all.map(([c, k]) => (c as Record<string | number, unknown>)[k]))));
  }
}
