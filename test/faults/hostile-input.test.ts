// Strange and hostile strings in every argument a client can send: a NUL byte, a lone surrogate,
// a value far over its documented maximum. Each is refused with INVALID_INPUT naming its field
// (in the payload of a mutation, at the top level otherwise), before any work, and changes
// nothing; no error echoes more than a short prefix of what was sent.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../support/harness.js';
import { registerInput } from '../support/patrons.js';

let t: TestApp;
let dlpb: string;
let provider: string;
let libraryId: string;

beforeAll(async () => {
  t = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
  const library = await seedLibrary(t.app, { code: '5200001', name: 'Médiathèque de Nilvange' });
  libraryId = encodeGlobalID('Library', library.id);
  await seedStaff(t.app, { login: 'dlpb', password: 'mot de passe DLPB' });
  dlpb = await login(t, 'STAFF', 'dlpb', 'mot de passe DLPB');
  const created = await t.gql(`mutation { createResourceProvider(input: { name: "Presse", categories: [NEWSPAPER] }) { apiKey } }`, {}, { token: dlpb });
  provider = created.data.createResourceProvider.apiKey;
});
afterAll(() => t.close());

const POISONS = {
  'a NUL byte': 'avant\u0000après',
  'a lone surrogate': 'avant\ud800après',
  '100 KB': 'x'.repeat(100_000),
};

const anId = () => encodeGlobalID('Patron', '00000000-0000-4000-8000-000000000000');

interface Case {
  name: string;
  query: string;
  /** The variables, with `value` where the poison goes. */
  variables: (value: string) => Record<string, unknown>;
  /** The field the answer names. */
  field: string;
  /** The mutation's payload, or undefined for a top-level error. */
  payload?: string;
  token?: () => string;
}

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { ok errors { code field message } } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token errors { code field message } } }`;
const CONSUME = `mutation($input: ConsumeQuotaInput!) { consumeQuota(input: $input) { granted replayed errors { code field message } } }`;
const MESSAGE = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ok errors { code field message } } }`;
const STAFF = `mutation($input: CreateStaffAccountInput!) { createStaffAccount(input: $input) { staffAccount { id } errors { code field message } } }`;
const consume = (over: Record<string, string>) => ({
  input: { patronId: anId(), category: 'NEWSPAPER', resourceId: 'journal', idempotencyKey: 'k1', ...over },
});
const message = (over: Record<string, string>) => ({
  input: { to: 'SUPPORT', email: 'lecteur@example.org', subject: 'Question', body: 'Bonjour', ...over },
});
const staff = (over: Record<string, string>) => ({
  input: { login: 'agent.x', displayName: 'Agent', email: 'agent@example.org', role: 'DLPB_AGENT', ...over },
});

