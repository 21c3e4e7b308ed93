import type { AccountStatus } from '../../generated/prisma/enums.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { canSeePatron } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { ageAt, ageGroupOf } from '../../lib/calendar.js';

export const AccountStatusEnum = builder.enumType('AccountStatus', {
  values: ['UNCONFIRMED', 'TEMPORARY', 'ACTIVE', 'REFUSED', 'EXPIRED'] as const,
});
export const AgeGroupEnum = builder.enumType('AgeGroup', { values: ['CHILD', 'TEEN', 'ADULT'] as const });

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
    status: t.field({ type: AccountStatusEnum, resolve: (a) => a.status }),
    temporaryUntil: t.expose('temporaryUntil', { type: 'DateTime', nullable: true }),
    activeUntil: t.expose('activeUntil', { type: 'DateTime', nullable: true }),
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
  id: { field: 'id' },
  // Checked wherever a patron appears (viewer, node, requests…), not only at the entry points.
  authScopes: (patron, viewing) => canSeePatron(viewing, patron),
  fields: (t) => ({
    lastName: t.exposeString('lastName'),
    firstName: t.exposeString('firstName'),
    birthDate: t.field({ type: 'LocalDate', select: { birthDate: true }, resolve: (p) => isoDate(p.birthDate) }),
    age: t.int({
      select: { birthDate: true },
      resolve: (p, _args, { app }) => ageAt(isoDate(p.birthDate), app.clock.now()),
    }),
    ageGroup: t.field({
      type: AgeGroupEnum,
      select: { birthDate: true },
      resolve: (p, _args, { app }) => ageGroupOf(ageAt(isoDate(p.birthDate), app.clock.now())),
    }),
    email: t.expose('email', { type: 'EmailAddress' }),
    login: t.exposeString('login'),
    newsletter: t.exposeBoolean('newsletter'),
    library: t.relation('library'),
    account: t.field({
      type: AccountType,
      select: { id: true, status: true, temporaryUntil: true, activeUntil: true },
      resolve: (p) => p,
    }),
    registeredAt: t.expose('registeredAt', { type: 'DateTime' }),
  }),
});
