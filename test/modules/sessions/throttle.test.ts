import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/lib/secrets.js';
import { clientIp, trustedProxyList } from '../../../src/server/client-ip.js';
import { login, seedLibrary, seedStaff, startTestApp, type TestApp } from '../../support/harness.js';
import { REGISTER, registerInput } from '../../support/patrons.js';

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token errors { code message } } }`;

async function serve(t: TestApp): Promise<{ server: Server; url: string }> {
  const server = createServer(t.app.yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

async function httpGql(url: string, query: string, variables: object, forwardedFor?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

describe('clientIp', () => {
  const trusted = trustedProxyList(['127.0.0.1/8', '::1', '10.0.0.0/8']);
  it.each([
    ['direct caller, no header', '203.0.113.5', null, '203.0.113.5'],
    ['untrusted caller cannot pretend', '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['trusted proxy: the client it saw', '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['IPv4-mapped loopback is trusted', '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['chain: rightmost untrusted hop wins', '127.0.0.1', '192.0.2.66, 198.51.100.1, 10.1.2.3', '198.51.100.1'],
    ['chain of trusted hops only: the leftmost', '127.0.0.1', '10.0.0.2, 10.0.0.3', '10.0.0.2'],
  ])('%s', (_label, socket, header, expected) => {
    expect(clientIp(trusted, socket, header)).toBe(expected);
  });
});

describe('throttling, shared by every instance', () => {
  let a: TestApp;
  let b: TestApp;
  let url: string;
  let server: Server;
  let libraryId: string;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ database: a.database });
    ({ server, url } = await serve(a));
    libraryId = encodeGlobalID('Library', (await seedLibrary(a.app, { code: '5212345', name: 'Médiathèque' })).id);
    await seedStaff(a.app, { login: '5212345', password: 'le bon mot de passe' });
    await seedStaff(a.app, { login: 'autre.agent', password: 'le bon mot de passe' });
  });
  afterAll(async () => {
    server.close();
    await b.close();
    await a.close();
  });

  it('slows down login failures per login, across instances, without a permanent lock-out', async () => {
    for (let i = 0; i < 10; i++) {
      const instance = i % 2 === 0 ? a : b;
      const { data } = await instance.gql(LOGIN, { input: { realm: 'STAFF', login: '5212345', password: `faux ${i}` } });
      expect(data.login.errors[0].code).toBe('INVALID_CREDENTIALS');
    }
    const blocked = await b.gql(LOGIN, { input: { realm: 'STAFF', login: '5212345', password: 'le bon mot de passe' } });
    expect(blocked.data.login).toEqual({ token: null, errors: [{ code: 'RATE_LIMITED', message: 'Trop de tentatives. Réessayez dans 15 minutes.' }] });
    // A client reads when to try again, in seconds.
    const again = await b.gql(`mutation($input: LoginInput!) { login(input: $input) { errors { code retryAfterSeconds } } }`, {
      input: { realm: 'STAFF', login: '5212345', password: 'le bon mot de passe' },
    });
    const [error] = again.data.login.errors;
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBeGreaterThan(14 * 60);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
    // Another login is not affected by this one's failures.
    expect(await login(a, 'STAFF', 'autre.agent', 'le bon mot de passe')).toMatch(/^nms_/);
    // The counter dies with its window: at most 15 minutes from now. Its key names nobody.
    const { rows } = await a.app.pool.query(`SELECT expire FROM rate_limit WHERE key = $1`, [`login-login:${hashSecret('staff:5212345')}`]);
    expect(Number(rows[0].expire)).toBeLessThanOrEqual(Date.now() + 15 * 60_000);
    expect(JSON.stringify((await a.app.pool.query('SELECT key FROM rate_limit')).rows)).not.toMatch(/5212345|127\.0\.0\.1/);
  });

  it('counts before it checks: 30 concurrent wrong passwords get 10 checks, and the right one afterwards is refused', async () => {
    await seedStaff(a.app, { login: 'cible', password: 'le bon mot de passe' });
    const attempts = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).gql(LOGIN, { input: { realm: 'STAFF', login: 'cible', password: `faux ${i}` } })),
    );
    const codes = attempts.map((r) => r.data.login.errors[0].code);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(10);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(20);
    const right = await a.gql(LOGIN, { input: { realm: 'STAFF', login: 'cible', password: 'le bon mot de passe' } });
    expect(right.data.login.token).toBeNull();
    expect(right.data.login.errors[0].code).toBe('RATE_LIMITED');
  });

  it('takes a login or an e-mail address of any allowed length as a key', async () => {
    const longLogin = 'x'.repeat(100);
    const { data } = await a.gql(LOGIN, { input: { realm: 'PATRON', login: longLogin, password: 'faux mot de passe' } });
    expect(data.login.errors[0].code).toBe('INVALID_CREDENTIALS');
    const email = `${'a'.repeat(64)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.fr`;
    const resent = await a.gql(`mutation($email: EmailAddress!) { resendConfirmation(input: { email: $email }) { ok errors { code } } }`, { email });
    expect(resent.data.resendConfirmation, JSON.stringify(resent)).toEqual({ ok: true, errors: [] });
  });

  it('limits registrations per address, believing X-Forwarded-For only from a trusted proxy', async () => {
    for (let i = 0; i < 20; i++) {
      const body = await httpGql(url, REGISTER, { input: registerInput(libraryId) }, '198.51.100.7');
      expect(body.data.register.errors).toEqual([]);
    }
    const blocked = await httpGql(url, REGISTER, { input: registerInput(libraryId) }, '198.51.100.7');
    expect(blocked.data.register.errors.map((e: { code: string }) => e.code)).toEqual(['RATE_LIMITED']);
    const otherAddress = await httpGql(url, REGISTER, { input: registerInput(libraryId) }, '198.51.100.8');
    expect(otherAddress.data.register.ok).toBe(true);
  }, 60_000);
});

describe('NUMOS_THROTTLE=0', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { NUMOS_THROTTLE: '0' } });
    await seedStaff(t.app, { login: 'agent', password: 'le bon mot de passe' });
  });
  afterAll(() => t.close());

  it('turns throttling off', async () => {
    for (let i = 0; i < 12; i++) await t.gql(LOGIN, { input: { realm: 'STAFF', login: 'agent', password: 'faux' } });
    expect(await login(t, 'STAFF', 'agent', 'le bon mot de passe')).toMatch(/^nms_/);
  });
});
