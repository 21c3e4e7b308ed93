import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedLibrary, startTestApp, type TestApp } from '../../support/harness.js';
import { allDelivered, CONFIRM, REGISTER, registerAndConfirm, registerInput, tokenFrom, waitForEmail } from '../../support/patrons.js';

const VIEWER = `{ viewer { ... on Patron {
  id lastName firstName birthDate age ageGroup email login newsletter registeredAt
  library { code }
  account { status temporaryUntil activeUntil canAccessUnlimited canAccessMetered }
  requests { kind state submittedAt confirmedAt decisionDueAt escalated decision }
} } }`;

let t: TestApp;
let libraryId: string;
let otherLibraryId: string;

beforeAll(async () => {
  t = await startTestApp({
    resend: true,
    workers: true,
    now: '2026-11-28T09:00:00Z',
    // Throttling has its own tests; here many registrations come from one address.
    env: { NUMOS_THROTTLE: '0', PUBLIC_APP_URL: 'https://numos.example/', ADMIN_APP_URL: 'https://numos.example/admin', DLPB_EMAIL: 'dlpb@moselle.example' },
  });
  const library = await seedLibrary(t.app, { code: '5212345', name: 'Médiathèque de Nilvange', town: 'Nilvange', email: 'bib@nilvange.example' });
  libraryId = encodeGlobalID('Library', library.id);
  otherLibraryId = encodeGlobalID('Library', (await seedLibrary(t.app, { code: '5212346', name: 'Bibliothèque de Metz' })).id);
});
afterAll(() => t.close());

