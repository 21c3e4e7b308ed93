// When a library's system fails: slow, down, garbage, a 1 GiB answer, a reset connection, a token
// expired mid-way (Koha); a wrong checksum, silence, a reset (SIP2). Each check is UNAVAILABLE with a
// clear `lastError`, the request waits for a librarian and escalates as before, nothing hangs, and
// another library's checks go on. After 5 failed checks in a row, calls pause for 15 minutes and the
// library and the DLPB are told once per outage.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalateOverdueRequests } from '../../../src/modules/decisions/jobs.js';
import { FakeKoha } from '../../support/fake-koha.js';
import { FakeSip2 } from '../../support/fake-sip2.js';
import { login, seedLibrary, seedStaff, seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries } from '../../support/harness.js';
import { allDelivered } from '../../support/patrons.js';
import { confirmAndCheck, connectorEnv, connectorOf, kohaInput, kohaMember, newCard, newSecretsKey, REQUEST, saveConnector, sip2Input } from './scene.js';

const PAUSED_SUBJECT = /ne répond plus aux vérifications d'adhésion/;
// The limit on a call to a library's system: a slow server's 3 s is well past it, and a healthy
// fake's answer well within it even on a busy machine (at 0.3 s, a healthy answer once ran out of
// time under CI's load: a second try, and a count of calls one test asserts, went up).
const TIMEOUT_MS = 1_500;
/** The limit as the messages write it ("1,5 s"). */
const LIMIT = `${(TIMEOUT_MS / 1_000).toLocaleString('fr-FR')} s`;

let t: TestApp;
let scene: TwoLibraries;
/** Library A's Koha, made to fail; library B's, healthy; library C's SIP2 server, made to fail. */
let failing: FakeKoha;
let healthy: FakeKoha;
let sip: FakeSip2;
let libC: { id: string; gid: string; admin: string };
/** Requests whose check failed, to escalate at the end. */
const failed: { gid: string; library: 'A' | 'C' }[] = [];

async function fakeKoha(): Promise<FakeKoha> {
  const fake = new FakeKoha();
  fake.oauthClients.push({ id: 'numos', secret: 'secret-koha' });
  await fake.start({ tls: true });
  return fake;
}

/** A person of library A known to its Koha by card: a check succeeds when Koha answers. */
function memberOfA(): string {
  const card = newCard();
  failing.add(kohaMember({ cardnumber: card }));
  return card;
}

/** Confirms a person of a library, waits for the check, and says what the request and the connector show. */
async function checkOn(library: 'A' | 'C', overrides: Record<string, unknown> = {}) {
  const gid = library === 'A' ? scene.libA.gid : libC.gid;
  const token = library === 'A' ? scene.adminA : libC.admin;
  const { request, check } = await confirmAndCheck(t, gid, overrides, 30_000);
  const view = (await t.gql(REQUEST, { id: request.gid }, { token })).data.registrationRequest;
  const connector = await connectorOf(t, token, gid);
  if (check.outcome === 'UNAVAILABLE') failed.push({ gid: request.gid, library });
  return { request, check, view, connector };
}

/** A failed check as the librarian sees it: UNAVAILABLE, the request waiting, the reason on the connector. */
function expectUnavailable(result: Awaited<ReturnType<typeof checkOn>>, lastError: string | RegExp) {
  expect(result.check.outcome).toBe('UNAVAILABLE');
  expect(result.view).toMatchObject({ state: 'AWAITING_DECISION', decision: null, membershipCheck: { outcome: 'UNAVAILABLE', matchedBy: null } });
  expect(result.view.membershipCheck.summary).toMatch(/^Système de la bibliothèque injoignable : .+ La bibliothèque vérifie à la main\./);
  expect(result.connector.lastCallOk).toBe(false);
  if (typeof lastError === 'string') expect(result.connector.lastError).toBe(lastError);
  else expect(result.connector.lastError).toMatch(lastError);
}

const pausedEmails = () => t.resend!.sent.filter((e) => PAUSED_SUBJECT.test(e.subject));

