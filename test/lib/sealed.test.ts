// Connector secrets at rest: AES-256-GCM under NUMOS_SECRETS_KEY, the previous key during a key
// change, the library's id bound to the value, and error messages that never carry the secret.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { needsResealing, parseSealingKey, type SealingKeys, seal, unseal } from '../../src/lib/sealed.js';

const SECRET = 'Kl13nt-S3cret-Très-Secret ✓';
const LIBRARY = 'library-metz';
const OLD = randomBytes(32);
const NEW = randomBytes(32);

const keys = (current: Buffer | undefined, previous?: Buffer): SealingKeys => ({ current, previous });

/** The message of what `run` throws, after checking it throws an Error without the secret. */
function failure(run: () => unknown): string {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(Error);
  const { message, stack } = caught as Error;
  expect(message).not.toContain(SECRET);
  expect(stack ?? '').not.toContain(SECRET);
  expect(message).toMatch(/secret|clé/i);
  return message;
}

/** Changes one character of a part of a sealed value (parts: 0 version … 4 ciphertext). */
function tamper(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const text = parts[part]!;
  // Flipping the first character changes the first decoded byte whatever the padding bits.
  parts[part] = (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
  return parts.join('.');
}

describe('seal and unseal', () => {
  it.each([
    ['a secret', SECRET],
    ['an empty text', ''],
    ['a long text', 'x'.repeat(10_000)],
  ])('round trip of %s', (_label, plaintext) => {
    const sealed = seal(keys(NEW), plaintext, LIBRARY);
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    expect(sealed).not.toContain(plaintext || '\u0000');
    expect(unseal(keys(NEW), sealed, LIBRARY)).toBe(plaintext);
  });

  it('seals the same text differently each time (random IV)', () => {
    const first = seal(keys(NEW), SECRET, LIBRARY);
    const second = seal(keys(NEW), SECRET, LIBRARY);
    expect(first).not.toBe(second);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(unseal(keys(NEW), first, LIBRARY)).toBe(SECRET);
    expect(unseal(keys(NEW), second, LIBRARY)).toBe(SECRET);
  });

  it('names the key by the first 8 hex digits of its SHA-256', async () => {
    const { createHash } = await import('node:crypto');
    expect(seal(keys(NEW), SECRET, LIBRARY).split('.')[1]).toBe(createHash('sha256').update(NEW).digest('hex').slice(0, 8));
  });

  it('refuses to seal without a current key', () => {
    expect(failure(() => seal(keys(undefined, OLD), SECRET, LIBRARY))).toContain('NUMOS_SECRETS_KEY');
  });
});

describe('what does not open', () => {
  const sealed = seal(keys(NEW), SECRET, LIBRARY);

  it.each<[string, () => unknown]>([
    ['a wrong key', () => unseal(keys(randomBytes(32)), sealed, LIBRARY)],
    ['a wrong key as current and previous', () => unseal(keys(randomBytes(32), randomBytes(32)), sealed, LIBRARY)],
    ['no key at all', () => unseal(keys(undefined), sealed, LIBRARY)],
    ["another library's row", () => unseal(keys(NEW), sealed, 'library-thionville')],
    ['an empty context', () => unseal(keys(NEW), sealed, '')],
    ['an altered ciphertext', () => unseal(keys(NEW), tamper(sealed, 4), LIBRARY)],
    ['an altered tag', () => unseal(keys(NEW), tamper(sealed, 3), LIBRARY)],
    ['an altered IV', () => unseal(keys(NEW), tamper(sealed, 2), LIBRARY)],
    ['an altered key id', () => unseal(keys(NEW), sealed.replace(/^v1\.[0-9a-f]{8}/, 'v1.00000000'), LIBRARY)],
    [
      'a truncated tag',
      () =>
        unseal(
          keys(NEW),
          sealed.replace(/\.([A-Za-z0-9_-]{22})\./, (_m, tag: string) => `.${tag.slice(0, 11)}.`),
          LIBRARY,
        ),
    ],
    ['an unknown version', () => unseal(keys(NEW), sealed.replace(/^v1\./, 'v2.'), LIBRARY)],
    ['garbage', () => unseal(keys(NEW), 'not a sealed secret', LIBRARY)],
    ['the plaintext itself', () => unseal(keys(NEW), SECRET, LIBRARY)],
    ['an empty value', () => unseal(keys(NEW), '', LIBRARY)],
  ])('%s', (_label, run) => {
    failure(run);
  });
});

describe('key change', () => {
  it('the previous key still opens, and the value needs resealing', () => {
    const sealed = seal(keys(OLD), SECRET, LIBRARY);
    const during = keys(NEW, OLD);
    expect(needsResealing(during, sealed)).toBe(true);
    expect(unseal(during, sealed, LIBRARY)).toBe(SECRET);

    const resealed = seal(during, unseal(during, sealed, LIBRARY), LIBRARY);
    expect(needsResealing(during, resealed)).toBe(false);
    expect(unseal(keys(NEW), resealed, LIBRARY)).toBe(SECRET);
    // Once the old key is gone, what was not resealed no longer opens.
    failure(() => unseal(keys(NEW), sealed, LIBRARY));
  });

  it.each<[string, SealingKeys, boolean]>([
    ['sealed under the current key', keys(NEW, OLD), false],
    ['sealed under the current key, no previous', keys(NEW), false],
    ['sealed under the previous key', keys(OLD, NEW), true],
    ['sealed under a key neither is', keys(randomBytes(32), OLD), true],
    ['no current key: nothing to reseal with', keys(undefined, NEW), false],
  ])('needsResealing: %s', (_label, given, expected) => {
    expect(needsResealing(given, seal(keys(NEW), SECRET, LIBRARY))).toBe(expected);
  });

  it('needsResealing is false for what is not a sealed value', () => {
    expect(needsResealing(keys(NEW), 'garbage')).toBe(false);
  });
});

describe('parseSealingKey', () => {
  const key = randomBytes(32);

  it.each([
    ['standard base64 (openssl rand -base64 32)', key.toString('base64')],
    ['without padding', key.toString('base64').replace(/=+$/, '')],
    ['URL-safe base64', key.toString('base64url')],
    ['with a trailing newline', `${key.toString('base64')}\n`],
  ])('accepts %s', (_label, text) => {
    expect(parseSealingKey(text)?.equals(key)).toBe(true);
  });

  it.each([
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['an empty text', ''],
    ['garbage', 'ceci n’est pas une clé'],
    ['hexadecimal', key.toString('hex')],
    ['a character outside base64', `${key.toString('base64').slice(0, 42)}*=`],
    ['a space inside', `${key.toString('base64').slice(0, 20)} ${key.toString('base64').slice(20)}`],
    ['both alphabets mixed', `+_${key.toString('base64').slice(2)}`],
    ['wrong padding', `${key.toString('base64').replace(/=+$/, '')}==`],
    // The last character of 32 bytes carries 2 spare bits, which must be zero.
    ['spare bits set', `${key.toString('base64').slice(0, 42)}${'AEIMQUYcgkosw048'.includes(key.toString('base64')[42]!) ? 'B' : 'A'}=`],
  ])('refuses %s', (_label, text) => {
    expect(parseSealingKey(text)).toBeNull();
  });
});
