// Whole lives of accounts walked through the API with the test clock (NUMOS_TEST_CLOCK=1).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addParisYears } from '../../../src/lib/calendar.js';
import { dumpEverything } from '../../support/dump.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';
import { allDelivered, CONFIRM, REGISTER, registerAndConfirm, registerInput, tokenFrom, waitForEmail } from '../../support/patrons.js';

const ADVANCE = `mutation($to: DateTime!) { advanceTestClock(input: { to: $to }) { now jobsRun errors { code message } } }`;
const DECIDE = `mutation($input: DecideInput!) { decide(input: $input) { request { state patron { account { status activeUntil } } } errors { code } } }`;
const RENEW = `mutation($token: String) { requestRenewal(input: { token: $token }) { request { id kind state patron { lastName } } errors { code message } } }`;
const ACCOUNT = `{ viewer { ... on Patron { account { status activeUntil canAccessUnlimited canAccessMetered } requests { kind state } } } }`;
const DAY = 86_400_000;

let t: TestApp;
let libraryId: string;
let now: Date;

const staff = (loginName: string, password: string) => login(t, 'STAFF', loginName, password);
const dlpb = () => staff('dlpb', 'mot de passe DLPB');
const admin = () => staff('5212345', 'mot de passe bib');

async function advanceTo(to: Date): Promise<string[]> {
  const { data } = await t.gql(ADVANCE, { to: to.toISOString() }, { token: await dlpb() });
  expect(data.advanceTestClock.errors).toEqual([]);
  now = new Date(data.advanceTestClock.now);
  return data.advanceTestClock.jobsRun;
}
const advance = (ms: number) => advanceTo(new Date(now.getTime() + ms));

async function requestIdOf(loginName: string, kind = 'REGISTRATION') {
  const r = await t.app.prisma.registrationRequest.findFirstOrThrow({
    where: { kind: kind as never, patron: { loginKey: loginName.toLowerCase() } },
    orderBy: { submittedAt: 'desc' },
  });
  return encodeGlobalID('RegistrationRequest', r.id);
}

async function accept(loginName: string, kind = 'REGISTRATION') {
  const { data } = await t.gql(DECIDE, { input: { requestId: await requestIdOf(loginName, kind), decision: 'ACCEPT' } }, { token: await admin() });
  expect(data.decide.errors).toEqual([]);
  return data.decide.request.patron.account;
}

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, env: { NUMOS_TEST_CLOCK: '1', NUMOS_THROTTLE: '0' } });
  const library = await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange', email: 'bib@nilvange.example' });
  libraryId = encodeGlobalID('Library', library.id);
  await seedStaff(t.app, { login: '5212345', password: 'mot de passe bib', role: 'LIBRARY_ADMIN', libraryId: library.id });
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB', role: 'DLPB_AGENT' });
  now = t.app.clock.now();
});
afterAll(() => t.close());

describe('the test clock', () => {
  it('never goes back, and only the DLPB moves it', async () => {
    const back = await t.gql(ADVANCE, { to: new Date(now.getTime() - DAY).toISOString() }, { token: await dlpb() });
    expect(back.data.advanceTestClock.errors[0]).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('ne recule jamais') });
    const forbidden = await t.gql(ADVANCE, { to: new Date(now.getTime() + DAY).toISOString() }, { token: await admin() });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('moves every instance: a second instance on the same database reads the same time', async () => {
    await advance(60_000);
    const other = await startTestApp({ database: t.database, env: { NUMOS_TEST_CLOCK: '1' } });
    try {
      await other.gql(`{ libraries { code } }`); // any request syncs the clock
      expect(Math.abs(other.app.clock.now().getTime() - t.app.clock.now().getTime())).toBeLessThan(1_000);
    } finally {
      await other.close();
    }
  });
});

describe('a life without confirmation', () => {
  it('lapses on day 16: personal data gone, and the person can register again', async () => {
    const input = registerInput(libraryId, { lastName: 'Oubli', firstName: 'Sans', email: 'oubli@example.org', login: 'sans.oubli' });
    expect((await t.gql(REGISTER, { input })).data.register.ok).toBe(true);
    const token = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    // Jobs whose payloads carry the address and the login (pg-boss keeps them an hour once done).
    await t.gql(`mutation { resendConfirmation(input: { email: "Oubli@Example.org" }) { ok } }`);
    await t.gql(`mutation { requestPasswordReset(input: { realm: PATRON, login: "Sans.Oubli" }) { ok } }`);

    expect(await advance(15 * DAY - 60_000)).not.toContain('never');
    expect(await t.app.prisma.patron.count({ where: { loginKey: 'sans.oubli' } })).toBe(1);
    const jobs = await advance(DAY);
    expect(jobs).toContain('registration.lapse');
    expect(await t.app.prisma.patron.count({ where: { loginKey: 'sans.oubli' } })).toBe(0);
    const lapsed = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { state: 'LAPSED' } });
    expect(lapsed).toMatchObject({ patronId: null, kind: 'REGISTRATION', ageGroup: 'ADULT' });
    expect((await t.gql(CONFIRM, { token })).data.confirm.errors[0].code).toBe('INVALID_TOKEN');
    const dump = await dumpEverything(t);
    expect(dump).not.toContain('oubli@example.org');
    expect(dump).not.toContain('sans.oubli');

    expect((await t.gql(REGISTER, { input })).data.register).toMatchObject({ ok: true, errors: [] });
  });
});

