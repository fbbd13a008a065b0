// Encryption of message content at rest: AES-256-GCM, a random 96-bit nonce per value, the key id
// stored with the value. A sealed value is text, so the schema does not change and metadata (ids,
// times, statuses) stays queryable:
//
//   enc:v1:<key id, 16 hex>:<base64 of nonce (12 bytes) | ciphertext | tag (16 bytes)>
//
// The prefix and key id are authenticated (GCM additional data): a value cannot be passed off as
// sealed under another key. The key id is derived from the key (a hash), so it names the key
// without revealing it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { EncryptionError } from '../errors.js';

export const SEALED_PREFIX = 'enc:v1:';
/** Marks plaintext that would otherwise look sealed (see `seal`). */
const PLAIN_PREFIX = 'plain:';
export const KEY_ID_LENGTH = 16;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('wa-report key id\u0000').update(key).digest('hex').slice(0, KEY_ID_LENGTH);
}

/** 32 random bytes, base64: what `wa-report keys generate` prints. */
export function generateKey(): { key: string; id: string } {
  const key = randomBytes(32);
  return { key: key.toString('base64'), id: keyIdOf(key) };
}

export function parseKey(text: string, variable: string): EncryptionKey {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
    ? Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    : Buffer.alloc(0);
  if (key.length !== 32) {
    throw new EncryptionError(
      `${variable}: not a key (expected 32 random bytes in base64, 44 characters; got ` +
        `${key.length ? `${key.length} bytes` : 'something else'}). Run \`wa-report keys generate\` to make one.`,
    );
  }
  return { id: keyIdOf(key), key };
}

/** The value of a sealed string's key id, or null for plaintext. */
export function sealedKeyId(value: string): string | null {
  if (!value.startsWith(SEALED_PREFIX)) return null;
  return value.slice(SEALED_PREFIX.length, SEALED_PREFIX.length + KEY_ID_LENGTH);
}

/**
 * The keys this process knows: the current one (new writes are sealed with it) and older ones that
 * are still accepted for reading (`WA_REPORT_ENCRYPTION_KEYS_OLD`, during a rotation).
 */
export class KeyRing {
  private readonly byId = new Map<string, EncryptionKey>();

  constructor(
    readonly current: EncryptionKey | null,
    older: EncryptionKey[] = [],
  ) {
    for (const k of [...older, ...(current ? [current] : [])]) this.byId.set(k.id, k);
  }

  static none(): KeyRing {
    return new KeyRing(null);
  }

  /** From WA_REPORT_ENCRYPTION_KEY and WA_REPORT_ENCRYPTION_KEYS_OLD (comma- or space-separated). */
  static fromEnv(env: NodeJS.ProcessEnv): KeyRing {
    const current = env.WA_REPORT_ENCRYPTION_KEY?.trim()
      ? parseKey(env.WA_REPORT_ENCRYPTION_KEY, 'WA_REPORT_ENCRYPTION_KEY')
      : null;
    const older = (env.WA_REPORT_ENCRYPTION_KEYS_OLD ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((k, i) => parseKey(k, `WA_REPORT_ENCRYPTION_KEYS_OLD (key ${i + 1})`));
    return new KeyRing(current, older);
  }

  get enabled(): boolean {
    return this.current !== null;
  }

  knows(id: string): boolean {
    return this.byId.has(id);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * Seals with the current key. Without one the text is stored as is, except text that itself
   * starts like a stored marker ("enc:v1:…" typed by a user), which gets a "plain:" prefix so it is
   * never mistaken for a sealed value; `open` removes it.
   */
  seal(text: string): string;
  seal(text: string | null): string | null;
  seal(text: string | null): string | null {
    if (text === null) return text;
    if (!this.current)
      return text.startsWith(SEALED_PREFIX) || text.startsWith(PLAIN_PREFIX) ? PLAIN_PREFIX + text : text;
    const nonce = randomBytes(12);
    const header = `${SEALED_PREFIX}${this.current.id}:`;
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
    cipher.setAAD(Buffer.from(header));
    const body = Buffer.concat([nonce, cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return header + body.toString('base64');
  }

  /**
   * The plaintext of a stored value: plaintext as is, sealed values decrypted. `what` names the
   * value in errors ("message 12"), which never contain content.
   */
  open(value: string, what: () => string): string;
  open(value: string | null, what: () => string): string | null;
  open(value: string | null, what: () => string): string | null {
    if (value === null) return value;
    if (!value.startsWith(SEALED_PREFIX))
      return value.startsWith(PLAIN_PREFIX) ? value.slice(PLAIN_PREFIX.length) : value;
    const id = value.slice(SEALED_PREFIX.length, SEALED_PREFIX.length + KEY_ID_LENGTH);
    const key = this.byId.get(id);
    if (!key) {
      throw new EncryptionError(
        `${what()} is encrypted with key id ${id}, which is not configured` +
          (this.current
            ? ` (WA_REPORT_ENCRYPTION_KEY is key id ${this.current.id})`
            : ' (WA_REPORT_ENCRYPTION_KEY is not set)') +
          `. Set WA_REPORT_ENCRYPTION_KEY to that key, or add it to WA_REPORT_ENCRYPTION_KEYS_OLD.`,
      );
    }
    const header = `${SEALED_PREFIX}${id}:`;
    const body = Buffer.from(value.slice(header.length), 'base64');
    try {
      if (value[header.length - 1] !== ':' || body.length < 28) throw new Error('truncated');
      const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, 12));
      decipher.setAAD(Buffer.from(header));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new EncryptionError(
        `${what()} (key id ${id}) does not decrypt: it was altered or truncated in the database. Restore it from ` +
          'a backup or an archive.',
      );
    }
  }

  /** Whether a stored value is already sealed with the current key (nothing to do for it). */
  isCurrent(value: string | null): boolean {
    if (value === null) return true;
    if (!this.current) return !value.startsWith(SEALED_PREFIX) || value.startsWith(PLAIN_PREFIX);
    return sealedKeyId(value) === this.current.id;
  }
}
