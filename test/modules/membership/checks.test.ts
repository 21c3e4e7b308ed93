// Membership checks end to end, through GraphQL: a library connects its (fake) Koha or SIP2 server,
// a person registers and confirms, NuMos looks them up in a job and shows the librarian what it
// found (live feed, request, queue filter, statistics); with automatic acceptance, NuMos accepts on
// the library's behalf exactly when everything matches, and never refuses; a librarian may check
// again; the checks are in the person's export and go with them.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpEverything } from '../../support/dump.js';
import { FakeKoha } from '../../support/fake-koha.js';
import { FakeSip2 } from '../../support/fake-sip2.js';
import { login, seedLibrary, seedStaff, seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries } from '../../support/harness.js';
import { allDelivered, registerAndConfirm, waitForEmail } from '../../support/patrons.js';
import { subscribeSse, type Subscription } from '../../support/subscriptions.js';
import {
  CHECK_FIELDS,
  checksSettled,
  confirmAndCheck,
  connectorEnv,
  kohaInput,
  kohaMember,
  newCard,
  newSecretsKey,
  RECHECK,
  REQUEST,
  requestOf,
  saveConnector,
  sip2Input,
} from './scene.js';

const EVENTS = `subscription {
  registrationEvents { type request { id state decidedAutomatically libraryCardNumber membershipCheck { ${CHECK_FIELDS} } } }
}`;
const PENDING = `query($f: PendingRegistrationsFilter) { pendingRegistrations(filter: $f, first: 100) { totalCount edges { node { id } } } }`;
const STATS = `query($f: StatsFilter!) { stats(filter: $f) { registrations { acceptedAutomatically membershipChecks { outcome count } } } }`;
const SET_CAPACITY = `mutation($c: Int!) { setLicenceCapacity(input: { capacity: $c }) { licencePool { capacity used } errors { code } } }`;
const OWN_REQUESTS = `{ viewer { ... on Patron { requests { libraryCardNumber membershipCheck { outcome } } } } }`;
const DELETE = `mutation($password: String!) { deleteMyAccount(input: { currentPassword: $password }) { ok errors { code message field } } }`;

/** Paris time of the harness's clock (2026-11-28T10:00:00Z), as the summaries write it. */
const CHECKED = 'vérifié le 28/11/2026 à 11:00';
const ACCEPTED_SUBJECT = 'Votre compte NuMos est activé';

let t: TestApp;
let scene: TwoLibraries;
let koha: FakeKoha;
let sip: FakeSip2;
/** A third library, which lets NuMos accept on its behalf. */
let auto: { id: string; gid: string; admin: string };
let autoKoha: FakeKoha;

/** A Koha with the OAuth2 client of the scene's connectors. */
async function fakeKoha(): Promise<FakeKoha> {
  const fake = new FakeKoha();
  fake.oauthClients.push({ id: 'numos', secret: 'secret-koha' });
  await fake.start({ tls: true });
  return fake;
}

/** Reads a feed until an event of this type about this request (others are skipped). */
async function nextOf(feed: Subscription, type: string, requestId: string) {
  for (;;) {
    const event = (await feed.next(20_000)).data.registrationEvents;
    if (event.type === type && event.request.id === requestId) return event;
  }
}

const requestView = async (token: string, gid: string) => (await t.gql(REQUEST, { id: gid }, { token })).data?.registrationRequest;

beforeAll(async () => {
  [koha, autoKoha] = [await fakeKoha(), await fakeKoha()];
  sip = new FakeSip2({ today: '2026-11-28' });
  await sip.start({ tls: true });
  t = await startTestApp({ resend: true, workers: true, env: connectorEnv(newSecretsKey()) });
  scene = await seedTwoLibraries(t, [
    { code: '5232001', name: 'Médiathèque de Thionville', email: 'thionville@example.org' },
    { code: '5232002', name: 'Bibliothèque de Yutz', email: 'yutz@example.org' },
  ]);
  const autoLibrary = await seedLibrary(t.app, { code: '5232003', name: 'Médiathèque de Hayange' });
  await seedStaff(t.app, { login: '5232003', password: 'mot de passe C', role: 'LIBRARY_ADMIN', libraryId: autoLibrary.id });
  auto = { id: autoLibrary.id, gid: encodeGlobalID('Library', autoLibrary.id), admin: await login(t, 'STAFF', '5232003', 'mot de passe C') };
});

