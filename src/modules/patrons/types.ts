import type { AccountStatus } from '../../generated/prisma/enums.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { canSeePatron } from '../../auth/visibility.js';
import { isoDate } from '../../lib/calendar.js';
import { builder } from '../../graphql/builder.js';
import { ageAt, ageGroupOf } from '../../lib/calendar.js';
import type { Patron } from '../../generated/prisma/client.js';
import { connectionOptions, edgeOptions, SortDirectionEnum } from '../../graphql/connections.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { maxChars, SEARCH_MAX, maxItems } from '../../graphql/input-guard.js';
import { SEARCH_WORDS_MAX } from '../../lib/text.js';
import { NAME_MAX } from '../registration/service.js';
import { correctPatron, endAccess, patronsCount, patronsPage, REASON_MAX } from './service.js';
import { decodeIds } from '../../graphql/ids.js';

export const AccountStatusEnum = builder.enumType('AccountStatus', {
  description: "Where a patron's access stands.",
  values: {
    UNCONFIRMED: { description: 'Registered, address not confirmed yet: no access, no login.' },
    TEMPORARY: { description: 'Confirmed, waiting for the decision: open access ("Accès libre") for at most a month.' },
    ACTIVE: { description: 'Accepted: every content, within the monthly quotas, until activeUntil.' },
    REFUSED: { description: 'The registration was refused: no access (a new registration is possible).' },
    EXPIRED: { description: 'Access ended (the year ran out, the temporary month ended, or the library ended it): a renewal may be asked.' },
  } as const,
});
export const AgeGroupEnum = builder.enumType('AgeGroup', {
  description: 'Age groups of the statistics and of the children’s space.',
  values: { CHILD: { description: 'Under 12.' }, TEEN: { description: '12 to 17.' }, ADULT: { description: '18 and over.' } } as const,
});

interface AccountShape {
  /** The patron's own id: an account is one per patron. */
  id: string;
  status: AccountStatus;
  temporaryUntil: Date | null;
  activeUntil: Date | null;
}

export const AccountType = builder.objectRef<AccountShape>('Account').implement({
  description: "The state of a patron's access to NuMos.",
  fields: (t) => ({
    id: t.id({ description: "A stable key for clients' caches (one account per patron); not a node.", resolve: (a) => encodeGlobalID('Account', a.id) }),
    status: t.field({ type: AccountStatusEnum, description: 'Where the access stands.', resolve: (a) => a.status }),
    temporaryUntil: t.expose('temporaryUntil', {
      type: 'DateTime',
      nullable: true,
      description: 'End of the temporary month (set at confirmation); null before.',
    }),
    activeUntil: t.expose('activeUntil', {
      type: 'DateTime',
      nullable: true,
      description: 'End of access of an accepted account (a year after the acceptance or renewal); null before.',
    }),
    canAccessUnlimited: t.boolean({
      description: 'TEMPORARY or ACTIVE: unlimited (Accès libre) content is open.',
      resolve: (a) => a.status === 'TEMPORARY' || a.status === 'ACTIVE',
    }),
    canAccessMetered: t.boolean({
      description: 'ACTIVE: metered (Forfait) content is open.',
      resolve: (a) => a.status === 'ACTIVE',
    }),
  }),
});

export const PatronType = builder.prismaNode('Patron', {
  description: 'A member of a library of the network with a NuMos account. Visible to themself, to the staff of their library and to the DLPB.',
  id: { field: 'id' },
  // Checked wherever a patron appears (viewer, node, requests…), not only at the entry points.
  authScopes: (patron, viewing) => canSeePatron(viewing, patron),
  fields: (t) => ({
    lastName: t.exposeString('lastName', { description: 'Family name.' }),
    firstName: t.exposeString('firstName', { description: 'First name.' }),
    birthDate: t.field({ type: 'LocalDate', description: 'Date of birth.', select: { birthDate: true }, resolve: (p) => isoDate(p.birthDate) }),
    age: t.int({
      description: 'Age in whole years today (Paris calendar).',
      select: { birthDate: true },
      resolve: (p, _args, { app }) => ageAt(isoDate(p.birthDate), app.clock.now()),
    }),
    ageGroup: t.field({
      type: AgeGroupEnum,
      description: 'Age group today.',
      select: { birthDate: true },
      resolve: (p, _args, { app }) => ageGroupOf(ageAt(isoDate(p.birthDate), app.clock.now())),
    }),
    email: t.expose('email', { type: 'EmailAddress', description: 'Where NuMos writes to the patron.' }),
    pendingEmail: t.expose('pendingEmail', {
      type: 'EmailAddress',
      nullable: true,
      description: 'Set when the patron asked to change their address and has not yet confirmed the new one.',
    }),
    login: t.exposeString('login', { description: 'The login, as the patron typed it (logins are compared regardless of case).' }),
    newsletter: t.exposeBoolean('newsletter', { description: 'Whether the patron wants the NuMos newsletter.' }),
    library: t.relation('library', { description: 'The home library.' }),
    account: t.field({
      type: AccountType,
      description: 'The state of the access.',
      select: { id: true, status: true, temporaryUntil: true, activeUntil: true },
      resolve: (p) => p,
    }),
    registeredAt: t.expose('registeredAt', { type: 'DateTime', description: 'When the patron registered.' }),
  }),
});

