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
 * spares a query per call. Each instance keeps its own; a rotation or revocation empties it on
 * every instance (a `providers-changed` message on the event bus), so a revoked key is refused
 * from the next request on. The entry also expires on its own, for a key rotated out after its
 * 24 hours of overlap.
 */
export class ProviderKeys {
  /** `until` in real time (the cache's freshness), `expiresAt` in application time (a previous key's end). */
  private readonly cache = new Map<string, { caller: Caller; until: number; expiresAt: Date | null }>();
  /** When this instance last wrote `last_used_at` per provider (real time). */
  private readonly touched = new Map<string, number>();

  constructor(private readonly ttlMs = 30_000) {}

  async resolve(prisma: PrismaClient, tokenHash: string, now: Date): Promise<Caller> {
    // One turn of the event loop first: a revocation's notification that has already reached this
    // instance's LISTEN connection is read before the remembered key is trusted.
    if (this.cache.size) await new Promise((resolve) => setImmediate(resolve));
    const cached = this.cache.get(tokenHash);
    if (cached && cached.until > Date.now() && !(cached.expiresAt && cached.expiresAt <= now)) {
      this.touch(prisma, cached.caller, now);
      return cached.caller;
    }
    const provider = await prisma.resourceProvider.findFirst({
      where: { OR: [{ apiKeyHash: tokenHash }, { previousKeyHash: tokenHash, previousKeyExpiresAt: { gt: now } }], revokedAt: null },
      select: { id: true, categories: true, apiKeyHash: true, previousKeyExpiresAt: true },
    });
    if (!provider) return VISITOR;
    const caller: Caller = { kind: 'provider', providerId: provider.id, categories: provider.categories };
    // A previous key is remembered no longer than it is valid.
    const expiresAt = provider.apiKeyHash === tokenHash ? null : provider.previousKeyExpiresAt;
    if (this.cache.size > 1_000) this.cache.clear();
    this.cache.set(tokenHash, { caller, until: Date.now() + this.ttlMs, expiresAt });
    this.touch(prisma, caller, now);
    return caller;
  }

  /** Forgets every key: a provider's keys changed somewhere. */
  clear(): void {
    this.cache.clear();
  }

  /** `lastUsedAt` is a hint for the DLPB's dashboard: written at most once a minute per instance. */
  private touch(prisma: PrismaClient, caller: Caller, now: Date): void {
    if (caller.kind !== 'provider') return;
    const last = this.touched.get(caller.providerId) ?? 0;
    if (Date.now() - last < 60_000) return;
    this.touched.set(caller.providerId, Date.now());
    prisma.resourceProvider
      .updateMany({ where: { id: caller.providerId }, data: { lastUsedAt: now } })
      .catch(() => this.touched.delete(caller.providerId));
  }
}

export async function resolveCaller(prisma: PrismaClient, providerKeys: ProviderKeys, token: string | undefined, now: Date): Promise<Caller> {
  if (!token) return VISITOR;
  const tokenHash = hashSecret(token);
  if (token.startsWith(API_KEY_PREFIX)) return providerKeys.resolve(prisma, tokenHash, now);
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
