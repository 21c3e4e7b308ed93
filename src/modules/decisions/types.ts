import { encodeGlobalID } from '@pothos/plugin-relay';
import { MembershipFilterEnum } from '../membership/types.js';
import { builder } from '../../graphql/builder.js';
import { connectionOptions, edgeOptions, SortDirectionEnum } from '../../graphql/connections.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { decodeId, decodeIds, idOf } from '../../graphql/ids.js';
import type { RegistrationRequest } from '../../generated/prisma/client.js';
import { DecisionEnum, RegistrationKindEnum, RegistrationRequestType } from '../registration/types.js';
import { decide, MESSAGE_MAX, responseDraft } from './service.js';
import { responseTemplates, setResponseTemplate, TEMPLATE_MAX, type ResponseTemplateView } from './responses.js';
import { maxChars, SEARCH_MAX, maxItems } from '../../graphql/input-guard.js';
import { pendingCounts, pendingOrderBy, pendingWhere, type PendingCounts } from './queue.js';
import { decidedOrderBy, decidedWhere } from './history.js';
import { PLACEHOLDERS, type Placeholder } from './templates.js';
import { LibraryType } from '../libraries/types.js';

const PendingStateEnum = builder.enumType('PendingState', {
  description: "Which requests waiting for a decision: the seed's 'Inscriptions à valider' / 'Réinscriptions à valider'.",
  values: {
    REGISTRATIONS: { description: 'First registrations ("Inscriptions à valider").' },
    RENEWALS: { description: 'Renewals ("Réinscriptions à valider").' },
    ALL: { description: 'Both.' },
  } as const,
});
const RegistrationSortFieldEnum = builder.enumType('RegistrationSortField', {
  description: 'What the pending queue is sorted by (then by request, so that pages are stable).',
  values: {
    SUBMITTED_AT: { description: 'When the request was sent.' },
    LAST_NAME: { description: "The patron's last name." },
    DECISION_DUE_AT: { description: 'When the request escalates to the DLPB.' },
  } as const,
});

const PendingRegistrationsFilter = builder.inputType('PendingRegistrationsFilter', {
  description: 'Which requests awaiting a decision to list.',
  fields: (t) => ({
    libraryId: t.id({ required: false, description: 'Library staff: ignored or must be their own library. DLPB: any library, or all when null.' }),
    state: t.field({ type: PendingStateEnum, required: false, defaultValue: 'ALL', description: 'Registrations, renewals or both.' }),
    search: t.string({
      required: false,
      ...maxChars(SEARCH_MAX, 'Case- and accent-insensitive partial match on last name, first name, login and e-mail; the first 8 words count.'),
    }),
    escalated: t.boolean({ required: false, description: 'Only escalated requests (true), only the others (false), or both (null).' }),
    membership: t.field({
      type: [MembershipFilterEnum],
      required: false,
      ...maxItems(7, 'Only requests whose latest check has one of these outcomes (NOT_CHECKED: none).'),
    }),
  }),
});

const RegistrationOrder = builder.inputType('RegistrationOrder', {
  description: 'How the pending queue is sorted.',
  fields: (t) => ({
    field: t.field({ type: RegistrationSortFieldEnum, required: true, description: 'What to sort by.' }),
    direction: t.field({ type: SortDirectionEnum, required: true, description: 'Which way.' }),
  }),
});

/** One connection type for every list of requests (the queue, the decided ones); each list's cursors are its own (src/graphql/cursors.ts). */
const RegistrationRequestConnection = builder.connectionObject(
  { type: RegistrationRequestType, ...connectionOptions('RegistrationRequestConnection', 'requests') },
  edgeOptions('RegistrationRequestEdge', 'A request'),
);

