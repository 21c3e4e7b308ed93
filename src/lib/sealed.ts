// Secrets at rest (a connector's password or client secret): AES-256-GCM under NUMOS_SECRETS_KEY,
// NUMOS_SECRETS_KEY_PREVIOUS still opening what the old key sealed during a key change (SPEC,
// "Membership checks", Safety). A sealed value is one self-describing text,
//   v1.<key id>.<iv>.<tag>.<ciphertext>   (base64url parts)
// whose key id (the first 8 hex digits of the key's SHA-256) picks the right key first and tells
// which values still need resealing. The context (the library's id) is authenticated with the rest,
// so a sealed secret copied to another library's row does not open.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** 32-byte keys; either may be missing. */
export interface SealingKeys {
  current: Buffer | undefined;
  previous: Buffer | undefined;
}

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED = /^v1\.([0-9a-f]{8})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]*)$/;

/** A sealing failure; its message is French and never carries the secret. */
export class SealingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealingError';
  }
}

/** The key of NUMOS_SECRETS_KEY (standard or URL-safe base64); null unless exactly 32 bytes. */
export function parseSealingKey(base64: string): Buffer | null {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  const unpadded = text.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  // Padding, when present, must be the right one; one alphabet only.
  if (text.includes('=') && text.length % 4 !== 0) return null;
  if (/[+/]/.test(text) && /[-_]/.test(text)) return null;
  const key = Buffer.from(unpadded, 'base64url');
  // Node skips what it cannot decode: re-encoding must give the text back, or it was not base64.
  if (key.length !== KEY_BYTES || key.toString('base64url') !== unpadded) return null;
  return key;
}

export function seal(keys: SealingKeys, plaintext: string, context: string): string {
  const key = keys.current;
  if (!key) throw new SealingError('Aucune clé de chiffrement des secrets (NUMOS_SECRETS_KEY) : le secret ne peut pas être enregistré.');
  checkLength(key);
  const id = keyId(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(id, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function unseal(keys: SealingKeys, sealed: string, context: string): string {
  const parts = parse(sealed);
  if (!parts) throw new SealingError('Secret chiffré illisible : format inconnu.');
  const available = [keys.current, keys.previous].filter((key): key is Buffer => key !== undefined);
  if (!available.length) throw new SealingError('Aucune clé de chiffrement des secrets (NUMOS_SECRETS_KEY) : le secret ne peut pas être déchiffré.');
  // The key the id names first; the others still, in case two keys share an id.
  const ordered = [...available.filter((key) => keyId(key) === parts.id), ...available.filter((key) => keyId(key) !== parts.id)];
  for (const key of ordered) {
    checkLength(key);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(parts.id, context));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // Wrong key, altered value or another context: try the next key.
    }
  }
  throw new SealingError(
    'Le secret chiffré ne peut pas être ouvert : ni NUMOS_SECRETS_KEY ni NUMOS_SECRETS_KEY_PREVIOUS ne conviennent, ou la valeur a été altérée ou copiée depuis une autre bibliothèque.',
  );
}

/**
 * True when the value was sealed under a key other than the current one (it opens with the
 * previous key, or with none): seal it again under the current key. False without a current key
 * (nothing to reseal with) and for a value that is not a sealed secret (unseal says why).
 */
export function needsResealing(keys: SealingKeys, sealed: string): boolean {
  const parts = parse(sealed);
  if (!parts || !keys.current) return false;
  return parts.id !== keyId(keys.current);
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** The version and key id are authenticated too, so neither can be altered unnoticed. */
function additionalData(id: string, context: string): Buffer {
  return Buffer.from(`numos-sealed\u0000${VERSION}\u0000${id}\u0000${context}`, 'utf8');
}

function checkLength(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new SealingError('La clé de chiffrement des secrets doit faire 32 octets.');
}

function parse(sealed: string): { id: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } | null {
  const match = SEALED.exec(sealed.trim());
  if (!match) return null;
  const [, id, iv, tag, ciphertext] = match as unknown as [string, string, string, string, string];
  const parts = { id, iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url') };
  return parts.iv.length === IV_BYTES && parts.tag.length === TAG_BYTES ? parts : null;
}
