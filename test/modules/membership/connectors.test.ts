// A library's connector to its own system, through GraphQL: who may save, see, test and remove it;
// its secret sealed at rest, never shown nor audited, readable across a change of key; and the
// settings an operator did not allow (plain HTTP/TCP, loopback, private and link-local addresses),
// refused when saved and again at each call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKoha } from '../../support/fake-koha.js';
import { FakeSip2 } from '../../support/fake-sip2.js';
import { login, seedTwoLibraries, startTestApp, type TestApp, type TwoLibraries } from '../../support/harness.js';
import {
  CA_FILE,
  CONNECTOR,
  confirmAndCheck,
  connectorEnv,
  connectorOf,
  kohaInput,
  kohaMember,
  newSecretsKey,
  RECHECK,
  REMOVE,
  SAVE,
  sip2Input,
  storedConnector,
  TEST,
} from './scene.js';

const KOHA_SECRET = 'Cl13nt-Secret-Koha-Connecteurs';
const BASIC_PASSWORD = 'M0t-De-Passe-Basic-Connecteurs';
const SIP_PASSWORD = 'M0t-De-Passe-SIP-Connecteurs';
const SECRETS = [KOHA_SECRET, BASIC_PASSWORD, SIP_PASSWORD];

const keyA = newSecretsKey();
const keyB = newSecretsKey();

let t: TestApp;
let scene: TwoLibraries;
let koha: FakeKoha;
let sip: FakeSip2;
/** Every GraphQL answer of this file, for the final scan for secrets. */
const answers: string[] = [];
/** Instances started by a test, closed at the end. */
const others: TestApp[] = [];

/** Another instance on the same database, with its own environment. */
async function instance(env: Record<string, string>): Promise<TestApp> {
  const other = await startTestApp({ database: t.database, env });
  others.push(other);
  return other;
}

async function gql(app: TestApp, query: string, variables: Record<string, unknown>, token?: string) {
  const answer = await app.gql(query, variables, { token });
  answers.push(JSON.stringify(answer));
  return answer;
}

const save = async (app: TestApp, token: string, input: Record<string, unknown>) => (await gql(app, SAVE, { input }, token)).data?.saveMembershipConnector;

beforeAll(async () => {
  koha = new FakeKoha();
  koha.oauthClients.push({ id: 'numos', secret: KOHA_SECRET });
  koha.basicUsers.push({ id: 'numos-basic', secret: BASIC_PASSWORD });
  koha.add(
    kohaMember({ cardnumber: 'K-1001', firstname: 'Alice', email: 'alice@example.org' }),
    kohaMember({ cardnumber: 'K-1002', firstname: 'Bruno', surname: 'Klein', email: 'bruno@example.org', date_of_birth: '1985-02-01' }),
  );
  await koha.start({ tls: true });
  sip = new FakeSip2({
    accounts: [{ username: 'numos', password: SIP_PASSWORD, institution: 'MED57' }],
    patrons: { 'S-2001': { name: 'Chloé Weber', birthDate: '1990-07-14', expiresOn: '2027-06-30' } },
    today: '2026-11-28',
  });
  await sip.start({ tls: true });
  t = await startTestApp({ resend: true, workers: true, env: connectorEnv(keyA) });
  scene = await seedTwoLibraries(t, [
    { code: '5231001', name: 'Médiathèque de Sarreguemines' },
    { code: '5231002', name: 'Bibliothèque de Forbach' },
  ]);
});

afterAll(async () => {
  for (const other of others) await other.close();
  await t.close();
  await koha.stop();
  await sip.stop();
});

