// Who is calling, resolved from `Authorization: Bearer <token>`: a patron or staff session token,
// a resource provider's API key, or nothing (a visitor). A wrong or expired token is a visitor:
// anything that needs credentials then answers UNAUTHENTICATED.
//
// A provider's key is looked up when something needs it, not before: consumeQuota, the hot path of
// providers, checks the key in the very statement that consumes (one round trip, and a revoked key
// refused from the next call on every instance); anything else asks `identity()`, once per request.
import type { PrismaClient } from '../db/prisma.js';
import type { AccountStatus, ContentCategory, StaffRole } from '../generated/prisma/enums.js';
import { hashSecret } from '../lib/secrets.js';

export const SESSION_PREFIX = 'nms_';
export const API_KEY_PREFIX = 'nmk_';

export type Caller =
  | { kind: 'visitor' }
  | { kind: 'patron'; sessionId: string; expiresAt: Date; patronId: string; libraryId: string; status: AccountStatus }
  | { kind: 'staff'; sessionId: string; expiresAt: Date; staffId: string; role: StaffRole; libraryId: string | null }
  | ProviderCaller;

export const VISITOR: Caller = { kind: 'visitor' };

/** The live provider a key names. */
export interface ProviderIdentity {
  providerId: string;
  categories: ContentCategory[];
}

/** A caller with a provider's API key: who it is, looked up once, when needed (null: no live provider has this key). */
export class ProviderCaller {
  readonly kind = 'provider' as const;
  private looked: Promise<ProviderIdentity | null> | undefined;
  /** What the lookup found, once it ran (undefined before). */
  known: ProviderIdentity | null | undefined;

  constructor(
    readonly keyHash: string,
    private readonly lookup: () => Promise<ProviderIdentity | null>,
  ) {}

  identity(): Promise<ProviderIdentity | null> {
    this.looked ??= this.lookup().then((identity) => (this.known = identity));
    return this.looked;
  }

  /** What a statement that checked the key itself found (consumeQuota). */
  learn(identity: ProviderIdentity | null): void {
    this.known = identity;
    this.looked ??= Promise.resolve(identity);
  }
}

export function bearerToken(authorization: string | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Providers' API keys, looked up at each request that needs them (./provider-keys.ts). */
export interface ProviderKeyLookup {
  resolve(tokenHash: string, now: Date): Promise<ProviderIdentity | null>;
}

export async function resolveCaller(prisma: PrismaClient, providerKeys: ProviderKeyLookup, token: string | undefined, now: Date): Promise<Caller> {
  if (!token) return VISITOR;
  const tokenHash = hashSecret(token);
  if (token.startsWith(API_KEY_PREFIX)) return new ProviderCaller(tokenHash, () => providerKeys.resolve(tokenHash, now));
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
