// Password hashing with Argon2id (OWASP: m >= 19 MiB, t >= 2, p = 1) through @node-rs/argon2,
// a maintained native package shipped as prebuilt binaries on the npm registry.
import { hash, verify } from '@node-rs/argon2';

export const ARGON2_PARAMS = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolated modules cannot import)
  memoryCost: 19_456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Burns the time of one verification against a throw-away hash, so that a login or a reset for an
 * unknown account takes as long as one for a known account (no enumeration by timing).
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('numos-dummy-password-for-timing');
  await verifyPassword(await dummyHash, password);
  return false;
}
