import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapDlpbAgent } from '../../../src/modules/staff/service.js';
import { hashSecret } from '../../../src/lib/secrets.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';

const LOGIN = `mutation($input: LoginInput!) {
  login(input: $input) {
    token expiresAt
    viewer { __typename ... on StaffAccount { login displayName role email library { code } } }
    errors { code message field }
  }
}`;
const VIEWER = `{ viewer { __typename ... on StaffAccount { login role library { code name } } } }`;

describe('staff login, viewer, logout', () => {
  let t: TestApp;
  let libraryId: string;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        NUMOS_BOOTSTRAP_DLPB_LOGIN: 'DLPB.Agent',
        NUMOS_BOOTSTRAP_DLPB_PASSWORD: 'un mot de passe long',
        NUMOS_BOOTSTRAP_DLPB_EMAIL: 'dlpb@moselle.fr',
      },
    });
    libraryId = (await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange', town: 'Nilvange' })).id;
    await seedStaff(t.app, { login: '5212345', password: 'mot-de-passe-bib', role: 'LIBRARY_ADMIN', libraryId });
  });
  afterAll(() => t.close());

  it('creates the first DLPB agent from NUMOS_BOOTSTRAP_DLPB_*, once, with an Argon2id hash', async () => {
    expect(await bootstrapDlpbAgent(t.app.prisma, t.app.config)).toBe('created');
    expect(await bootstrapDlpbAgent(t.app.prisma, t.app.config)).toBe('exists');
    const agents = await t.app.prisma.staffAccount.findMany({ where: { role: 'DLPB_AGENT' } });
    expect(agents).toHaveLength(1);
    expect(agents[0]!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('logs a DLPB agent in (login case-insensitive) and returns the viewer', async () => {
    const { data } = await t.gql(LOGIN, { input: { realm: 'STAFF', login: 'dlpb.agent', password: 'un mot de passe long' } });
    expect(data.login.errors).toEqual([]);
    expect(data.login.token).toMatch(/^nms_[\w-]{43}$/);
    expect(new Date(data.login.expiresAt).getTime()).toBe(t.clock.now().getTime() + 12 * 3_600_000);
    expect(data.login.viewer).toEqual({
      __typename: 'StaffAccount',
      login: 'dlpb.agent',
      displayName: 'DLPB',
      role: 'DLPB_AGENT',
      email: 'dlpb@moselle.fr',
      library: null,
    });

    const viewer = await t.gql(VIEWER, {}, { token: data.login.token });
    expect(viewer.data.viewer).toEqual({ __typename: 'StaffAccount', login: 'dlpb.agent', role: 'DLPB_AGENT', library: null });
  });

  it('logs a library admin in with the Moselia code', async () => {
    const token = await login(t, 'STAFF', '5212345', 'mot-de-passe-bib');
    const { data } = await t.gql(VIEWER, {}, { token });
    expect(data.viewer).toEqual({
      __typename: 'StaffAccount',
      login: '5212345',
      role: 'LIBRARY_ADMIN',
      library: { code: '5212345', name: 'Médiathèque de Nilvange' },
    });
  });

  it('stores only a hash of the session token, and a new token at each login', async () => {
    const first = await login(t, 'STAFF', '5212345', 'mot-de-passe-bib');
    const second = await login(t, 'STAFF', '5212345', 'mot-de-passe-bib');
    expect(first).not.toBe(second);
    const sessions = await t.app.prisma.session.findMany();
    expect(sessions.some((s) => s.tokenHash === hashSecret(first))).toBe(true);
    expect(JSON.stringify(sessions)).not.toContain(first.slice(4));
  });

  it.each([
    ['wrong password', '5212345', 'mauvais mot de passe'],
    ['unknown login', '5299999', 'mot-de-passe-bib'],
    ['patron realm for a staff login', '5212345', 'mot-de-passe-bib'],
  ])('answers INVALID_CREDENTIALS the same way: %s', async (label, loginName, password) => {
    const realm = label.startsWith('patron') ? 'PATRON' : 'STAFF';
    const { data } = await t.gql(LOGIN, { input: { realm, login: loginName, password } });
    expect(data.login).toEqual({
      token: null,
      expiresAt: null,
      viewer: null,
      errors: [{ code: 'INVALID_CREDENTIALS', message: 'Identifiant ou mot de passe incorrect.', field: null }],
    });
  });

  it('refuses a staff member who has not chosen a password yet', async () => {
    await seedStaff(t.app, { login: 'nouvel.agent' });
    const { data } = await t.gql(LOGIN, { input: { realm: 'STAFF', login: 'nouvel.agent', password: '' } });
    expect(data.login.errors[0].code).toBe('INVALID_CREDENTIALS');
  });

  it('logout revokes the token at once', async () => {
    const token = await login(t, 'STAFF', '5212345', 'mot-de-passe-bib');
    const out = await t.gql(`mutation { logout { ok errors { code } } }`, {}, { token });
    expect(out.data.logout).toEqual({ ok: true, errors: [] });
    const after = await t.gql(VIEWER, {}, { token });
    expect(after.data.viewer).toBeNull();
  });

  it('expires sessions after their lifetime', async () => {
    const token = await login(t, 'STAFF', '5212345', 'mot-de-passe-bib');
    t.clock.advance(12 * 3_600_000 + 1);
    const { data } = await t.gql(VIEWER, {}, { token });
    expect(data.viewer).toBeNull();
  });

  it('answers UNAUTHENTICATED to anonymous calls on staff fields, FORBIDDEN to the wrong role', async () => {
    const anonymous = await t.gql(`{ licencePool { capacity used available } }`);
    expect(anonymous.data).toBeNull();
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const wrongToken = await t.gql(`{ licencePool { capacity } }`, {}, { token: 'nms_not-a-real-token' });
    expect(wrongToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const libraryToken = await login(t, 'STAFF', '5212345', 'mot-de-passe-bib');
    const forbidden = await t.gql(`{ licencePool { capacity } }`, {}, { token: libraryToken });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.data).toBeNull();

    const dlpbToken = await login(t, 'STAFF', 'dlpb.agent', 'un mot de passe long');
    const allowed = await t.gql(`{ licencePool { capacity used available } }`, {}, { token: dlpbToken });
    expect(allowed.data.licencePool).toEqual({ capacity: 20_000, used: 0, available: 20_000 });

    const logout = await t.gql(`mutation { logout { ok } }`);
    expect(logout.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