describe('register', () => {
  it('takes the form, stores an unconfirmed account and sends the confirmation e-mail', async () => {
    const input = registerInput(libraryId, { lastName: '  de  Lattre ', firstName: ' Éléonore ', newsletter: true });
    const { data } = await t.gql(REGISTER, { input });
    expect(data.register).toEqual({ ok: true, confirmationExpiresAt: '2026-12-13T09:00:00.000Z', errors: [] });

    const patron = await t.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: input.login }, include: { requests: true } });
    expect(patron).toMatchObject({ lastName: 'de Lattre', firstName: 'Éléonore', status: 'UNCONFIRMED', newsletter: true });
    expect(patron.passwordHash).toMatch(/^\$argon2id\$/);
    expect(patron.requests).toEqual([expect.objectContaining({ kind: 'REGISTRATION', state: 'AWAITING_CONFIRMATION', ageGroup: 'ADULT' })]);

    const email = await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos');
    expect(email.from).toBe('"Administration MÉDIATHÈQUE DE NILVANGE" <numos@numos.local>');
    expect(email.text).toContain('Bonjour Éléonore de Lattre');
    expect(email.text).toContain("valable jusqu'au 13 décembre 2026");
    expect(email.text).toMatch(/https:\/\/numos\.example\/confirmer\?token=[\w-]{43}/);
    expect(email.html).toContain('https://numos.example/confirmer?token=');
  });

  it('reports every problem of the form at once, and stores and sends nothing', async () => {
    const before = { patrons: await t.app.prisma.patron.count(), emails: await t.app.prisma.emailOutbox.count() };
    const input = registerInput(encodeGlobalID('Library', '00000000-0000-4000-8000-000000000000'), {
      lastName: '   ',
      firstName: '',
      birthDate: '2026-11-29',
      login: 'é',
      password: 'court',
      passwordConfirmation: 'autre',
    });
    const { data } = await t.gql(REGISTER, { input });
    expect(data.register.ok).toBe(false);
    expect(data.register.errors.map((e: { code: string; field: string }) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'lastName'],
      ['INVALID_INPUT', 'firstName'],
      ['INVALID_BIRTH_DATE', 'birthDate'],
      ['INVALID_INPUT', 'login'],
      ['PASSWORD_TOO_SHORT', 'password'],
      ['PASSWORD_MISMATCH', 'passwordConfirmation'],
      ['UNKNOWN_LIBRARY', 'libraryId'],
    ]);
    for (const error of data.register.errors) expect(error.message).toMatch(/[a-zé]/);
    expect(data.register.errors[2].message).toBe('La date de naissance ne peut pas être dans le futur.');
    expect(await t.app.prisma.patron.count()).toBe(before.patrons);
    expect(await t.app.prisma.emailOutbox.count()).toBe(before.emails);
  });

  it.each([
    ['today is fine', '2026-11-28', null],
    ['120 years ago to the day is fine', '1906-11-28', null],
    ['one day more than 120 years', '1906-11-27', 'INVALID_BIRTH_DATE'],
    ['tomorrow', '2026-11-29', 'INVALID_BIRTH_DATE'],
  ])('birth date: %s', async (_label, birthDate, code) => {
    const { data } = await t.gql(REGISTER, { input: registerInput(libraryId, { birthDate }) });
    expect(data.register.errors.map((e: { code: string }) => e.code)).toEqual(code ? [code] : []);
  });

  it('rejects a birth date that does not exist at the scalar, naming the field', async () => {
    const { data, errors } = await t.gql(REGISTER, { input: registerInput(libraryId, { birthDate: '1990-02-30' }) });
    expect(data).toBeUndefined();
    expect(errors?.[0]?.message).toBe('Date invalide : attendu une date qui existe, au format AAAA-MM-JJ.');
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'birthDate' });
  });

  it.each([
    ['ab', false],
    ['abc', true],
    ['Jean.Dupont-2_x', true],
    ['élodie', false],
    ['avec espace', false],
    ['a'.repeat(32), true],
    ['a'.repeat(33), false],
    ['nom@domaine', false],
  ])('login %j valid: %s', async (loginName, valid) => {
    const { data } = await t.gql(REGISTER, { input: registerInput(libraryId, { login: loginName }) });
    expect(data.register.errors.map((e: { code: string }) => e.code)).toEqual(valid ? [] : ['INVALID_INPUT']);
  });

  it.each([
    ['7 characters', 'abcdefg', 'PASSWORD_TOO_SHORT'],
    ['8 characters', 'k3r!vQ9z', null],
    ['one of the most common', 'password1', 'PASSWORD_TOO_COMMON'],
    ['common, whatever the case', 'AZERTY123', 'PASSWORD_TOO_COMMON'],
    ['a French favourite', 'motdepasse', 'PASSWORD_TOO_COMMON'],
    ['200 characters', 'Longue phrase de passe. '.repeat(9).slice(0, 200), null],
  ])('password, %s', async (_label, password, code) => {
    const { data } = await t.gql(REGISTER, { input: registerInput(libraryId, { password, passwordConfirmation: password }) });
    expect(data.register.errors.map((e: { code: string }) => e.code)).toEqual(code ? [code] : []);
  });

  it('never truncates a long password', async () => {
    const password = `${'x'.repeat(150)}fin-unique`;
    const { input } = await registerAndConfirm(t, libraryId, { password, passwordConfirmation: password });
    await expect(login(t, 'PATRON', input.login, 'x'.repeat(150))).rejects.toThrow('INVALID_CREDENTIALS');
    expect(await login(t, 'PATRON', input.login, password)).toMatch(/^nms_/);
  });

  it('refuses a login already taken, whatever its case', async () => {
    await t.gql(REGISTER, { input: registerInput(libraryId, { login: 'Lecteur57' }) });
    const { data } = await t.gql(REGISTER, { input: registerInput(libraryId, { login: 'LECTEUR57' }) });
    expect(data.register.errors).toEqual([{ code: 'LOGIN_TAKEN', message: 'Cet identifiant est déjà pris : choisissez-en un autre.', field: 'login' }]);
  });

  it('lets one address register several people (a parent and children)', async () => {
    const email = 'famille@example.org';
    for (const firstName of ['Léa', 'Hugo']) {
      const { data } = await t.gql(REGISTER, { input: registerInput(libraryId, { email, firstName, birthDate: '2015-03-01' }) });
      expect(data.register.ok).toBe(true);
    }
    expect(await t.app.prisma.patron.count({ where: { email } })).toBe(2);
    const child = await t.app.prisma.registrationRequest.findFirst({ where: { patron: { email } } });
    expect(child?.ageGroup).toBe('CHILD');
  });

  it('gives one of two simultaneous registrations of a login, and LOGIN_TAKEN to the other', async () => {
    const results = await Promise.all(
      ['Anne', 'Bruno'].map((firstName) => t.gql(REGISTER, { input: registerInput(libraryId, { firstName, login: 'course.au.login' }) })),
    );
    const codes = results.map((r) => r.data.register.errors.map((e: { code: string }) => e.code).join());
    expect(codes.sort()).toEqual(['', 'LOGIN_TAKEN']);
    expect(await t.app.prisma.patron.count({ where: { loginKey: 'course.au.login' } })).toBe(1);
  });
});