builder.queryField('pendingRegistrations', (t) =>
  t.prismaConnection(
    {
      type: 'RegistrationRequest',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: "Staff only: the requests awaiting a decision (their library's; the DLPB: every library's). Default order: SUBMITTED_AT ASC.",
      authScopes: { staff: true },
      args: {
        filter: t.arg({ type: PendingRegistrationsFilter, required: false, description: 'Which requests; all pending ones when null.' }),
        orderBy: t.arg({ type: RegistrationOrder, required: false, description: 'Sort; SUBMITTED_AT ASC when null.' }),
      },
      resolve: (query, _root, { filter, orderBy }, { prisma, caller }) =>
        prisma.registrationRequest.findMany({
          ...query,
          where: pendingWhere(caller, decodeIds(filter, { libraryId: 'Library' })),
          orderBy: pendingOrderBy(orderBy),
        }),
      totalCount: (_connection, { filter }, { prisma, caller }) =>
        prisma.registrationRequest.count({ where: pendingWhere(caller, decodeIds(filter, { libraryId: 'Library' })) }),
    },
    RegistrationRequestConnection,
  ),
);

const PendingRegistrationCountsType = builder.objectRef<PendingCounts>('PendingRegistrationCounts').implement({
  description:
    "How many requests await a decision, by tab of the queue (the seed's 'Inscriptions à valider' / 'Réinscriptions à valider', and the DLPB's escalated ones).",
  fields: (t) => ({
    id: t.id({
      description:
        "A stable key for clients' caches (the library counted, or every library); not a node. `decide` answers the same counts, so that the tabs follow a decision without a refetch.",
      resolve: (c) => encodeGlobalID('PendingRegistrationCounts', c.libraryId ?? 'all'),
    }),
    registrations: t.exposeInt('registrations', { description: 'First registrations awaiting a decision (pendingRegistrations with state REGISTRATIONS).' }),
    renewals: t.exposeInt('renewals', { description: 'Renewals awaiting a decision (state RENEWALS).' }),
    escalated: t.exposeInt('escalated', { description: 'Requests of either kind escalated to the DLPB and still undecided (escalated: true).' }),
    all: t.exposeInt('all', { description: 'Every request awaiting a decision (state ALL): registrations + renewals.' }),
  }),
});

const countsArgs = builder.args((t) => ({
  libraryId: t.id({ required: false, description: 'Library staff: ignored or must be their own library. DLPB: one library, or every library when null.' }),
}));

builder.queryField('pendingRegistrationCounts', (t) =>
  t.field({
    type: PendingRegistrationCountsType,
    description: "Staff only: the counts of the queue's tabs in one call, scoped as pendingRegistrations (their library; the DLPB: one library or all).",
    authScopes: { staff: true },
    args: countsArgs,
    resolve: (_root, { libraryId }, { prisma, caller }) => pendingCounts(prisma, caller, decodeId('Library', libraryId)),
  }),
);

const RegistrationRequestSortFieldEnum = builder.enumType('RegistrationRequestSortField', {
  description: 'What the decided requests are sorted by (then by request, so that pages are stable).',
  values: {
    DECIDED_AT: { description: 'When the request was decided.' },
    SUBMITTED_AT: { description: 'When the request was sent.' },
    LAST_NAME: { description: "The patron's last name." },
  } as const,
});

const RegistrationRequestOrder = builder.inputType('RegistrationRequestOrder', {
  description: 'How the decided requests are sorted.',
  fields: (t) => ({
    field: t.field({ type: RegistrationRequestSortFieldEnum, required: true, description: 'What to sort by.' }),
    direction: t.field({ type: SortDirectionEnum, required: true, description: 'Which way.' }),
  }),
});

const RegistrationRequestsFilter = builder.inputType('RegistrationRequestsFilter', {
  description: 'Which decided requests to list: every condition given must hold.',
  fields: (t) => ({
    libraryId: t.id({ required: false, description: 'Library staff: ignored or must be their own library. DLPB: any library, or all when null.' }),
    decision: t.field({ type: DecisionEnum, required: false, description: 'Only the accepted (ACCEPT) or the refused (REFUSE) ones; both when null.' }),
    kind: t.field({ type: RegistrationKindEnum, required: false, description: 'Only first registrations or only renewals; both when null.' }),
    decidedById: t.id({
      required: false,
      description:
        'Only the decisions of this staff account. Library staff find only their own library’s deciders (a DLPB agent’s decision in their place has no decider for them).',
    }),
    decidedFrom: t.field({ type: 'DateTime', required: false, description: 'Decided at or after this instant.' }),
    decidedTo: t.field({ type: 'DateTime', required: false, description: 'Decided before this instant (excluded).' }),
    search: t.string({
      required: false,
      ...maxChars(
        SEARCH_MAX,
        'As the queue’s search: case- and accent-insensitive partial match on last name, first name, login and e-mail; the first 8 words count.',
      ),
    }),
    escalated: t.boolean({ required: false, description: 'Only requests that had escalated to the DLPB (true), only the others (false), or both (null).' }),
  }),
});

