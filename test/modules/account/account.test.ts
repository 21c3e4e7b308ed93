// A patron's own account through the API: password, address, newsletter, data export, erasure.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpEverything } from '../../support/dump.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';
import { runScheduledJob } from '../../../src/jobs/run.js';
import { allDelivered, CONFIRM, REGISTER, registerAndConfirm, registerInput, tokenFrom, waitForEmail } from '../../support/patrons.js';

const CHANGE_PASSWORD = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { ok errors { code message field } } }`;
const REQUEST_EMAIL = `mutation($input: RequestEmailChangeInput!) { requestEmailChange(input: $input) { ok errors { code message field } } }`;
const CONFIRM_EMAIL = `mutation($token: String!) { confirmEmailChange(input: { token: $token }) { patron { email pendingEmail } errors { code message field } } }`;
const DELETE = `mutation($password: String!) { deleteMyAccount(input: { currentPassword: $password }) { ok errors { code message field } } }`;
const VIEWER = `{ viewer { ... on Patron { id email pendingEmail newsletter login account { status } } ... on StaffAccount { login } } }`;
const DECIDE = `mutation($input: DecideInput!) { decide(input: $input) { request { state } errors { code field } } }`;

let t: TestApp;
let library: { id: string; gid: string };
let dlpb: string;

/** A fresh library admin session (tests move the clock past staff sessions' 12 hours). */
const staffToken = () => login(t, 'STAFF', '5213001', 'mot de passe bib');

/** A confirmed patron with a session; accepted when asked. */
async function patron(overrides: Record<string, unknown> = {}, options: { accept?: boolean } = {}) {
  const { input } = await registerAndConfirm(t, library.gid, overrides);
  const row = await t.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: input.login.toLowerCase() } });
  if (options.accept) {
    const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patronId: row.id } });
    const { data } = await t.gql(
      DECIDE,
      { input: { requestId: encodeGlobalID('RegistrationRequest', request.id), decision: 'ACCEPT' } },
      { token: await staffToken() },
    );
    expect(data.decide.errors).toEqual([]);
  }
  const token = await login(t, 'PATRON', input.login, input.password);
  return { input, id: row.id, gid: encodeGlobalID('Patron', row.id), token };
}

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  const lib = await seedLibrary(t.app, { code: '5213001', name: 'Médiathèque de Hayange' });
  library = { id: lib.id, gid: encodeGlobalID('Library', lib.id) };
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB', role: 'DLPB_AGENT' });
  await seedStaff(t.app, { login: '5213001', password: 'mot de passe bib', role: 'LIBRARY_ADMIN', libraryId: lib.id });
  dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
});
afterAll(() => t.close());

describe('changePassword', () => {
  it('refuses a wrong current password or a weak new one, and changes nothing', async () => {
    const p = await patron();
    const wrong = await t.gql(
      CHANGE_PASSWORD,
      { input: { currentPassword: 'pas le bon', password: 'un autre mot de passe', passwordConfirmation: 'un autre mot de passe' } },
      { token: p.token },
    );
    expect(wrong.data.changePassword).toEqual({
      ok: false,
      errors: [{ code: 'WRONG_PASSWORD', message: 'Le mot de passe actuel est incorrect.', field: 'currentPassword' }],
    });
    const weak = await t.gql(
      CHANGE_PASSWORD,
      { input: { currentPassword: p.input.password, password: 'azerty', passwordConfirmation: 'azerty' } },
      { token: p.token },
    );
    expect(weak.data.changePassword.errors.map((e: { code: string }) => e.code)).toEqual(['PASSWORD_TOO_SHORT']);
    // The old password still opens a session.
    await login(t, 'PATRON', p.input.login, p.input.password);
    expect(t.resend!.to(p.input.email).map((e) => e.subject)).not.toContain('Votre mot de passe NuMos a été modifié');
  });

  it('changes it, ends every other session (not the caller’s) and tells the owner', async () => {
    const p = await patron();
    const other = await login(t, 'PATRON', p.input.login, p.input.password);
    const { data } = await t.gql(
      CHANGE_PASSWORD,
      { input: { currentPassword: p.input.password, password: 'mon nouveau secret', passwordConfirmation: 'mon nouveau secret' } },
      { token: p.token },
    );
    expect(data.changePassword).toEqual({ ok: true, errors: [] });
    expect((await t.gql(VIEWER, {}, { token: other })).data.viewer).toBeNull();
    expect((await t.gql(VIEWER, {}, { token: p.token })).data.viewer.login).toBe(p.input.login);
    await expect(login(t, 'PATRON', p.input.login, p.input.password)).rejects.toThrow(/INVALID_CREDENTIALS/);
    await login(t, 'PATRON', p.input.login, 'mon nouveau secret');
    const email = await waitForEmail(t, p.input.email, 'Votre mot de passe NuMos a été modifié');
    expect(email.html).toContain('<html');
    expect(email.text).toContain('Vos autres connexions ont été fermées');
  });

  it('works for staff too; providers and visitors are refused', async () => {
    await seedStaff(t.app, { login: 'agent.mdp', password: 'ancien mot de passe', role: 'DLPB_AGENT' });
    const token = await login(t, 'STAFF', 'agent.mdp', 'ancien mot de passe');
    const { data } = await t.gql(
      CHANGE_PASSWORD,
      { input: { currentPassword: 'ancien mot de passe', password: 'nouveau mot de passe', passwordConfirmation: 'nouveau mot de passe' } },
      { token },
    );
    expect(data.changePassword.ok).toBe(true);
    await login(t, 'STAFF', 'agent.mdp', 'nouveau mot de passe');
    const anonymous = await t.gql(CHANGE_PASSWORD, { input: { currentPassword: 'x', password: 'yyyyyyyyyy', passwordConfirmation: 'yyyyyyyyyy' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('updateProfile', () => {
  it('changes the newsletter choice only; staff are refused', async () => {
    const p = await patron({ newsletter: false });
    const { data } = await t.gql(
      `mutation { updateProfile(input: { newsletter: true }) { patron { newsletter lastName } errors { code } } }`,
      {},
      { token: p.token },
    );
    expect(data.updateProfile).toEqual({ patron: { newsletter: true, lastName: 'Martin' }, errors: [] });
    const staff = await t.gql(`mutation { updateProfile(input: { newsletter: true }) { errors { code } } }`, {}, { token: dlpb });
    expect(staff.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('requestEmailChange and confirmEmailChange', () => {
  it('sends a link to the new address and a notice to the old one; the old one stays until the link is followed', async () => {
    const p = await patron();
    const wrong = await t.gql(REQUEST_EMAIL, { input: { email: 'nouvelle@example.org', currentPassword: 'faux' } }, { token: p.token });
    expect(wrong.data.requestEmailChange.errors).toEqual([
      { code: 'WRONG_PASSWORD', message: 'Le mot de passe actuel est incorrect.', field: 'currentPassword' },
    ]);
    const same = await t.gql(REQUEST_EMAIL, { input: { email: p.input.email.toUpperCase(), currentPassword: p.input.password } }, { token: p.token });
    expect(same.data.requestEmailChange.errors[0]).toMatchObject({ code: 'INVALID_INPUT', field: 'email' });

    const newAddress = `nouvelle.${p.id.slice(0, 8)}@example.org`;
    const { data } = await t.gql(REQUEST_EMAIL, { input: { email: newAddress, currentPassword: p.input.password } }, { token: p.token });
    expect(data.requestEmailChange).toEqual({ ok: true, errors: [] });
    expect((await t.gql(VIEWER, {}, { token: p.token })).data.viewer).toMatchObject({ email: p.input.email, pendingEmail: newAddress });
    const notice = await waitForEmail(t, p.input.email, "Changement d'adresse e-mail demandé sur votre compte NuMos");
    expect(notice.text).toContain('NuMos continue de vous écrire ici');
    const link = await waitForEmail(t, newAddress, 'Confirmez votre nouvelle adresse e-mail NuMos');
    expect(link.text).toContain('http://localhost:3000/confirmer-email?token=');
    const token = tokenFrom(link, '/confirmer-email');

    // The link needs no session, and serves once.
    const confirmed = await t.gql(CONFIRM_EMAIL, { token });
    expect(confirmed.data.confirmEmailChange).toEqual({ patron: { email: newAddress, pendingEmail: null }, errors: [] });
    const again = await t.gql(CONFIRM_EMAIL, { token });
    expect(again.data.confirmEmailChange).toMatchObject({ patron: null, errors: [{ code: 'INVALID_TOKEN', field: 'token' }] });
    // Staff find the patron by the new address.
    const found = await t.gql(`query($s: String) { patrons(filter: { search: $s }) { totalCount } }`, { s: newAddress }, { token: dlpb });
    expect(found.data.patrons.totalCount).toBe(1);
  });

  it('refuses a link after 24 hours, and keeps the old address', async () => {
    const p = await patron();
    const newAddress = `tardive.${p.id.slice(0, 8)}@example.org`;
    await t.gql(REQUEST_EMAIL, { input: { email: newAddress, currentPassword: p.input.password } }, { token: p.token });
    const token = tokenFrom(await waitForEmail(t, newAddress, 'Confirmez votre nouvelle adresse e-mail NuMos'), '/confirmer-email');
    t.clock.advance(24 * 3_600_000 + 1_000);
    const late = await t.gql(CONFIRM_EMAIL, { token });
    expect(late.data.confirmEmailChange.errors[0]).toMatchObject({ code: 'TOKEN_EXPIRED', field: 'token' });
    expect((await t.app.prisma.patron.findUniqueOrThrow({ where: { id: p.id } })).email).toBe(p.input.email);
  });
});

describe('personalDataExport', () => {
  it('gives everything stored about the caller, never a hash, token or key, and is audited', async () => {
    const p = await patron({ lastName: 'Exportée', firstName: 'Inès' }, { accept: true });
    const { data, errors } = await t.gql(`{ personalDataExport }`, {}, { token: p.token });
    expect(errors).toBeUndefined();
    const document = JSON.parse(data.personalDataExport);
    expect(document).toMatchObject({
      identity: { lastName: 'Exportée', firstName: 'Inès', birthDate: p.input.birthDate },
      email: p.input.email,
      login: p.input.login,
      library: { code: '5213001' },
      account: { status: 'ACTIVE' },
    });
    expect(document.requests).toEqual([
      expect.objectContaining({ kind: 'REGISTRATION', state: 'ACCEPTED', decision: 'ACCEPT', responseText: expect.stringContaining('Inès') }),
    ]);
    expect(document.openSessions.length).toBeGreaterThan(0);
    // No secret of any kind: compare with every hash the database holds for this person.
    const text = data.personalDataExport as string;
    const row = await t.app.prisma.patron.findUniqueOrThrow({ where: { id: p.id }, include: { sessions: true, tokens: true } });
    for (const secret of [row.passwordHash, ...row.sessions.map((s) => s.tokenHash), ...row.tokens.map((k) => k.tokenHash), p.token]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/argon2|tokenHash|token_hash|nms_|nmk_/i);

    const entry = await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'PERSONAL_DATA_EXPORT', libraryId: library.id } });
    expect(entry.actorId).toBeNull();
    const staff = await t.gql(`{ personalDataExport }`, {}, { token: await staffToken() });
    expect(staff.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('deleteMyAccount', () => {
  it('refuses a wrong password and erases nothing', async () => {
    const p = await patron();
    const { data } = await t.gql(DELETE, { password: 'pas le bon' }, { token: p.token });
    expect(data.deleteMyAccount.errors).toEqual([{ code: 'WRONG_PASSWORD', message: 'Le mot de passe actuel est incorrect.', field: 'currentPassword' }]);
    expect(await t.app.prisma.patron.count({ where: { id: p.id } })).toBe(1);
  });

  it('erases the person everywhere, frees the licence, confirms by e-mail and then forgets the address', async () => {
    const p = await patron({ lastName: 'Effacée', firstName: 'Zélie', login: 'zelie.effacee', email: 'zelie.effacee@example.org' }, { accept: true });
    dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const sent = await t.gql(
      `mutation { sendMessage(input: { to: LIBRARY, email: "zelie.effacee@example.org", subject: "Question", body: "Bonjour, je suis Zélie Effacée." }) { ok errors { code } } }`,
      {},
      { token: p.token },
    );
    expect(sent.data.sendMessage).toEqual({ ok: true, errors: [] });
    const used = (await t.gql(`{ licencePool { used } }`, {}, { token: dlpb })).data.licencePool.used;
    const { data } = await t.gql(DELETE, { password: p.input.password }, { token: p.token });
    expect(data.deleteMyAccount).toEqual({ ok: true, errors: [] });

    expect((await t.gql(VIEWER, {}, { token: p.token })).data.viewer).toBeNull();
    expect((await t.gql(`{ licencePool { used } }`, {}, { token: dlpb })).data.licencePool.used).toBe(used - 1);
    const last = await waitForEmail(t, 'zelie.effacee@example.org', 'Votre compte NuMos a été supprimé');
    expect(last.text).toContain('Bonjour Zélie Effacée');
    await allDelivered(t);
    await expect.poll(() => t.app.prisma.emailOutbox.count({ where: { forget: true } }), { timeout: 10_000 }).toBe(0);
    const dump = await dumpEverything(t);
    expect(dump).toContain('5213001'); // the scan reads real rows
    for (const trace of ['zelie.effacee', 'effacée', 'effacee', 'zélie']) expect(dump).not.toContain(trace);
    // Anonymous statistics stay: the request, detached from the person.
    expect(await t.app.prisma.registrationRequest.count({ where: { libraryId: library.id, state: 'ACCEPTED', patronId: null } })).toBeGreaterThan(0);
    const entry = await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'DELETE_ACCOUNT' } });
    expect(entry).toMatchObject({ actorId: null, subjectId: null, libraryId: library.id });
  });

  it('closes a request waiting for a decision; a simultaneous decision and erasure end cleanly, with no trace left', async () => {
    const admin = await staffToken();
    dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    for (let round = 0; round < 4; round++) {
      const p = await patron({ email: `course${round}@example.org`, login: `course.${round}`, lastName: `Course${round}` });
      const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patronId: p.id } });
      const [decided, deleted] = await Promise.all([
        t.gql(DECIDE, { input: { requestId: encodeGlobalID('RegistrationRequest', request.id), decision: 'ACCEPT' } }, { token: admin }),
        t.gql(DELETE, { password: p.input.password }, { token: p.token }),
      ]);
      expect(decided.errors).toBeUndefined();
      expect(deleted.errors).toBeUndefined();
      expect(deleted.data.deleteMyAccount).toEqual({ ok: true, errors: [] });
      // The decision either came first (and stands, anonymously) or found nothing left to decide.
      if (decided.data.decide.errors.length) expect(['INVALID_STATE', 'NOT_FOUND']).toContain(decided.data.decide.errors[0].code);
      const after = await t.app.prisma.registrationRequest.findUniqueOrThrow({ where: { id: request.id } });
      expect(after.patronId).toBeNull();
      expect(['ACCEPTED', 'LAPSED']).toContain(after.state);
      expect(after.state === 'ACCEPTED').toBe(decided.data.decide.errors.length === 0);
    }
    await allDelivered(t);
    await expect.poll(() => t.app.prisma.emailOutbox.count({ where: { forget: true } }), { timeout: 10_000 }).toBe(0);
    const dump = await dumpEverything(t);
    for (let round = 0; round < 4; round++) expect(dump).not.toContain(`course${round}`);
  });
});

describe('erasure without RESEND_API_KEY, in production', () => {
  let local: TestApp;
  beforeAll(async () => {
    local = await startTestApp({ env: { NODE_ENV: 'production', NUMOS_THROTTLE: '0', METRICS_TOKEN: 'jeton' } });
  });
  afterAll(() => local.close());

  it('leaves the person in no outbox row: their own e-mails, the lists that name them, the copies of their messages, the last e-mail', async () => {
    const lib = await seedLibrary(local.app, { code: '5213002', name: 'Médiathèque de Fameck' });
    const email = 'oublie.locale@example.org';
    // A message sent as a visitor before registering: its forwarded copy carries the address.
    const message = await local.gql(
      `mutation($email: EmailAddress!) { sendMessage(input: { to: SUPPORT, email: $email, subject: "Question", body: "Avant mon inscription." }) { ok } }`,
      { email },
    );
    expect(message.data.sendMessage.ok).toBe(true);
    const input = registerInput(encodeGlobalID('Library', lib.id), { lastName: 'Oubliée', firstName: 'Anaïs', login: 'anais.oubliee', email });
    expect((await local.gql(REGISTER, { input })).data.register.errors).toEqual([]);
    // The development mailbox's record keeps the link (nothing left the machine).
    const confirmation = await local.app.prisma.emailOutbox.findFirstOrThrow({ where: { toAddresses: { has: email }, status: 'LOCAL' } });
    const token = tokenFrom({ text: confirmation.text! } as never, '/confirmer');
    expect((await local.gql(CONFIRM, { token })).data.confirm.errors).toEqual([]);
    // Five days later, the escalation e-mails list the request by the person's name.
    local.clock.advance(6 * 86_400_000);
    await runScheduledJob(local.app, local.app.schedules.find((j) => j.name === 'registration.escalate')!, local.clock.now());
    expect(await local.app.prisma.emailOutbox.count({ where: { template: 'EscalatedRequests', text: { contains: 'Oubliée' } } })).toBe(2);

    const session = await login(local, 'PATRON', 'anais.oubliee', input.password);
    const { data } = await local.gql(DELETE, { password: input.password }, { token: session });
    expect(data.deleteMyAccount).toEqual({ ok: true, errors: [] });
    const dump = await dumpEverything(local);
    expect(dump).toContain('5213002'); // the scan reads real rows
    for (const trace of ['oublie.locale', 'oubliée', 'anaïs', 'anais.oubliee', 'avant mon inscription']) expect(dump).not.toContain(trace);
  });
});
