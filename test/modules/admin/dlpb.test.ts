// The DLPB's back office: staff accounts, provider keys, libraries and the audit log, on two
// instances of one database (what one instance changes, the other must honour at once).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';
import { registerAndConfirm } from '../../support/patrons.js';

const DISABLE = `mutation($input: SetStaffAccountDisabledInput!) {
  setStaffAccountDisabled(input: $input) { staffAccount { login disabled } errors { code message field } }
}`;
const LOGIN = `mutation($login: String!, $password: String!) { login(input: { realm: STAFF, login: $login, password: $password }) { token errors { code message } } }`;
const ROTATE = `mutation($id: ID!) { rotateProviderKey(input: { providerId: $id }) { apiKey provider { keyPrefix revokedAt } errors { code field } } }`;
const REVOKE = `mutation($id: ID!) { revokeProvider(input: { providerId: $id }) { apiKey provider { revokedAt } errors { code field } } }`;
const SAVE_LIBRARY = `mutation($input: SaveLibraryInput!) { saveLibrary(input: $input) { library { id code name town postalCode email closed } errors { code message field } } }`;
const BALANCE = `query($id: ID!) { quotaBalance(patronId: $id) { period } }`;

let a: TestApp;
let b: TestApp;
let dlpb: string;
let library: { id: string; gid: string };

beforeAll(async () => {
  a = await startTestApp({ resend: true, workers: true, env: { NUMOS_THROTTLE: '0' } });
  b = await startTestApp({ database: a.database, env: { NUMOS_THROTTLE: '0' } });
  const lib = await seedLibrary(a.app, { code: '5215001', name: 'Médiathèque de Forbach', town: 'Forbach' });
  b.app.libraries.invalidate();
  library = { id: lib.id, gid: encodeGlobalID('Library', lib.id) };
  await seedStaff(a.app, { login: 'dlpb', password: 'mot de passe DLPB', role: 'DLPB_AGENT' });
  await seedStaff(a.app, { login: '5215001', password: 'mot de passe bib', role: 'LIBRARY_ADMIN', libraryId: lib.id });
  dlpb = await login(a, 'STAFF', 'dlpb', 'mot de passe DLPB');
});
afterAll(async () => {
  await b.close();
  await a.close();
});

