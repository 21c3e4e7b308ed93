// Who may see whose data. Library staff see the patrons and requests of their own library only;
// DLPB agents see every library's; a patron sees their own. `granted` holds what one operation may
// show whoever the caller is: the account that just logged in, the request just made from a link.
import { forbidden } from '../domain/errors.js';
import { NO_MATCH } from '../domain/ids.js';
import type { Caller } from './caller.js';

export interface Viewing {
  caller: Caller;
  granted: Set<string>;
}

/** What `granted` holds for an account: `patron:<id>` or `staff:<id>`. */
export const grantKey = (kind: 'patron' | 'staff', id: string) => `${kind}:${id}`;

export function canSeeLibraryData(caller: Caller, libraryId: string): boolean {
  return caller.kind === 'staff' && (caller.role === 'DLPB_AGENT' || caller.libraryId === libraryId);
}

export function canSeePatron({ caller, granted }: Viewing, patron: { id: string; libraryId: string }): boolean {
  return (
    granted.has(grantKey('patron', patron.id)) || (caller.kind === 'patron' && caller.patronId === patron.id) || canSeeLibraryData(caller, patron.libraryId)
  );
}

export function canSeeRequest(viewing: Viewing, request: { id: string; patronId: string | null; libraryId: string }): boolean {
  const { caller, granted } = viewing;
  return (
    granted.has(request.id) ||
    (request.patronId !== null && granted.has(grantKey('patron', request.patronId))) ||
    (caller.kind === 'patron' && caller.patronId === request.patronId) ||
    canSeeLibraryData(caller, request.libraryId)
  );
}

/** A staff account: to itself, to the staff of its library, and to the DLPB. */
export function canSeeStaff({ caller, granted }: Viewing, staff: { id: string; libraryId: string | null }): boolean {
  if (granted.has(grantKey('staff', staff.id))) return true;
  if (caller.kind !== 'staff') return false;
  return caller.staffId === staff.id || caller.role === 'DLPB_AGENT' || (staff.libraryId !== null && caller.libraryId === staff.libraryId);
}

/**
 * The libraries a staff list or statistic covers, from the library the caller asked for (a UUID,
 * NO_MATCH when the ID named nothing): a library admin their own (asking for another is FORBIDDEN), the DLPB the one asked for, or
 * every library (null). Anyone else is FORBIDDEN.
 */
export function libraryScope(caller: Caller, askedLibraryId: string | null | undefined): string | null {
  if (caller.kind !== 'staff') throw forbidden();
  const asked = askedLibraryId ?? null;
  if (caller.role === 'LIBRARY_ADMIN') {
    if (asked && asked !== caller.libraryId) throw forbidden();
    return caller.libraryId ?? NO_MATCH;
  }
  return asked;
}
