import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { eventTypeOf } from '../decisions/events.js';
import { canSeeRequest, canSeeStaff } from '../../auth/visibility.js';
import { StaffAccountType } from '../staff/types.js';
import { builder } from '../../graphql/builder.js';
import { OkPayload, payloadType } from '../../graphql/errors.js';
import { AccountType } from '../patrons/types.js';
import { RESEND_CONFIRMATION_QUEUE } from '../../jobs/queues.js';
import { ID_MAX, LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { THROTTLE_RULES } from '../../lib/throttle.js';
import { PASSWORD_MAX } from '../passwords/policy.js';
import { confirm, NAME_MAX, register, type ConfirmResult, type RegisterResult } from './service.js';

export const RegistrationKindEnum = builder.enumType('RegistrationKind', { values: ['REGISTRATION', 'RENEWAL'] as const });
export const RegistrationStateEnum = builder.enumType('RegistrationState', {
  values: ['AWAITING_CONFIRMATION', 'AWAITING_DECISION', 'ACCEPTED', 'REFUSED', 'LAPSED'] as const,
});
export const DecisionEnum = builder.enumType('Decision', { values: ['ACCEPT', 'REFUSE'] as const });

export const RegistrationRequestType = builder.prismaNode('RegistrationRequest', {
  id: { field: 'id' },
  authScopes: (request, viewing) => canSeeRequest(viewing, request),
  fields: (t) => ({
    kind: t.expose('kind', { type: RegistrationKindEnum }),
    state: t.expose('state', { type: RegistrationStateEnum }),
    patron: t.relation('patron', {
      nullable: false,
      description: 'The person who asked. Lapsed and purged requests keep none: only events reach them (see RegistrationEvent.patron).',
      onNull: (request) =>
        new GraphQLError('Les données personnelles de cette demande ont été supprimées.', {
          extensions: { code: 'PERSONAL_DATA_ERASED', requestId: encodeGlobalID('RegistrationRequest', request.id), eventType: eventTypeOf(request) },
        }),
    }),
    library: t.relation('library'),
    submittedAt: t.expose('submittedAt', { type: 'DateTime' }),
    confirmedAt: t.expose('confirmedAt', { type: 'DateTime', nullable: true }),
    decisionDueAt: t.expose('decisionDueAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the request escalates to the DLPB if still undecided.',
    }),
    escalated: t.exposeBoolean('escalated'),
    escalatedAt: t.expose('escalatedAt', { type: 'DateTime', nullable: true }),
    decision: t.expose('decision', { type: DecisionEnum, nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    decidedBy: t.field({
      type: StaffAccountType,
      nullable: true,
      description:
        'The staff member who decided; null for whoever may not see that account (the patron, a library for a DLPB agent: see decidedOnBehalfOfLibrary).',
      select: { decidedBy: true },
      resolve: (request, _args, viewing) => (request.decidedBy && canSeeStaff(viewing, request.decidedBy) ? request.decidedBy : null),
    }),
    decidedOnBehalfOfLibrary: t.exposeBoolean('decidedOnBehalfOfLibrary', {
      description: 'True when a DLPB agent decided in the library\'s place.',
    }),
    responseMessage: t.exposeString('responseMessage', {
      nullable: true,
      description: 'The response text that was sent to the patron.',
    }),
  }),
});

builder.prismaObjectField('Patron', 'requests', (t) =>
  t.relation('requests', { query: { orderBy: { submittedAt: 'desc' } } }),
);

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    lastName: t.string({ required: true, ...maxChars(NAME_MAX) }),
    firstName: t.string({ required: true, ...maxChars(NAME_MAX) }),
    birthDate: t.field({ type: 'LocalDate', required: true }),
    email: t.field({ type: 'EmailAddress', required: true }),
    login: t.string({ required: true, ...maxChars(LOGIN_MAX, 'Letters without accents, digits, ".", "-", "_"; 3 to 32 characters.') }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'At least 8 characters; common passwords are refused.') }),
    passwordConfirmation: t.string({ required: true, ...maxChars(PASSWORD_MAX) }),
    libraryId: t.id({ required: true }),
    newsletter: t.boolean({ required: true }),
  }),
});

const RegisterPayload = payloadType<RegisterResult>('RegisterPayload', (t) => ({
  ok: t.exposeBoolean('ok', {
    description:
      'True when the request was taken. For privacy the answer is the same whether or not the person already has an account (they are told by e-mail).',
  }),
  confirmationExpiresAt: t.expose('confirmationExpiresAt', { type: 'DateTime', nullable: true }),
}), { ok: false });

builder.mutationField('register', (t) =>
  t.field({
    type: RegisterPayload,
    description: 'Step 1: the registration form. Every problem of the form is reported at once; nothing is stored then.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: (_root, { input }, { app, clientIp }) => register(app, input, clientIp),
  }),
);

const ConfirmInput = builder.inputType('ConfirmInput', { fields: (t) => ({ token: t.string({ required: true, ...maxChars(ID_MAX) }) }) });

const ConfirmPayload = payloadType<ConfirmResult>('ConfirmPayload', (t) => ({
  account: t.field({
    type: AccountType,
    nullable: true,
    description: 'Confirming twice within the window is not an error: the current account is returned.',
    resolve: (p) => p.account,
  }),
}));

builder.mutationField('confirm', (t) =>
  t.field({
    type: ConfirmPayload,
    description: 'Step 2: the link of the confirmation e-mail.',
    args: { input: t.arg({ type: ConfirmInput, required: true }) },
    resolve: (_root, { input }, { app }) => confirm(app, input.token),
  }),
);

const ResendConfirmationInput = builder.inputType('ResendConfirmationInput', {
  fields: (t) => ({ email: t.field({ type: 'EmailAddress', required: true }) }),
});

builder.mutationField('resendConfirmation', (t) =>
  t.field({
    type: OkPayload,
    description: 'Sends a new confirmation link (the old one stops working). Same answer whatever the address.',
    args: { input: t.arg({ type: ResendConfirmationInput, required: true }) },
    resolve: async (_root, { input }, { app, clientIp }) => {
      const throttled =
        (await app.throttle.hit(THROTTLE_RULES.resendsPerAddress, clientIp)) ??
        (await app.throttle.hit(THROTTLE_RULES.resendsPerEmail, input.email));
      if (throttled) return { ok: false, errors: [throttled] };
      await app.boss.send(RESEND_CONFIRMATION_QUEUE, { email: input.email });
      return { ok: true, errors: [] };
    },
  }),
);