describe('saving a connector', () => {
  it("takes Koha with OAuth2 from the library's admin: settings shown, the secret never", async () => {
    // Given the library's own admin
    // When they connect their Koha with an OAuth2 client
    const saved = await save(t, scene.adminA, kohaInput(scene.libA.gid, koha, { secret: KOHA_SECRET, rule: 'NOT_EXPIRED' }));

    // Then the settings are kept, the secret is said to be there, and nothing calls Koha yet
    expect(saved.errors).toEqual([]);
    expect(saved.connector).toMatchObject({
      kind: 'KOHA_REST',
      enabled: true,
      rule: 'NOT_EXPIRED',
      autoAccept: false,
      endpoint: koha.url,
      tls: true,
      username: 'numos',
      kohaAuthentication: 'OAUTH2',
      institutionId: null,
      secretConfigured: true,
      lastCallAt: null,
      lastError: null,
      pausedUntil: null,
    });
    expect(koha.requests).toHaveLength(0);

    // And the row holds the secret sealed (AES-256-GCM), not in clear
    const row = await storedConnector(t, scene.libA.id);
    expect(row.secretSealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(row.secretSealed).not.toContain(KOHA_SECRET);
    expect(Buffer.from(row.secretSealed!.split('.').at(-1)!, 'base64url').toString('utf8')).not.toContain(KOHA_SECRET);
  });

  it('takes Koha with Basic, and SIP2, from the DLPB on the library’s behalf; the secret omitted is kept', async () => {
    // When the DLPB switches library B to Basic, then to SIP2
    const basic = await save(
      t,
      scene.dlpb,
      kohaInput(scene.libB.gid, koha, { kohaAuthentication: 'BASIC', username: 'numos-basic', secret: BASIC_PASSWORD, autoAccept: true }),
    );
    expect(basic).toMatchObject({
      errors: [],
      connector: { kohaAuthentication: 'BASIC', username: 'numos-basic', secretConfigured: true, autoAccept: true, rule: 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR' },
    });
    const sealedBasic = (await storedConnector(t, scene.libB.id)).secretSealed;

    const sip2 = await save(t, scene.dlpb, sip2Input(scene.libB.gid, sip.endpoint, { secret: SIP_PASSWORD, locationCode: 'SALLE1', expiryField: 'de' }));
    expect(sip2.connector).toMatchObject({
      kind: 'SIP2',
      endpoint: sip.endpoint,
      tls: true,
      username: 'numos',
      institutionId: 'MED57',
      locationCode: 'SALLE1',
      expiryField: 'DE',
      secretConfigured: true,
    });
    const sealedSip = (await storedConnector(t, scene.libB.id)).secretSealed;
    expect(sealedSip).not.toBe(sealedBasic);

    // And saving again without a secret keeps the stored one
    const again = await save(t, scene.adminB, sip2Input(scene.libB.gid, sip.endpoint, { secret: undefined, locationCode: 'SALLE2' }));
    expect(again.connector).toMatchObject({ locationCode: 'SALLE2', secretConfigured: true });
    expect((await storedConnector(t, scene.libB.id)).secretSealed).toBe(sealedSip);
  });

  it("refuses another library's admin, patrons and visitors", async () => {
    const forbidden = await gql(t, SAVE, { input: kohaInput(scene.libA.gid, koha, { secret: 'autre' }) }, scene.adminB);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await gql(t, SAVE, { input: kohaInput(scene.libA.gid, koha, { secret: 'autre' }) });
    expect(anonymous.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    const removal = await gql(t, REMOVE, { libraryId: scene.libA.gid }, scene.adminB);
    expect(removal.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const test = await gql(t, TEST, { input: { libraryId: scene.libA.gid, cardNumber: 'K-1001' } }, scene.adminB);
    expect(test.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Nothing changed
    expect((await storedConnector(t, scene.libA.id)).username).toBe('numos');
  });

  it('shows Library.membershipConnector to that library’s staff and the DLPB only', async () => {
    // (its check is waited for: nothing runs behind the next tests' backs)
    const { input } = await confirmAndCheck(t, scene.libA.gid);
    const patron = await login(t, 'PATRON', input.login, input.password);

    expect((await connectorOf(t, scene.adminA, scene.libA.gid)).kind).toBe('KOHA_REST');
    expect((await connectorOf(t, scene.dlpb, scene.libA.gid)).kind).toBe('KOHA_REST');
    for (const token of [scene.adminB, patron, undefined]) {
      const answer = await gql(t, CONNECTOR, { id: scene.libA.gid }, token);
      expect(answer.errors).toBeUndefined();
      expect(answer.data.node?.membershipConnector ?? null).toBeNull();
    }
  });

  it('says what is wrong in French, on the field at fault', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [kohaInput(scene.libA.gid, koha, { endpoint: 'pas une adresse', secret: KOHA_SECRET }), 'endpoint'],
      [kohaInput(scene.libA.gid, koha, { endpoint: `https://numos:motdepasse@127.0.0.1:${koha.port}/api/v1`, secret: KOHA_SECRET }), 'endpoint'],
      [kohaInput(scene.libA.gid, koha, { username: ' ', secret: KOHA_SECRET }), 'username'],
      [kohaInput(scene.libA.gid, koha, { secret: '' }), 'secret'],
      [sip2Input(scene.libA.gid, 'sans-port', { secret: SIP_PASSWORD }), 'endpoint'],
      [sip2Input(scene.libA.gid, sip.endpoint, { institutionId: null, secret: SIP_PASSWORD }), 'institutionId'],
      [sip2Input(scene.libA.gid, sip.endpoint, { expiryField: '#!', secret: SIP_PASSWORD }), 'expiryField'],
    ];
    for (const [input, field] of cases) {
      const answer = await save(t, scene.adminA, input);
      expect(answer.errors, JSON.stringify(input)).toEqual([expect.objectContaining({ code: 'INVALID_CONNECTOR', field })]);
      expect(answer.errors[0].message).toMatch(/[À-ÿ’']/);
    }
    // The connector in force did not change
    expect((await storedConnector(t, scene.libA.id)).kind).toBe('KOHA_REST');
  });

  it('refuses a secret when the operator set no NUMOS_SECRETS_KEY', async () => {
    // Given an instance without a key
    const keyless = await instance(connectorEnv(undefined));
    const dlpb = await login(keyless, 'STAFF', 'dlpb', 'mot de passe DLPB');

    // When a secret is sent
    const answer = await save(keyless, dlpb, kohaInput(scene.libA.gid, koha, { secret: 'un-secret-sans-cle' }));

    // Then it is INVALID_CONNECTOR on `secret`, and the connector in force is untouched
    expect(answer.errors).toEqual([
      { code: 'INVALID_CONNECTOR', field: 'secret', message: "Aucun secret ne peut être enregistré : l'exploitant n'a pas configuré NUMOS_SECRETS_KEY." },
    ]);
    expect((await storedConnector(t, scene.libA.id)).secretSealed).not.toBeNull();
  });
});

describe('testing a connector', () => {
  it('finds a person by card, by e-mail, by names and birth date, and stores nothing', async () => {
    // Given library A's Koha, never called by a check yet
    const checksBefore = await t.app.prisma.membershipCheck.count();
    const before = await storedConnector(t, scene.libA.id);

    // When its admin tries the three ways of finding someone
    const test = async (input: Record<string, unknown>) => {
      const answer = await gql(t, TEST, { input: { libraryId: scene.libA.gid, ...input } }, scene.adminA);
      expect(answer.data.testMembershipConnector.errors).toEqual([]);
      return answer.data.testMembershipConnector.check;
    };
    const byCard = await test({ cardNumber: 'K-1001' });
    const byEmail = await test({ email: 'bruno@example.org' });
    const byName = await test({ lastName: 'Klein', firstName: 'Bruno', birthDate: '1985-02-01' });
    const nobody = await test({ cardNumber: 'INCONNU' });

    // Then each says what the system holds, in French
    expect(byCard).toMatchObject({
      outcome: 'ACTIVE',
      connector: 'KOHA_REST',
      matchedBy: 'CARD_NUMBER',
      enrolledOrRenewedOn: '2026-03-12',
      memberUntil: '2027-03-11',
      birthDateMatches: null,
    });
    expect(byCard.summary).toMatch(
      /^Adhérent actif : renouvelé le 12\/03\/2026, valide jusqu'au 11\/03\/2027\. Date de naissance non comparée\. \(Koha, vérifié le/,
    );
    expect(byEmail).toMatchObject({ outcome: 'ACTIVE', matchedBy: 'EMAIL' });
    expect(byName).toMatchObject({ outcome: 'ACTIVE', matchedBy: 'NAME_AND_BIRTH_DATE', birthDateMatches: true });
    expect(nobody).toMatchObject({ outcome: 'NOT_FOUND', matchedBy: null });

    // And nothing was stored: no check, the connector's last call unchanged
    expect(await t.app.prisma.membershipCheck.count()).toBe(checksBefore);
    const after = await storedConnector(t, scene.libA.id);
    expect(after.lastCallAt).toEqual(before.lastCallAt);
    expect(after.lastCallOk).toEqual(before.lastCallOk);
    expect(after.consecutiveFailures).toBe(before.consecutiveFailures);
  });

  it('asks for something to search by', async () => {
    const answer = await gql(t, TEST, { input: { libraryId: scene.libA.gid, lastName: 'Klein' } }, scene.adminA);
    expect(answer.data.testMembershipConnector.errors).toEqual([expect.objectContaining({ code: 'INVALID_CONNECTOR', field: 'cardNumber' })]);
  });

  it('finds a SIP2 patron by card over TLS (the library’s own certificate)', async () => {
    const answer = await gql(t, TEST, { input: { libraryId: scene.libB.gid, cardNumber: 'S-2001', birthDate: '1990-07-14' } }, scene.dlpb);
    expect(answer.data.testMembershipConnector.check).toMatchObject({
      outcome: 'ACTIVE',
      connector: 'SIP2',
      matchedBy: 'CARD_NUMBER',
      memberUntil: '2027-06-30',
      birthDateMatches: true,
    });
    expect(sip.received.map((m) => m.code)).toEqual(['93', '63']);
    await sip.idle();
  });
});

describe('a change of NUMOS_SECRETS_KEY', () => {
  it('keeps checks working under the new key with the old one as previous, and seals the secret again', async () => {
    // Given library A's secret sealed under key A
    const sealedUnderA = (await storedConnector(t, scene.libA.id)).secretSealed!;

    // When an instance restarts with key B, key A as previous
    const rotated = await instance(connectorEnv(keyB, { NUMOS_SECRETS_KEY_PREVIOUS: keyA }));
    const adminA = await login(rotated, 'STAFF', '5231001', 'mot de passe A');
    const { request } = await confirmAndCheck(t, scene.libA.gid, { libraryCardNumber: 'K-1001' });
    const rechecked = await gql(rotated, RECHECK, { requestId: request.gid }, adminA);

    // Then the check works, and the secret is now sealed under key B
    expect(rechecked.data.recheckMembership.errors).toEqual([]);
    expect(rechecked.data.recheckMembership.request.membershipCheck).toMatchObject({ outcome: 'ACTIVE', matchedBy: 'CARD_NUMBER' });
    const sealedUnderB = (await storedConnector(t, scene.libA.id)).secretSealed!;
    expect(sealedUnderB.split('.')[1]).not.toBe(sealedUnderA.split('.')[1]);

    // And an instance with key B alone works, one with key A alone says the secret cannot be read
    const onlyB = await instance(connectorEnv(keyB));
    const dlpbOnB = await login(onlyB, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const withB = await gql(onlyB, TEST, { input: { libraryId: scene.libA.gid, cardNumber: 'K-1001' } }, dlpbOnB);
    expect(withB.data.testMembershipConnector.check.outcome).toBe('ACTIVE');
    const withA = await gql(t, TEST, { input: { libraryId: scene.libA.gid, cardNumber: 'K-1001' } }, scene.dlpb);
    expect(withA.data.testMembershipConnector.check).toMatchObject({ outcome: 'UNAVAILABLE' });
    expect(withA.data.testMembershipConnector.check.summary).toContain('NUMOS_SECRETS_KEY');
  });
});

describe('hostile settings', () => {
  let strict: TestApp;
  let dlpb: string;

  beforeAll(async () => {
    // An instance as in production: a key, but neither plaintext nor private hosts allowed.
    strict = await instance({ NUMOS_THROTTLE: '0', NUMOS_SECRETS_KEY: keyB, NUMOS_CONNECTOR_CA_FILE: CA_FILE });
    dlpb = await login(strict, 'STAFF', 'dlpb', 'mot de passe DLPB');
  });

  it('refuses plain HTTP for Koha and plain TCP for SIP2 unless NUMOS_CONNECTOR_ALLOW_PLAINTEXT', async () => {
    const http = await save(strict, dlpb, kohaInput(scene.libB.gid, koha, { endpoint: 'http://koha.example.org/api/v1', secret: KOHA_SECRET }));
    expect(http.errors).toEqual([expect.objectContaining({ code: 'INVALID_CONNECTOR', field: 'endpoint' })]);
    expect(http.errors[0].message).toContain('NUMOS_CONNECTOR_ALLOW_PLAINTEXT');
    const tcp = await save(strict, dlpb, sip2Input(scene.libB.gid, 'sip.example.org:6001', { tls: false, secret: SIP_PASSWORD }));
    expect(tcp.errors).toEqual([expect.objectContaining({ code: 'INVALID_CONNECTOR', field: 'tls' })]);

    // Allowed by the operator (with the loopback allowed too), plain HTTP is taken
    const plain = await instance(connectorEnv(keyB, { NUMOS_CONNECTOR_ALLOW_PLAINTEXT: '1' }));
    const plainDlpb = await login(plain, 'STAFF', 'dlpb', 'mot de passe DLPB');
    const plainKoha = new FakeKoha();
    plainKoha.oauthClients.push({ id: 'numos', secret: KOHA_SECRET });
    await plainKoha.start();
    try {
      const taken = await save(plain, plainDlpb, kohaInput(scene.libB.gid, plainKoha, { secret: KOHA_SECRET }));
      expect(taken.connector).toMatchObject({ endpoint: plainKoha.url, tls: false });
    } finally {
      await plainKoha.stop();
    }
  });

  it('refuses endpoints on loopback, private and link-local addresses unless NUMOS_CONNECTOR_ALLOWED_HOSTS', async () => {
    const endpoints = [
      `https://localhost:${koha.port}/api/v1`,
      `https://127.0.0.1:${koha.port}/api/v1`,
      `https://[::1]:${koha.port}/api/v1`,
      'https://10.1.2.3/api/v1',
      'https://192.168.1.20/api/v1',
      'https://169.254.169.254/latest/meta-data',
    ];
    const calls = koha.requests.length;
    for (const endpoint of endpoints) {
      const answer = await save(strict, dlpb, kohaInput(scene.libB.gid, koha, { endpoint, secret: KOHA_SECRET }));
      expect(answer.errors, endpoint).toEqual([expect.objectContaining({ code: 'INVALID_CONNECTOR', field: 'endpoint' })]);
      expect(answer.errors[0].message).toContain('réseau privé ou local');
    }
    for (const endpoint of ['127.0.0.1:6001', 'localhost:6001', '[::1]:6001', '10.0.0.5:6001']) {
      const answer = await save(strict, dlpb, sip2Input(scene.libB.gid, endpoint, { secret: SIP_PASSWORD }));
      expect(answer.errors, endpoint).toEqual([expect.objectContaining({ code: 'INVALID_CONNECTOR', field: 'endpoint' })]);
    }
    expect(koha.requests.length).toBe(calls);
  });

  it('checks the address again at each call: saved while allowed, refused by an instance that does not allow it', async () => {
    // Given library A's Koha on loopback, saved by an instance that allows it, and a request
    const { request } = await confirmAndCheck(t, scene.libA.gid, { libraryCardNumber: 'K-1001' });
    const calls = koha.requests.length;

    // When the strict instance checks it
    const answer = await gql(strict, RECHECK, { requestId: request.gid }, dlpb);

    // Then the check is UNAVAILABLE, saying why, and Koha was not called
    expect(answer.data.recheckMembership.errors).toEqual([]);
    const check = answer.data.recheckMembership.request.membershipCheck;
    expect(check.outcome).toBe('UNAVAILABLE');
    expect(check.summary).toContain('réseau privé ou local');
    expect((await connectorOf(strict, dlpb, scene.libA.gid)).lastError).toContain('NUMOS_CONNECTOR_ALLOWED_HOSTS');
    expect(koha.requests.length).toBe(calls);
  });
});

describe('removing a connector', () => {
  it('deletes the settings and the secret; audited without secrets', async () => {
    // When library B's admin removes its connector
    const removed = await gql(t, REMOVE, { libraryId: scene.libB.gid }, scene.adminB);
    expect(removed.data.removeMembershipConnector).toEqual({ ok: true, errors: [] });

    // Then nothing is left of it
    expect(await t.app.prisma.membershipConnector.findUnique({ where: { libraryId: scene.libB.id } })).toBeNull();
    expect(await connectorOf(t, scene.adminB, scene.libB.gid)).toBeNull();
    const again = await gql(t, REMOVE, { libraryId: scene.libB.gid }, scene.adminB);
    expect(again.data.removeMembershipConnector.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);

    // And the audit log has every save and the removal, by whom, without any secret
    const entries = await t.app.prisma.auditLog.findMany({
      where: { action: { in: ['SAVE_MEMBERSHIP_CONNECTOR', 'REMOVE_MEMBERSHIP_CONNECTOR'] } },
      orderBy: { occurredAt: 'asc' },
    });
    expect(entries.filter((e) => e.action === 'REMOVE_MEMBERSHIP_CONNECTOR')).toHaveLength(1);
    expect(entries.filter((e) => e.action === 'SAVE_MEMBERSHIP_CONNECTOR').length).toBeGreaterThanOrEqual(4);
    const onB = entries.filter((e) => e.libraryId === scene.libB.id);
    expect(onB.map((e) => e.onBehalf)).toContain(true);
    const text = JSON.stringify(entries, (_key, value) => (typeof value === 'bigint' ? String(value) : value));
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/v1\.[0-9a-f]{8}\./);
    expect(text).toContain('"secretConfigured":true');
  });

  it('never answered a secret', () => {
    const text = answers.join('\n');
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });
});
