import { grantKey } from '../../auth/visibility.js';
import { builder } from '../../graphql/builder.js';
import { OkPayload, payloadType, type UserError } from '../../graphql/errors.js';
import { LOGIN_MAX, maxChars } from '../../graphql/input-guard.js';
import { PASSWORD_MAX } from '../passwords/policy.js';
import { PatronType } from '../patrons/types.js';
import { StaffAccountType } from '../staff/types.js';
import { login, logout } from './service.js';

type ViewerRef = { kind: 'patron' | 'staff'; id: string };

export const RealmEnum = builder.enumType('Realm', {
  description: 'Which kind of account a login names.',
  values: {
    PATRON: { description: 'A patron: the login chosen at registration.' },
    STAFF: { description: "Library staff (the library's Moselia code) or a DLPB agent." },
  } as const,
});

export const ViewerUnion = builder.unionType('Viewer', {
  description: 'Who a session belongs to.',
  types: [PatronType, StaffAccountType],
  resolveType: (value) => ('role' in value ? StaffAccountType : PatronType),
});

/** Loads the viewer's row so that the union can tell the two types apart. */
async function loadViewer(ref: ViewerRef | null, prisma: import('../../db/prisma.js').PrismaClient) {
  if (!ref) return null;
  return ref.kind === 'staff' ? prisma.staffAccount.findUnique({ where: { id: ref.id } }) : prisma.patron.findUnique({ where: { id: ref.id } });
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
  description: 'Credentials.',
  fields: (t) => ({
    realm: t.field({ type: RealmEnum, required: true, description: 'Patron or staff.' }),
    login: t.string({ required: true, ...maxChars(LOGIN_MAX, 'The login (any case).') }),
    password: t.string({ required: true, ...maxChars(PASSWORD_MAX, 'The password.') }),
  }),
});

interface LoginPayloadShape {
  token: string | null;
  expiresAt: Date | null;
  viewer: ViewerRef | null;
  errors: UserError[];
}

const LoginPayload = payloadType<LoginPayloadShape>('LoginPayload', 'The answer to a login.', (t) => ({
  token: t.exposeString('token', { nullable: true, description: 'Send as `Authorization: Bearer <token>`; null when refused.' }),
  expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the session ends (30 days for patrons, 12 hours for staff).' }),
  viewer: t.field({
    type: ViewerUnion,
    nullable: true,
    description: 'The account that logged in, readable in this very answer; null when refused.',
    resolve: (p, _a, { prisma }) => loadViewer(p.viewer, prisma),
  }),
}));

builder.mutationField('login', (t) =>
  t.field({
    type: LoginPayload,
    description:
      'Opens a session. Same answer and same time whether the login exists or not; attempts are throttled per login and per address (RATE_LIMITED with retryAfterSeconds).',
    args: { input: t.arg({ type: LoginInput, required: true, description: 'The credentials.' }) },
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
    description: 'Ends the current session: its token stops working and its subscriptions end, on every instance.',
    authScopes: { patron: true, staff: true },
    resolve: async (_root, _args, { app, caller }) => {
      if (caller.kind === 'patron' || caller.kind === 'staff') await logout(app, caller.sessionId);
      return { ok: true, errors: [] };
    },
  }),
);