afterAll(async () => {
  await t.close();
  for (const fake of [koha, autoKoha]) await fake.stop();
  await sip.stop();
});

describe('a library connects its Koha', () => {
  let beforeConnector: { id: string; gid: string };
  let checked: { id: string; gid: string };

  it('checks a person after confirmation and shows the evidence on the live feed', async () => {
    // Given a request confirmed before the library connected anything (never checked)
    const early = await registerAndConfirm(t, scene.libA.gid, { libraryCardNumber: 'AVANT-1' });
    beforeConnector = await requestOf(t, early.input.login);

    // And the library's Koha knows the next applicant by card
    const card = newCard();
    koha.add(kohaMember({ cardnumber: card, firstname: 'Mathis' }));
    await saveConnector(t, scene.adminA, kohaInput(scene.libA.gid, koha));
    const feed = await subscribeSse(t, EVENTS, {}, scene.adminA);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the subscription starts

    // When a person registers with their card and confirms
    const { input } = await registerAndConfirm(t, scene.libA.gid, { libraryCardNumber: card, firstName: 'Mathis' });
    checked = await requestOf(t, input.login);

    // Then the librarian's feed shows the check
    const event = await nextOf(feed, 'MEMBERSHIP_CHECKED', checked.gid);
    feed.close();
    expect(event.request).toMatchObject({ state: 'AWAITING_DECISION', decidedAutomatically: false, libraryCardNumber: card });
    expect(event.request.membershipCheck).toEqual({
      outcome: 'ACTIVE',
      connector: 'KOHA_REST',
      checkedAt: '2026-11-28T10:00:00.000Z',
      matchedBy: 'CARD_NUMBER',
      enrolledOrRenewedOn: '2026-03-12',
      memberUntil: '2027-03-11',
      birthDateMatches: true,
      birthYearMatches: true,
      summary: `Adhérent actif : renouvelé le 12/03/2026, valide jusqu'au 11/03/2027. Date de naissance identique. (Koha, ${CHECKED})`,
    });
    // Koha was asked by card only, exactly, with a token
    const searches = koha.received('patrons');
    expect(searches.map((r) => r.query)).toEqual([{ cardnumber: card, _match: 'exact', _page: '1', _per_page: '2' }]);
    expect(koha.received('token')).toHaveLength(1);
    // And the connector remembers the call
    const connector = await t.app.prisma.membershipConnector.findUniqueOrThrow({ where: { libraryId: scene.libA.id } });
    expect(connector).toMatchObject({ lastCallOk: true, lastError: null, consecutiveFailures: 0 });
  });

  it('filters the pending queue by the latest check', async () => {
    const ids = async (membership: string[]) =>
      (await t.gql(PENDING, { f: { membership } }, { token: scene.adminA })).data.pendingRegistrations.edges.map((e: any) => e.node.id);
    expect(await ids(['ACTIVE'])).toEqual([checked.gid]);
    expect(await ids(['NOT_CHECKED'])).toEqual([beforeConnector.gid]);
    expect((await ids(['ACTIVE', 'NOT_CHECKED'])).sort()).toEqual([checked.gid, beforeConnector.gid].sort());
    expect(await ids(['INACTIVE', 'UNAVAILABLE'])).toEqual([]);
  });

  it('shows the card number and the check to staff only', async () => {
    expect(await requestView(scene.adminA, checked.gid)).toMatchObject({
      libraryCardNumber: expect.stringMatching(/^C/),
      membershipCheck: { outcome: 'ACTIVE' },
    });
    expect(await requestView(scene.dlpb, checked.gid)).toMatchObject({ libraryCardNumber: expect.stringMatching(/^C/) });
    const other = await t.gql(REQUEST, { id: checked.gid }, { token: scene.adminB });
    expect(other.data?.registrationRequest ?? null).toBeNull();

    // The person sees their request, but neither the card number kept nor what the library's system holds
    const person = await t.app.prisma.patron.findFirstOrThrow({ where: { firstName: 'Mathis' } });
    const patron = await login(t, 'PATRON', person.login, 'un mot de passe solide');
    const own = await t.gql(OWN_REQUESTS, {}, { token: patron });
    expect(own.data.viewer.requests).toEqual([{ libraryCardNumber: null, membershipCheck: null }]);
  });

  it('counts the checks in the statistics', async () => {
    const { data } = await t.gql(STATS, { f: { from: '2026-11-01', to: '2026-11-30', libraryId: scene.libA.gid } }, { token: scene.adminA });
    expect(data.stats.registrations).toEqual({ acceptedAutomatically: 0, membershipChecks: [{ outcome: 'ACTIVE', count: 1 }] });
  });
});

