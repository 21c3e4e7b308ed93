// Opaque secrets (session tokens, link tokens, API keys): 256 random bits, stored only as a
// SHA-256 hash. A plain hash is enough here because the secret has full entropy; Argon2 is kept
// for passwords, which do not.
import { createHash, randomBytes } from 'node:crypto';

export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
