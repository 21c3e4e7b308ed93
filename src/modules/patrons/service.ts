// Patrons as library staff manage them (the seed's "Usagers / Gestion des usagers"): the list of
// every account, corrections of identity, and ending an account before its term. Library staff
// act on their own library's patrons; the DLPB on everyone's, on the library's behalf.
import { createElement } from 'react';
import sanitizeHtml from 'sanitize-html';
import { AccessEnded } from '../../../emails/AccessEnded.js';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { canSeeLibraryData, libraryScope } from '../../auth/visibility.js';
import type { Patron, Prisma } from '../../generated/prisma/client.js';
import type { AccountStatus } from '../../generated/prisma/enums.js';
import { forbidden } from '../../domain/errors.js';
import { refuseIfAny, Refusal, userError, type UserError } from '../../domain/errors.js';
import { escapeLike, searchTerms } from '../../lib/text.js';
import { unitOfWork } from '../unit-of-work.js';
import { libraryAdministration } from '../../email/outbox.js';
import { checkLicenceAlert, lockLicencePool } from '../licences/service.js';
import { birthDateError, birthDateOf, cleanName, identityKeyOf, patronSearchText } from '../../domain/person.js';
import { revokeSessions } from '../sessions/service.js';
import { countPatrons, lockPatron, searchedPatronPage } from './store.js';

// The locks other use cases take on a patron and their requests, in `decide`'s order.
export { lockPatron, lockRequestsOf } from './store.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'config' | 'db' | 'outbox' | 'prisma' | 'settings'>;

export interface PatronsFilter {
  libraryId?: string | null;
  statuses?: AccountStatus[] | null;
  search?: string | null;
}

export interface PatronOrder {
  field: 'LAST_NAME' | 'REGISTERED_AT' | 'ACTIVE_UNTIL';
  direction: 'ASC' | 'DESC';
}

export const REASON_MAX = 2_000;

/** The patrons of a library scope (see `libraryScope`: null for every library) that match the filter. */
function patronsWhere(libraryId: string | null, filter: PatronsFilter | null | undefined): Prisma.PatronWhereInput {
  const terms = searchTerms(filter?.search);
  return {
    ...(libraryId ? { libraryId } : {}),
    ...(filter?.statuses?.length ? { status: { in: filter.statuses } } : {}),
    // Each word in the normalised "last first login email", through the trigram index.
    ...(terms.length ? { AND: terms.map((term) => ({ searchText: { contains: escapeLike(term) } })) } : {}),
  };
}

export function patronsOrderBy(order: PatronOrder | null | undefined): Prisma.PatronOrderByWithRelationInput[] {
  const direction = order?.direction === 'DESC' ? 'desc' : 'asc';
  const first: Prisma.PatronOrderByWithRelationInput =
    order?.field === 'REGISTERED_AT'
      ? { registeredAt: direction }
      : order?.field === 'ACTIVE_UNTIL'
        ? { activeUntil: { sort: direction, nulls: 'last' } }
        : { lastName: direction };
  // The id makes the order total, so that cursors are stable.
  return [first, { id: direction }];
}

/** What plugin-prisma asks of a page: the relations to load, and Prisma's cursor arguments. */
export interface PageQuery {
  include?: Prisma.PatronInclude;
  cursor?: Prisma.PatronWhereUniqueInput;
  skip?: number;
  take: number;
}

/**
 * One page of the list. Without a search, Prisma's query: the name (or date) index gives the page
 * in order. With one, the store finds the page's ids among the matches first (src/modules/patrons/
 * store.ts says why), then Prisma loads those rows with what the query asks for.
 */
export async function patronsPage(
  app: Services,
  caller: Caller,
  query: PageQuery,
  filter: PatronsFilter | null | undefined,
  order: PatronOrder | null | undefined,
  counts: Map<string, number>,
) {
  const libraryId = libraryScope(caller, filter?.libraryId);
  const terms = searchTerms(filter?.search);
  if (!terms.length) return app.prisma.patron.findMany({ ...query, where: patronsWhere(libraryId, filter), orderBy: patronsOrderBy(order) });
  const { cursor, skip, take, ...rest } = query;
  const { ids, total } = await searchedPatronPage(app.db, {
    terms,
    libraryId,
    statuses: filter?.statuses ?? null,
    field: order?.field ?? 'LAST_NAME',
    descending: order?.direction === 'DESC',
    // Prisma's `skip: 0` with a cursor includes the cursor's row; plugin-prisma always skips it.
    cursorId: cursor?.id && skip !== 0 ? cursor.id : null,
    take,
  });
  counts.set(patronsCountKey(filter), total);
  const rows = await app.prisma.patron.findMany({ ...rest, where: { id: { in: ids } } });
  const position = new Map(ids.map((id, index) => [id, index]));
  return rows.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
}