builder.queryField('registrationRequests', (t) =>
  t.prismaConnection(
    {
      type: 'RegistrationRequest',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description:
        "Staff only: the requests already decided (ACCEPTED or REFUSED), the history beside the queue: their library's; the DLPB: every library's. Requests whose person was erased are left out. Default order: DECIDED_AT DESC.",
      authScopes: { staff: true },
      args: {
        filter: t.arg({ type: RegistrationRequestsFilter, required: false, description: 'Which decided requests; all when null.' }),
        orderBy: t.arg({ type: RegistrationRequestOrder, required: false, description: 'Sort; DECIDED_AT DESC when null.' }),
      },
      resolve: (query, _root, { filter, orderBy }, { prisma, caller }) =>
        prisma.registrationRequest.findMany({
          ...query,
          where: decidedWhere(caller, decodeIds(filter, { libraryId: 'Library', decidedById: 'StaffAccount' })),
          orderBy: decidedOrderBy(orderBy),
        }),
      totalCount: (_connection, { filter }, { prisma, caller }) =>
        prisma.registrationRequest.count({ where: decidedWhere(caller, decodeIds(filter, { libraryId: 'Library', decidedById: 'StaffAccount' })) }),
    },
    RegistrationRequestConnection,
  ),
);

builder.queryField('registrationRequest', (t) =>
  t.prismaField({
    type: 'RegistrationRequest',
    nullable: true,
    description: 'Staff only. A request of their library (the DLPB: any); null when there is none with this ID.',
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true, description: "The request's global ID (as in the links of staff e-mails)." }) },
    // Staff of another library get FORBIDDEN from the type's own check.
    resolve: (query, _root, { id }, { prisma }) => {
      const requestId = idOf('RegistrationRequest', id);
      return requestId ? prisma.registrationRequest.findFirst({ ...query, where: { id: requestId, patronId: { not: null } } }) : null;
    },
  }),
);

const DecideInput = builder.inputType('DecideInput', {
  description: 'A decision on a request awaiting one.',
  fields: (t) => ({
    requestId: t.id({ required: true, description: 'The request.' }),
    decision: t.field({ type: DecisionEnum, required: true, description: 'Accept or refuse.' }),
    message: t.string({
      required: false,
      ...maxChars(MESSAGE_MAX, 'Optional edited response text (HTML allowed, sanitised; placeholders allowed). Default: the template.'),
    }),
  }),
});

const DecidePayload = payloadType<{ request: RegistrationRequest | null; errors: UserError[] }>('DecidePayload', 'The answer to a decision.', (t) => ({
  request: t.field({
    type: RegistrationRequestType,
    nullable: true,
    description:
      'The request as decided (same `id`, new `state`: a cache updates it, and a queue drops it since it no longer awaits a decision); null when refused.',
    resolve: (p) => p.request,
  }),
  pendingRegistrationCounts: t.field({
    type: PendingRegistrationCountsType,
    nullable: true,
    description: 'The counts of the queue’s tabs after the decision, as pendingRegistrationCounts answers them (same `id`); null when refused.',
    args: countsArgs,
    resolve: (p, { libraryId }, { prisma, caller }) => (p.request ? pendingCounts(prisma, caller, decodeId('Library', libraryId)) : null),
  }),
}));

builder.mutationField('decide', (t) =>
  t.field({
    type: DecidePayload,
    description: 'Accepts or refuses a request awaiting a decision; the patron receives the response e-mail.',
    authScopes: { staff: true },
    args: { input: t.arg({ type: DecideInput, required: true, description: 'The decision.' }) },
    resolve: (_root, { input }, { app, caller }) => decide(app, caller, decodeIds(input, { requestId: 'RegistrationRequest' })),
  }),
);

builder.prismaObjectField(RegistrationRequestType, 'responseDraft', (t) =>
  t.string({
    description: 'Staff only: the response text that `decide` would send for this decision now (the library’s text, else the default), placeholders filled.',
    args: { decision: t.arg({ type: DecisionEnum, required: true, description: 'The decision the text is for.' }) },
    resolve: (request, { decision }, { app, caller }) => responseDraft(app, caller, request, decision),
  }),
);

