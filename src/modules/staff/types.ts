import type { StaffAccount } from '../../generated/prisma/client.js';
import { canSeeStaff } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { createStaffAccount, DISPLAY_NAME_MAX } from './service.js';

export const StaffRoleEnum = builder.enumType('StaffRole', { values: ['LIBRARY_ADMIN', 'DLPB_AGENT'] as const });

export const StaffAccountType = builder.prismaNode('StaffAccount', {
  id: { field: 'id' },
  authScopes: (staff, viewing) => canSeeStaff(viewing, staff),
  fields: (t) => ({
    login: t.exposeString('login'),
    displayName: t.exposeString('displayName'),
    email: t.expose('email', { type: 'EmailAddress' }),
    role: t.expose('role', { type: StaffRoleEnum }),
    library: t.relation('library', {
      nullable: true,
      description: 'The library a LIBRARY_ADMIN belongs to; null for DLPB agents.',
    }),
  }),
});

const CreateStaffAccountInput = builder.inputType('CreateStaffAccountInput', {
  fields: (t) => ({
    login: t.string({ required: true, ...maxChars(LOGIN_MAX, "A library admin's login is their library's Moselia code.") }),
    displayName: t.string({ required: true, ...maxChars(DISPLAY_NAME_MAX) }),
    email: t.field({ type: 'EmailAddress', required: true }),
    role: t.field({ type: StaffRoleEnum, required: true }),
    libraryId: t.id({ required: false, description: 'Required for LIBRARY_ADMIN, absent for DLPB_AGENT.' }),
  }),
});

const StaffAccountPayload = payloadType<{ staffAccount: StaffAccount | null; errors: UserError[] }>('StaffAccountPayload', (t) => ({
    staffAccount: t.field({ type: StaffAccountType, nullable: true, resolve: (p) => p.staffAccount }),
}));

builder.mutationField('createStaffAccount', (t) =>
  t.field({
    type: StaffAccountPayload,
    description: 'DLPB only. The new staff member receives an e-mail to choose their password.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: CreateStaffAccountInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => createStaffAccount(app, caller, input),
  }),
);