describe('the same person registering again', () => {
  it('creates no second account: same answer, and the existing address is told, with the login and a reset link', async () => {
    const { input } = await registerAndConfirm(t, libraryId, { lastName: 'Schmitt', firstName: 'Hélène', birthDate: '1980-01-02' });
    const again = registerInput(otherLibraryId, { lastName: 'SCHMITT ', firstName: 'helene', birthDate: '1980-01-02', email: 'autre@example.org' });
    const { data } = await t.gql(REGISTER, { input: again });
    expect(data.register).toEqual({ ok: true, confirmationExpiresAt: '2026-12-13T09:00:00.000Z', errors: [] });
    expect(await t.app.prisma.patron.count({ where: { lastName: { equals: 'schmitt', mode: 'insensitive' } } })).toBe(1);

    const notice = await waitForEmail(t, input.email, 'Vous avez déjà un compte NuMos');
    expect(notice.text).toContain(`Identifiant : ${input.login}`);
    const reset = tokenFrom(notice, '/mot-de-passe');
    const { data: resetData } = await t.gql(`mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { ok errors { code } } }`, {
      input: { token: reset, password: 'nouveau mot de passe', passwordConfirmation: 'nouveau mot de passe' },
    });
    expect(resetData.resetPassword).toEqual({ ok: true, errors: [] });
    expect(t.resend!.to('autre@example.org')).toEqual([]);
  });

  it('answers a registration sent again after a lost answer as the first time: same deadline, no second e-mail, the link still works', async () => {
    const input = registerInput(libraryId, { lastName: 'Perdu', firstName: 'Réseau', birthDate: '1985-08-08' });
    const first = (await t.gql(REGISTER, { input })).data.register;
    expect(first).toMatchObject({ ok: true, errors: [] });
    const link = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    t.clock.advance(60_000);
    const retries = await Promise.all([1, 2].map(() => t.gql(REGISTER, { input })));
    for (const retry of retries) expect(retry.data.register).toEqual(first);
    await allDelivered(t);
    expect(t.resend!.to(input.email)).toHaveLength(1);
    expect(await t.app.prisma.patron.count({ where: { email: input.email } })).toBe(1);
    expect((await t.gql(CONFIRM, { token: link })).data.confirm.account.status).toBe('TEMPORARY');
    t.clock.advance(-60_000);
  });

  it('sends the confirmation again to a person who has not confirmed yet', async () => {
    const input = registerInput(libraryId, { lastName: 'Weber', firstName: 'Paul', birthDate: '1975-05-05' });
    await t.gql(REGISTER, { input });
    const first = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    const { data } = await t.gql(REGISTER, { input: { ...input, login: 'paul.weber.bis', email: 'paul.bis@example.org' } });
    expect(data.register.ok).toBe(true);
    const second = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos', 2), '/confirmer');
    expect(second).not.toBe(first);
    expect((await t.gql(CONFIRM, { token: first })).data.confirm.errors[0].code).toBe('INVALID_TOKEN');
    expect((await t.gql(CONFIRM, { token: second })).data.confirm.account.status).toBe('TEMPORARY');
  });
});

describe('confirm', () => {
  it('opens a month of temporary access, tells the library with a link and copies the DLPB', async () => {
    const input = registerInput(libraryId, { lastName: 'Kieffer', firstName: 'Lucie', birthDate: '2010-06-15' });
    await t.gql(REGISTER, { input });
    const token = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    t.clock.advance(3_600_000);
    const { data } = await t.gql(CONFIRM, { token });
    expect(data.confirm).toEqual({
      account: {
        status: 'TEMPORARY',
        temporaryUntil: '2026-12-28T10:00:00.000Z',
        activeUntil: null,
        canAccessUnlimited: true,
        canAccessMetered: false,
      },
      errors: [],
    });
    const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login } } });
    expect(request).toMatchObject({
      state: 'AWAITING_DECISION',
      confirmedAt: new Date('2026-11-28T10:00:00Z'),
      decisionDueAt: new Date('2026-12-03T10:00:00Z'),
    });

    const notice = await waitForEmail(t, 'bib@nilvange.example', 'NuMos : inscription à valider – Lucie Kieffer');
    expect(notice.cc).toEqual(['dlpb@moselle.example']);
    expect(notice.text).toContain(`https://numos.example/admin/demandes/${encodeURIComponent(encodeGlobalID('RegistrationRequest', request.id))}`);
    expect(notice.text).toContain('15/06/2010 (16 ans)');
    expect(notice.text).toContain(input.email);

    // Again within the window: the same account, no error, no second e-mail to the library.
    const again = await t.gql(CONFIRM, { token });
    expect(again.data.confirm).toEqual(data.confirm);
    await allDelivered(t);
    expect(t.resend!.to('bib@nilvange.example').filter((e) => e.subject.includes('Lucie Kieffer'))).toHaveLength(1);
  });

  it('lets exactly one of simultaneous confirmations move the request', async () => {
    const input = registerInput(libraryId, { lastName: 'Simultané', firstName: 'Zoé' });
    await t.gql(REGISTER, { input });
    const token = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(CONFIRM, { token })));
    for (const r of results) expect(r.data.confirm.account.status).toBe('TEMPORARY');
    await waitForEmail(t, 'bib@nilvange.example', /Zoé Simultané/);
    await allDelivered(t);
    expect(t.resend!.to('bib@nilvange.example').filter((e) => e.subject.includes('Zoé Simultané'))).toHaveLength(1);
  });

  it('answers TOKEN_EXPIRED after 15 days and INVALID_TOKEN for a link it never sent', async () => {
    const input = registerInput(libraryId);
    await t.gql(REGISTER, { input });
    const token = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    const saved = t.clock.now();
    t.clock.advance(15 * 86_400_000 + 1);
    expect((await t.gql(CONFIRM, { token })).data.confirm).toEqual({
      account: null,
      errors: [{ code: 'TOKEN_EXPIRED', message: expect.stringContaining('expiré'), field: 'token' }],
    });
    t.clock.set(saved);
    expect((await t.gql(CONFIRM, { token: 'pas-un-vrai-jeton' })).data.confirm.errors[0].code).toBe('INVALID_TOKEN');
  });
});

