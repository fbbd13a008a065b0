import { describe, expect, it } from 'vitest';
import { generateKey, KeyRing, parseKey, sealedKeyId, SEALED_PREFIX } from '../../src/domain/key-ring.js';
import { EncryptionError } from '../../src/errors.js';

const a = parseKey(generateKey().key, 'A');
const b = parseKey(generateKey().key, 'B');

describe('KeyRing', () => {
  it('seals with a fresh nonce each time and opens back, key id in clear', () => {
    const ring = new KeyRing(a);
    const text = 'Hola, quisiera reservar el apartamento 🏖️ para el 15';
    const one = ring.seal(text);
    const two = ring.seal(text);
    expect(one).not.toBe(two);
    expect(one.startsWith(`${SEALED_PREFIX}${a.id}:`)).toBe(true);
    expect(one).not.toContain('reservar');
    expect(sealedKeyId(one)).toBe(a.id);
    expect(ring.open(one, () => 'x')).toBe(text);
    expect(ring.open(two, () => 'x')).toBe(text);
    expect(ring.seal(null)).toBeNull();
    expect(ring.open('', () => 'x')).toBe('');
    expect(ring.open(ring.seal(''), () => 'x')).toBe('');
  });

  it('names the missing key id, and never returns garbage for altered values', () => {
    const sealed = new KeyRing(a).seal('secreto');
    expect(() => new KeyRing(b).open(sealed, () => 'The content of message 7')).toThrow(EncryptionError);
    expect(() => new KeyRing(b).open(sealed, () => 'The content of message 7')).toThrow(
      new RegExp(`message 7 is encrypted with key id ${a.id}.*WA_REPORT_ENCRYPTION_KEY is key id ${b.id}`),
    );
    expect(() => KeyRing.none().open(sealed, () => 'm')).toThrow(/WA_REPORT_ENCRYPTION_KEY is not set/);
    // Old keys are accepted for reading.
    expect(new KeyRing(b, [a]).open(sealed, () => 'm')).toBe('secreto');
    // One flipped byte of ciphertext, a truncated value, a value passed off under another key id.
    const body = Buffer.from(sealed.slice(SEALED_PREFIX.length + 17), 'base64');
    body[14] = (body[14] as number) ^ 1;
    const flipped = `${SEALED_PREFIX}${a.id}:${body.toString('base64')}`;
    expect(() => new KeyRing(a).open(flipped, () => 'm')).toThrow(/does not decrypt: it was altered/);
    expect(() => new KeyRing(a).open(sealed.slice(0, 40), () => 'm')).toThrow(EncryptionError);
    const relabelled = new KeyRing(b, [a]).seal('x').replace(b.id, a.id);
    expect(() => new KeyRing(b, [a]).open(relabelled, () => 'm')).toThrow(/does not decrypt/);
  });

  it('keeps plaintext that looks sealed apart from sealed values', () => {
    const plain = KeyRing.none();
    for (const text of [`${SEALED_PREFIX}${a.id}:AAAA`, 'plain:hello', 'enc:v1:']) {
      const stored = plain.seal(text);
      expect(stored).toBe(`plain:${text}`);
      expect(plain.open(stored, () => 'm')).toBe(text);
      expect(new KeyRing(a).open(stored, () => 'm')).toBe(text);
    }
    expect(plain.seal('ordinary')).toBe('ordinary');
  });

  it('reads keys from the environment and says how to fix a bad one', () => {
    expect(KeyRing.fromEnv({}).enabled).toBe(false);
    const key = generateKey();
    const ring = KeyRing.fromEnv({
      WA_REPORT_ENCRYPTION_KEY: key.key,
      WA_REPORT_ENCRYPTION_KEYS_OLD: `${generateKey().key}, ${generateKey().key}`,
    });
    expect(ring.current?.id).toBe(key.id);
    expect(ring.ids).toHaveLength(3);
    expect(() => KeyRing.fromEnv({ WA_REPORT_ENCRYPTION_KEY: 'short' })).toThrow(
      /WA_REPORT_ENCRYPTION_KEY: not a key .*wa-report keys generate/,
    );
    expect(() => KeyRing.fromEnv({ WA_REPORT_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /got 16 bytes/,
    );
    expect(() => KeyRing.fromEnv({ WA_REPORT_ENCRYPTION_KEY: key.key, WA_REPORT_ENCRYPTION_KEYS_OLD: 'nope' })).toThrow(
      /KEYS_OLD \(key 1\)/,
    );
  });
});
