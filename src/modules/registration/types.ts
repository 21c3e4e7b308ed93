import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { eventTypeOf } from '../decisions/event-types.js';
import { canSeeRequest, canSeeStaff } from '../../auth/visibility.js';
import { StaffAccountType } from '../staff/types.js';
import { builder } from '../../graphql/builder.js';
import { OkPayload, payloadType } from '../../graphql/errors.js';
import { AccountType } from '../patrons/types.js';
import { ID_MAX, LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { PASSWORD_MAX } from '../passwords/policy.js';
import { askConfirmationResend, confirm, NAME_MAX, register, type ConfirmResult, type RegisterResult } from './service.js';
import { decodeIds } from '../../graphql/ids.js';

export const RegistrationKindEnum = builder.enumType('RegistrationKind', {
  description: 'What a request asks for.',
  values: {
    REGISTRATION: { description: 'A first access to NuMos, from the online form.' },
    RENEWAL: { description: 'One more year of access, asked from 15 days before the end of access.' },
  } as const,
});
export const RegistrationStateEnum = builder.enumType('RegistrationState', {
  description: 'Where a request stands in its life.',
  values: {
    AWAITING_CONFIRMATION: { description: 'Waiting for the person to follow the link of the confirmation e-mail (15 days).' },
    AWAITING_DECISION: { description: "Confirmed: waiting for the library's (or the DLPB's) decision." },
    ACCEPTED: { description: 'Accepted: the account is ACTIVE for a year.' },
    REFUSED: { description: 'Refused: a registration makes the account REFUSED; a refused renewal lets the account run to its end.' },
    LAPSED: { description: "Not confirmed within 15 days: the person's data was deleted." },
  } as const,
});
export const DecisionEnum = builder.enumType('Decision', {
  description: "A library's answer to a request.",
  values: { ACCEPT: { description: 'Access is granted (or renewed) for a year.' }, REFUSE: { description: 'Access is refused.' } } as const,
});

export const RegistrationRequestType = builder.prismaNode('RegistrationRequest', {
  description: 'A registration or renewal request: the seed\'s "Inscriptions à valider". Visible to its patron, to the staff of its library and to the DLPB.',
  id: { field: 'id' },
  authScopes: (request, viewing) => canSeeRequest(viewing, request),
  fields: (t) => ({
    kind: t.expose('kind', { type: RegistrationKindEnum, description: 'Registration or renewal.' }),
    state: t.expose('state', { type: RegistrationStateEnum, description: 'Where the request stands.' }),
    patron: t.relation('patron', {
      nullable: false,
      description: 'The person who asked. Lapsed and purged requests keep none: only events reach them (see RegistrationEvent.patron).',
      onNull: (request) =>
        new GraphQLError('Les données personnelles de cette demande ont été supprimées.', {
          extensions: { code: 'PERSONAL_DATA_ERASED', requestId: encodeGlobalID('RegistrationRequest', request.id), eventType: eventTypeOf(request) },
        }),
    }),
    library: t.relation('library', { description: "The patron's home library, which decides." }),
    submittedAt: t.expose('submittedAt', { type: 'DateTime', description: 'When the form (or the renewal) was sent.' }),
    confirmedAt: t.expose('confirmedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the person confirmed their address (a renewal: when it was asked); null before.',
    }),
    decisionDueAt: t.expose('decisionDueAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the request escalates to the DLPB if still undecided.',
    }),
    escalated: t.exposeBoolean('escalated', { description: 'Still undecided 5 days after confirmation: handed to the DLPB as well.' }),
    escalatedAt: t.expose('escalatedAt', { type: 'DateTime', nullable: true, description: 'When the request escalated; null if it did not.' }),
    decision: t.expose('decision', { type: DecisionEnum, nullable: true, description: 'The decision; null until there is one.' }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true, description: 'When the decision was made; null until then.' }),
    decidedBy: t.field({
      type: StaffAccountType,
      nullable: true,
      description:
        'The staff member who decided; null for whoever may not see that account (the patron, a library for a DLPB agent: see decidedOnBehalfOfLibrary).',
      select: { decidedBy: true },
      resolve: (request, _args, viewing) => (request.decidedBy && canSeeStaff(viewing, request.decidedBy) ? request.decidedBy : null),
    }),
    decidedOnBehalfOfLibrary: t.exposeBoolean('decidedOnBehalfOfLibrary', {
      description: "True when a DLPB agent decided in the library's place.",
    }),
    responseMessage: t.exposeString('responseMessage', {
      nullable: true,
      description: 'The response text that was sent to the patron.',
    }),
  }),
});