describe('resendConfirmation', () => {
  const RESEND = `mutation($email: EmailAddress!) { resendConfirmation(input: { email: $email }) { ok errors { code } } }`;

  it('answers the same for any address; a new link replaces the old one', async () => {
    const input = registerInput(libraryId, { email: 'Renvoi@Example.org' });
    await t.gql(REGISTER, { input });
    const first = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');

    const unknown = await t.gql(RESEND, { email: 'personne@example.org' });
    const known = await t.gql(RESEND, { email: 'renvoi@example.org' });
    expect(unknown.data).toEqual(known.data);
    expect(known.data.resendConfirmation).toEqual({ ok: true, errors: [] });

    const second = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos', 2), '/confirmer');
    expect((await t.gql(CONFIRM, { token: first })).data.confirm.errors[0].code).toBe('INVALID_TOKEN');
    expect((await t.gql(CONFIRM, { token: second })).data.confirm.errors).toEqual([]);
    expect(t.resend!.to('personne@example.org')).toEqual([]);
  });
});

describe('patron sessions and viewer', () => {
  it('refuses to log in before confirmation, then returns the patron with account, age and requests', async () => {
    const input = registerInput(libraryId, { birthDate: '2012-11-29', lastName: 'Muller', firstName: 'Tom' });
    await t.gql(REGISTER, { input });
    await expect(login(t, 'PATRON', input.login, input.password)).rejects.toThrow('INVALID_CREDENTIALS');
    const token = tokenFrom(await waitForEmail(t, input.email, 'Confirmez votre inscription à NuMos'), '/confirmer');
    await t.gql(CONFIRM, { token });

    const session = await login(t, 'PATRON', input.login.toUpperCase(), input.password);
    const { data } = await t.gql(VIEWER, {}, { token: session });
    expect(data.viewer).toMatchObject({
      lastName: 'Muller',
      firstName: 'Tom',
      birthDate: '2012-11-29',
      age: 13,
      ageGroup: 'TEEN',
      login: input.login,
      library: { code: '5212345' },
      account: { status: 'TEMPORARY', canAccessUnlimited: true, canAccessMetered: false },
      requests: [{ kind: 'REGISTRATION', state: 'AWAITING_DECISION', escalated: false, decision: null }],
    });
    // Age follows the clock: tomorrow (Paris) Tom turns 14.
    t.clock.advance(86_400_000);
    expect((await t.gql(`{ viewer { ... on Patron { age ageGroup } } }`, {}, { token: session })).data.viewer).toEqual({ age: 14, ageGroup: 'TEEN' });
    t.clock.advance(-86_400_000);
  });

  it('shows a patron only to themself and to staff of their library', async () => {
    const { input } = await registerAndConfirm(t, libraryId);
    const patron = await t.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: input.login } });
    const query = `query($id: ID!) { node(id: $id) { ... on Patron { login } } }`;
    const id = encodeGlobalID('Patron', patron.id);

    const anonymous = await t.gql(query, { id });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const other = await registerAndConfirm(t, libraryId);
    const otherSession = await login(t, 'PATRON', other.input.login, other.input.password);
    expect((await t.gql(query, { id }, { token: otherSession })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const own = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(query, { id }, { token: own })).data.node).toEqual({ login: input.login });
  });
});
