// What went wrong with a send, as the Graph API (or the network) said it, and a one-line reason that
// says what to do. Codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
import { WaReportError } from '../errors.js';

export interface GraphErrorFields {
  status: number | null;
  code: number | null;
  subcode?: number | null;
  title: string | null;
  details?: string | null;
  fbtraceId?: string | null;
  retryable: boolean;
  ambiguous: boolean;
  attempts: number;
  sentWamids?: string[];
  part?: { index: number; total: number } | null;
}

export class GraphError extends WaReportError {
  readonly service = 'whatsapp';
  /** HTTP status, null when no answer arrived. */
  status: number | null;
  /** Graph `error.code`, null when the failure was not a Graph error (network, garbage body). */
  code: number | null;
  /** Graph `error_subcode` (deprecated by Meta since v16, kept for diagnosis). */
  subcode: number | null;
  /** Short name: the Graph error title, or e.g. "Timeout", "Connection refused". */
  title: string | null;
  /** Graph `error_data.details`, or a longer reason for network failures. */
  details: string | null;
  fbtraceId: string | null;
  /** Trying the same message later may succeed without risking a duplicate. */
  retryable: boolean;
  /** The message may have been delivered: do not resend, reconcile through status webhooks. */
  ambiguous: boolean;
  attempts: number;
  /** Parts of a split message WhatsApp had already accepted before this failure. */
  sentWamids: string[];
  /** Which part of a split message failed (null for single messages). */
  part: { index: number; total: number } | null;

  constructor(fields: GraphErrorFields, options?: { cause?: unknown }) {
    const full = {
      subcode: null,
      details: null,
      fbtraceId: null,
      sentWamids: [],
      part: null,
      ...fields,
    } satisfies Required<GraphErrorFields>;
    super(compose(full), options);
    this.status = full.status;
    this.code = full.code;
    this.subcode = full.subcode;
    this.title = full.title;
    this.details = full.details;
    this.fbtraceId = full.fbtraceId;
    this.retryable = full.retryable;
    this.ambiguous = full.ambiguous;
    this.attempts = full.attempts;
    this.sentWamids = full.sentWamids;
    this.part = full.part;
  }
}

/** A readable one-line reason, e.g. "WhatsApp 131047 Re-engagement message: … — send an approved template instead". */
export function describeGraphError(e: GraphError): string {
  return compose(e);
}

// What the operator can do about the common non-retryable codes (STYLE: say how to fix it).
const HINTS: Record<number, string> = {
  190: 'the access token is invalid or expired; replace WHATSAPP_ACCESS_TOKEN',
  131047: 'outside the 24-hour customer service window; only an approved template can be sent now',
  131026: 'the recipient cannot receive this message (not on WhatsApp, old app or terms not accepted)',
  131030: 'the recipient is not in the allowed list of this test number',
  131031: 'the business account is locked',
  131042: 'a billing problem on the business account',
  131050: 'the user stopped marketing messages',
  100: 'invalid parameter; check the phone number id and the recipient',
  10: 'the token lacks the whatsapp_business_messaging permission',
  200: 'the token lacks permission for this phone number',
  130429: 'throughput limit reached',
  131056: 'too many messages to this user in a short time (pair rate limit)',
  4: 'application request limit reached',
  80007: 'WhatsApp Business Account rate limit reached',
};

function compose(f: Omit<Required<GraphErrorFields>, 'fbtraceId'>): string {
  let text: string;
  const reason = [f.title, f.details && f.details !== f.title ? f.details : null].filter(Boolean).join(': ');
  if (f.ambiguous) {
    text =
      `WhatsApp send outcome unknown — ${reason || 'no usable answer'}. The message may have been delivered, ` +
      'so it was not sent again';
  } else if (f.code !== null) {
    const hint = HINTS[f.code];
    text = `WhatsApp ${f.code} ${reason || 'error'}${f.status ? ` (HTTP ${f.status})` : ''}${hint ? ` — ${hint}` : ''}`;
  } else if (f.status !== null) {
    text = `WhatsApp HTTP ${f.status}${reason ? `: ${reason}` : ''}`;
  } else {
    text = `WhatsApp unreachable${reason ? `: ${reason}` : ''}`;
  }
  if (f.attempts > 1) text += ` (after ${f.attempts} attempts)`;
  if (f.part) text += ` [part ${f.part.index} of ${f.part.total}; ${f.sentWamids.length} part(s) already sent]`;
  return text;
}
