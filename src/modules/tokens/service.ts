// One-time secrets sent in links (confirmation, password reset, renewal, e-mail change): minted by
// the database (tokens/store.ts), stored as a SHA-256 hash, dead once used, replaced by a newer
// one, or expired.
import type { Tx } from '../../db/prisma.js';
import type { OneTimeToken, TokenPurpose } from '../../generated/prisma/client.js';
import { userError, type UserError } from '../../domain/errors.js';
import { prismaSql } from '../../db/sql.js';
import { hashSecret } from '../../lib/secrets.js';
import { mintToken } from './store.js';

export type TokenOwner = { patronId: string; requestId?: string } | { staffId: string };

/** Issues a token, replacing the owner's live tokens of the same purpose. */
export function issueToken(tx: Tx, purpose: TokenPurpose, owner: TokenOwner, now: Date, expiresAt: Date): Promise<string> {
  return mintToken(prismaSql(tx), {
    purpose,
    patronId: 'patronId' in owner ? owner.patronId : null,
    staffId: 'staffId' in owner ? owner.staffId : null,
    requestId: ('requestId' in owner && owner.requestId) || null,
    now,
    expiresAt,
  });
}

export type TokenLookup = { token: OneTimeToken; error: null } | { token: null; error: UserError };

const MESSAGES: Record<TokenPurpose, { invalid: string; expired: string }> = {
  CONFIRMATION: {
    invalid: "Ce lien de confirmation n'est pas valide.",
    expired: 'Ce lien de confirmation a expiré : il vous faut refaire une demande d’inscription.',
  },
  PASSWORD_RESET: {
    invalid: "Ce lien n'est pas valide ou a déjà servi : demandez-en un nouveau.",
    expired: 'Ce lien a expiré : demandez-en un nouveau.',
  },
  RENEWAL: {
    invalid: "Ce lien de renouvellement n'est pas valide.",
    expired: 'Ce lien de renouvellement a expiré.',
  },
  EMAIL_CHANGE: {
    invalid: "Ce lien de confirmation d'adresse n'est pas valide ou a déjà servi.",
    expired: "Ce lien de confirmation d'adresse a expiré : refaites la demande de changement depuis votre compte.",
  },
};

/**
 * Finds a token of a purpose. Unknown, replaced or (unless `allowUsed`) used: INVALID_TOKEN;
 * past its expiry: TOKEN_EXPIRED. The answer never says whom a token belonged to.
 */
export async function findToken(tx: Tx, purpose: TokenPurpose, raw: string, now: Date, options: { allowUsed?: boolean } = {}): Promise<TokenLookup> {
  const token = raw ? await tx.oneTimeToken.findUnique({ where: { tokenHash: hashSecret(raw) } }) : null;
  const messages = MESSAGES[purpose];
  if (!token || token.purpose !== purpose || token.replacedAt || (token.usedAt && !options.allowUsed)) {
    return { token: null, error: userError('INVALID_TOKEN', messages.invalid, 'token') };
  }
  if (token.expiresAt <= now) return { token: null, error: userError('TOKEN_EXPIRED', messages.expired, 'token') };
  return { token, error: null };
}

/** Marks a token used, if nobody did first (single use under concurrency). */
export async function useToken(tx: Tx, tokenId: string, now: Date): Promise<boolean> {
  const { count } = await tx.oneTimeToken.updateMany({
    where: { id: tokenId, usedAt: null, replacedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return count === 1;
}
