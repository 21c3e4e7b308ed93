// The requests already decided, as a back office searches them ("who was refused last week, and by
// whom"): filtered, searched as the pending queue is, ordered. Scoped as the queue: library staff
// see their own library only, the DLPB every library.
import type { Caller } from '../../auth/caller.js';
import { libraryScope } from '../../auth/visibility.js';
import type { Decision, Prisma, RegistrationKind } from '../../generated/prisma/client.js';
import { escapeLike, searchTerms } from '../../lib/text.js';

export interface DecidedFilter {
  /** A UUID, NO_MATCH when the ID named nothing, or absent. */
  libraryId?: string | null;
  decision?: Decision | null;
  kind?: RegistrationKind | null;
  /** A UUID, NO_MATCH when the ID named nothing, or absent. */
  decidedById?: string | null;
  decidedFrom?: Date | null;
  decidedTo?: Date | null;
  search?: string | null;
  escalated?: boolean | null;
}

export type DecidedSortField = 'DECIDED_AT' | 'SUBMITTED_AT' | 'LAST_NAME';
export interface DecidedOrder {
  field: DecidedSortField;
  direction: 'ASC' | 'DESC';
}

export function decidedWhere(caller: Caller, filter: DecidedFilter | null | undefined): Prisma.RegistrationRequestWhereInput {
  const libraryId = libraryScope(caller, filter?.libraryId);
  const terms = searchTerms(filter?.search);
  const { decidedFrom, decidedTo } = filter ?? {};
  return {
    state: { in: ['ACCEPTED', 'REFUSED'] },
    // A request whose person was erased is a statistic, no longer a record to read.
    patronId: { not: null },
    ...(libraryId ? { libraryId } : {}),
    ...(filter?.decision ? { decision: filter.decision } : {}),
    ...(filter?.kind ? { kind: filter.kind } : {}),
    ...(filter?.escalated != null ? { escalated: filter.escalated } : {}),
    ...(filter?.decidedById
      ? {
          decidedById: filter.decidedById,
          // Library staff do not see who decided in their place (RegistrationRequest.decidedBy).
          ...(caller.kind === 'staff' && caller.role === 'LIBRARY_ADMIN' ? { decidedOnBehalfOfLibrary: false } : {}),
        }
      : {}),
    ...(decidedFrom || decidedTo ? { decidedAt: { ...(decidedFrom ? { gte: decidedFrom } : {}), ...(decidedTo ? { lt: decidedTo } : {}) } } : {}),
    // As the queue's search, on the patron's own normalised text (its trigram index: the request's
    // copy is indexed for pending requests only).
    ...(terms.length ? { patron: { AND: terms.map((term) => ({ searchText: { contains: escapeLike(term) } })) } } : {}),
  };
}

/** Newest decision first by default; the id makes the order total, so that cursors are stable. */
export function decidedOrderBy(order: DecidedOrder | null | undefined): Prisma.RegistrationRequestOrderByWithRelationInput[] {
  const direction = !order || order.direction === 'DESC' ? 'desc' : 'asc';
  const first: Prisma.RegistrationRequestOrderByWithRelationInput =
    order?.field === 'LAST_NAME'
      ? { patron: { lastName: direction } }
      : order?.field === 'SUBMITTED_AT'
        ? { submittedAt: direction }
        : { decidedAt: direction };
  return [first, { id: direction }];
}