const patronsCountKey = (filter: PatronsFilter | null | undefined) => `patrons:${JSON.stringify(filter ?? {})}`;

/**
 * How many patrons match: counted with the page when there is a search, else read from the kept
 * counts. A search asked for its total alone (no page selected, so no page was read) is counted here.
 */
export async function patronsCount(app: Services, caller: Caller, filter: PatronsFilter | null | undefined, counts: Map<string, number>): Promise<number> {
  const counted = counts.get(patronsCountKey(filter));
  if (counted !== undefined) return counted;
  const libraryId = libraryScope(caller, filter?.libraryId);
  if (searchTerms(filter?.search).length) return app.prisma.patron.count({ where: patronsWhere(libraryId, filter) });
  return countPatrons(app.db, libraryId, filter?.statuses?.length ? filter.statuses : null);
}

export interface PatronResult {
  patron: Patron | null;
  errors: UserError[];
}

/** The patron of this id (as decoded by the GraphQL layer), if the caller (staff) may manage them; FORBIDDEN otherwise. */
async function managedPatron(app: Services, caller: Caller, id: string | undefined): Promise<Patron | null> {
  if (caller.kind !== 'staff') throw forbidden();
  const patron = id ? await app.prisma.patron.findUnique({ where: { id } }) : null;
  if (patron && !canSeeLibraryData(caller, patron.libraryId)) throw forbidden();
  return patron;
}

const notFound = () => userError('NOT_FOUND', 'Usager introuvable.', 'patronId');

export interface CorrectPatronInput {
  patronId?: string;
  lastName?: string | null;
  firstName?: string | null;
  birthDate?: string | null;
  reason: string;
}

/**
 * Fixes names or birth date (the library checks them against its own records, seed step 3). The
 * search copies follow; the audit entry names the fields changed and the reason, not the values.
 */
export async function correctPatron(app: Services, caller: Caller, input: CorrectPatronInput): Promise<PatronResult> {
  const patron = await managedPatron(app, caller, input.patronId);
  if (!patron) throw new Refusal(notFound());
  const errors: UserError[] = [];
  const reason = input.reason.replace(/\s+/g, ' ').trim();
  if (!reason) errors.push(userError('INVALID_INPUT', 'Indiquez la raison de la correction.', 'reason'));
  const changes: { lastName?: string; firstName?: string; birthDate?: string } = {};
  for (const [field, label] of [
    ['lastName', 'Le nom'],
    ['firstName', 'Le prénom'],
  ] as const) {
    const value = input[field];
    if (value == null) continue;
    const clean = cleanName(value);
    if (!clean) errors.push(userError('INVALID_INPUT', `${label} ne peut pas être vide.`, field));
    else if (clean !== patron[field]) changes[field] = clean;
  }
  const birthDate = birthDateOf(patron);
  if (input.birthDate != null) {
    const wrong = birthDateError(input.birthDate, app.clock.now());
    if (wrong) errors.push(wrong);
    else if (input.birthDate !== birthDate) changes.birthDate = input.birthDate;
  }
  if (!errors.length && !Object.keys(changes).length) {
    errors.push(userError('INVALID_INPUT', 'Aucune correction : les valeurs données sont celles du compte.', 'patronId'));
  }
  refuseIfAny(errors);

  const updated = await unitOfWork(app, { actor: caller }, async ({ tx, audit }) => {
    const current = await tx.patron.findUniqueOrThrow({ where: { id: patron.id } });
    const lastName = changes.lastName ?? current.lastName;
    const firstName = changes.firstName ?? current.firstName;
    const searchText = patronSearchText({ ...current, lastName, firstName });
    const result = await tx.patron.update({
      where: { id: patron.id },
      data: {
        lastName,
        firstName,
        ...(changes.birthDate ? { birthDate: new Date(`${changes.birthDate}T00:00:00Z`) } : {}),
        identityKey: identityKeyOf(lastName, firstName, changes.birthDate ?? birthDate),
        searchText,
      },
    });
    // The pending queue searches its own copy.
    await tx.registrationRequest.updateMany({ where: { patronId: patron.id, searchText: { not: null } }, data: { searchText } });
    await audit({
      action: 'CORRECT_PATRON',
      subjectType: 'Patron',
      subjectId: patron.id,
      libraryId: patron.libraryId,
      onBehalf: caller.kind === 'staff' && caller.role === 'DLPB_AGENT',
      after: { fields: Object.keys(changes), reason },
    });
    return result;
  });
  return { patron: updated, errors: [] };
}