const ResponseTemplateType = builder.objectRef<ResponseTemplateView>('ResponseTemplate').implement({
  description: 'The response e-mail text of a decision: the département-wide default or a library’s own.',
  fields: (t) => ({
    id: t.id({
      description:
        "A stable key for clients' caches: the decision and the library whose text in force this is (or the defaults), whether the text is its own or inherited, so that setResponseTemplate's answer replaces what responseTemplates gave. Not a node.",
      resolve: (r) => encodeGlobalID('ResponseTemplate', `${r.decision}:${r.inForceFor ?? 'default'}`),
    }),
    decision: t.field({ type: DecisionEnum, description: 'The decision it answers.', resolve: (r) => r.decision }),
    library: t.field({ type: LibraryType, nullable: true, description: 'Null for the département-wide default.', resolve: (r) => r.library }),
    body: t.exposeString('body', { description: 'HTML with the placeholders [prenom], [nom_destinataire], [actif-jusquau], [identifiant].' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', nullable: true, description: 'Last change; null for the seed’s text, never edited.' }),
  }),
});

builder.queryField('responseTemplates', (t) =>
  t.field({
    type: [ResponseTemplateType],
    description:
      'Staff only: the texts in force for a library (its own, else the default), both decisions. A library admin reads their own library’s; the DLPB a library’s, or the defaults when `libraryId` is null.',
    authScopes: { staff: true },
    args: { libraryId: t.arg.id({ required: false, description: 'The library; a library admin’s own when null (the DLPB: the defaults).' }) },
    resolve: (_root, { libraryId }, { app, caller }) => responseTemplates(app, caller, decodeId('Library', libraryId)),
  }),
);

const SetResponseTemplateInput = builder.inputType('SetResponseTemplateInput', {
  description: 'A response text for a decision.',
  fields: (t) => ({
    decision: t.field({ type: DecisionEnum, required: true, description: 'The decision it answers.' }),
    libraryId: t.id({ required: false, description: 'Null: the département-wide default (DLPB only). A library admin may set only their own.' }),
    body: t.string({
      required: false,
      ...maxChars(
        TEMPLATE_MAX,
        'HTML (sanitised: no script, event handler or image) with the four placeholders only (another `[…]` is INVALID_INPUT); null or empty: back to the default.',
      ),
    }),
  }),
});

const ResponseTemplatePayload = payloadType<{ template: ResponseTemplateView | null; errors: UserError[] }>(
  'ResponseTemplatePayload',
  'The answer to a change of a response text.',
  (t) => ({
    template: t.field({
      type: ResponseTemplateType,
      nullable: true,
      description: 'The text now in force (the default after a reset); null when refused.',
      resolve: (p) => p.template,
    }),
  }),
);

builder.mutationField('setResponseTemplate', (t) =>
  t.field({
    type: ResponseTemplatePayload,
    description: 'The DLPB sets a default or any library’s text; a library admin their own library’s (another library: FORBIDDEN). Audited.',
    authScopes: { staff: true },
    args: { input: t.arg({ type: SetResponseTemplateInput, required: true, description: 'The text.' }) },
    resolve: (_root, { input }, { app, caller }) => setResponseTemplate(app, caller, decodeIds(input, { libraryId: 'Library' })),
  }),
);

const ResponsePlaceholderType = builder.objectRef<Placeholder>('ResponsePlaceholder').implement({
  description: 'A placeholder a response text may use: `decide` fills it in for the request’s patron.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'As written in a text, brackets included, e.g. [prenom].' }),
    description: t.exposeString('description', { description: 'What it becomes, in French, to show beside the text editor.' }),
  }),
});

builder.queryField('responsePlaceholders', (t) =>
  t.field({
    type: [ResponsePlaceholderType],
    description:
      'Staff only: the placeholders response texts may use (the seed’s four), in the order of the seed. Any other `[…]` in setResponseTemplate or decide is INVALID_INPUT. A fixed list: it has no cache id.',
    authScopes: { staff: true },
    resolve: () => PLACEHOLDERS,
  }),
);