beforeAll(async () => {
  [failing, healthy] = [await fakeKoha(), await fakeKoha()];
  sip = new FakeSip2({ today: '2026-11-28' });
  await sip.start({ tls: true });
  t = await startTestApp({ resend: true, workers: true, env: connectorEnv(newSecretsKey(), { NUMOS_CONNECTOR_TIMEOUT_MS: String(TIMEOUT_MS) }) });
  scene = await seedTwoLibraries(t, [
    { code: '5233001', name: 'Médiathèque de Boulay', email: 'boulay@example.org' },
    { code: '5233002', name: 'Bibliothèque de Creutzwald', email: 'creutzwald@example.org' },
  ]);
  const c = await seedLibrary(t.app, { code: '5233003', name: 'Médiathèque de Bitche', email: 'bitche@example.org' });
  await seedStaff(t.app, { login: '5233003', password: 'mot de passe C', role: 'LIBRARY_ADMIN', libraryId: c.id });
  libC = { id: c.id, gid: encodeGlobalID('Library', c.id), admin: await login(t, 'STAFF', '5233003', 'mot de passe C') };
  await saveConnector(t, scene.adminA, kohaInput(scene.libA.gid, failing));
  await saveConnector(t, scene.adminB, kohaInput(scene.libB.gid, healthy));
  await saveConnector(t, libC.admin, sip2Input(libC.gid, sip.endpoint));
});

afterAll(async () => {
  await t.close();
  for (const fake of [failing, healthy]) await fake.stop();
  await sip.stop();
});