describe('staff accounts', () => {
  it('lists them for the DLPB only, filtered', async () => {
    const query = `query($f: StaffAccountsFilter) { staffAccounts(filter: $f) { totalCount edges { node { login role disabled createdAt lastLoginAt library { code } } } } }`;
    const all = await a.gql(query, {}, { token: dlpb });
    expect(all.data.staffAccounts.totalCount).toBeGreaterThanOrEqual(2);
    const admins = await a.gql(query, { f: { role: 'LIBRARY_ADMIN', libraryId: library.gid } }, { token: dlpb });
    expect(admins.data.staffAccounts.edges.map((e: any) => e.node)).toEqual([
      { login: '5215001', role: 'LIBRARY_ADMIN', disabled: false, createdAt: expect.any(String), lastLoginAt: null, library: { code: '5215001' } },
    ]);
    const me = await a.gql(query, { f: { search: 'DLP' } }, { token: dlpb });
    expect(me.data.staffAccounts.edges[0].node.lastLoginAt).not.toBeNull();
    const libraryAdmin = await login(a, 'STAFF', '5215001', 'mot de passe bib');
    expect((await a.gql(query, {}, { token: libraryAdmin })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('disables an account: its sessions end on every instance, login says ACCOUNT_DISABLED only with the right password', async () => {
    await seedStaff(a.app, { login: 'agent.parti', password: 'mot de passe agent', role: 'DLPB_AGENT' });
    const token = await login(a, 'STAFF', 'agent.parti', 'mot de passe agent');
    const id = encodeGlobalID('StaffAccount', (await a.app.prisma.staffAccount.findUniqueOrThrow({ where: { login: 'agent.parti' } })).id);
    expect((await b.gql(`{ viewer { __typename } }`, {}, { token })).data.viewer).toEqual({ __typename: 'StaffAccount' });

    const { data } = await a.gql(DISABLE, { input: { staffAccountId: id, disabled: true } }, { token: dlpb });
    expect(data.setStaffAccountDisabled).toEqual({ staffAccount: { login: 'agent.parti', disabled: true }, errors: [] });
    expect((await b.gql(`{ viewer { __typename } }`, {}, { token })).data.viewer).toBeNull();
    const right = await b.gql(LOGIN, { login: 'agent.parti', password: 'mot de passe agent' });
    expect(right.data.login).toEqual({ token: null, errors: [{ code: 'ACCOUNT_DISABLED', message: expect.any(String) }] });
    const wrong = await b.gql(LOGIN, { login: 'agent.parti', password: 'pas le bon' });
    expect(wrong.data.login.errors[0].code).toBe('INVALID_CREDENTIALS');

    const enabled = await a.gql(DISABLE, { input: { staffAccountId: id, disabled: false } }, { token: dlpb });
    expect(enabled.data.setStaffAccountDisabled.staffAccount.disabled).toBe(false);
    await login(b, 'STAFF', 'agent.parti', 'mot de passe agent');
    expect(await a.app.prisma.auditLog.count({ where: { action: 'SET_STAFF_ACCOUNT_DISABLED' } })).toBe(2);
  });

  it('refuses disabling oneself, the last enabled DLPB agent, unknown ids; two agents disabling each other: one wins', async () => {
    const self = encodeGlobalID('StaffAccount', (await a.app.prisma.staffAccount.findUniqueOrThrow({ where: { login: 'dlpb' } })).id);
    expect((await a.gql(DISABLE, { input: { staffAccountId: self, disabled: true } }, { token: dlpb })).data.setStaffAccountDisabled.errors[0]).toMatchObject({
      code: 'INVALID_STATE',
      field: 'staffAccountId',
    });
    const unknown = encodeGlobalID('StaffAccount', '00000000-0000-4000-8000-000000000000');
    expect((await a.gql(DISABLE, { input: { staffAccountId: unknown, disabled: true } }, { token: dlpb })).data.setStaffAccountDisabled.errors[0].code).toBe(
      'NOT_FOUND',
    );

    // Only two enabled agents left: each disables the other, at the same moment, on two instances.
    await a.app.prisma.staffAccount.updateMany({ where: { role: 'DLPB_AGENT', login: { notIn: ['dlpb'] } }, data: { disabledAt: new Date() } });
    await seedStaff(a.app, { login: 'agent.duel', password: 'mot de passe duel', role: 'DLPB_AGENT' });
    const duel = await login(a, 'STAFF', 'agent.duel', 'mot de passe duel');
    const duelId = encodeGlobalID('StaffAccount', (await a.app.prisma.staffAccount.findUniqueOrThrow({ where: { login: 'agent.duel' } })).id);
    const [first, second] = await Promise.all([
      a.gql(DISABLE, { input: { staffAccountId: duelId, disabled: true } }, { token: dlpb }),
      b.gql(DISABLE, { input: { staffAccountId: self, disabled: true } }, { token: duel }),
    ]);
    const outcomes = [first, second].map((r) => r.data?.setStaffAccountDisabled?.errors?.[0]?.code ?? (r.errors ? 'TOP_LEVEL' : 'OK'));
    // The loser is refused (INVALID_STATE), or its session already ended (UNAUTHENTICATED).
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
    expect(await a.app.prisma.staffAccount.count({ where: { role: 'DLPB_AGENT', disabledAt: null } })).toBe(1);
    dlpb = outcomes[0] === 'OK' ? dlpb : await login(a, 'STAFF', 'agent.duel', 'mot de passe duel');
  });
});

describe('resource providers', () => {
  it('rotates a key: the new one works at once, the old one for 24 hours; revocation is refused on every instance at once', async () => {
    const { input } = await registerAndConfirm(a, library.gid);
    const patron = encodeGlobalID('Patron', (await a.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: input.login } })).id);
    const created = await a.gql(
      `mutation { createResourceProvider(input: { name: "Cinéma en ligne", categories: [FILM] }) { apiKey provider { id keyPrefix createdAt lastUsedAt revokedAt } } }`,
      {},
      { token: dlpb },
    );
    const { apiKey: firstKey, provider } = created.data.createResourceProvider;
    expect(provider).toMatchObject({ keyPrefix: firstKey.slice(0, 12), lastUsedAt: null, revokedAt: null });
    // Both instances remember the key.
    expect((await a.gql(BALANCE, { id: patron }, { token: firstKey })).errors).toBeUndefined();
    expect((await b.gql(BALANCE, { id: patron }, { token: firstKey })).errors).toBeUndefined();

    const rotated = await a.gql(ROTATE, { id: provider.id }, { token: dlpb });
    const secondKey = rotated.data.rotateProviderKey.apiKey;
    expect(secondKey).toMatch(/^nmk_/);
    expect(rotated.data.rotateProviderKey.provider.keyPrefix).toBe(secondKey.slice(0, 12));
    for (const app of [a, b]) {
      expect((await app.gql(BALANCE, { id: patron }, { token: secondKey })).errors).toBeUndefined();
      expect((await app.gql(BALANCE, { id: patron }, { token: firstKey })).errors).toBeUndefined();
    }
    a.clock.advance(24 * 3_600_000 + 1_000);
    b.clock.advance(24 * 3_600_000 + 1_000);
    dlpb = await login(
      a,
      'STAFF',
      (await a.app.prisma.staffAccount.findFirstOrThrow({ where: { role: 'DLPB_AGENT', disabledAt: null } })).login,
      'mot de passe DLPB',
    ).catch(() => login(a, 'STAFF', 'agent.duel', 'mot de passe duel'));
    for (const app of [a, b]) {
      expect((await app.gql(BALANCE, { id: patron }, { token: firstKey })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await app.gql(BALANCE, { id: patron }, { token: secondKey })).errors).toBeUndefined();
    }

    const list = await a.gql(`{ resourceProviders { name lastUsedAt revokedAt } }`, {}, { token: dlpb });
    expect(list.data.resourceProviders).toEqual([{ name: 'Cinéma en ligne', lastUsedAt: expect.any(String), revokedAt: null }]);

    const revoked = await a.gql(REVOKE, { id: provider.id }, { token: dlpb });
    expect(revoked.data.revokeProvider).toMatchObject({ apiKey: null, provider: { revokedAt: expect.any(String) }, errors: [] });
    // The other instance had the key in memory a moment ago: refused from the next request on.
    expect((await b.gql(BALANCE, { id: patron }, { token: secondKey })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await a.gql(BALANCE, { id: patron }, { token: secondKey })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await a.gql(ROTATE, { id: provider.id }, { token: dlpb })).data.rotateProviderKey.errors[0].code).toBe('INVALID_STATE');
    const unknown = await a.gql(REVOKE, { id: encodeGlobalID('ResourceProvider', '00000000-0000-4000-8000-000000000000') }, { token: dlpb });
    expect(unknown.data.revokeProvider.errors[0]).toMatchObject({ code: 'NOT_FOUND', field: 'providerId' });
    expect((await a.gql(`{ resourceProviders { name } }`, {}, { token: secondKey })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('libraries', () => {
  it('creates and updates by Moselia code; a closed library is not offered to the public, on any instance', async () => {
    const bad = await a.gql(SAVE_LIBRARY, { input: { code: '5712345', name: 'X', email: 'x@example.org' } }, { token: dlpb });
    expect(bad.data.saveLibrary).toMatchObject({ library: null, errors: [{ code: 'INVALID_LIBRARY_CODE', field: 'code' }] });
    const created = await a.gql(
      SAVE_LIBRARY,
      { input: { code: '5299001', name: 'Bibliothèque de Bitche', town: 'Bitche', postalCode: '57230', email: 'bib@bitche.example' } },
      { token: dlpb },
    );
    expect(created.data.saveLibrary).toMatchObject({
      library: { code: '5299001', closed: false, email: 'bib@bitche.example', postalCode: '57230' },
      errors: [],
    });
    const search = `query($s: String) { libraries(search: $s) { code email closed } }`;
    expect((await b.gql(search, { s: 'bitche' })).data.libraries).toEqual([{ code: '5299001', email: null, closed: false }]);

    const closed = await a.gql(
      SAVE_LIBRARY,
      { input: { code: '5299001', name: 'Bibliothèque de Bitche', town: 'Bitche', email: 'bib@bitche.example', closed: true } },
      { token: dlpb },
    );
    expect(closed.data.saveLibrary.library).toMatchObject({ id: created.data.saveLibrary.library.id, closed: true });
    // The other instance reads its directory again once the change's notification arrives.
    await expect.poll(async () => (await b.gql(search, { s: 'bitche' })).data.libraries, { timeout: 5_000 }).toEqual([]);
    expect((await b.gql(search, { s: 'bitche' }, { token: dlpb })).data.libraries).toEqual([{ code: '5299001', email: 'bib@bitche.example', closed: true }]);
    const register = await b.gql(`mutation($input: RegisterInput!) { register(input: $input) { ok errors { code field } } }`, {
      input: {
        lastName: 'Fermée',
        firstName: 'Porte',
        birthDate: '1990-01-01',
        email: 'porte@example.org',
        login: 'porte.fermee',
        password: 'un mot de passe solide',
        passwordConfirmation: 'un mot de passe solide',
        libraryId: created.data.saveLibrary.library.id,
        newsletter: false,
      },
    });
    expect(register.data.register).toEqual({ ok: false, errors: [{ code: 'UNKNOWN_LIBRARY', field: 'libraryId' }] });
    const libraryAdmin = await login(a, 'STAFF', '5215001', 'mot de passe bib');
    expect(
      (await a.gql(SAVE_LIBRARY, { input: { code: '5299002', name: 'X', email: 'x@example.org' } }, { token: libraryAdmin })).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
  });
});

describe('auditLog', () => {
  it('lists staff changes newest first: the DLPB all, a library admin its own library’s; patrons are refused', async () => {
    const query = `query($f: AuditLogFilter, $first: Int) { auditLog(filter: $f, first: $first) {
      totalCount edges { node { id action occurredAt actor { login } library { code } subjectId onBehalfOfLibrary changes } }
    } }`;
    const all = await a.gql(query, { first: 100 }, { token: dlpb });
    expect(all.errors).toBeUndefined();
    const actions = all.data.auditLog.edges.map((e: any) => e.node.action);
    expect(actions).toEqual(
      expect.arrayContaining(['SAVE_LIBRARY', 'REVOKE_PROVIDER', 'ROTATE_PROVIDER_KEY', 'CREATE_RESOURCE_PROVIDER', 'SET_STAFF_ACCOUNT_DISABLED']),
    );
    const times = all.data.auditLog.edges.map((e: any) => e.node.occurredAt);
    expect([...times].sort().reverse()).toEqual(times);
    const saved = all.data.auditLog.edges.find((e: any) => e.node.action === 'SAVE_LIBRARY').node;
    expect(saved.subjectId).toMatch(/\S/);
    expect(JSON.parse(saved.changes).after).toMatchObject({ code: '5299001', closed: true });
    // Any entry is a node, readable again by its id.
    const again = await a.gql(`query($id: ID!) { node(id: $id) { ... on AuditEntry { action } } }`, { id: saved.id }, { token: dlpb });
    expect(again.data.node).toEqual({ action: 'SAVE_LIBRARY' });

    const filtered = await a.gql(query, { f: { action: 'REVOKE_PROVIDER' } }, { token: dlpb });
    expect(filtered.data.auditLog.totalCount).toBe(1);

    // A library admin: entries about their library only, including the DLPB's done in its place.
    const correct = await registerAndConfirm(a, library.gid, { lastName: 'Audité' });
    const pid = (await a.app.prisma.patron.findUniqueOrThrow({ where: { loginKey: correct.input.login } })).id;
    await a.gql(
      `mutation($id: ID!) { correctPatron(input: { patronId: $id, firstName: "Vérifié", reason: "Carte" }) { errors { code } } }`,
      { id: encodeGlobalID('Patron', pid) },
      { token: dlpb },
    );
    const libraryAdmin = await login(a, 'STAFF', '5215001', 'mot de passe bib');
    const own = await a.gql(query, {}, { token: libraryAdmin });
    expect(own.errors).toBeUndefined();
    expect(own.data.auditLog.edges.map((e: any) => e.node.library?.code)).toEqual(own.data.auditLog.edges.map(() => '5215001'));
    const corrected = own.data.auditLog.edges.find((e: any) => e.node.action === 'CORRECT_PATRON').node;
    expect(corrected).toMatchObject({ onBehalfOfLibrary: true, actor: { login: expect.any(String) } });
    expect(corrected.changes).not.toMatch(/Audité|Vérifié/);
    expect(
      (await a.gql(query, { f: { libraryId: encodeGlobalID('Library', '00000000-0000-4000-8000-000000000000') } }, { token: libraryAdmin })).errors?.[0]
        ?.extensions?.code,
    ).toBe('FORBIDDEN');
    const patronToken = await login(a, 'PATRON', correct.input.login, correct.input.password);
    expect((await a.gql(query, {}, { token: patronToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