const CASES: Case[] = [
  ...['lastName', 'firstName', 'login', 'password', 'passwordConfirmation', 'libraryId'].map((field) => ({
    name: `register ${field}`,
    query: REGISTER,
    field,
    payload: 'register',
    variables: (value: string) => ({ input: registerInput(libraryId, { [field]: value }) }),
  })),
  ...['login', 'password'].map((field) => ({
    name: `login ${field}`,
    query: LOGIN,
    field,
    payload: 'login',
    variables: (value: string) => ({ input: { realm: 'PATRON', login: 'lecteur', password: 'un mot de passe', [field]: value } }),
  })),
  {
    name: 'requestPasswordReset login',
    query: `mutation($v: String!) { requestPasswordReset(input: { realm: STAFF, login: $v }) { ok errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'login',
    payload: 'requestPasswordReset',
  },
  {
    name: 'resetPassword token',
    query: `mutation($v: String!) { resetPassword(input: { token: $v, password: "un mot de passe", passwordConfirmation: "un mot de passe" }) { ok errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'token',
    payload: 'resetPassword',
  },
  {
    name: 'confirm token',
    query: `mutation($v: String!) { confirm(input: { token: $v }) { account { status } errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'token',
    payload: 'confirm',
  },
  {
    name: 'requestRenewal token',
    query: `mutation($v: String) { requestRenewal(input: { token: $v }) { request { id } errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'token',
    payload: 'requestRenewal',
  },
  {
    name: 'decide message',
    query: `mutation($v: String) { decide(input: { requestId: "${encodeGlobalID('RegistrationRequest', '00000000-0000-4000-8000-000000000000')}", decision: ACCEPT, message: $v }) { request { id } errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'message',
    payload: 'decide',
    token: () => dlpb,
  },
  {
    name: 'decide requestId',
    query: `mutation($v: ID!) { decide(input: { requestId: $v, decision: ACCEPT }) { request { id } errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'requestId',
    payload: 'decide',
    token: () => dlpb,
  },
  ...['resourceId', 'idempotencyKey', 'patronId'].map((field) => ({
    name: `consumeQuota ${field}`,
    query: CONSUME,
    field,
    payload: 'consumeQuota',
    token: () => provider,
    variables: (value: string) => consume({ [field]: value }),
  })),
  {
    name: 'cancelConsumption consumptionId',
    query: `mutation($v: ID!) { cancelConsumption(input: { consumptionId: $v }) { balance { period } errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'consumptionId',
    payload: 'cancelConsumption',
    token: () => provider,
  },
  ...['subject', 'body'].map((field) => ({
    name: `sendMessage ${field}`,
    query: MESSAGE,
    field,
    payload: 'sendMessage',
    variables: (value: string) => message({ [field]: value }),
  })),
  ...['login', 'displayName'].map((field) => ({
    name: `createStaffAccount ${field}`,
    query: STAFF,
    field,
    payload: 'createStaffAccount',
    token: () => dlpb,
    variables: (value: string) => staff({ [field]: value }),
  })),
  {
    name: 'createResourceProvider name',
    query: `mutation($v: String!) { createResourceProvider(input: { name: $v, categories: [FILM] }) { apiKey errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'name',
    payload: 'createResourceProvider',
    token: () => dlpb,
  },
  {
    name: 'setQuotaLimits effectiveFrom',
    query: `mutation($v: String!) { setQuotaLimits(input: { effectiveFrom: $v, limits: [] }) { policy { effectiveFrom } errors { code field } } }`,
    variables: (v) => ({ v }),
    field: 'effectiveFrom',
    payload: 'setQuotaLimits',
    token: () => dlpb,
  },
  { name: 'libraries search', query: `query($v: String) { libraries(search: $v) { code } }`, variables: (v) => ({ v }), field: 'search' },
  {
    name: 'pendingRegistrations search',
    query: `query($v: String) { pendingRegistrations(filter: { search: $v }) { totalCount } }`,
    variables: (v) => ({ v }),
    field: 'filter.search',
    token: () => dlpb,
  },
  {
    name: 'pendingRegistrations cursor',
    query: `query($v: String) { pendingRegistrations(after: $v) { totalCount } }`,
    variables: (v) => ({ v }),
    field: 'after',
    token: () => dlpb,
  },
  { name: 'node id', query: `query($v: ID!) { node(id: $v) { id } }`, variables: (v) => ({ v }), field: 'id' },
  {
    name: 'quotaBalance patronId',
    query: `query($v: ID!) { quotaBalance(patronId: $v) { period } }`,
    variables: (v) => ({ v }),
    field: 'patronId',
    token: () => provider,
  },
  { name: 'registrationRequest id', query: `query($v: ID!) { registrationRequest(id: $v) { id } }`, variables: (v) => ({ v }), field: 'id', token: () => dlpb },
];

async function rowCounts() {
  const { rows } = await t.app.pool.query(
    `SELECT (SELECT count(*) FROM patron) AS patrons, (SELECT count(*) FROM staff_account) AS staff,
            (SELECT count(*) FROM resource_provider) AS providers, (SELECT count(*) FROM message) AS messages,
            (SELECT count(*) FROM consumption) AS consumptions, (SELECT count(*) FROM email_outbox) AS emails,
            (SELECT count(*) FROM pgboss.job WHERE name NOT LIKE '__pgboss%') AS jobs`,
  );
  return rows[0];
}

describe('every string argument', () => {
  for (const c of CASES) {
    for (const [kind, poison] of Object.entries(POISONS)) {
      it(`refuses ${kind} in ${c.name}`, async () => {
        const before = await rowCounts();
        const { data, errors } = await t.gql(c.query, c.variables(poison), { token: c.token?.() });
        if (c.payload) {
          expect(errors).toBeUndefined();
          expect(data[c.payload].errors).toHaveLength(1);
          expect(data[c.payload].errors[0]).toMatchObject({ code: 'INVALID_INPUT', field: c.field });
        } else {
          expect(errors).toHaveLength(1);
          expect(errors![0]!.extensions).toEqual({ code: 'INVALID_INPUT', field: c.field });
        }
        const text = JSON.stringify({ data, errors });
        expect(text.length).toBeLessThan(1_000);
        expect(text).not.toContain('Unexpected error');
        expect(await rowCounts()).toEqual(before);
      });
    }
  }
});

describe('e-mail addresses (RFC 5321) and scalars', () => {
  it('refuses a 5,000-character local part at the scalar, naming the variable, echoing a short prefix only', async () => {
    const email = `${'a'.repeat(5_000)}@example.org`;
    const { errors } = await t.gql(`mutation($e: EmailAddress!) { resendConfirmation(input: { email: $e }) { ok } }`, { e: email });
    expect(errors![0]!.message).toBe("Adresse e-mail trop longue : 254 caractères au plus, dont 64 avant l'arobase.");
    expect(errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'e' });
  });

  it('refuses a NUL byte in an e-mail address', async () => {
    const { errors } = await t.gql(`mutation($e: EmailAddress!) { resendConfirmation(input: { email: $e }) { ok } }`, { e: 'lecteur\u0000@example.org' });
    expect(errors![0]!.message).toBe('Adresse e-mail invalide.');
  });

  it('echoes no more than a short prefix of a 100 KB value in a variable error', async () => {
    const { errors } = await t.gql(`query($d: LocalDate!) { __typename }`, { d: 'x'.repeat(100_000) });
    expect(JSON.stringify(errors).length).toBeLessThan(1_000);
  });
});

describe('lists', () => {
  it('refuses a list over its maximum with INVALID_INPUT naming it, before any work', async () => {
    const statuses = Array(20_000).fill('ACTIVE');
    const { data, errors } = await t.gql(`query($s: [AccountStatus!]) { patrons(filter: { statuses: $s }) { totalCount } }`, { s: statuses }, { token: dlpb });
    expect(data).toBeNull();
    expect(errors).toEqual([
      expect.objectContaining({
        message: 'Cette liste (filter.statuses) ne peut pas compter plus de 10 éléments.',
        extensions: { code: 'INVALID_INPUT', field: 'filter.statuses' },
      }),
    ]);
    const limits = Array.from({ length: 11 }, () => ({ category: 'FILM', limit: 4 }));
    const set = await t.gql(
      `mutation($l: [QuotaLimitInput!]!) { setQuotaLimits(input: { effectiveFrom: "2027-01", limits: $l }) { errors { code field } } }`,
      { l: limits },
      {
        token: dlpb,
      },
    );
    expect(set.data.setQuotaLimits.errors).toEqual([{ code: 'INVALID_INPUT', field: 'limits' }]);
  });
});

describe('searches', () => {
  it('takes the first 8 words of a search and ignores the rest', async () => {
    const search = `${'nilvange '.repeat(8)}${'zz '.repeat(9)}`.trim();
    expect(search.length).toBeLessThanOrEqual(100);
    const { data } = await t.gql(`query($v: String) { libraries(search: $v) { code } }`, { v: search });
    expect(data.libraries).toEqual([{ code: '5200001' }]);
    const ninth = await t.gql(`query($v: String) { libraries(search: $v) { code } }`, { v: `${'zz '.repeat(8)}nilvange` });
    expect(ninth.data.libraries).toEqual([]);
  });
});
