import { grantKey } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { OkPayload, payloadType, type UserError } from '../../graphql/errors.js';
import { LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { PASSWORD_MAX } from '../passwords/policy.js';
import { PatronType } from '../patrons/types.js';
import { StaffAccountType } from '../staff/types.js';
import { login, logout } from './service.js';

type ViewerRef = { kind: 'patron' | 'staff'; id: string };

export const RealmEnum = builder.enumType('Realm', { values: ['PATRON', 'STAFF'] as const });

export const ViewerUnion = builder.unionType('Viewer', {
  types: [PatronType, StaffAccountType],
  resolveType: (value) => ('role' in value ? StaffAccountType : PatronType),
});

/** Loads the viewer's row so that the union can tell the two types apart. */
async function loadViewer(ref: ViewerRef | null, prisma: import('../../db/prisma.js').PrismaClient) {
  if (!ref) return null;
  return ref.kind === 'staff'
    ? prisma.staffAccount.findUnique({ where: { id: ref.id } })
    : prisma.patron.findUnique({ where: { id: ref.id } });
}

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerUnion,
    nullable: true,
    description: 'The patron or staff member of the session; null for visitors and providers.',
    resolve: (_root, _args, { caller, prisma }) => {
      if (caller.kind === 'patron') return loadViewer({ kind: 'patron', id: caller.patronId }, prisma);
      if (caller.kind === 'staff') return loadViewer({ kind: 'staff', id: caller.staffId }, prisma);
      return null;
    },
  }),
);

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    realm: t.field({ type: RealmEnum, required: true }),
    login: t.string({ required: true, ...maxChars(LOGIN_MAX) }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX) }),
  }),
});

interface LoginPayloadShape {
  token: string | null;
  expiresAt: Date | null;
  viewer: ViewerRef | null;
  errors: UserError[];
}

const LoginPayload = payloadType<LoginPayloadShape>('LoginPayload', (t) => ({
  token: t.exposeString('token', { nullable: true, description: 'Send as `Authorization: Bearer <token>`.' }),
  expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
  viewer: t.field({ type: ViewerUnion, nullable: true, resolve: (p, _a, { prisma }) => loadViewer(p.viewer, prisma) }),
}));

builder.mutationField('login', (t) =>
  t.field({
    type: LoginPayload,
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: async (_root, { input }, { app, clientIp, granted }) => {
      const result = await login(app, input.realm, input.login, input.password, clientIp);
      // The account that just logged in may be read in this answer, before its token is sent back.
      if (result.ok) granted.add(grantKey(result.viewer.kind, result.viewer.id));
      return result.ok
        ? { token: result.token, expiresAt: result.expiresAt, viewer: result.viewer, errors: [] }
        : { token: null, expiresAt: null, viewer: null, errors: result.errors };
    },
  }),
);

builder.mutationField('logout', (t) =>
  t.field({
    type: OkPayload,
    description: 'Ends the current session; its token stops working at once.',
    authScopes: { patron: true, staff: true },
    resolve: async (_root, _args, { app, caller }) => {
      if (caller.kind === 'patron' || caller.kind === 'staff') await logout(app, caller.sessionId);
      return { ok: true, errors: [] };
    },
  }),
);