describe('acceptance on the library’s behalf', () => {
  beforeAll(async () => {
    await saveConnector(t, auto.admin, kohaInput(auto.gid, autoKoha, { autoAccept: true }));
  });

  it('accepts a member found by card whose birth date matches: the person is told, nobody decided', async () => {
    // Given a member of the library's Koha, and the librarian watching
    const card = newCard();
    autoKoha.add(kohaMember({ cardnumber: card }));
    const feed = await subscribeSse(t, EVENTS, {}, auto.admin);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // When they register with their card and confirm
    const { input } = await registerAndConfirm(t, auto.gid, { libraryCardNumber: card });
    const request = await requestOf(t, input.login);

    // Then they receive the acceptance, with nobody deciding
    const accepted = await waitForEmail(t, input.email, ACCEPTED_SUBJECT);
    expect(accepted.from).toContain('MÉDIATHÈQUE DE HAYANGE');
    const decided = await nextOf(feed, 'DECIDED', request.gid);
    feed.close();
    expect(decided.request).toMatchObject({ state: 'ACCEPTED', decidedAutomatically: true, membershipCheck: { outcome: 'ACTIVE', matchedBy: 'CARD_NUMBER' } });
    expect(await requestView(auto.admin, request.gid)).toMatchObject({
      state: 'ACCEPTED',
      decision: 'ACCEPT',
      decidedAutomatically: true,
      decidedBy: null,
    });
    const audit = await t.app.prisma.auditLog.findMany({ where: { action: 'AUTO_ACCEPT', subjectId: request.id } });
    expect(audit).toEqual([expect.objectContaining({ actorId: null, libraryId: auto.id })]);
    expect((await t.app.prisma.patron.findFirstOrThrow({ where: { loginKey: input.login } })).status).toBe('ACTIVE');
  });

  it('accepts a member found by e-mail', async () => {
    const email = 'par.courriel@example.org';
    autoKoha.add(kohaMember({ email }));
    const { request } = await confirmAndCheck(t, auto.gid, { email });
    await expect.poll(async () => (await requestView(auto.admin, request.gid)).state, { timeout: 10_000 }).toBe('ACCEPTED');
    expect((await requestView(auto.admin, request.gid)).membershipCheck.matchedBy).toBe('EMAIL');
  });

  it('leaves to a person: found by name only, a different birth date, an inactive member, someone unknown', async () => {
    // Given four applicants the library's Koha does not vouch for entirely
    const [differentBirth, inactive] = [newCard(), newCard()];
    autoKoha.add(
      kohaMember({ surname: 'Schmitt', firstname: 'Nominal', date_of_birth: '1990-07-14' }),
      kohaMember({ cardnumber: differentBirth, date_of_birth: '1991-07-14' }),
      kohaMember({ cardnumber: inactive, date_renewed: '2025-11-27', expiry_date: '2026-11-26' }),
    );
    const cases = [
      { overrides: { lastName: 'Schmitt', firstName: 'Nominal' }, outcome: 'ACTIVE', matchedBy: 'NAME_AND_BIRTH_DATE' },
      { overrides: { libraryCardNumber: differentBirth }, outcome: 'ACTIVE', matchedBy: 'CARD_NUMBER', birthDateMatches: false },
      { overrides: { libraryCardNumber: inactive }, outcome: 'INACTIVE', matchedBy: 'CARD_NUMBER' },
      { overrides: { libraryCardNumber: 'INCONNU-1' }, outcome: 'NOT_FOUND', matchedBy: null },
    ];
    for (const { overrides, ...expected } of cases) {
      // When they confirm
      const { request, check } = await confirmAndCheck(t, auto.gid, overrides);

      // Then the check says so, and the request waits for a librarian (never a refusal)
      expect(check).toMatchObject(expected);
      await checksSettled(t);
      const view = await requestView(auto.admin, request.gid);
      expect(view, JSON.stringify(overrides)).toMatchObject({ state: 'AWAITING_DECISION', decision: null, decidedAutomatically: false });
    }
    expect(await t.app.prisma.registrationRequest.count({ where: { libraryId: auto.id, decision: 'REFUSE' } })).toBe(0);
  });

  it('leaves to a person when no licence is left', async () => {
    // Given every licence in use
    const pool = (await t.gql(`{ licencePool { used capacity } }`, {}, { token: scene.dlpb })).data.licencePool;
    expect((await t.gql(SET_CAPACITY, { c: pool.used }, { token: scene.dlpb })).data.setLicenceCapacity.errors).toEqual([]);
    const card = newCard();
    autoKoha.add(kohaMember({ cardnumber: card }));

    // When a matching member confirms
    const { input, request, check } = await confirmAndCheck(t, auto.gid, { libraryCardNumber: card });

    // Then the check is ACTIVE, but the request waits, and the person got no acceptance
    expect(check).toMatchObject({ outcome: 'ACTIVE', matchedBy: 'CARD_NUMBER', birthDateMatches: true });
    await checksSettled(t);
    await allDelivered(t);
    expect((await requestView(auto.admin, request.gid)).state).toBe('AWAITING_DECISION');
    expect(t.resend!.to(input.email).map((e) => e.subject)).not.toContain(ACCEPTED_SUBJECT);
    await t.gql(SET_CAPACITY, { c: pool.capacity }, { token: scene.dlpb });
  });

  it('counts the automatic acceptances', async () => {
    const { data } = await t.gql(STATS, { f: { from: '2026-11-01', to: '2026-11-30', libraryId: auto.gid } }, { token: auto.admin });
    expect(data.stats.registrations.acceptedAutomatically).toBe(2);
    expect(data.stats.registrations.membershipChecks).toEqual([
      { outcome: 'ACTIVE', count: 5 },
      { outcome: 'INACTIVE', count: 1 },
      { outcome: 'NOT_FOUND', count: 1 },
    ]);
  });
});

