// Whether this database's content is encrypted, and with which key: the 'encryption_key_id' setting.
// Every writing transaction checks it, so a process without the key (or with a mistyped one) never
// stores plaintext (or unreadable content) into an encrypted database, even one that another process
// (`wa-report db encrypt`) started encrypting after this one opened it.
import type { KeyRing } from '../domain/key-ring.js';
import { EncryptionError } from '../errors.js';
import type { Querier } from './sql.js';

const READ_MARKER = `SELECT value FROM settings WHERE key = 'encryption_key_id'`;

/** The marker's value read inside an ingest statement (a subquery returning it). */
export const MARKER_SUBQUERY = `(${READ_MARKER})`;

export class EncryptionMarker {
  /** The key id content was last encrypted with in this database, or null: never encrypted. */
  private encryptedWith: string | null = null;

  constructor(private readonly keys: KeyRing) {}

  /** Reads the marker (when the store opens). */
  async load(q: Querier): Promise<void> {
    const [row] = await q.all<{ value: string }>(READ_MARKER);
    this.encryptedWith = row?.value ?? null;
  }

  get keyId(): string | null {
    return this.encryptedWith;
  }

  /**
   * Refuses to write content in plaintext into a database whose content is encrypted, or with a key
   * that is not the one it was encrypted with: a missing key must be an error, never a silent fallback.
   */
  assertKeyForWrites(): void {
    const sealedWith = this.encryptedWith;
    if (!sealedWith) return;
    if (this.keys.enabled && !this.keys.knows(sealedWith)) {
      throw new EncryptionError(
        `This database's message content was last encrypted with key id ${sealedWith}, but the configured keys ` +
          `are ${this.keys.ids.join(', ')}. A mistyped key would store content nobody else can read: set ` +
          'WA_REPORT_ENCRYPTION_KEY to that key, or keep it in WA_REPORT_ENCRYPTION_KEYS_OLD while rotating.',
      );
    }
    if (!this.keys.enabled) {
      throw new EncryptionError(
        `This database's message content is encrypted (key id ${sealedWith}) but WA_REPORT_ENCRYPTION_KEY is ` +
          'not set, so new content would be stored in plaintext. Set WA_REPORT_ENCRYPTION_KEY (and ' +
          'WA_REPORT_ENCRYPTION_KEYS_OLD during a rotation).',
      );
    }
  }

  /**
   * Inside a writing transaction: records that content is now sealed with the current key (once per
   * process and key); without a key, checks that no other process has started encrypting.
   */
  async noteIn(tx: Querier): Promise<void> {
    const id = this.keys.current?.id;
    if (!id) {
      const [row] = await tx.all<{ value: string | null }>(READ_MARKER);
      this.saw(row?.value ?? null);
      return;
    }
    if (this.encryptedWith !== id) await this.write(tx, id);
  }

  /** The marker as read inside a write without a key: content here is encrypted, so the write must not happen. */
  saw(value: string | null): void {
    if (!value) return;
    this.encryptedWith = value;
    this.assertKeyForWrites();
  }

  /** After a writing transaction committed: content here is sealed with the current key. */
  committed(): void {
    if (this.keys.current) this.encryptedWith = this.keys.current.id;
  }

  /**
   * Marks the database as encrypted with the current key, now (db encrypt, keys rotate, restoring
   * sealed content): from then on a process without the key refuses to write here.
   */
  async mark(db: Querier): Promise<void> {
    const id = this.keys.current?.id;
    if (!id) return;
    await db.transaction((tx) => this.write(tx, id));
    this.encryptedWith = id;
  }

  private async write(tx: Querier, id: string): Promise<void> {
    await tx.run(
      `INSERT INTO settings (key, value, updated_at) VALUES ('encryption_key_id', ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [id, new Date()],
    );
  }
}
