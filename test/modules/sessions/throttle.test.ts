import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/lib/secrets.js';
import { slowDownMs } from '../../../src/lib/throttle.js';
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
  let urls: [string, string];
  let servers: Server[];
  let libraryId: string;
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ database: a.database });
    const [sa, sb] = [await serve(a), await serve(b)];
    servers = [sa.server, sb.server];
    urls = [sa.url, sb.url];
    libraryId = encodeGlobalID('Library', (await seedLibrary(a.app, { code: '5212345', name: 'Médiathèque' })).id);
    await seedStaff(a.app, { login: '5212345', password: 'le bon mot de passe' });
    await seedStaff(a.app, { login: 'autre.agent', password: 'le bon mot de passe' });
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await b.close();
    await a.close();
  });

  /** A login over HTTP from `address` (X-Forwarded-For from the loopback proxy), on instance a or b. */
  const loginFrom = (address: string, login: string, password: string, instance = 0) =>
    httpGql(urls[instance % 2]!, LOGIN, { input: { realm: 'STAFF', login, password } }, address);

  it('refuses a login failing 10 times from one address to that address only, across instances', async () => {
    for (let i = 0; i < 10; i++) {
      const { data } = await loginFrom('198.51.100.20', '5212345', `faux ${i}`, i);
      expect(data.login.errors[0].code).toBe('INVALID_CREDENTIALS');
    }
    const blocked = await loginFrom('198.51.100.20', '5212345', 'le bon mot de passe', 1);
    expect(blocked.data.login).toEqual({ token: null, errors: [{ code: 'RATE_LIMITED', message: 'Trop de tentatives. Réessayez dans 15 minutes.' }] });
    // A client reads when to try again, in seconds.
    const again = await httpGql(
      urls[0],
      `mutation($input: LoginInput!) { login(input: $input) { errors { code retryAfterSeconds } } }`,
      {
        input: { realm: 'STAFF', login: '5212345', password: 'le bon mot de passe' },
      },
      '198.51.100.20',
    );
    const [error] = again.data.login.errors;
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBeGreaterThan(14 * 60);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
    // The owner, from anywhere else, is not kept out; another login is not affected either.
    expect((await loginFrom('198.51.100.21', '5212345', 'le bon mot de passe', 1)).data.login.token).toMatch(/^nms_/);
    expect(await login(a, 'STAFF', 'autre.agent', 'le bon mot de passe')).toMatch(/^nms_/);
    // The counter dies with its window: at most 15 minutes from now. Its key names nobody.
    const { rows } = await a.app.pool.query(`SELECT expire FROM rate_limit WHERE key = $1`, [`login-login-ip:${hashSecret('staff:5212345|198.51.100.20')}`]);
    expect(Number(rows[0].expire)).toBeLessThanOrEqual(Date.now() + 15 * 60_000);
    expect(JSON.stringify((await a.app.pool.query('SELECT key FROM rate_limit')).rows)).not.toMatch(/5212345|198\.51|127\.0\.0\.1/);
  });

  it('never closes a login to its owner: 50 wrong passwords from 50 addresses, then the right one from a fresh address gets in within seconds', async () => {
    await seedStaff(a.app, { login: '5299999', password: 'le bon mot de passe' });
    const wrong = await Promise.all(Array.from({ length: 50 }, (_, i) => loginFrom(`203.0.113.${i + 1}`, '5299999', `faux ${i}`, i)));
    expect(wrong.map((r) => r.data.login.errors[0].code)).toEqual(Array(50).fill('INVALID_CREDENTIALS'));
    const started = performance.now();
    const right = await loginFrom('192.0.2.200', '5299999', 'le bon mot de passe');
    const seconds = (performance.now() - started) / 1_000;
    expect(right.data.login.token, JSON.stringify(right)).toMatch(/^nms_/);
    // Slowed (a 51st attempt waits the longest delay, 3 s), never refused: far from a 15-minute lock-out.
    expect(seconds).toBeGreaterThanOrEqual(slowDownMs(51) / 1_000 - 0.05);
    expect(seconds).toBeLessThan(60);
    // The success ends the slow-down: the next attempt is not delayed.
    expect(slowDownMs(1)).toBe(0);
    const { rows } = await a.app.pool.query(`SELECT 1 FROM rate_limit WHERE key = $1`, [`login-login:${hashSecret('staff:5299999')}`]);
    expect(rows).toEqual([]);
  }, 90_000);

  it('counts before it checks: 30 concurrent wrong passwords from one address get 10 checks', async () => {
    await seedStaff(a.app, { login: 'cible', password: 'le bon mot de passe' });
    const attempts = await Promise.all(Array.from({ length: 30 }, (_, i) => loginFrom('198.51.100.30', 'cible', `faux ${i}`, i)));
    const codes = attempts.map((r) => r.data.login.errors[0].code);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(10);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(20);
    expect((await loginFrom('198.51.100.30', 'cible', 'le bon mot de passe')).data.login.errors[0].code).toBe('RATE_LIMITED');
    expect((await loginFrom('198.51.100.31', 'cible', 'le bon mot de passe')).data.login.token).toMatch(/^nms_/);
  }, 60_000);

  it('slows every login of an address that keeps failing on many accounts', async () => {
    // 100 failures from one address, on 100 logins: the 101st attempt from there is refused, whatever the login.
    const failures = await Promise.all(Array.from({ length: 100 }, (_, i) => loginFrom('198.51.100.40', `inconnu${i}`, 'faux', i)));
    expect(failures.map((r) => r.data.login.errors[0].code)).toEqual(Array(100).fill('INVALID_CREDENTIALS'));
    expect((await loginFrom('198.51.100.40', 'autre.agent', 'le bon mot de passe')).data.login.errors[0].code).toBe('RATE_LIMITED');
  }, 90_000);

  it('keeps a changed password apart from logins: failed logins do not block the change, wrong current passwords do not block logins', async () => {
    await seedStaff(a.app, { login: 'changeur', password: 'le bon mot de passe' });
    const token = await login(a, 'STAFF', 'changeur', 'le bon mot de passe');
    for (let i = 0; i < 10; i++) await a.gql(LOGIN, { input: { realm: 'STAFF', login: 'changeur', password: `faux ${i}` } });
    const CHANGE = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { ok errors { code } } }`;
    const change = (current: string, next: string) =>
      a.gql(CHANGE, { input: { currentPassword: current, password: next, passwordConfirmation: next } }, { token });
    for (let i = 0; i < 10; i++) expect((await change(`faux ${i}`, 'un nouveau mot de passe')).data.changePassword.errors[0].code).toBe('WRONG_PASSWORD');
    expect((await change('le bon mot de passe', 'un nouveau mot de passe')).data.changePassword.errors[0].code).toBe('RATE_LIMITED');
    expect((await loginFrom('198.51.100.50', 'changeur', 'le bon mot de passe')).data.login.token).toMatch(/^nms_/);
  }, 60_000);

  it('takes a login or an e-mail address of any allowed length as a key', async () => {
    const longLogin = 'x'.repeat(100);
    const { data } = await a.gql(LOGIN, { input: { realm: 'PATRON', login: longLogin, password: 'faux mot de passe' } });
    expect(data.login.errors[0].code).toBe('INVALID_CREDENTIALS');
    const email = `${'a'.repeat(64)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.fr`;
    const resent = await a.gql(`mutation($email: EmailAddress!) { resendConfirmation(input: { email: $email }) { ok errors { code } } }`, { email });
    expect(resent.data.resendConfirmation, JSON.stringify(resent)).toEqual({ ok: true, errors: [] });
  });

  it('lets a library workshop register 60 people from one address in an hour, stops a script there, and believes X-Forwarded-For only from a trusted proxy', async () => {
    const results = [];
    for (let i = 0; i < 80; i++) results.push(await httpGql(urls[i % 2]!, REGISTER, { input: registerInput(libraryId) }, '198.51.100.7'));
    expect(results.map((r) => r.data.register.errors)).toEqual(Array(80).fill([]));
    const blocked = await httpGql(urls[0], REGISTER, { input: registerInput(libraryId) }, '198.51.100.7');
    expect(blocked.data.register.errors.map((e: { code: string }) => e.code)).toEqual(['RATE_LIMITED']);
    const otherAddress = await httpGql(urls[1], REGISTER, { input: registerInput(libraryId) }, '198.51.100.8');
    expect(otherAddress.data.register.ok).toBe(true);
  }, 180_000);

  it('stops a flood of registrations to one mailbox, from however many addresses, at a handful of e-mails an hour', async () => {
    const mailbox = 'boite.inondee@example.org';
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => httpGql(urls[i % 2]!, REGISTER, { input: registerInput(libraryId, { email: mailbox }) }, `192.0.2.${i + 10}`)),
    );
    const refused = results.flatMap((r) => r.data.register.errors).filter((e: { code: string }) => e.code === 'RATE_LIMITED');
    expect(results.filter((r) => r.data.register.ok)).toHaveLength(5);
    expect(refused).toHaveLength(25);
    expect(refused[0]).toMatchObject({
      field: 'email',
      message: expect.stringMatching(/^Trop d'e-mails ont déjà été envoyés à cette adresse\. Réessayez dans \d+ minutes?\.$/),
    });
    const queued = await a.app.prisma.emailOutbox.count({ where: { toAddresses: { has: mailbox } } });
    expect(queued).toBe(5);
    // Asked anonymously, a resend to that mailbox sends nothing more, and says nothing about it.
    const resent = await a.gql(`mutation($email: EmailAddress!) { resendConfirmation(input: { email: $email }) { ok errors { code } } }`, { email: mailbox });
    expect(resent.data.resendConfirmation).toEqual({ ok: true, errors: [] });
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
