import type { AccountStatus } from '../../generated/prisma/enums.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { canSeePatron } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { ageAt, ageGroupOf } from '../../lib/calendar.js';

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
    temporaryUntil: t.expose('temporaryUntil', { type: 'DateTime', nullable: true, description: 'End of the temporary month (set at confirmation); null before.' }),
    activeUntil: t.expose('activeUntil', { type: 'DateTime', nullable: true, description: 'End of access of an accepted account (a year after the acceptance or renewal); null before.' }),
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

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

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
