import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';
import { registerAndConfirm, tokenFrom, waitForEmail } from '../../support/patrons.js';

const REQUEST_RESET = `mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { ok errors { code message } } }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { ok errors { code message field } } }`;

let t: TestApp;
let libraryId: string;

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  libraryId = encodeGlobalID('Library', (await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange' })).id);
});
afterAll(() => t.close());

describe('password reset', () => {
  it('answers the same for known and unknown logins; only the known one gets a link', async () => {
    const { input } = await registerAndConfirm(t, libraryId);
    const jobsBefore = await t.app.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'password.reset-request'`);
    const known = await t.gql(REQUEST_RESET, { input: { realm: 'PATRON', login: input.login } });
    const unknown = await t.gql(REQUEST_RESET, { input: { realm: 'PATRON', login: 'personne.inconnue' } });
    expect(known).toEqual(unknown);
    expect(known.data.requestPasswordReset).toEqual({ ok: true, errors: [] });
    // Both answers did exactly the same work: one job each, looked at later.
    const jobsAfter = await t.app.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'password.reset-request'`);
    expect(jobsAfter.rows[0].n - jobsBefore.rows[0].n).toBe(2);

    const email = await waitForEmail(t, input.email, 'Réinitialisez votre mot de passe NuMos');
    expect(email.text).toContain(`Identifiant : ${input.login}`);
    expect(email.text).toMatch(/http:\/\/localhost:3000\/mot-de-passe\?token=/);
  });

  it('sets the new password once, ends every session, and refuses the link a second time', async () => {
    const { input } = await registerAndConfirm(t, libraryId);
    const session = await login(t, 'PATRON', input.login, input.password);
    await t.gql(REQUEST_RESET, { input: { realm: 'PATRON', login: input.login } });
    const token = tokenFrom(await waitForEmail(t, input.email, 'Réinitialisez votre mot de passe NuMos'), '/mot-de-passe');

    const mismatch = await t.gql(RESET, { input: { token, password: 'nouveau secret 1', passwordConfirmation: 'autre' } });
    expect(mismatch.data.resetPassword.errors.map((e: { code: string }) => e.code)).toEqual(['PASSWORD_MISMATCH']);
    const common = await t.gql(RESET, { input: { token, password: 'qwertyuiop', passwordConfirmation: 'qwertyuiop' } });
    expect(common.data.resetPassword.errors.map((e: { code: string }) => e.code)).toEqual(['PASSWORD_TOO_COMMON']);

    const ok = await t.gql(RESET, { input: { token, password: 'nouveau secret 1', passwordConfirmation: 'nouveau secret 1' } });
    expect(ok.data.resetPassword).toEqual({ ok: true, errors: [] });
    expect((await t.gql(`{ viewer { __typename } }`, {}, { token: session })).data.viewer).toBeNull();
    await expect(login(t, 'PATRON', input.login, input.password)).rejects.toThrow('INVALID_CREDENTIALS');
    expect(await login(t, 'PATRON', input.login, 'nouveau secret 1')).toMatch(/^nms_/);

    const again = await t.gql(RESET, { input: { token, password: 'encore un autre', passwordConfirmation: 'encore un autre' } });
    expect(again.data.resetPassword.errors.map((e: { code: string }) => e.code)).toEqual(['INVALID_TOKEN']);
  });

  it('lets only one of simultaneous uses of a link through', async () => {
    const { input } = await registerAndConfirm(t, libraryId);
    await t.gql(REQUEST_RESET, { input: { realm: 'PATRON', login: input.login } });
    const token = tokenFrom(await waitForEmail(t, input.email, 'Réinitialisez votre mot de passe NuMos'), '/mot-de-passe');
    const results = await Promise.all(
      ['premier essai 1', 'second essai 22', 'troisieme essai'].map((p) => t.gql(RESET, { input: { token, password: p, passwordConfirmation: p } })),
    );
    expect(results.filter((r) => r.data.resetPassword.ok)).toHaveLength(1);
  });

  it('expires the link after one hour; a newer link replaces the older', async () => {
    const { input } = await registerAndConfirm(t, libraryId);
    await t.gql(REQUEST_RESET, { input: { realm: 'PATRON', login: input.login } });
    const first = tokenFrom(await waitForEmail(t, input.email, 'Réinitialisez votre mot de passe NuMos'), '/mot-de-passe');
    await t.gql(REQUEST_RESET, { input: { realm: 'PATRON', login: input.login } });
    const second = tokenFrom(await waitForEmail(t, input.email, 'Réinitialisez votre mot de passe NuMos', 2), '/mot-de-passe');
    const body = (token: string) => ({ input: { token, password: 'un nouveau secret', passwordConfirmation: 'un nouveau secret' } });
    expect((await t.gql(RESET, body(first))).data.resetPassword.errors[0].code).toBe('INVALID_TOKEN');
    t.clock.advance(3_600_001);
    expect((await t.gql(RESET, body(second))).data.resetPassword.errors[0].code).toBe('TOKEN_EXPIRED');
    t.clock.advance(-3_600_001);
  });

  it('works for staff too', async () => {
    await seedStaff(t.app, { login: 'agent.reset', password: 'ancien mot de passe', email: 'agent.reset@moselle.example' });
    await t.gql(REQUEST_RESET, { input: { realm: 'STAFF', login: 'AGENT.RESET' } });
    const token = tokenFrom(await waitForEmail(t, 'agent.reset@moselle.example', 'Réinitialisez votre mot de passe NuMos'), '/mot-de-passe');
    const ok = await t.gql(RESET, { input: { token, password: 'nouveau mot de passe', passwordConfirmation: 'nouveau mot de passe' } });
    expect(ok.data.resetPassword.ok).toBe(true);
    expect(await login(t, 'STAFF', 'agent.reset', 'nouveau mot de passe')).toMatch(/^nms_/);
  });
});

