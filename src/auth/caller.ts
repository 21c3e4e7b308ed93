// Who is calling, resolved from `Authorization: Bearer <token>`: a patron or staff session token,
// a resource provider's API key, or nothing (a visitor). A wrong or expired token is a visitor:
// anything that needs credentials then answers UNAUTHENTICATED.
import type { PrismaClient } from '../db/prisma.js';
import type { AccountStatus, ContentCategory, StaffRole } from '../generated/prisma/enums.js';
import { hashSecret } from '../lib/secrets.js';

export const SESSION_PREFIX = 'nms_';
export const API_KEY_PREFIX = 'nmk_';

export type Caller =
  | { kind: 'visitor' }
  | { kind: 'patron'; sessionId: string; expiresAt: Date; patronId: string; libraryId: string; status: AccountStatus }
  | { kind: 'staff'; sessionId: string; expiresAt: Date; staffId: string; role: StaffRole; libraryId: string | null }
  | { kind: 'provider'; providerId: string; categories: ContentCategory[] };

export const VISITOR: Caller = { kind: 'visitor' };

export function bearerToken(authorization: string | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/**
 * Providers call many times a second with the same key: a found key is remembered briefly, which
 * spares a query per call. A revoked key stops working within this delay.
 */
const PROVIDER_CACHE_MS = 30_000;
const providerCache = new Map<string, { caller: Caller; until: number }>();

export async function resolveCaller(prisma: PrismaClient, token: string | undefined, now: Date): Promise<Caller> {
  if (!token) return VISITOR;
  const tokenHash = hashSecret(token);
  if (token.startsWith(API_KEY_PREFIX)) {
    const cached = providerCache.get(tokenHash);
    if (cached && cached.until > Date.now()) return cached.caller;
    const provider = await prisma.resourceProvider.findUnique({
      where: { apiKeyHash: tokenHash },
      select: { id: true, categories: true, revokedAt: true },
    });
    if (!provider || provider.revokedAt) return VISITOR;
    const caller: Caller = { kind: 'provider', providerId: provider.id, categories: provider.categories };
    if (providerCache.size > 1_000) providerCache.clear();
    providerCache.set(tokenHash, { caller, until: Date.now() + PROVIDER_CACHE_MS });
    return caller;
  }
  const session = await prisma.session.findUnique({
    where: { tokenHash },
    select: {
      id: true,
      expiresAt: true,
      revokedAt: true,
      patron: { select: { id: true, libraryId: true, status: true } },
      staff: { select: { id: true, role: true, libraryId: true, disabledAt: true } },
    },
  });
  if (!session || session.revokedAt || session.expiresAt <= now) return VISITOR;
  if (session.patron) {
    const { id, libraryId, status } = session.patron;
    return { kind: 'patron', sessionId: session.id, expiresAt: session.expiresAt, patronId: id, libraryId, status };
  }
  if (session.staff && !session.staff.disabledAt) {
    const { id, role, libraryId } = session.staff;
    return { kind: 'staff', sessionId: session.id, expiresAt: session.expiresAt, staffId: id, role, libraryId };
  }
  return VISITOR;
}
