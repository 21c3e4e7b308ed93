// Membership checks in the library's own system, as GraphQL (contract: api-ils.graphql): the
// connectors of libraries, what a check found, and the staff's actions on them.
import { canSeeLibraryData } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { OkPayload, payloadType, type UserError } from '../../graphql/errors.js';
import { decodeId } from '../../graphql/ids.js';
import { ID_MAX, maxChars } from '../../graphql/input-guard.js';
import type { MembershipConnector } from '../../generated/prisma/client.js';
import {
  checkView,
  recheckMembership,
  removeMembershipConnector,
  saveMembershipConnector,
  testMembershipConnector,
  type MembershipCheckView,
} from './service.js';

export const MembershipConnectorKindEnum = builder.enumType('MembershipConnectorKind', {
  description: "The kind of the library's system.",
  values: {
    KOHA_REST: { description: "Koha's REST API (/api/v1/patrons), with OAuth2 client credentials or Basic authentication." },
    SIP2: { description: 'SIP2 over TCP or TLS: login (93), patron information (63).' },
  } as const,
});

export const MembershipRuleEnum = builder.enumType('MembershipRule', {
  description: 'What makes an applicant a member, for the library.',
  values: {
    ENROLLED_OR_RENEWED_WITHIN_A_YEAR: { description: "The seed's rule: enrolled or renewed less than a year before the check, and not expired." },
    NOT_EXPIRED: { description: "The membership's expiry date is not past on the day of the check." },
  } as const,
});

const KohaAuthenticationEnum = builder.enumType('KohaAuthentication', {
  description: "How NuMos authenticates to Koha's REST API.",
  values: {
    OAUTH2: { description: 'OAuth2 client credentials (an API key of a staff patron; Koha preference RESTOAuth2ClientCredentials).' },
    BASIC: { description: 'HTTP Basic with a staff user and password (Koha preference RESTBasicAuth).' },
  } as const,
});

const MembershipMatchEnum = builder.enumType('MembershipMatch', {
  description: "How the applicant was found in the library's system.",
  values: {
    CARD_NUMBER: { description: 'By the library card number given with the form.' },
    EMAIL: { description: 'By e-mail address.' },
    NAME_AND_BIRTH_DATE: { description: 'By last name, first name and birth date.' },
  } as const,
});

const OUTCOMES = {
  ACTIVE: { description: "Found once, and a member under the library's rule." },
  INACTIVE: { description: 'Found once, and not a member under the rule (expired, or neither enrolled nor renewed within a year).' },
  NOT_FOUND: { description: 'Not found.' },
  AMBIGUOUS: { description: 'Several people match: a librarian must look.' },
  INCONCLUSIVE: { description: 'Found once, but the system does not give what the rule needs (no dates).' },
  UNAVAILABLE: { description: 'The system could not be asked (unreachable, error, timed out, or calls paused after failures).' },
} as const;

export const MembershipCheckOutcomeEnum = builder.enumType('MembershipCheckOutcome', { description: 'What a check concluded.', values: OUTCOMES });

export const MembershipFilterEnum = builder.enumType('MembershipFilter', {
  description: 'Filter values for the pending queue: an outcome, or no check at all.',
  values: { ...OUTCOMES, NOT_CHECKED: { description: 'No check yet (no connector, or not run yet).' } },
});

export const MembershipCheckType = builder.objectRef<MembershipCheckView>('MembershipCheck').implement({
  description: "What NuMos found in the library's system. Never the library's record itself.",
  fields: (t) => ({
    outcome: t.field({ type: MembershipCheckOutcomeEnum, description: 'What the check concluded.', resolve: (c) => c.outcome }),
    connector: t.field({ type: MembershipConnectorKindEnum, description: 'The kind of system asked.', resolve: (c) => c.connector }),
    checkedAt: t.field({ type: 'DateTime', description: 'When the system was asked.', resolve: (c) => c.checkedAt }),
    matchedBy: t.field({
      type: MembershipMatchEnum,
      nullable: true,
      description: 'How the applicant was found; null when not found once.',
      resolve: (c) => c.matchedBy,
    }),
    enrolledOrRenewedOn: t.field({
      type: 'LocalDate',
      nullable: true,
      description: "The later of the enrolment and the last renewal, as the library's system gives them.",
      resolve: (c) => c.enrolledOrRenewedOn,
    }),
    memberUntil: t.field({ type: 'LocalDate', nullable: true, description: "The membership's expiry in the library's system.", resolve: (c) => c.memberUntil }),
    birthDateMatches: t.boolean({ nullable: true, description: "Null when the library's system gives no birth date.", resolve: (c) => c.birthDateMatches }),
    birthYearMatches: t.boolean({ nullable: true, description: "Null when the library's system gives no birth year.", resolve: (c) => c.birthYearMatches }),
    summary: t.exposeString('summary', { description: 'One or two sentences in French for the librarian.' }),
  }),
});