describe('createStaffAccount', () => {
  const CREATE = `mutation($input: CreateStaffAccountInput!) {
    createStaffAccount(input: $input) { staffAccount { id login displayName email role library { code } } errors { code message field } }
  }`;

  it('lets the DLPB create a library admin, who chooses a password from the e-mail and logs in', async () => {
    await seedStaff(t.app, { login: 'dlpb.chef', password: 'mot de passe dlpb' });
    const dlpb = await login(t, 'STAFF', 'dlpb.chef', 'mot de passe dlpb');
    const library = await seedLibrary(t.app, { code: '5254321', name: 'Bibliothèque de Bitche' });
    const input = {
      login: '5254321',
      displayName: 'Bibliothèque de Bitche',
      email: 'bib@bitche.example',
      role: 'LIBRARY_ADMIN',
      libraryId: encodeGlobalID('Library', library.id),
    };
    const { data } = await t.gql(CREATE, { input }, { token: dlpb });
    expect(data.createStaffAccount).toMatchObject({
      staffAccount: { login: '5254321', role: 'LIBRARY_ADMIN', library: { code: '5254321' } },
      errors: [],
    });
    const invite = await waitForEmail(t, 'bib@bitche.example', 'Choisissez votre mot de passe NuMos');
    expect(invite.text).toContain("Un compte d'administration NuMos vient d'être créé pour vous");
    const token = tokenFrom(invite, '/mot-de-passe');
    await t.gql(RESET, { input: { token, password: 'bitche mot de passe', passwordConfirmation: 'bitche mot de passe' } });
    const session = await login(t, 'STAFF', '5254321', 'bitche mot de passe');
    expect((await t.gql(`{ viewer { ... on StaffAccount { login role } } }`, {}, { token: session })).data.viewer).toEqual({
      login: '5254321',
      role: 'LIBRARY_ADMIN',
    });

    const entry = await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'CREATE_STAFF_ACCOUNT', libraryId: library.id } });
    expect(entry).toMatchObject({ actorKind: 'DLPB_AGENT', subjectType: 'StaffAccount', libraryId: library.id });

    const duplicate = await t.gql(CREATE, { input }, { token: dlpb });
    expect(duplicate.data.createStaffAccount.errors.map((e: { code: string }) => e.code)).toEqual(['LOGIN_TAKEN']);

    const wrongLogin = await t.gql(CREATE, { input: { ...input, login: 'bitche' } }, { token: dlpb });
    expect(wrongLogin.data.createStaffAccount.errors).toEqual([
      { code: 'INVALID_INPUT', field: 'login', message: "L'identifiant d'un administrateur de bibliothèque est le code Moselia de sa bibliothèque (5254321)." },
    ]);
    const noLibrary = await t.gql(CREATE, { input: { ...input, libraryId: null } }, { token: dlpb });
    expect(noLibrary.data.createStaffAccount.errors[0].code).toBe('UNKNOWN_LIBRARY');

    const agent = await t.gql(
      CREATE,
      { input: { login: 'nouvel.agent', displayName: 'Nouvel agent', email: 'agent@moselle.example', role: 'DLPB_AGENT' } },
      { token: dlpb },
    );
    expect(agent.data.createStaffAccount.staffAccount).toMatchObject({ role: 'DLPB_AGENT', library: null });

    // Library admins and visitors may not create staff.
    expect(
      (await t.gql(CREATE, { input: { ...input, login: 'x.y.z', role: 'DLPB_AGENT', libraryId: null } }, { token: session })).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect((await t.gql(CREATE, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
