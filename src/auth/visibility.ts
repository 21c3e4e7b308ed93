// Who may see whose data. Library staff see the patrons and requests of their own library only;
// DLPB agents see every library's; a patron sees their own.
import type { Caller } from './caller.js';

export function canSeeLibraryData(caller: Caller, libraryId: string): boolean {
  return caller.kind === 'staff' && (caller.role === 'DLPB_AGENT' || caller.libraryId === libraryId);
}

export function canSeePatron(caller: Caller, patron: { id: string; libraryId: string }): boolean {
  return (caller.kind === 'patron' && caller.patronId === patron.id) || canSeeLibraryData(caller, patron.libraryId);
}

export function canSeeRequest(caller: Caller, request: { patronId: string | null; libraryId: string }): boolean {
  return (caller.kind === 'patron' && caller.patronId === request.patronId) || canSeeLibraryData(caller, request.libraryId);
}