describe('a library connects its SIP2 server over TLS', () => {
  beforeAll(async () => {
    sip.accounts = [{ username: 'numos', password: 'secret-sip', institution: 'MED57' }];
    sip.patrons['SIP-0001'] = { name: 'Léa Weber', birthDate: '1990-07-14', expiresOn: '2027-06-30' };
    await saveConnector(t, scene.adminB, sip2Input(scene.libB.gid, sip.endpoint));
  });

  it('finds a person by card, reads PB and the expiry field (DE)', async () => {
    const { request, check } = await confirmAndCheck(t, scene.libB.gid, { libraryCardNumber: 'SIP-0001' });
    expect(check).toMatchObject({ outcome: 'ACTIVE', connector: 'SIP2', matchedBy: 'CARD_NUMBER', birthDateMatches: true, birthYearMatches: true });
    const view = await requestView(scene.adminB, request.gid);
    expect(view.membershipCheck).toMatchObject({ enrolledOrRenewedOn: null, memberUntil: '2027-06-30' });
    expect(view.membershipCheck.summary).toBe(`Adhérent actif : valide jusqu'au 30/06/2027. Date de naissance identique. (SIP2, ${CHECKED})`);
    // One connection: login then patron information, the card in AA, the institution in AO
    expect(sip.received.map((m) => m.code)).toEqual(['93', '63']);
    expect(sip.received[1]!.raw).toContain('AOMED57|AASIP-0001|');
    await sip.idle();
  });

  it('cannot search without a card number: NOT_FOUND, saying why', async () => {
    const connections = sip.connections;
    const { check } = await confirmAndCheck(t, scene.libB.gid);
    expect(check).toMatchObject({ outcome: 'NOT_FOUND', matchedBy: null });
    expect(check.summary).toBe(`Sans numéro de carte, SIP2 ne permet pas de rechercher un adhérent : vérification à faire à la main. (SIP2, ${CHECKED})`);
    expect(sip.connections).toBe(connections);
  });
});

