// Opaque secrets (session tokens, API keys): 256 random bits, stored only as a SHA-256 hash. Link
// tokens are minted by the database (mint_token, 244 random bits) and stored with the same hash
// (secret_hash), so that a job can mint thousands in one statement. A plain hash is enough here because the secret has full entropy; Argon2 is kept
// for passwords, which do not.
import { hash, randomBytes } from 'node:crypto';

export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** One-shot (crypto.hash): no Hash object per call, on the path of every authenticated request. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}
