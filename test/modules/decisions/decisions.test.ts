import { encodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalateOverdueRequests, expireTemporaryAccounts } from '../../../src/modules/decisions/jobs.js';
import { login, seedLibrary, seedStaff, seedTwoLibraries, startTestApp, type TestApp } from '../../support/harness.js';
import { allDelivered, registerAndConfirm, waitForEmail } from '../../support/patrons.js';

const DECIDE = `mutation($input: DecideInput!) {
  decide(input: $input) {
    request { id state decision decidedAt decidedOnBehalfOfLibrary responseMessage decidedBy { login } patron { account { status activeUntil canAccessMetered } } }
    errors { code message field }
  }
}`;
const REQUEST = `query($id: ID!) { registrationRequest(id: $id) { id state patron { lastName } library { code } } }`;

let t: TestApp;
let libA: { id: string; gid: string };
let libB: { id: string; gid: string };
let adminA: string;
let adminB: string;
let dlpb: string;

async function pendingRequest(library: { gid: string }, overrides: Record<string, unknown> = {}) {
  const { input } = await registerAndConfirm(t, library.gid, overrides);
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: input.login.toLowerCase() } } });
  return { input, id: encodeGlobalID('RegistrationRequest', request.id), uuid: request.id };
}

beforeAll(async () => {
  t = await startTestApp({ resend: true, workers: true, now: '2026-11-28T09:00:00Z', env: { NUMOS_THROTTLE: '0', DLPB_EMAIL: 'dlpb@moselle.example' } });
  ({ libA, libB, adminA, adminB, dlpb } = await seedTwoLibraries(t, [
    { code: '5212345', name: 'Médiathèque de Nilvange', email: 'bib@nilvange.example' },
    { code: '5212346', name: 'Bibliothèque de Metz', email: 'bib@metz.example' },
  ]));
});
afterAll(() => t.close());

