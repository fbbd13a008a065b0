// What the webhook parser produces: plain data, keyed by the business phone_number_id (the ingester
// maps it to a client). No Express, no Prisma.
import type { NewMessage, RawEventInput, StatusUpdate } from '../domain/types.js';

/** A message as parsed from a webhook, before it is attached to a client. */
export type ParsedMessage = Omit<NewMessage, 'clientId'>;

export interface ParsedStatus extends StatusUpdate {
  /** The business number the status belongs to. */
  phoneNumberId: string;
}

export interface BusinessNumber {
  phoneNumberId: string;
  /** `metadata.display_phone_number` as sent (e.g. "15550783881" or "+1 555-078-3881"). */
  displayPhoneNumber: string | null;
  /** The `entry[].id`: the WhatsApp Business Account id. */
  wabaId: string | null;
}

export interface ParsedContact {
  phoneNumberId: string;
  waId: string;
  name: string;
}

export interface ParsedWebhook {
  /** `object` of the payload (`whatsapp_business_account` for WhatsApp). */
  object: string | null;
  /** False when the JSON is not a WhatsApp Business Account notification: keep it raw, answer 200. */
  isWhatsApp: boolean;
  /** Inbound user messages (role `user`) and business echoes (role `agent`). */
  messages: ParsedMessage[];
  statuses: ParsedStatus[];
  /** Profile names from `contacts` (they become the thread's contact name). */
  contacts: ParsedContact[];
  /** Every business number seen in `metadata`, for creating unknown clients. */
  businessNumbers: BusinessNumber[];
  /** Everything not understood (other change fields, value-level `errors`, malformed parts): stored raw. */
  unknown: RawEventInput[];
}