const PatronSortFieldEnum = builder.enumType('PatronSortField', {
  description: 'What the patron list is sorted by (then by patron, so that pages are stable).',
  values: {
    LAST_NAME: { description: 'Family name.' },
    REGISTERED_AT: { description: 'When the patron registered.' },
    ACTIVE_UNTIL: { description: 'End of access (accounts never accepted last).' },
  } as const,
});

const PatronOrderInput = builder.inputType('PatronOrder', {
  description: 'How the patron list is sorted.',
  fields: (t) => ({
    field: t.field({ type: PatronSortFieldEnum, required: true, description: 'What to sort by.' }),
    direction: t.field({ type: SortDirectionEnum, required: true, description: 'Which way.' }),
  }),
});

const PatronsFilterInput = builder.inputType('PatronsFilter', {
  description: 'Which patrons to list.',
  fields: (t) => ({
    libraryId: t.id({ required: false, description: 'Library staff: ignored or must be their own library. DLPB: any library, or all when null.' }),
    statuses: t.field({ type: [AccountStatusEnum], required: false, ...maxItems(10, 'Any of these statuses; all when null.') }),
    search: t.string({
      required: false,
      ...maxChars(
        SEARCH_MAX,
        `Case- and accent-insensitive partial match on last name, first name, login and e-mail; the first ${SEARCH_WORDS_MAX} words count.`,
      ),
    }),
  }),
});

builder.queryField('patrons', (t) =>
  t.prismaConnection(
    {
      type: 'Patron',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: 'Staff only: every account of their library (the DLPB: of every library), not only those awaiting a decision. Default order: LAST_NAME ASC.',
      authScopes: { staff: true },
      args: {
        filter: t.arg({ type: PatronsFilterInput, required: false, description: 'Which patrons; all when null.' }),
        orderBy: t.arg({ type: PatronOrderInput, required: false, description: 'Sort; LAST_NAME ASC when null.' }),
      },
      resolve: (query, _root, { filter, orderBy }, { app, caller, counts }) =>
        patronsPage(app, caller, query, decodeIds(filter, { libraryId: 'Library' }), orderBy, counts),
      totalCount: (_connection, { filter }, { app, caller, counts }) => patronsCount(app, caller, decodeIds(filter, { libraryId: 'Library' }), counts),
    },
    connectionOptions('PatronConnection', 'patrons'),
    edgeOptions('PatronEdge', 'A patron'),
  ),
);

export const PatronPayload = payloadType<{ patron: Patron | null; errors: UserError[] }>('PatronPayload', 'The answer to a change of a patron.', (t) => ({
  patron: t.field({ type: PatronType, nullable: true, description: 'The patron as changed; null when refused.', resolve: (p) => p.patron }),
}));

const CorrectPatronInput = builder.inputType('CorrectPatronInput', {
  description: 'A correction of identity, checked by the library against its own records. Absent fields stay as they are.',
  fields: (t) => ({
    patronId: t.id({ required: true, description: 'The patron.' }),
    lastName: t.string({ required: false, ...maxChars(NAME_MAX, 'The corrected family name.') }),
    firstName: t.string({ required: false, ...maxChars(NAME_MAX, 'The corrected first name.') }),
    birthDate: t.field({ type: 'LocalDate', required: false, description: 'The corrected date of birth.' }),
    reason: t.string({ required: true, ...maxChars(REASON_MAX, 'Why, kept in the audit log (with the names of the fields changed, not their values).') }),
  }),
});

builder.mutationField('correctPatron', (t) =>
  t.field({
    type: PatronPayload,
    description: "Staff of the patron's library, or the DLPB. Audited with the reason.",
    authScopes: { staff: true },
    args: { input: t.arg({ type: CorrectPatronInput, required: true, description: 'The correction.' }) },
    resolve: (_root, { input }, { app, caller }) => correctPatron(app, caller, decodeIds(input, { patronId: 'Patron' })),
  }),
);

const EndAccessInput = builder.inputType('EndAccessInput', {
  description: 'The end of an account before its term.',
  fields: (t) => ({
    patronId: t.id({ required: true, description: 'The patron (ACTIVE or TEMPORARY).' }),
    reason: t.string({ required: true, ...maxChars(REASON_MAX, 'Shown to the patron in the e-mail (as plain text).') }),
  }),
});

builder.mutationField('endAccess', (t) =>
  t.field({
    type: PatronPayload,
    description:
      "Staff of the patron's library, or the DLPB: the account ends now (EXPIRED), its sessions end, a pending request is closed, the patron is e-mailed, the licence is freed.",
    authScopes: { staff: true },
    args: { input: t.arg({ type: EndAccessInput, required: true, description: 'Whose access, and why.' }) },
    resolve: (_root, { input }, { app, caller }) => endAccess(app, caller, decodeIds(input, { patronId: 'Patron' })),
  }),
);
