import type { StaffAccount } from '../../generated/prisma/client.js';
import { canSeeStaff } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { connectionOptions, edgeOptions } from '../../graphql/connections.js';
import { SEARCH_MAX } from '../../graphql/input-guard.js';
import { SEARCH_WORDS_MAX } from '../../lib/text.js';
import { createStaffAccount, DISPLAY_NAME_MAX, setStaffAccountDisabled, staffAccountsWhere } from './service.js';
import { decodeIds } from '../../graphql/ids.js';

export const StaffRoleEnum = builder.enumType('StaffRole', {
  description: 'What a staff account may do.',
  values: {
    LIBRARY_ADMIN: { description: "A library's administrator: their own library's requests, patrons and statistics." },
    DLPB_AGENT: { description: "The département's central service: every library, staff accounts, providers, quotas, licences." },
  } as const,
});

export const StaffAccountType = builder.prismaNode('StaffAccount', {
  description: 'A staff account. Visible to itself, to the staff of its library and to the DLPB.',
  id: { field: 'id' },
  authScopes: (staff, viewing) => canSeeStaff(viewing, staff),
  fields: (t) => ({
    login: t.exposeString('login', { description: "Its login: the library's Moselia code for a library admin." }),
    displayName: t.exposeString('displayName', { description: 'Its name as shown to other staff.' }),
    email: t.expose('email', { type: 'EmailAddress', description: 'Where its e-mails (password links) go.' }),
    role: t.expose('role', { type: StaffRoleEnum, description: 'Library admin or DLPB agent.' }),
    library: t.relation('library', {
      nullable: true,
      description: 'The library a LIBRARY_ADMIN belongs to; null for DLPB agents.',
    }),
    disabled: t.boolean({
      description: 'Disabled accounts cannot log in; their sessions were ended when disabled.',
      select: { disabledAt: true },
      resolve: (staff) => staff.disabledAt !== null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the account was created.' }),
    lastLoginAt: t.expose('lastLoginAt', { type: 'DateTime', nullable: true, description: 'Its last login; null if it never logged in.' }),
  }),
});

const CreateStaffAccountInput = builder.inputType('CreateStaffAccountInput', {
  description: 'A new staff account.',
  fields: (t) => ({
    login: t.string({ required: true, ...maxChars(LOGIN_MAX, "A library admin's login is their library's Moselia code.") }),
    displayName: t.string({ required: true, ...maxChars(DISPLAY_NAME_MAX, 'The name shown to other staff.') }),
    email: t.field({ type: 'EmailAddress', required: true, description: 'Where the "choose your password" link goes.' }),
    role: t.field({ type: StaffRoleEnum, required: true, description: 'Library admin or DLPB agent.' }),
    libraryId: t.id({ required: false, description: 'Required for LIBRARY_ADMIN, absent for DLPB_AGENT.' }),
  }),
});

export const StaffAccountPayload = payloadType<{ staffAccount: StaffAccount | null; errors: UserError[] }>(
  'StaffAccountPayload',
  'The answer to a change of a staff account.',
  (t) => ({
    staffAccount: t.field({ type: StaffAccountType, nullable: true, description: 'The account; null when refused.', resolve: (p) => p.staffAccount }),
  }),
);

builder.mutationField('createStaffAccount', (t) =>
  t.field({
    type: StaffAccountPayload,
    description: 'DLPB only. The new staff member receives an e-mail to choose their password.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: CreateStaffAccountInput, required: true, description: 'The account.' }) },
    resolve: (_root, { input }, { app, caller }) => createStaffAccount(app, caller, decodeIds(input, { libraryId: 'Library' })),
  }),
);

const StaffAccountsFilter = builder.inputType('StaffAccountsFilter', {
  description: 'Which staff accounts to list.',
  fields: (t) => ({
    libraryId: t.id({ required: false, description: 'Only the staff of this library.' }),
    role: t.field({ type: StaffRoleEnum, required: false, description: 'Only this role.' }),
    search: t.string({ required: false, ...maxChars(SEARCH_MAX, `Words of the login, name or e-mail, ignoring case; the first ${SEARCH_WORDS_MAX} count.`) }),
    disabled: t.boolean({ required: false, description: 'Only disabled accounts (true), only enabled ones (false), or both (null).' }),
  }),
});

builder.queryField('staffAccounts', (t) =>
  t.prismaConnection(
    {
      type: StaffAccountType,
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      description: 'DLPB only. Staff accounts, by login.',
      authScopes: { dlpb: true },
      args: { filter: t.arg({ type: StaffAccountsFilter, required: false, description: 'Which accounts; all when null.' }) },
      resolve: (query, _root, { filter }, { prisma }) =>
        prisma.staffAccount.findMany({
          ...query,
          where: staffAccountsWhere(decodeIds(filter, { libraryId: 'Library' })),
          orderBy: [{ login: 'asc' }, { id: 'asc' }],
        }),
      totalCount: (_connection, { filter }, { prisma }) =>
        prisma.staffAccount.count({ where: staffAccountsWhere(decodeIds(filter, { libraryId: 'Library' })) }),
    },
    connectionOptions('StaffAccountConnection', 'staff accounts'),
    edgeOptions('StaffAccountEdge', 'A staff account'),
  ),
);

const SetStaffAccountDisabledInput = builder.inputType('SetStaffAccountDisabledInput', {
  description: 'Disabling or enabling a staff account.',
  fields: (t) => ({
    staffAccountId: t.id({ required: true, description: 'The account.' }),
    disabled: t.boolean({ required: true, description: 'True to disable (its sessions and subscriptions end at once), false to enable again.' }),
  }),
});

builder.mutationField('setStaffAccountDisabled', (t) =>
  t.field({
    type: StaffAccountPayload,
    description:
      'DLPB only. A disabled account cannot log in (ACCOUNT_DISABLED). An agent cannot disable themself, nor the last enabled DLPB agent (INVALID_STATE). Audited.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: SetStaffAccountDisabledInput, required: true, description: 'Which account, and whether disabled.' }) },
    resolve: (_root, { input }, { app, caller }) => setStaffAccountDisabled(app, caller, decodeIds(input, { staffAccountId: 'StaffAccount' })),
  }),
);
