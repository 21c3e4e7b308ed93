import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { idOf } from '../../graphql/ids.js';
import type { RegistrationRequest } from '../../generated/prisma/client.js';
import { DecisionEnum, RegistrationRequestType } from '../registration/types.js';
import { decide, MESSAGE_MAX } from './service.js';
import { maxChars, SEARCH_MAX } from '../../graphql/input-guard.js';
import { pendingOrderBy, pendingWhere } from './queue.js';

const PendingStateEnum = builder.enumType('PendingState', {
  description: "Which requests waiting for a decision: the seed's 'Inscriptions à valider' / 'Réinscriptions à valider'.",
  values: ['REGISTRATIONS', 'RENEWALS', 'ALL'] as const,
});
const SortDirectionEnum = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });
const RegistrationSortFieldEnum = builder.enumType('RegistrationSortField', {
  values: ['SUBMITTED_AT', 'LAST_NAME', 'DECISION_DUE_AT'] as const,
});

const PendingRegistrationsFilter = builder.inputType('PendingRegistrationsFilter', {
  fields: (t) => ({
    libraryId: t.id({ required: false, description: 'Library staff: ignored or must be their own library. DLPB: any library, or all when null.' }),
    state: t.field({ type: PendingStateEnum, required: false, defaultValue: 'ALL' }),
    search: t.string({ required: false, ...maxChars(SEARCH_MAX, 'Case- and accent-insensitive partial match on last name, first name, login and e-mail.') }),
    escalated: t.boolean({ required: false }),
  }),
});

const RegistrationOrder = builder.inputType('RegistrationOrder', {
  fields: (t) => ({
    field: t.field({ type: RegistrationSortFieldEnum, required: true }),
    direction: t.field({ type: SortDirectionEnum, required: true }),
  }),
});

builder.queryField('pendingRegistrations', (t) =>
  t.prismaConnection(
    {
      type: 'RegistrationRequest',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: 'Staff only. Default order: SUBMITTED_AT ASC.',
      authScopes: { staff: true },
      args: {
        filter: t.arg({ type: PendingRegistrationsFilter, required: false }),
        orderBy: t.arg({ type: RegistrationOrder, required: false }),
      },
      resolve: (query, _root, { filter, orderBy }, { prisma, caller }) =>
        prisma.registrationRequest.findMany({ ...query, where: pendingWhere(caller, filter), orderBy: pendingOrderBy(orderBy) }),
      totalCount: (_connection, { filter }, { prisma, caller }) => prisma.registrationRequest.count({ where: pendingWhere(caller, filter) }),
    },
    { name: 'RegistrationRequestConnection' },
    { name: 'RegistrationRequestEdge' },
  ),
);

builder.queryField('registrationRequest', (t) =>
  t.prismaField({
    type: 'RegistrationRequest',
    nullable: true,
    description: 'Staff only.',
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    // Staff of another library get FORBIDDEN from the type's own check.
    resolve: (query, _root, { id }, { prisma }) => {
      const requestId = idOf('RegistrationRequest', id);
      return requestId ? prisma.registrationRequest.findFirst({ ...query, where: { id: requestId, patronId: { not: null } } }) : null;
    },
  }),
);

const DecideInput = builder.inputType('DecideInput', {
  fields: (t) => ({
    requestId: t.id({ required: true }),
    decision: t.field({ type: DecisionEnum, required: true }),
    message: t.string({
      required: false,
      ...maxChars(MESSAGE_MAX, 'Optional edited response text (HTML allowed, sanitised; placeholders allowed). Default: the template.'),
    }),
  }),
});

const DecidePayload = payloadType<{ request: RegistrationRequest | null; errors: UserError[] }>('DecidePayload', (t) => ({
  request: t.field({ type: RegistrationRequestType, nullable: true, resolve: (p) => p.request }),
}));

builder.mutationField('decide', (t) =>
  t.field({
    type: DecidePayload,
    description: "Accepts or refuses a request awaiting a decision; the patron receives the response e-mail.",
    authScopes: { staff: true },
    args: { input: t.arg({ type: DecideInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => decide(app, caller, input),
  }),
);