builder.prismaObjectField('Patron', 'requests', (t) =>
  t.relation('requests', { description: "The patron's requests, newest first.", query: { orderBy: { submittedAt: 'desc' } } }),
);

const RegisterInput = builder.inputType('RegisterInput', {
  description: "The seed's registration form.",
  fields: (t) => ({
    lastName: t.string({ required: true, ...maxChars(NAME_MAX, 'Family name, as on the library card.') }),
    firstName: t.string({ required: true, ...maxChars(NAME_MAX, 'First name, as on the library card.') }),
    birthDate: t.field({
      type: 'LocalDate',
      required: true,
      description: 'Date of birth (the library checks the year); not in the future, not over 120 years ago.',
    }),
    email: t.field({
      type: 'EmailAddress',
      required: true,
      description: 'Where the confirmation link and every later e-mail go. Several people may share one (a family).',
    }),
    login: t.string({ required: true, ...maxChars(LOGIN_MAX, 'Letters without accents, digits, ".", "-", "_"; 3 to 32 characters.') }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'At least 8 characters; common passwords are refused.') }),
    passwordConfirmation: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'The same password again.') }),
    libraryId: t.id({ required: true, description: 'The home library (from `libraries`), which will decide.' }),
    newsletter: t.boolean({ required: true, description: 'Whether the person wants the NuMos newsletter.' }),
    libraryCardNumber: t.string({
      required: false,
      ...maxChars(32, "Optional library card number; when given, the library's system is searched by it first. Letters, digits and dashes."),
    }),
  }),
});

const RegisterPayload = payloadType<RegisterResult>(
  'RegisterPayload',
  'The answer to a registration form.',
  (t) => ({
    ok: t.exposeBoolean('ok', {
      description:
        'True when the request was taken. For privacy the answer is the same whether or not the person already has an account (they are told by e-mail).',
    }),
    confirmationExpiresAt: t.expose('confirmationExpiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Until when the link of the confirmation e-mail works (15 days); null when refused.',
    }),
  }),
  { ok: false },
);

builder.mutationField('register', (t) =>
  t.field({
    type: RegisterPayload,
    description: 'Step 1: the registration form. Every problem of the form is reported at once; nothing is stored then.',
    args: { input: t.arg({ type: RegisterInput, required: true, description: 'The form.' }) },
    resolve: (_root, { input }, { app, clientIp }) => register(app, decodeIds(input, { libraryId: 'Library' }), clientIp),
  }),
);

const ConfirmInput = builder.inputType('ConfirmInput', {
  description: 'The link of the confirmation e-mail.',
  fields: (t) => ({ token: t.string({ required: true, ...maxChars(ID_MAX, 'The `token` parameter of the link (PUBLIC_APP_URL/confirmer?token=…).') }) }),
});

const ConfirmPayload = payloadType<ConfirmResult>('ConfirmPayload', 'The answer to a confirmation.', (t) => ({
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
    args: { input: t.arg({ type: ConfirmInput, required: true, description: 'The token of the link.' }) },
    resolve: (_root, { input }, { app }) => confirm(app, input.token),
  }),
);

const ResendConfirmationInput = builder.inputType('ResendConfirmationInput', {
  description: 'Whose confirmation e-mail to send again.',
  fields: (t) => ({ email: t.field({ type: 'EmailAddress', required: true, description: 'The address given at registration.' }) }),
});

builder.mutationField('resendConfirmation', (t) =>
  t.field({
    type: OkPayload,
    description: 'Sends a new confirmation link (the old one stops working). Same answer whatever the address.',
    args: { input: t.arg({ type: ResendConfirmationInput, required: true, description: 'The address.' }) },
    resolve: (_root, { input }, { app, clientIp }) => askConfirmationResend(app, input.email, clientIp),
  }),
);