describe('decide', () => {
  it('accepts: the account is ACTIVE for a year and the patron gets the seed text with quotas and login', async () => {
    const { input, id, uuid } = await pendingRequest(libA, { lastName: 'Becker', firstName: 'Anna' });
    t.clock.advance(3_600_000);
    const { data } = await t.gql(DECIDE, { input: { requestId: id, decision: 'ACCEPT' } }, { token: adminA });
    expect(data.decide.errors).toEqual([]);
    expect(data.decide.request).toMatchObject({
      state: 'ACCEPTED',
      decision: 'ACCEPT',
      decidedOnBehalfOfLibrary: false,
      decidedBy: { login: '5212345' },
      patron: { account: { status: 'ACTIVE', activeUntil: '2027-11-28T10:00:00.000Z', canAccessMetered: true } },
    });
    const email = await waitForEmail(t, input.email, 'Votre compte NuMos est activé');
    expect(email.from).toBe('"Administration MÉDIATHÈQUE DE NILVANGE" <numos@numos.local>');
    expect(email.text).toContain('Bonjour Anna Becker');
    expect(email.text).toContain('actif jusqu’au 28 novembre 2027');
    expect(email.text).toContain('4 documents de l’espace films');
    expect(email.text).toContain('7 documents de l’espace livres');
    expect(email.text).toContain('15 magazines et 31 quotidiens');
    expect(email.text).toContain(`Identifiant : ${input.login}`);
    expect(data.decide.request.responseMessage).toContain(`<strong>Identifiant : ${input.login}</strong>`);

    const entry = await t.app.prisma.auditLog.findFirstOrThrow({ where: { action: 'DECIDE', subjectId: uuid } });
    expect(entry).toMatchObject({ actorKind: 'LIBRARY_ADMIN', libraryId: libA.id, onBehalf: false });
    expect(entry.before).toMatchObject({ state: 'AWAITING_DECISION', accountStatus: 'TEMPORARY' });
    expect(entry.after).toMatchObject({ state: 'ACCEPTED', accountStatus: 'ACTIVE' });
    expect(JSON.stringify(entry, (_key, value) => (typeof value === 'bigint' ? String(value) : value))).not.toContain(input.email);
  });

  it('refuses: the account is REFUSED and the patron gets the refusal text; a DLPB decision is on behalf of the library', async () => {
    const { input, id } = await pendingRequest(libA, { lastName: 'Klein', firstName: 'Jules' });
    const { data } = await t.gql(DECIDE, { input: { requestId: id, decision: 'REFUSE' } }, { token: dlpb });
    expect(data.decide.request).toMatchObject({ state: 'REFUSED', decidedOnBehalfOfLibrary: true, patron: { account: { status: 'REFUSED' } } });
    const email = await waitForEmail(t, input.email, "Votre demande d'accès à NuMos");
    expect(email.text).toContain('Bonjour Jules Klein');
    expect(email.text).toContain('nous ne pouvons pas satisfaire à votre demande en l’état');
  });

  it('sends an edited message clean: placeholders filled, no script, no handler, no remote image', async () => {
    const { input, id } = await pendingRequest(libA, { lastName: 'O’Neil <b>', firstName: 'Léo' });
    const message =
      '<p onclick="steal()">Bonjour [prenom] [nom_destinataire], actif jusqu’au [actif-jusquau] (identifiant [identifiant]).</p>' +
      '<script>alert(1)</script><img src="https://tracker.example/pixel.gif"><a href="javascript:alert(2)">piège</a>' +
      '<a href="https://numos.example/aide" style="color:red">aide</a><iframe src="https://evil.example"></iframe>';
    const { data } = await t.gql(DECIDE, { input: { requestId: id, decision: 'ACCEPT', message } }, { token: adminA });
    const html: string = data.decide.request.responseMessage;
    expect(html).toBe(
      `<p>Bonjour Léo O’Neil &lt;b&gt;, actif jusqu’au 28 novembre 2027 (identifiant ${input.login}).</p>` +
        '<a rel="noopener noreferrer">piège</a><a href="https://numos.example/aide" rel="noopener noreferrer">aide</a>',
    );
    const email = await waitForEmail(t, input.email, 'Votre compte NuMos est activé');
    for (const bad of ['<script', 'onclick', 'tracker.example', 'javascript:', 'iframe', 'color:red']) expect(email.html).not.toContain(bad);
    expect(email.text).toContain('Bonjour Léo O’Neil <b>');
  });

  it('gives exactly one of five simultaneous decisions; the others get ALREADY_DECIDED', async () => {
    const { input, id } = await pendingRequest(libA);
    const decisions = ['ACCEPT', 'REFUSE', 'ACCEPT', 'REFUSE', 'ACCEPT'];
    const results = await Promise.all(decisions.map((decision, i) => t.gql(DECIDE, { input: { requestId: id, decision } }, { token: i % 2 ? dlpb : adminA })));
    const winners = results.filter((r) => r.data.decide.errors.length === 0);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.data.decide.errors.length)) {
      expect(loser.data.decide).toEqual({
        request: null,
        errors: [{ code: 'ALREADY_DECIDED', message: 'Cette demande a déjà été traitée.', field: 'requestId' }],
      });
    }
    await allDelivered(t);
    expect(t.resend!.to(input.email).filter((e) => !e.subject.startsWith('Confirmez'))).toHaveLength(1);
    const uuid = (await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { email: input.email } } })).id;
    expect(await t.app.prisma.auditLog.count({ where: { action: 'DECIDE', subjectId: uuid } })).toBe(1);
  });

  it('keeps library B away from library A’s requests: list, read and decide', async () => {
    const { id } = await pendingRequest(libA, { lastName: 'Privé' });
    expect((await t.gql(REQUEST, { id }, { token: adminB })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(DECIDE, { input: { requestId: id, decision: 'ACCEPT' } }, { token: adminB })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await t.gql(
      `query($f: PendingRegistrationsFilter) { pendingRegistrations(filter: $f) { totalCount } }`,
      { f: { libraryId: libA.gid } },
      { token: adminB },
    );
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await t.gql(`{ pendingRegistrations(filter: { search: "prive" }) { totalCount } }`, {}, { token: adminB });
    expect(own.data.pendingRegistrations.totalCount).toBe(0);

    expect((await t.gql(REQUEST, { id }, { token: adminA })).data.registrationRequest).toMatchObject({
      state: 'AWAITING_DECISION',
      library: { code: '5212345' },
    });
    expect(
      (await t.gql(REQUEST, { id: encodeGlobalID('RegistrationRequest', '00000000-0000-4000-8000-000000000000') }, { token: adminA })).data.registrationRequest,
    ).toBeNull();
    expect((await t.gql(REQUEST, { id })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers NOT_FOUND for an unknown request and INVALID_STATE for one not confirmed yet', async () => {
    const unknown = await t.gql(DECIDE, { input: { requestId: 'bidon', decision: 'ACCEPT' } }, { token: dlpb });
    expect(unknown.data.decide.errors[0].code).toBe('NOT_FOUND');
    await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { ok } }`, {
      input: {
        lastName: 'Attente',
        firstName: 'Non',
        birthDate: '1990-01-01',
        email: 'attente@example.org',
        login: 'non.confirme',
        password: 'un bon mot de passe',
        passwordConfirmation: 'un bon mot de passe',
        libraryId: libA.gid,
        newsletter: false,
      },
    });
    const request = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patron: { loginKey: 'non.confirme' } } });
    const early = await t.gql(DECIDE, { input: { requestId: encodeGlobalID('RegistrationRequest', request.id), decision: 'ACCEPT' } }, { token: dlpb });
    expect(early.data.decide.errors[0].code).toBe('INVALID_STATE');
  });
});

describe('licence pool', () => {
  const SET = `mutation($c: Int!) { setLicenceCapacity(input: { capacity: $c }) { licencePool { capacity used available } errors { code field } } }`;

  it('refuses an acceptance beyond capacity, alerts the DLPB at 90 % and 100 %, and lets the DLPB raise it', async () => {
    const used = (await t.gql(`{ licencePool { used } }`, {}, { token: dlpb })).data.licencePool.used;
    expect((await t.gql(SET, { c: used + 10 }, { token: adminA })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(SET, { c: -1 }, { token: dlpb })).data.setLicenceCapacity.errors).toEqual([{ code: 'INVALID_INPUT', field: 'capacity' }]);
    expect((await t.gql(SET, { c: used + 10 }, { token: dlpb })).data.setLicenceCapacity.licencePool).toEqual({ capacity: used + 10, used, available: 10 });
    const alerts = () => t.resend!.to('dlpb@moselle.example').filter((e) => /licence/.test(e.subject));

    // Fill to 90 %: capacity used+10, so reaching 90 % means (used+10)*0.9 active accounts.
    const toNinety = Math.ceil((used + 10) * 0.9) - used;
    const pending = [];
    for (let i = 0; i < 11; i++) pending.push(await pendingRequest(libB));
    for (let i = 0; i < toNinety; i++) {
      expect((await t.gql(DECIDE, { input: { requestId: pending[i]!.id, decision: 'ACCEPT' } }, { token: adminB })).data.decide.errors).toEqual([]);
    }
    await t.resend!.waitFor(() => alerts().length === 1);
    expect(alerts()[0]!.subject).toBe('NuMos : 90 % des licences utilisées');
    for (let i = toNinety; i < 10; i++) await t.gql(DECIDE, { input: { requestId: pending[i]!.id, decision: 'ACCEPT' } }, { token: adminB });
    await t.resend!.waitFor(() => alerts().length === 2);
    expect(alerts()[1]!.subject).toBe('NuMos : plus aucune licence disponible');

    const refused = await t.gql(DECIDE, { input: { requestId: pending[10]!.id, decision: 'ACCEPT' } }, { token: adminB });
    expect(refused.data.decide.errors.map((e: { code: string }) => e.code)).toEqual(['LICENCE_POOL_EXHAUSTED']);
    expect((await t.gql(REQUEST, { id: pending[10]!.id }, { token: adminB })).data.registrationRequest.state).toBe('AWAITING_DECISION');

    await t.gql(SET, { c: used + 20 }, { token: dlpb });
    expect((await t.gql(DECIDE, { input: { requestId: pending[10]!.id, decision: 'ACCEPT' } }, { token: adminB })).data.decide.errors).toEqual([]);
    await allDelivered(t);
    expect(alerts()).toHaveLength(2);
  }, 60_000);

  it('never gives the last licence twice under concurrency', async () => {
    const used = (await t.gql(`{ licencePool { used } }`, {}, { token: dlpb })).data.licencePool.used;
    await t.gql(SET, { c: used + 1 }, { token: dlpb });
    const requests = [];
    for (let i = 0; i < 4; i++) requests.push(await pendingRequest(libA));
    const results = await Promise.all(requests.map((r) => t.gql(DECIDE, { input: { requestId: r.id, decision: 'ACCEPT' } }, { token: dlpb })));
    const codes = results.map((r) => r.data.decide.errors.map((e: { code: string }) => e.code).join() || 'OK').sort();
    expect(codes).toEqual(['LICENCE_POOL_EXHAUSTED', 'LICENCE_POOL_EXHAUSTED', 'LICENCE_POOL_EXHAUSTED', 'OK']);
    expect((await t.gql(`{ licencePool { used available } }`, {}, { token: dlpb })).data.licencePool).toEqual({ used: used + 1, available: 0 });
    await t.gql(SET, { c: 20_000 }, { token: dlpb });
  });
});

describe('jobs', () => {
  it('escalates requests undecided 5 days after confirmation, once, telling the DLPB and the library', async () => {
    const { id, uuid } = await pendingRequest(libB, { lastName: 'Retard', firstName: 'Max' });
    const confirmedAt = (await t.app.prisma.registrationRequest.findUniqueOrThrow({ where: { id: uuid } })).confirmedAt!;
    expect(await escalateOverdueRequests(t.app, new Date(confirmedAt.getTime() + 5 * 86_400_000 - 1))).toBe(0);
    const at = new Date(confirmedAt.getTime() + 5 * 86_400_000);
    const escalated = await escalateOverdueRequests(t.app, at);
    expect(escalated).toBeGreaterThanOrEqual(1);
    expect(await escalateOverdueRequests(t.app, at)).toBe(0);

    const request = await t.app.prisma.registrationRequest.findUniqueOrThrow({ where: { id: uuid } });
    expect(request).toMatchObject({ escalated: true, escalatedAt: at });
    const digest = await waitForEmail(t, 'dlpb@moselle.example', /sans décision depuis 5 jours/);
    expect(digest.text).toContain('Max Retard');
    expect(digest.text).toContain(`/admin/demandes/${encodeURIComponent(id)}`);
    const reminder = await waitForEmail(t, 'bib@metz.example', 'NuMos : rappel, des demandes attendent votre décision');
    expect(reminder.text).toContain('Max Retard');

    const queue = await t.gql(`{ pendingRegistrations(filter: { escalated: true }) { edges { node { id escalated } } } }`, {}, { token: dlpb });
    expect(queue.data.pendingRegistrations.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id);
  });

  it('ends temporary access after a month; a late acceptance still works', async () => {
    const { input, id } = await pendingRequest(libA, { lastName: 'Tardif' });
    const patron = await t.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: input.login } });
    expect(await expireTemporaryAccounts(t.app, new Date(patron.temporaryUntil!.getTime() - 1))).toBe(0);
    expect(await expireTemporaryAccounts(t.app, patron.temporaryUntil!)).toBeGreaterThanOrEqual(1);
    const session = await login(t, 'PATRON', input.login, input.password);
    const account = await t.gql(`{ viewer { ... on Patron { account { status canAccessUnlimited } } } }`, {}, { token: session });
    expect(account.data.viewer.account).toEqual({ status: 'EXPIRED', canAccessUnlimited: false });
    const late = await t.gql(DECIDE, { input: { requestId: id, decision: 'ACCEPT' } }, { token: adminA });
    expect(late.data.decide.request.patron.account.status).toBe('ACTIVE');
  });
});

describe('pendingRegistrations', () => {
  const PENDING = `query($f: PendingRegistrationsFilter, $o: RegistrationOrder, $first: Int, $after: String) {
    pendingRegistrations(filter: $f, orderBy: $o, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind patron { lastName firstName login email library { code } } library { code } } }
    }
  }`;
  let q: TestApp;
  let staffA: string;
  let agent: string;

  beforeAll(async () => {
    q = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
    const a = await seedLibrary(q.app, { code: '5200001', name: 'A' });
    const b = await seedLibrary(q.app, { code: '5200002', name: 'B' });
    await seedStaff(q.app, { login: '5200001', password: 'mot de passe A', role: 'LIBRARY_ADMIN', libraryId: a.id });
    await seedStaff(q.app, { login: 'agent', password: 'mot de passe agent' });
    staffA = await login(q, 'STAFF', '5200001', 'mot de passe A');
    agent = await login(q, 'STAFF', 'agent', 'mot de passe agent');
    const names = [
      ['Étienne', 'Zimmer', 'etienne'],
      ['Noémie', 'Arnaud', 'noemie'],
      ['Hélène', 'Muller', 'helene'],
      ['Chloé', 'Bérard', 'chloe'],
      ['Zoé', 'Dupont', 'zoe'],
    ];
    for (const [i, [firstName, lastName, mailbox]] of names.entries()) {
      q.clock.advance(60_000);
      await registerAndConfirm(q, encodeGlobalID('Library', i < 3 ? a.id : b.id), { firstName, lastName, email: `${mailbox}@exemple.fr` });
    }
    // An unconfirmed request never appears.
    await q.gql(`mutation($input: RegisterInput!) { register(input: $input) { ok } }`, {
      input: {
        lastName: 'Zimmer',
        firstName: 'Sans',
        birthDate: '1990-01-01',
        email: 'sans@example.org',
        login: 'sans.confirmation',
        password: 'un bon mot de passe',
        passwordConfirmation: 'un bon mot de passe',
        libraryId: encodeGlobalID('Library', a.id),
        newsletter: false,
      },
    });
  });
  afterAll(() => q.close());

  const lastNames = (data: any) => data.pendingRegistrations.edges.map((e: any) => e.node.patron.lastName);

  it('shows library staff their own library, oldest first, and the DLPB every library', async () => {
    expect(lastNames((await q.gql(PENDING, {}, { token: staffA })).data)).toEqual(['Zimmer', 'Arnaud', 'Muller']);
    const all = (await q.gql(PENDING, {}, { token: agent })).data;
    expect(lastNames(all)).toEqual(['Zimmer', 'Arnaud', 'Muller', 'Bérard', 'Dupont']);
    expect(all.pendingRegistrations.totalCount).toBe(5);
    const one = await q.gql(
      PENDING,
      {
        f: {
          libraryId: all.pendingRegistrations.edges[3].node.library.code
            ? encodeGlobalID('Library', (await q.app.prisma.library.findUniqueOrThrow({ where: { code: '5200002' } })).id)
            : null,
        },
      },
      { token: agent },
    );
    expect(lastNames(one.data)).toEqual(['Bérard', 'Dupont']);
    expect((await q.gql(PENDING, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['helene', ['Muller']],
    ['BERARD', ['Bérard']],
    ['zim', ['Zimmer']],
    ['exemple.fr', ['Zimmer', 'Arnaud', 'Muller', 'Bérard', 'Dupont']],
    ['noemie arn', ['Arnaud']],
    ['%', []],
  ])('searches %j in names, login and e-mail, ignoring case and accents', async (search, expected) => {
    expect(lastNames((await q.gql(PENDING, { f: { search } }, { token: agent })).data)).toEqual(expected);
  });

  it('orders by last name or due date, both directions', async () => {
    expect(lastNames((await q.gql(PENDING, { o: { field: 'LAST_NAME', direction: 'ASC' } }, { token: agent })).data)).toEqual([
      'Arnaud',
      'Bérard',
      'Dupont',
      'Muller',
      'Zimmer',
    ]);
    expect(lastNames((await q.gql(PENDING, { o: { field: 'LAST_NAME', direction: 'DESC' } }, { token: agent })).data)).toEqual([
      'Zimmer',
      'Muller',
      'Dupont',
      'Bérard',
      'Arnaud',
    ]);
    expect(lastNames((await q.gql(PENDING, { o: { field: 'DECISION_DUE_AT', direction: 'DESC' } }, { token: agent })).data)).toEqual([
      'Dupont',
      'Bérard',
      'Muller',
      'Arnaud',
      'Zimmer',
    ]);
    expect(lastNames((await q.gql(PENDING, { f: { state: 'RENEWALS' } }, { token: agent })).data)).toEqual([]);
    expect(lastNames((await q.gql(PENDING, { f: { state: 'REGISTRATIONS' } }, { token: agent })).data)).toHaveLength(5);
  });

  it('pages with cursors, totalCount on every page', async () => {
    const seen: string[] = [];
    let after: string | null = null as string | null;
    for (;;) {
      const { data } = await q.gql(PENDING, { first: 2, after, o: { field: 'LAST_NAME', direction: 'ASC' } }, { token: agent });
      expect(data.pendingRegistrations.totalCount).toBe(5);
      seen.push(...lastNames(data));
      if (!data.pendingRegistrations.pageInfo.hasNextPage) break;
      after = data.pendingRegistrations.pageInfo.endCursor;
    }
    expect(seen).toEqual(['Arnaud', 'Bérard', 'Dupont', 'Muller', 'Zimmer']);
  });

  it('caps a page at 100', async () => {
    // 101 more pending requests for one patron, made directly: only the page size matters here.
    await q.app.pool.query(
      `INSERT INTO registration_request (kind, state, patron_id, library_id, age_group, submitted_at, confirmed_at, decision_due_at, search_text)
       SELECT 'REGISTRATION', 'AWAITING_DECISION', r.patron_id, r.library_id, r.age_group, r.submitted_at + n * interval '1 second', r.confirmed_at, r.decision_due_at, r.search_text
         FROM (SELECT * FROM registration_request WHERE state = 'AWAITING_DECISION' LIMIT 1) r, generate_series(1, 101) n`,
    );
    const { data } = await q.gql(PENDING, { first: 1_000 }, { token: agent });
    expect(data.pendingRegistrations.edges).toHaveLength(100);
    expect(data.pendingRegistrations.pageInfo.hasNextPage).toBe(true);
    expect(data.pendingRegistrations.totalCount).toBe(106);
  });

  it('costs a fixed number of SQL queries whatever the page size (no N+1)', async () => {
    // E-mail delivery shares the pool: let it finish, so that only the query's own SQL is counted.
    await expect.poll(() => q.app.prisma.emailOutbox.count({ where: { status: 'PENDING' } }), { timeout: 15_000 }).toBe(0);
    const counts: number[] = [];
    const original = pg.Client.prototype.query;
    let count = 0;
    pg.Client.prototype.query = function (this: pg.Client & { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
      if (this.connectionParameters?.application_name === 'numos') count++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await q.gql(PENDING, { first: 100 }, { token: agent }); // warm-up: connections opened once
      for (const first of [1, 5, 100]) {
        count = 0;
        const { data } = await q.gql(PENDING, { first }, { token: agent });
        expect(data.pendingRegistrations.edges).toHaveLength(first);
        counts.push(count);
      }
    } finally {
      pg.Client.prototype.query = original;
    }
    // Session lookup, page, count, then one query per relation level (patron, library…).
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toBeLessThanOrEqual(8);
  });
});
