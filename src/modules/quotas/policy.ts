// Monthly quota limits: the policy in force for a period is the latest one that started at or
// before it. Until the DLPB sets one, the seed's limits apply.
import type { PrismaClient, Tx } from '../../db/prisma.js';
import type { ContentCategory } from '../../generated/prisma/enums.js';

export const METERED_CATEGORIES = ['FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER'] as const satisfies readonly ContentCategory[];
export type MeteredCategory = (typeof METERED_CATEGORIES)[number];

/** The seed: 4 films, 7 books (PNB and Izneo together), 15 magazines and 31 newspapers a month. */
export const DEFAULT_LIMITS: Record<MeteredCategory, number> = { FILM: 4, BOOK: 7, MAGAZINE: 15, NEWSPAPER: 31 };
export const DEFAULT_EFFECTIVE_FROM = '2023-05'; // the service opened in May 2023

export interface PolicyInForce {
  effectiveFrom: string;
  limits: Record<MeteredCategory, number>;
}

export async function policyInForce(db: PrismaClient | Tx, period: string): Promise<PolicyInForce> {
  const policy = await db.quotaPolicy.findFirst({
    where: { effectiveFrom: { lte: period } },
    orderBy: { effectiveFrom: 'desc' },
    include: { limits: true },
  });
  if (!policy) return { effectiveFrom: DEFAULT_EFFECTIVE_FROM, limits: { ...DEFAULT_LIMITS } };
  const limits = { ...DEFAULT_LIMITS };
  for (const { category, limit } of policy.limits) if (category !== 'UNLIMITED') limits[category] = limit;
  return { effectiveFrom: policy.effectiveFrom, limits };
}
