// What the membership test files share: the GraphQL documents a library's staff uses, the
// environment of an instance allowed to reach the fakes on loopback, and small helpers to connect a
// library to a fake Koha or SIP2 server and to wait for a request's check.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { expect } from 'vitest';
import type { FakeKoha, FakePatron } from '../../support/fake-koha.js';
import type { TestApp } from '../../support/harness.js';
import { registerAndConfirm } from '../../support/patrons.js';

/** The committed self-signed certificate of the fakes, trusted through NUMOS_CONNECTOR_CA_FILE. */
export const CA_FILE = fileURLToPath(new URL('../../support/tls/cert.pem', import.meta.url));

/** A fresh NUMOS_SECRETS_KEY (32 random bytes, base64). */
export const newSecretsKey = () => randomBytes(32).toString('base64');

/** An instance that may reach the fakes on loopback over TLS, with a short time limit unless told otherwise. */
export function connectorEnv(key: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NUMOS_THROTTLE: '0',
    NUMOS_CONNECTOR_ALLOWED_HOSTS: '127.0.0.1/8,localhost',
    NUMOS_CONNECTOR_CA_FILE: CA_FILE,
    ...(key ? { NUMOS_SECRETS_KEY: key } : {}),
    ...extra,
  };
}

export const CHECK_FIELDS = `outcome connector checkedAt matchedBy enrolledOrRenewedOn memberUntil birthDateMatches birthYearMatches summary`;
export const CONNECTOR_FIELDS = `kind enabled rule autoAccept endpoint tls username kohaAuthentication institutionId locationCode expiryField
  secretConfigured updatedAt lastCallAt lastCallOk lastError pausedUntil`;

export const SAVE = `mutation($input: SaveMembershipConnectorInput!) {
  saveMembershipConnector(input: $input) { connector { ${CONNECTOR_FIELDS} } errors { code message field } }
}`;
export const REMOVE = `mutation($libraryId: ID!) { removeMembershipConnector(input: { libraryId: $libraryId }) { ok errors { code message field } } }`;
export const TEST = `mutation($input: TestMembershipConnectorInput!) {
  testMembershipConnector(input: $input) { check { ${CHECK_FIELDS} } errors { code message field } }
}`;
export const RECHECK = `mutation($requestId: ID!) {
  recheckMembership(input: { requestId: $requestId }) { request { id membershipCheck { ${CHECK_FIELDS} } } errors { code message field } }
}`;
export const CONNECTOR = `query($id: ID!) { node(id: $id) { ... on Library { membershipConnector { ${CONNECTOR_FIELDS} } } } }`;
export const REQUEST = `query($id: ID!) {
  registrationRequest(id: $id) {
    id state escalated decision decidedAutomatically decidedOnBehalfOfLibrary decidedBy { login } libraryCardNumber
    membershipCheck { ${CHECK_FIELDS} }
  }
}`;

/** Settings of a library's Koha, OAuth2 unless told otherwise. */
export function kohaInput(libraryId: string, koha: FakeKoha, overrides: Record<string, unknown> = {}) {
  return { libraryId, kind: 'KOHA_REST', enabled: true, endpoint: koha.url, username: 'numos', secret: 'secret-koha', ...overrides };
}

/** Settings of a library's SIP2 server, TLS unless told otherwise. */
export function sip2Input(libraryId: string, endpoint: string, overrides: Record<string, unknown> = {}) {
  return {
    libraryId,
    kind: 'SIP2',
    enabled: true,
    endpoint,
    username: 'numos',
    secret: 'secret-sip',
    institutionId: 'MED57',
    expiryField: 'DE',
    ...overrides,
  };
}

/** Saves a connector through GraphQL and checks it was taken. */
export async function saveConnector(t: TestApp, token: string, input: Record<string, unknown>) {
  const { data, errors } = await t.gql(SAVE, { input }, { token });
  expect(errors).toBeUndefined();
  expect(data.saveMembershipConnector.errors).toEqual([]);
  return data.saveMembershipConnector.connector;
}

/** The library's connector as its staff sees it. */
export async function connectorOf(t: TestApp, token: string, libraryGid: string) {
  return (await t.gql(CONNECTOR, { id: libraryGid }, { token })).data.node.membershipConnector;
}

/** A patron of a fake Koha, a member renewed on 2026-03-12 until 2027-03-11 (the harness's "now" is 2026-11-28). */
export function kohaMember(overrides: Partial<FakePatron> = {}): Partial<FakePatron> {
  return {
    surname: 'Martin',
    date_of_birth: '1990-07-14',
    date_enrolled: '2019-09-03',
    date_renewed: '2026-03-12',
    expiry_date: '2027-03-11',
    ...overrides,
  };
}

let cards = 0;
/** A card number no other test uses. */
export const newCard = () => `C${process.pid}${String(++cards).padStart(5, '0')}`;

/** The global ID of the request of a person (by login). */
export async function requestOf(t: TestApp, login: string): Promise<{ id: string; gid: string }> {
  const request = await t.app.prisma.registrationRequest.findFirstOrThrow({
    where: { patron: { loginKey: login.toLowerCase() } },
    orderBy: { submittedAt: 'desc' },
  });
  return { id: request.id, gid: encodeGlobalID('RegistrationRequest', request.id) };
}

/** Registers and confirms a person, then waits until the check of their confirmation is stored. */
export async function confirmAndCheck(t: TestApp, libraryGid: string, overrides: Record<string, unknown> = {}, timeout = 20_000) {
  const { input } = await registerAndConfirm(t, libraryGid, overrides);
  const request = await requestOf(t, input.login);
  const check = await waitForCheck(t, request.id, timeout);
  return { input, request, check };
}

/** Waits for the stored check of a request's confirmation. */
export async function waitForCheck(t: TestApp, requestId: string, timeout = 20_000) {
  await expect.poll(() => t.app.prisma.membershipCheck.count({ where: { eventKey: `confirmation:${requestId}` } }), { timeout, interval: 100 }).toBe(1);
  return t.app.prisma.membershipCheck.findUniqueOrThrow({ where: { eventKey: `confirmation:${requestId}` } });
}

/** The connector's row as stored. */
export const storedConnector = (t: TestApp, libraryId: string) => t.app.prisma.membershipConnector.findUniqueOrThrow({ where: { libraryId } });

/** Waits until no membership check job is waiting or running (what a check leads to, an acceptance, is done then). */
export async function checksSettled(t: TestApp, timeout = 20_000): Promise<void> {
  const busy = async () =>
    (
      await t.app.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'membership.check' AND state IN ('created', 'retry', 'active')`,
      )
    ).rows[0]!.n;
  try {
    await expect.poll(busy, { timeout, interval: 100 }).toBe(0);
  } catch (error) {
    // What the jobs were doing, to tell a slow machine from a loop.
    const { rows } = await t.app.pool.query(
      `SELECT state, count(*)::int AS jobs, max(retry_count) AS retries, min(start_after) AS first, max(start_after) AS last, (array_agg(output))[1] AS output
         FROM pgboss.job WHERE name = 'membership.check' GROUP BY state`,
    );
    throw new Error(`membership.check jobs still busy at ${new Date().toISOString()}: ${JSON.stringify(rows)}`, { cause: error });
  }
}