export const MembershipConnectorType = builder.prismaObject('MembershipConnector', {
  description: "A library's connection to its own system, for membership checks. Its secret is never shown.",
  fields: (t) => ({
    kind: t.field({ type: MembershipConnectorKindEnum, description: 'The kind of system.', resolve: (c) => c.kind }),
    enabled: t.exposeBoolean('enabled', { description: 'Checks run only while the connector is enabled.' }),
    rule: t.field({ type: MembershipRuleEnum, description: 'What makes an applicant a member.', resolve: (c) => c.rule }),
    autoAccept: t.exposeBoolean('autoAccept', { description: 'NuMos accepts on the library’s behalf when the check is ACTIVE and everything matches.' }),
    endpoint: t.exposeString('endpoint', { description: "Koha: the REST API's base URL (https://…/api/v1). SIP2: host:port." }),
    tls: t.exposeBoolean('tls', { description: 'SIP2: TLS on the connection (Koha: always HTTPS unless the operator allows otherwise).' }),
    username: t.exposeString('username', { nullable: true, description: 'Koha: the OAuth2 client id or the Basic user. SIP2: the login user (CN).' }),
    kohaAuthentication: t.field({ type: KohaAuthenticationEnum, description: 'Koha: how NuMos authenticates.', resolve: (c) => c.kohaAuthentication }),
    institutionId: t.exposeString('institutionId', { nullable: true, description: 'SIP2: institution id (AO).' }),
    locationCode: t.exposeString('locationCode', { nullable: true, description: 'SIP2: location code (CP).' }),
    expiryField: t.exposeString('expiryField', {
      nullable: true,
      description: "SIP2: the patron information field that carries the membership's expiry date, when the library's SIP server sends one.",
    }),
    secretConfigured: t.boolean({
      description: 'True when a secret (password or client secret) is stored. The secret itself is never shown.',
      resolve: (c) => c.secretSealed !== null,
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the settings last changed.' }),
    lastCallAt: t.expose('lastCallAt', { type: 'DateTime', nullable: true, description: "When NuMos last called the library's system." }),
    lastCallOk: t.exposeBoolean('lastCallOk', { nullable: true, description: 'Whether that call succeeded.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'The last failure, in French, without any secret.' }),
    pausedUntil: t.expose('pausedUntil', {
      type: 'DateTime',
      nullable: true,
      description: "While set, NuMos does not call the library's system (too many failures in a row); checks are UNAVAILABLE.",
    }),
  }),
});

builder.prismaObjectField('Library', 'membershipConnector', (t) =>
  t.field({
    type: MembershipConnectorType,
    nullable: true,
    description: 'Staff of that library and the DLPB only; null when none is set.',
    select: { connector: true },
    resolve: (library, _args, { caller }) => (canSeeLibraryData(caller, library.id) ? library.connector : null),
  }),
);

builder.prismaObjectField('RegistrationRequest', 'membershipCheck', (t) =>
  t.field({
    type: MembershipCheckType,
    nullable: true,
    description: 'Staff only: the latest check of the applicant; null when the library has no connector or no check ran yet.',
    select: { membershipChecks: { orderBy: { checkedAt: 'desc' }, take: 1 } },
    resolve: (request, _args, { caller }) => {
      const [latest] = request.membershipChecks;
      return latest && canSeeLibraryData(caller, request.libraryId) ? checkView(latest) : null;
    },
  }),
);

builder.prismaObjectField('RegistrationRequest', 'decidedAutomatically', (t) =>
  t.exposeBoolean('decidedAutomatically', { description: 'True when NuMos accepted on the library’s behalf (the library opted in and everything matched).' }),
);

builder.prismaObjectField('RegistrationRequest', 'libraryCardNumber', (t) =>
  t.string({
    nullable: true,
    description: 'Staff only: the library card number given with the form; null otherwise, or once the person is erased.',
    select: { libraryCardNumber: true },
    resolve: (request, _args, { caller }) => (canSeeLibraryData(caller, request.libraryId) ? request.libraryCardNumber : null),
  }),
);

const SaveMembershipConnectorInput = builder.inputType('SaveMembershipConnectorInput', {
  description: "A library's connector: created, or replaced whole (but the secret, kept when omitted).",
  fields: (t) => ({
    libraryId: t.id({ required: true, description: 'The library.' }),
    kind: t.field({ type: MembershipConnectorKindEnum, required: true, description: 'The kind of system.' }),
    enabled: t.boolean({ required: true, description: 'Checks run only while enabled.' }),
    rule: t.field({ type: MembershipRuleEnum, required: false, defaultValue: 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR', description: 'What makes a member.' }),
    autoAccept: t.boolean({ required: false, defaultValue: false, description: 'NuMos accepts on the library’s behalf when everything matches.' }),
    endpoint: t.string({ required: true, ...maxChars(500, "Koha: the REST API's base URL (https://…/api/v1). SIP2: host:port.") }),
    tls: t.boolean({ required: false, defaultValue: true, description: 'SIP2: TLS on the connection.' }),
    username: t.string({ required: false, ...maxChars(200, 'Koha: the OAuth2 client id or the Basic user. SIP2: the login user (CN).') }),
    secret: t.string({ required: false, ...maxChars(500, 'Write-only. Omitted: the stored secret is kept.') }),
    kohaAuthentication: t.field({ type: KohaAuthenticationEnum, required: false, defaultValue: 'OAUTH2', description: 'Koha: how NuMos authenticates.' }),
    institutionId: t.string({ required: false, ...maxChars(100, 'SIP2: institution id (AO).') }),
    locationCode: t.string({ required: false, ...maxChars(100, 'SIP2: location code (CP).') }),
    expiryField: t.string({ required: false, ...maxChars(2, "SIP2: the field carrying the membership's expiry date (e.g. DE).") }),
  }),
});

const SaveMembershipConnectorPayload = payloadType<{ connector: MembershipConnector | null; errors: UserError[] }>(
  'SaveMembershipConnectorPayload',
  'The answer to saving a connector.',
  (t) => ({ connector: t.field({ type: MembershipConnectorType, nullable: true, description: 'The connector as saved.', resolve: (p) => p.connector }) }),
);

builder.mutationField('saveMembershipConnector', (t) =>
  t.field({
    type: SaveMembershipConnectorPayload,
    description: "Staff of that library, or the DLPB. Audited without the secret; a secret needs the operator's NUMOS_SECRETS_KEY.",
    args: { input: t.arg({ type: SaveMembershipConnectorInput, required: true, description: 'The settings.' }) },
    resolve: async (_root, { input }, { app, caller }) => ({
      connector: await saveMembershipConnector(app, caller, { ...input, libraryId: decodeId('Library', input.libraryId) }),
      errors: [],
    }),
  }),
);

const RemoveMembershipConnectorInput = builder.inputType('RemoveMembershipConnectorInput', {
  description: 'Whose connector to delete.',
  fields: (t) => ({ libraryId: t.id({ required: true, description: 'The library.' }) }),
});

builder.mutationField('removeMembershipConnector', (t) =>
  t.field({
    type: OkPayload,
    description: 'Staff of that library, or the DLPB. Deletes the settings and the stored secret.',
    args: { input: t.arg({ type: RemoveMembershipConnectorInput, required: true, description: 'The library.' }) },
    resolve: async (_root, { input }, { app, caller }) => {
      await removeMembershipConnector(app, caller, decodeId('Library', input.libraryId));
      return { ok: true, errors: [] };
    },
  }),
);

const TestMembershipConnectorInput = builder.inputType('TestMembershipConnectorInput', {
  description: "Looks a person up with the library's connector, as a check would, and stores nothing.",
  fields: (t) => ({
    libraryId: t.id({ required: true, description: 'The library.' }),
    cardNumber: t.string({ required: false, ...maxChars(32, 'A library card number.') }),
    email: t.field({ type: 'EmailAddress', required: false, description: 'An e-mail address.' }),
    lastName: t.string({ required: false, ...maxChars(100, 'A last name (with the first name and the birth date).') }),
    firstName: t.string({ required: false, ...maxChars(100, 'A first name.') }),
    birthDate: t.field({ type: 'LocalDate', required: false, description: 'A birth date (compared with the system’s).' }),
  }),
});

const TestMembershipConnectorPayload = payloadType<{ check: MembershipCheckView | null; errors: UserError[] }>(
  'TestMembershipConnectorPayload',
  'What the library’s system answered, nothing stored.',
  (t) => ({ check: t.field({ type: MembershipCheckType, nullable: true, description: 'The check as it would be.', resolve: (p) => p.check }) }),
);

builder.mutationField('testMembershipConnector', (t) =>
  t.field({
    type: TestMembershipConnectorPayload,
    description: 'Staff of that library, or the DLPB.',
    args: { input: t.arg({ type: TestMembershipConnectorInput, required: true, description: 'The person to look up.' }) },
    resolve: async (_root, { input }, { app, caller }) => ({
      check: await testMembershipConnector(app, caller, { ...input, libraryId: decodeId('Library', input.libraryId) }),
      errors: [],
    }),
  }),
);

const RecheckMembershipInput = builder.inputType('RecheckMembershipInput', {
  description: 'The request whose applicant to look up again.',
  fields: (t) => ({ requestId: t.id({ required: true, ...maxChars(ID_MAX, 'The request.') }) }),
});

const RecheckMembershipPayload = payloadType<{ requestId: string | null; errors: UserError[] }>(
  'RecheckMembershipPayload',
  'The request, with its new check.',
  (t) => ({
    request: t.prismaField({
      type: 'RegistrationRequest',
      nullable: true,
      description: 'The request; its `membershipCheck` is the new one.',
      resolve: (query, p, _args, { prisma }) => (p.requestId ? prisma.registrationRequest.findUnique({ ...query, where: { id: p.requestId } }) : null),
    }),
  }),
);

builder.mutationField('recheckMembership', (t) =>
  t.field({
    type: RecheckMembershipPayload,
    description: 'Staff who may decide the request: checks the applicant again now.',
    args: { input: t.arg({ type: RecheckMembershipInput, required: true, description: 'The request.' }) },
    resolve: async (_root, { input }, { app, caller }) => ({
      requestId: (await recheckMembership(app, caller, decodeId('RegistrationRequest', input.requestId))).id,
      errors: [],
    }),
  }),
);