/** What a person may read of the library's reason: plain text, no markup. */
const plainText = (text: string) =>
  sanitizeHtml(text, { allowedTags: [], allowedAttributes: {} })
    .replace(/[ \t]+/g, ' ')
    .trim();

/**
 * The library ends an account before its term: EXPIRED now, sessions ended, a pending request
 * closed, the licence freed, the patron told why. A renewal may be asked later, as for any
 * expired account.
 */
export async function endAccess(app: Services, caller: Caller, input: { patronId?: string; reason: string }): Promise<PatronResult> {
  const patron = await managedPatron(app, caller, input.patronId);
  if (!patron) throw new Refusal(notFound());
  const reason = plainText(input.reason);
  if (!reason) throw new Refusal(userError('INVALID_INPUT', 'Indiquez la raison, qui sera communiquée à l’usager.', 'reason'));
  if (caller.kind !== 'staff') throw forbidden();
  const ended = await unitOfWork(app, { actor: caller }, async (work) => {
    const { tx, now } = work;
    const pool = await lockLicencePool(tx, app.settings.licenceCapacity);
    // Conditional: of two simultaneous ends (or an end and the expiry job), one changes the row.
    const row = await lockPatron(work.sql, patron.id);
    if (!row || (row.status !== 'ACTIVE' && row.status !== 'TEMPORARY')) {
      throw new Refusal(userError('INVALID_STATE', "Ce compte n'est pas ouvert : il n'y a pas d'accès à arrêter.", 'patronId'));
    }
    // An accepted account ends today, which opens its renewal window as at a normal end.
    const activeUntil = row.active_until ? now : null;
    const updated = await tx.patron.update({ where: { id: patron.id }, data: { status: 'EXPIRED', statusChangedAt: now, activeUntil } });
    const closed = await tx.registrationRequest.updateManyAndReturn({
      where: { patronId: patron.id, state: 'AWAITING_DECISION' },
      data: { state: 'REFUSED', decision: 'REFUSE', decidedAt: now, decidedById: caller.staffId, decidedOnBehalfOfLibrary: caller.role === 'DLPB_AGENT' },
      select: { id: true, libraryId: true },
    });
    await revokeSessions(work, { patronId: patron.id });
    const library = await tx.library.findUniqueOrThrow({ where: { id: patron.libraryId } });
    await work.email({
      template: 'AccessEnded',
      to: [patron.email],
      fromName: libraryAdministration(library.name),
      subject: 'Votre accès à NuMos a pris fin',
      body: createElement(AccessEnded, { firstName: patron.firstName, lastName: patron.lastName, libraryName: library.name, reason }),
      patronId: patron.id,
    });
    await work.audit({
      action: 'END_ACCESS',
      subjectType: 'Patron',
      subjectId: patron.id,
      libraryId: patron.libraryId,
      onBehalf: caller.role === 'DLPB_AGENT',
      before: { status: row.status, activeUntil: row.active_until },
      after: { status: 'EXPIRED', activeUntil, closedRequests: closed.length },
    });
    await work.publish(...closed.map((r) => ({ type: 'DECIDED' as const, occurredAt: now.toISOString(), requestId: r.id, libraryId: r.libraryId })));
    await checkLicenceAlert(app, work, pool.alertLevel);
    return updated;
  });
  return { patron: ended, errors: [] };
}
