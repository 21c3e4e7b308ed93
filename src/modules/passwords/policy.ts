// Password rules (OWASP ASVS 5): at least 8 characters, long ones allowed and never truncated,
// the most common passwords refused, no composition rules.
import { dictionary } from '@zxcvbn-ts/language-common';
import { userError, type UserError } from '../../domain/errors.js';

export const PASSWORD_MIN = 8;
/** Far above what anyone types; only there so that a megabyte "password" cannot tie up Argon2
 * (checked before anything runs, src/graphql/input-guard.ts). */
export const PASSWORD_MAX = 1_024;

// The 49,233 most common passwords of zxcvbn-ts's "common" list (@zxcvbn-ts/language-common,
// MIT, built from public password leak frequency lists), plus French favourites it ranks lower.
const COMMON = new Set<string>([
  ...(dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()),
  'motdepasse',
  'motdepasse1',
  'motdepasse123',
  'azertyuiop',
  'azerty123',
  'soleil123',
  'bonjour123',
  'doudou123',
  'chouchou',
  'jetaime123',
  'marseille',
  'olympiquedemarseille',
  'moselle57',
  'numos2026',
]);

export function isCommonPassword(password: string): boolean {
  return COMMON.has(password.toLowerCase());
}

export function commonPasswordCount(): number {
  return COMMON.size;
}

/** Every problem with a new password and its confirmation, with the input field at fault. */
export function passwordErrors(password: string, confirmation: string): UserError[] {
  const errors: UserError[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN) {
    errors.push(userError('PASSWORD_TOO_SHORT', `Le mot de passe doit contenir au moins ${PASSWORD_MIN} caractères.`, 'password'));
  } else if (isCommonPassword(password)) {
    errors.push(userError('PASSWORD_TOO_COMMON', 'Ce mot de passe est trop courant : choisissez-en un autre.', 'password'));
  }
  if (password !== confirmation) {
    errors.push(userError('PASSWORD_MISMATCH', 'La confirmation ne correspond pas au mot de passe.', 'passwordConfirmation'));
  }
  return errors;
}