describe('checking again', () => {
  it("lets the library's staff check again: a new check, the request's latest", async () => {
    // Given a member whose renewal Koha did not have yet
    const card = newCard();
    const [record] = koha.add(kohaMember({ cardnumber: card, date_renewed: '2025-06-01', expiry_date: '2026-05-31' }));
    const { request, check } = await confirmAndCheck(t, scene.libA.gid, { libraryCardNumber: card });
    expect(check.outcome).toBe('INACTIVE');

    // When the library renews them in Koha, and the librarian checks again a minute later
    record!.date_renewed = '2026-11-28';
    record!.expiry_date = '2027-11-27';
    t.clock.advance(60_000);
    const { data } = await t.gql(RECHECK, { requestId: request.gid }, { token: scene.adminA });

    // Then the request shows the new check, and both are kept
    expect(data.recheckMembership.errors).toEqual([]);
    expect(data.recheckMembership.request.membershipCheck).toMatchObject({
      outcome: 'ACTIVE',
      checkedAt: '2026-11-28T10:01:00.000Z',
      enrolledOrRenewedOn: '2026-11-28',
    });
    expect((await requestView(scene.adminA, request.gid)).membershipCheck.outcome).toBe('ACTIVE');
    expect(await t.app.prisma.membershipCheck.count({ where: { requestId: request.id } })).toBe(2);
    const queue = await t.gql(PENDING, { f: { membership: ['ACTIVE'] } }, { token: scene.adminA });
    expect(queue.data.pendingRegistrations.edges.map((e: any) => e.node.id)).toContain(request.gid);
  });

  it("refuses another library's staff and patrons", async () => {
    const { input, request } = await confirmAndCheck(t, scene.libA.gid, { libraryCardNumber: newCard() });
    const checks = await t.app.prisma.membershipCheck.count({ where: { requestId: request.id } });
    expect((await t.gql(RECHECK, { requestId: request.gid }, { token: scene.adminB })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const patron = await login(t, 'PATRON', input.login, input.password);
    expect((await t.gql(RECHECK, { requestId: request.gid }, { token: patron })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.app.prisma.membershipCheck.count({ where: { requestId: request.id } })).toBe(checks);
  });
});

describe('the person’s data', () => {
  it('exports the checks, and erases them with the person (the outcome stays, anonymous)', async () => {
    // Given a checked person with a distinctive name, card and membership dates
    const card = 'EFFACE-4242';
    koha.add(kohaMember({ cardnumber: card, date_renewed: '2026-05-17', expiry_date: '2027-05-16' }));
    const { input, request, check } = await confirmAndCheck(t, scene.libA.gid, {
      libraryCardNumber: card,
      lastName: 'Zorglubinsky',
      firstName: 'Philomène',
      email: 'philomene.z@example.org',
    });
    const summary = check.summary;
    expect(summary).toContain('renouvelé le 17/05/2026');
    const patron = await login(t, 'PATRON', input.login, input.password);

    // When they export their data
    const exported = JSON.parse((await t.gql(`{ personalDataExport }`, {}, { token: patron })).data.personalDataExport);

    // Then the check is in it, with the card number
    expect(exported.requests).toEqual([
      expect.objectContaining({
        libraryCardNumber: card,
        membershipChecks: [expect.objectContaining({ system: 'KOHA_REST', outcome: 'ACTIVE', matchedBy: 'CARD_NUMBER', summary })],
      }),
    ]);

    // When they delete their account
    const deleted = await t.gql(DELETE, { password: input.password }, { token: patron });
    expect(deleted.data.deleteMyAccount).toEqual({ ok: true, errors: [] });
    await allDelivered(t);
    await expect.poll(() => t.app.prisma.emailOutbox.count({ where: { forget: true } }), { timeout: 10_000 }).toBe(0);

    // Then nothing of them is left: card, summary, names, address
    const dump = await dumpEverything(t);
    expect(dump).toContain('5232001'); // the scan reads real rows
    for (const trace of [card, summary, 'zorglubinsky', 'philomène', 'philomene.z']) expect(dump).not.toContain(trace.toLowerCase());
    // But the check's outcome stays for the statistics
    const kept = await t.app.prisma.membershipCheck.findUniqueOrThrow({ where: { eventKey: `confirmation:${request.id}` } });
    expect(kept).toMatchObject({ outcome: 'ACTIVE', libraryId: scene.libA.id, matchedBy: null, summary: '', memberUntil: null, birthDateMatches: null });
  });
});

describe('a renewal', () => {
  it('is checked too, by the card number given at registration, and accepted on the library’s behalf', async () => {
    // Given a member accepted automatically
    const card = newCard();
    const [record] = autoKoha.add(kohaMember({ cardnumber: card }));
    const { input } = await registerAndConfirm(t, auto.gid, { libraryCardNumber: card });
    await waitForEmail(t, input.email, ACCEPTED_SUBJECT);
    const patron = await t.app.prisma.patron.findFirstOrThrow({ where: { loginKey: input.login } });

    // When, ten days before the end of their access, having renewed at the library, they ask to renew
    t.clock.set(new Date(patron.activeUntil!.getTime() - 10 * 86_400_000));
    const today = t.clock.now().toISOString().slice(0, 10);
    record!.date_renewed = today;
    record!.expiry_date = `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`;
    const session = await login(t, 'PATRON', input.login, input.password);
    const { data } = await t.gql(`mutation { requestRenewal(input: {}) { request { id kind } errors { code message } } }`, {}, { token: session });
    expect(data.requestRenewal.errors).toEqual([]);

    // Then the renewal is checked (its own event), found by the card of the first request, and accepted
    const renewal = await t.app.prisma.registrationRequest.findFirstOrThrow({ where: { patronId: patron.id, kind: 'RENEWAL' } });
    await expect.poll(() => t.app.prisma.membershipCheck.count({ where: { eventKey: `renewal:${renewal.id}` } }), { timeout: 20_000 }).toBe(1);
    await expect
      .poll(async () => (await t.app.prisma.registrationRequest.findUniqueOrThrow({ where: { id: renewal.id } })).state, { timeout: 10_000 })
      .toBe('ACCEPTED');
    const check = await t.app.prisma.membershipCheck.findUniqueOrThrow({ where: { eventKey: `renewal:${renewal.id}` } });
    expect(check).toMatchObject({ outcome: 'ACTIVE', matchedBy: 'CARD_NUMBER', birthDateMatches: true });
    expect(await t.app.prisma.registrationRequest.findUniqueOrThrow({ where: { id: renewal.id } })).toMatchObject({
      decidedAutomatically: true,
      decidedById: null,
    });
  });
});
