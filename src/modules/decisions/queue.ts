// The seed's "Validation des inscriptions" screen as a query: requests awaiting a decision,
// filtered, searched and ordered. Library staff see their own library only.
import type { Caller } from '../../auth/caller.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { forbidden } from '../../graphql/builder.js';
import { idOf } from '../../graphql/ids.js';
import { escapeLike, searchTerms } from '../../lib/text.js';

export interface PendingFilter {
  libraryId?: string | null;
  state?: 'REGISTRATIONS' | 'RENEWALS' | 'ALL' | null;
  search?: string | null;
  escalated?: boolean | null;
}

export type SortField = 'SUBMITTED_AT' | 'LAST_NAME' | 'DECISION_DUE_AT';
export interface PendingOrder {
  field: SortField;
  direction: 'ASC' | 'DESC';
}

const NO_LIBRARY = '00000000-0000-0000-0000-000000000000';

export function pendingWhere(caller: Caller, filter: PendingFilter | null | undefined): Prisma.RegistrationRequestWhereInput {
  if (caller.kind !== 'staff') throw forbidden();
  let libraryId: string | undefined;
  if (caller.role === 'LIBRARY_ADMIN') {
    if (filter?.libraryId && idOf('Library', filter.libraryId) !== caller.libraryId) throw forbidden();
    libraryId = caller.libraryId ?? NO_LIBRARY;
  } else if (filter?.libraryId) {
    libraryId = idOf('Library', filter.libraryId) ?? NO_LIBRARY;
  }
  const kind = filter?.state === 'REGISTRATIONS' ? 'REGISTRATION' : filter?.state === 'RENEWALS' ? 'RENEWAL' : undefined;
  const terms = searchTerms(filter?.search);
  return {
    state: 'AWAITING_DECISION',
    ...(libraryId ? { libraryId } : {}),
    ...(kind ? { kind } : {}),
    ...(filter?.escalated != null ? { escalated: filter.escalated } : {}),
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