describe('Koha', () => {
  it('renews a token Koha dropped mid-way, once, and the check succeeds', async () => {
    // Given a first check that got a token
    expect((await checkOn('A', { libraryCardNumber: memberOfA() })).check.outcome).toBe('ACTIVE');

    // When Koha forgets its tokens
    failing.expireTokens();
    const result = await checkOn('A', { libraryCardNumber: memberOfA() });

    // Then the next check is refused once (401), takes a new token, and succeeds
    expect(result.check.outcome).toBe('ACTIVE');
    expect(failing.received('token')).toHaveLength(2);
    expect(failing.received('patrons').map((r) => r.status)).toEqual([200, 401, 200]);
    expect(result.connector).toMatchObject({ lastCallOk: true, lastError: null, pausedUntil: null });
  });

  it('is UNAVAILABLE when Koha is too slow, and another library’s checks go on meanwhile', async () => {
    // Given library A's Koha answering after 3 s (the limit is TIMEOUT_MS)
    failing.fail({ delayMs: 3_000 });

    // When a person of A and a person of B confirm at the same time
    const [slow, other] = await Promise.all([
      checkOn('A', { libraryCardNumber: memberOfA() }),
      (async () => {
        const card = newCard();
        healthy.add(kohaMember({ cardnumber: card }));
        return confirmAndCheck(t, scene.libB.gid, { libraryCardNumber: card }, 30_000);
      })(),
    ]);

    // Then A's check failed for the time limit, B's was made
    expectUnavailable(slow, `Le serveur Koha n'a pas répondu à temps (délai de ${LIMIT} dépassé).`);
    expect(other.check.outcome).toBe('ACTIVE');
  });

  it('is UNAVAILABLE when Koha is down', async () => {
    failing.heal();
    await failing.down();
    expectUnavailable(await checkOn('A', { libraryCardNumber: memberOfA() }), 'Le serveur Koha refuse la connexion (service arrêté ou port fermé).');
    await failing.up();
  });

  it('is UNAVAILABLE when Koha answers garbage', async () => {
    failing.fail({ garbage: true });
    expectUnavailable(await checkOn('A', { libraryCardNumber: memberOfA() }), 'Le serveur Koha a envoyé une réponse illisible (JSON attendu).');
  });

  it('is UNAVAILABLE when Koha answers 1 GiB, read no further than the limit', async () => {
    failing.fail({ on: 'patrons', huge: true });
    expectUnavailable(await checkOn('A', { libraryCardNumber: memberOfA() }), /^La réponse du serveur Koha dépasse la taille admise \(1024 Kio\)/);
    expect(failing.bytesStreamed).toBeLessThan(64 * 1024 * 1024);
  });

  it('is UNAVAILABLE when Koha resets the connection; that fifth failure in a row pauses the calls and tells the library once', async () => {
    // When the fifth check in a row fails
    failing.fail({ reset: true });
    const fifth = await checkOn('A', { libraryCardNumber: memberOfA() });

    // Then the calls pause for 15 minutes (on the application's clock)
    expectUnavailable(fifth, 'La connexion au serveur Koha a été interrompue.');
    expect(fifth.connector.pausedUntil).toBe(new Date(t.clock.now().getTime() + 15 * 60_000).toISOString());

    // And the library is told once, with the DLPB in copy
    await allDelivered(t);
    expect(pausedEmails()).toHaveLength(1);
    const [email] = pausedEmails();
    expect(email).toMatchObject({ to: ['boulay@example.org'], cc: [t.app.config.dlpbEmail] });
    expect(email!.subject).toBe("NuMos : le système de Médiathèque de Boulay ne répond plus aux vérifications d'adhésion");
    expect(email!.text).toContain('Les 5 dernières vérifications');
    expect(email!.text).toContain('La connexion au serveur Koha a été interrompue.');
  });

  it('does not call Koha while paused: checks are UNAVAILABLE at once, nobody is told again', async () => {
    failing.heal();
    const calls = failing.requests.length;
    const paused = await checkOn('A', { libraryCardNumber: memberOfA() });
    expect(paused.check.outcome).toBe('UNAVAILABLE');
    expect(paused.check.summary).toMatch(/appels suspendus jusqu'au .+ après 5 échecs de suite/);
    expect(failing.requests.length).toBe(calls);
    await allDelivered(t);
    expect(pausedEmails()).toHaveLength(1);
  });

  it('calls again once the pause is over; after a success, the next outage is announced again', async () => {
    // When the pause is over and Koha answers
    t.clock.advance(16 * 60_000);
    const back = await checkOn('A', { libraryCardNumber: memberOfA() });
    expect(back.check.outcome).toBe('ACTIVE');
    expect(back.connector).toMatchObject({ lastCallOk: true, pausedUntil: null });

    // And Koha goes down again for five checks
    await failing.down();
    for (let i = 0; i < 5; i++) await checkOn('A', { libraryCardNumber: memberOfA() });
    await failing.up();

    // Then a second outage, a second e-mail
    await allDelivered(t);
    expect(pausedEmails()).toHaveLength(2);
    expect((await connectorOf(t, scene.adminA, scene.libA.gid)).pausedUntil).not.toBeNull();
    expect(await failing.openConnections()).toBe(0);
  });
});

describe('SIP2', () => {
  beforeAll(() => {
    sip.patrons['SIP-FAIL'] = { name: 'Lucas Meyer', birthDate: '1990-07-14', expiresOn: '2027-06-30' };
  });

  it('is UNAVAILABLE on a wrong checksum', async () => {
    sip.failures = { wrongChecksum: true };
    expectUnavailable(await checkOn('C', { libraryCardNumber: 'SIP-FAIL' }), 'Réponse SIP2 altérée (somme de contrôle) : un nouvel essai peut réussir.');
    await sip.idle();
  });

  it('is UNAVAILABLE when the server says nothing', async () => {
    sip.failures = { silent: true };
    expectUnavailable(await checkOn('C', { libraryCardNumber: 'SIP-FAIL' }), `Le serveur SIP2 (${sip.endpoint}) n'a pas répondu dans le délai de ${LIMIT}.`);
    await sip.idle();
  });

  it('is UNAVAILABLE when the server resets the connection', async () => {
    sip.failures = { reset: true };
    expectUnavailable(await checkOn('C', { libraryCardNumber: 'SIP-FAIL' }), /^Le serveur SIP2 \(127\.0\.0\.1:\d+\) a (coupé|fermé) la connexion/);
    await sip.idle();
  });

  it('works again when the server does, with three failures forgotten', async () => {
    sip.failures = {};
    const { check, connector } = await checkOn('C', { libraryCardNumber: 'SIP-FAIL' });
    expect(check.outcome).toBe('ACTIVE');
    expect(connector).toMatchObject({ lastCallOk: true, pausedUntil: null });
    expect(await t.app.prisma.membershipConnector.findUniqueOrThrow({ where: { libraryId: libC.id } })).toMatchObject({ consecutiveFailures: 0 });
  });
});

describe('the manual path', () => {
  it('escalates the requests whose check failed after 5 days, as any other', async () => {
    // Given the requests whose check failed, still waiting
    expect(failed.length).toBeGreaterThanOrEqual(12);

    // When 5 days pass and the escalation job runs
    t.clock.advance(5 * 86_400_000 + 60_000);
    await escalateOverdueRequests(t.app, t.clock.now());

    // Then each is escalated to the DLPB, still waiting for a decision
    const dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
    for (const { gid } of failed) {
      const view = (await t.gql(REQUEST, { id: gid }, { token: dlpb })).data.registrationRequest;
      expect(view).toMatchObject({ state: 'AWAITING_DECISION', escalated: true, membershipCheck: { outcome: 'UNAVAILABLE' } });
    }
  });
});

describe('whatever failed', () => {
  it('stored one check per confirmation, and left no connection open', async () => {
    const { rows } = await t.app.pool.query(
      `SELECT request_id FROM membership_check WHERE event_key LIKE 'confirmation:%' GROUP BY request_id HAVING count(*) <> 1`,
    );
    expect(rows).toEqual([]);
    expect(await failing.openConnections()).toBe(0);
    expect(sip.open).toBe(0);
  });
});
