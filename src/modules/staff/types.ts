import { builder } from '../../graphql/builder.js';

export const StaffRoleEnum = builder.enumType('StaffRole', { values: ['LIBRARY_ADMIN', 'DLPB_AGENT'] as const });

export const StaffAccountType = builder.prismaNode('StaffAccount', {
  id: { field: 'id' },
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
