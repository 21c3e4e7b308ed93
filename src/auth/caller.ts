// Who is calling, resolved from `Authorization: Bearer <token>`: a patron or staff session token,
// a resource provider's API key, or nothing (a visitor). A wrong or expired token is a visitor:
// anything that needs credentials then answers UNAUTHENTICATED.
import type { PrismaClient } from '../db/prisma.js';
import type { Sql } from '../db/sql.js';
import type { AccountStatus, ContentCategory, StaffRole } from '../generated/prisma/enums.js';
import { hashSecret } from '../lib/secrets.js';
import { providerByKey, recordProviderUse } from '../modules/providers/store.js';

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
 * Providers' API keys. Each call looks its key up (one indexed read): no per-instance cache, so no
 * instance can keep accepting a key after its revocation or the end of its rotation's overlap
 * (a revocation holds from the next request on). `lastUsedAt`, a hint for the DLPB's
 * dashboard, is written at most once a minute per instance.
 */
export class ProviderKeys {
  /** When this instance last wrote `last_used_at`, per provider (real time). */
  private readonly touched = new Map<string, number>();

  constructor(private readonly sql: Sql) {}

  async resolve(tokenHash: string, now: Date): Promise<Caller> {
    const provider = await providerByKey(this.sql, tokenHash, now);
    if (!provider) return VISITOR;
    this.touch(provider.id, now);
    return { kind: 'provider', providerId: provider.id, categories: provider.categories };
  }

  private touch(providerId: string, now: Date): void {
    const last = this.touched.get(providerId) ?? 0;
    if (Date.now() - last < 60_000) return;
    if (this.touched.size > 1_000) this.touched.clear();
    this.touched.set(providerId, Date.now());
    recordProviderUse(this.sql, providerId, now).catch(() => this.touched.delete(providerId));
  }
}

export async function resolveCaller(prisma: PrismaClient, providerKeys: ProviderKeys, token: string | undefined, now: Date): Promise<Caller> {
  if (!token) return VISITOR;
  const tokenHash = hashSecret(token);
  if (token.startsWith(API_KEY_PREFIX)) return providerKeys.resolve(tokenHash, now);
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
