// The seed's "Validation des inscriptions" screen as a query: requests awaiting a decision,
// filtered, searched and ordered. Library staff see their own library only.
import type { Caller } from '../../auth/caller.js';
import type { PrismaClient } from '../../db/prisma.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { MembershipCheckOutcome } from '../../generated/prisma/enums.js';
import { libraryScope } from '../../auth/visibility.js';
import { escapeLike, searchTerms } from '../../lib/text.js';

export interface PendingFilter {
  libraryId?: string | null;
  state?: 'REGISTRATIONS' | 'RENEWALS' | 'ALL' | null;
  search?: string | null;
  escalated?: boolean | null;
  /** Outcomes of the latest membership check; NOT_CHECKED: none. */
  membership?: readonly (MembershipCheckOutcome | 'NOT_CHECKED')[] | null;
}

function membershipWhere(asked: readonly (MembershipCheckOutcome | 'NOT_CHECKED')[]): Prisma.RegistrationRequestWhereInput[] {
  const outcomes = asked.filter((value): value is MembershipCheckOutcome => value !== 'NOT_CHECKED');
  return [...(outcomes.length ? [{ membershipOutcome: { in: outcomes } }] : []), ...(asked.includes('NOT_CHECKED') ? [{ membershipOutcome: null }] : [])];
}

export type SortField = 'SUBMITTED_AT' | 'LAST_NAME' | 'DECISION_DUE_AT';
export interface PendingOrder {
  field: SortField;
  direction: 'ASC' | 'DESC';
}

export function pendingWhere(caller: Caller, filter: PendingFilter | null | undefined): Prisma.RegistrationRequestWhereInput {
  const libraryId = libraryScope(caller, filter?.libraryId);
  const kind = filter?.state === 'REGISTRATIONS' ? 'REGISTRATION' : filter?.state === 'RENEWALS' ? 'RENEWAL' : undefined;
  const terms = searchTerms(filter?.search);
  return {
    state: 'AWAITING_DECISION',
    ...(libraryId ? { libraryId } : {}),
    ...(kind ? { kind } : {}),
    ...(filter?.escalated != null ? { escalated: filter.escalated } : {}),
    ...(filter?.membership?.length ? { OR: membershipWhere(filter.membership) } : {}),
    // Each word must appear in the request's copy of the patron's normalised "last first login
    // email", searched through the partial trigram index on pending requests.
    ...(terms.length ? { AND: terms.map((term) => ({ searchText: { contains: escapeLike(term) } })) } : {}),
  };
}

export function pendingOrderBy(order: PendingOrder | null | undefined): Prisma.RegistrationRequestOrderByWithRelationInput[] {
  const direction = order?.direction === 'DESC' ? 'desc' : 'asc';
  const first: Prisma.RegistrationRequestOrderByWithRelationInput =
    order?.field === 'LAST_NAME'
      ? { patron: { lastName: direction } }
      : order?.field === 'DECISION_DUE_AT'
        ? { decisionDueAt: direction }
        : { submittedAt: direction };
  // The id makes the order total, so that cursors are stable.
  return [first, { id: direction }];
}

export interface PendingCounts {
  /** The library counted (a UUID), or null for every library (the DLPB). */
  libraryId: string | null;
  registrations: number;
  renewals: number;
  escalated: number;
  all: number;
}

/** The counts of the queue's tabs, in one grouped count over the requests awaiting a decision. */
export async function pendingCounts(
  prisma: Pick<PrismaClient, 'registrationRequest'>,
  caller: Caller,
  libraryId: string | null | undefined,
): Promise<PendingCounts> {
  const groups = await prisma.registrationRequest.groupBy({
    by: ['kind', 'escalated'],
    where: pendingWhere(caller, { libraryId }),
    _count: { _all: true },
  });
  const count = (keep: (group: (typeof groups)[number]) => boolean) => groups.filter(keep).reduce((sum, group) => sum + group._count._all, 0);
  return {
    libraryId: libraryScope(caller, libraryId),
    registrations: count((g) => g.kind === 'REGISTRATION'),
    renewals: count((g) => g.kind === 'RENEWAL'),
    escalated: count((g) => g.escalated),
    all: count(() => true),
  };
}