describe('a life without a decision', () => {
  it('stops temporary access on day 32, and a late acceptance still works', async () => {
    const { input } = await registerAndConfirm(t, libraryId, { lastName: 'Attente', login: 'longue.attente' });
    const session = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(ACCOUNT, {}, { token: session })).data.viewer.account.status).toBe('TEMPORARY');

    const jobs = await advance(32 * DAY);
    expect(jobs).toEqual(expect.arrayContaining(['account.temporary-expiry', 'registration.escalate']));
    const fresh = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(ACCOUNT, {}, { token: fresh })).data.viewer.account).toMatchObject({ status: 'EXPIRED', canAccessUnlimited: false });
    const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: 'longue.attente' } } });
    expect(request).toMatchObject({ state: 'AWAITING_DECISION', escalated: true });

    expect(await accept('longue.attente')).toMatchObject({ status: 'ACTIVE' });
  });
});

describe('a life renewed, then one that is not', () => {
  it('reminds once 15 days before the end, renews from the link, and moves the end one year', async () => {
    const { input } = await registerAndConfirm(t, libraryId, { lastName: 'Fidèle', firstName: 'Rose', login: 'rose.fidele', email: 'rose@example.org' });
    const { activeUntil } = await accept('rose.fidele');
    const end = new Date(activeUntil);

    // Too early to renew with a session.
    const session = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(RENEW, {}, { token: session })).data.requestRenewal.errors[0].code).toBe('RENEWAL_NOT_OPEN');

    await advanceTo(new Date(end.getTime() - 16 * DAY));
    expect(t.resend!.to('rose@example.org').filter((e) => e.subject === 'Votre abonnement NuMos arrive à échéance')).toHaveLength(0);
    const jobs = await advanceTo(new Date(end.getTime() - 15 * DAY + 3_600_000));
    expect(jobs).toContain('account.renewal-reminder');
    const reminder = await waitForEmail(t, 'rose@example.org', 'Votre abonnement NuMos arrive à échéance');
    expect(reminder.text).toContain('Bonjour Rose Fidèle');
    expect(reminder.text).toContain("Nous vous invitons également à vérifier l'adhésion à votre bibliothèque");
    await advance(DAY);
    await advance(DAY);
    await allDelivered(t);
    expect(t.resend!.to('rose@example.org').filter((e) => e.subject === 'Votre abonnement NuMos arrive à échéance')).toHaveLength(1);

    const token = tokenFrom(reminder, '/renouveler');
    const renewal = await t.gql(RENEW, { token });
    expect(renewal.data.requestRenewal).toMatchObject({ request: { kind: 'RENEWAL', state: 'AWAITING_DECISION', patron: { lastName: 'Fidèle' } }, errors: [] });
    expect((await t.gql(RENEW, { token })).data.requestRenewal.errors[0].code).toBe('INVALID_TOKEN');
    const fresh = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(RENEW, {}, { token: fresh })).data.requestRenewal.errors[0].code).toBe('INVALID_STATE');
    await waitForEmail(t, 'bib@nilvange.example', 'NuMos : réinscription à valider – Rose Fidèle');

    const queue = await t.gql(`{ pendingRegistrations(filter: { state: RENEWALS }) { edges { node { patron { lastName } } } } }`, {}, { token: await admin() });
    expect(queue.data.pendingRegistrations.edges.map((e: any) => e.node.patron.lastName)).toEqual(['Fidèle']);
    // Still active while the library decides.
    expect((await t.gql(ACCOUNT, {}, { token: fresh })).data.viewer.account.status).toBe('ACTIVE');

    const renewed = await accept('rose.fidele', 'RENEWAL');
    expect(renewed.activeUntil).toBe(addParisYears(end, 1).toISOString());
  });

  it('expires at the end, then is purged a year later: e-mail and login gone from every table', async () => {
    const { input } = await registerAndConfirm(t, libraryId, {
      lastName: 'Partant',
      firstName: 'Paul',
      login: 'paul.partant',
      email: 'paul.partant@example.org',
    });
    const { activeUntil } = await accept('paul.partant');
    const end = new Date(activeUntil);
    const session = await login(t, 'PATRON', input.login, input.password);
    await t
      .gql(
        `mutation { sendMessage(input: { to: LIBRARY, email: "paul.partant@example.org", subject: "Question", body: "Bonjour" }) { ok } }`,
        {},
        { token: session },
      )
      .catch(() => undefined);

    expect(await advanceTo(new Date(end.getTime() + 60_000))).toContain('account.expiry');
    const expired = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(ACCOUNT, {}, { token: expired })).data.viewer.account).toMatchObject({ status: 'EXPIRED', canAccessMetered: false });

    expect(await advanceTo(new Date(end.getTime() + 364 * DAY))).toContain('account.purge');
    expect(await t.app.prisma.patron.count({ where: { loginKey: 'paul.partant' } })).toBe(1);
    expect(await advanceTo(new Date(end.getTime() + 366 * DAY))).toContain('account.purge');
    expect(await t.app.prisma.patron.count({ where: { loginKey: 'paul.partant' } })).toBe(0);
    await expect(login(t, 'PATRON', input.login, input.password)).rejects.toThrow('INVALID_CREDENTIALS');

    const dump = await dumpEverything(t);
    expect(dump).toContain('rose.fidele'); // the scan reads real rows
    expect(dump).not.toContain('paul.partant@example.org');
    expect(dump).not.toContain('paul.partant');
    expect(dump).not.toContain('partant');
    // Anonymous facts stay for the statistics.
    expect(await t.app.prisma.registrationRequest.count({ where: { patronId: null, state: 'ACCEPTED' } })).toBeGreaterThanOrEqual(1);
  });
});
