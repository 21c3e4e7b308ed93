import type { StaffAccount } from '../../generated/prisma/client.js';
import { canSeeStaff } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { createStaffAccount, DISPLAY_NAME_MAX } from './service.js';

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
    resolve: (_root, { input }, { app, caller }) => createStaffAccount(app, caller, input),
  }),
);
