// When Resend refuses NuMos itself (its key, its sender) no e-mail is given up: they are held,
// /ready and /metrics say so, and they leave once the refusal ends. E-mails given up for good are
// sent again by `npm run cli -- outbox:retry`.
import { spawnSync } from 'node:child_process';
import { createElement } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordReset } from '../../emails/PasswordReset.js';
import { refusesConfiguration } from '../../src/email/delivery.js';
import { formatSender, type OutgoingEmail, withSenderAddress } from '../../src/email/outbox.js';
import { pruneHandledEmails } from '../../src/modules/lifecycle/store.js';
import { createHttpServer, type HttpServer } from '../../src/server/http.js';
import { startTestApp, type TestApp, listenOnLoopback } from '../support/harness.js';

const email = (to: string): OutgoingEmail => ({
  template: 'PasswordReset',
  to: [to],
  fromName: 'Administration NILVANGE',
  subject: 'Réinitialisez votre mot de passe NuMos',
  body: createElement(PasswordReset, {
    displayName: 'Camille',
    login: 'camille',
    link: 'http://localhost:3000/mot-de-passe?token=t',
    expiresAt: '28 novembre 2026 à 12:00',
  }),
  secrets: [],
});

describe('which refusals are NuMos’s own', () => {
  it.each([
    [401, 'missing_api_key', 'Missing API key in the authorization header.', true],
    [403, 'invalid_api_key', 'API key is invalid', true],
    [401, 'restricted_api_key', 'This API key is restricted to only send emails', true],
    [403, 'validation_error', 'The example.org domain is not verified.', true],
    [422, 'invalid_from_address', 'Invalid `from` field.', true],
    [422, 'validation_error', 'Invalid `from` field. The email address needs to follow the `email@example.com` format.', true],
    [422, 'validation_error', 'Invalid `to` field.', false],
    [422, 'invalid_attachment', 'Attachment must have either a content or path.', false],
    [400, 'validation_error', 'The `subject` field is required.', false],
    [404, 'not_found', 'The requested endpoint does not exist.', false],
  ])('%i %s → held %s', (status, name, message, held) => {
    expect(refusesConfiguration(status, name, message)).toBe(held);
  });

  it('sends a held e-mail with the mended sender address, its display name kept', () => {
    expect(withSenderAddress(formatSender('old@bad.example', 'Administration "NILVANGE"'), 'numos@moselle.fr')).toBe(
      '"Administration \\"NILVANGE\\"" <numos@moselle.fr>',
    );
    expect(withSenderAddress('old@bad.example', 'numos@moselle.fr')).toBe('numos@moselle.fr');
  });
});

describe('e-mails held while Resend refuses NuMos', () => {
  let t: TestApp;
  let http: HttpServer;
  let origin: string;
  beforeAll(async () => {
    t = await startTestApp({ resend: true, workers: true, env: { NUMOS_EMAIL_RETRY_DELAY_SECONDS: '1', NUMOS_READY_MAX_FAILED_EMAILS: '0' } });
    http = createHttpServer(t.app);
    origin = await listenOnLoopback(http.server);
  });
  afterAll(async () => {
    await http.close(1_000);
    await t.close();
  });
  const statusOf = async (id: string) => (await t.app.prisma.emailOutbox.findUnique({ where: { id } }))?.status;

  it('holds the e-mail on an invalid key, says so, and sends it once the key is accepted again', async () => {
    const refusal = { status: 403, body: { statusCode: 403, name: 'invalid_api_key', message: 'API key is invalid' } };
    t.resend!.failNext(refusal, refusal, refusal);
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('held@example.org')));

    await expect.poll(() => statusOf(id), { timeout: 10_000 }).toBe('HELD');
    const ready = await (await fetch(`${origin}/ready`)).json();
    expect(ready).toMatchObject({ status: 'degraded', emailsHeld: 1 });
    expect(ready.reasons).toContain('emails held');
    expect(await (await fetch(`${origin}/metrics`)).text()).toMatch(/^numos_emails\{[^}]*status="held"[^}]*\} 1$/m);

    // Three refusals, then Resend accepts: the same e-mail leaves, once, and nothing is held any more.
    await t.resend!.waitFor(() => t.resend!.to('held@example.org').length === 1, 30_000);
    await expect.poll(() => statusOf(id), { timeout: 10_000 }).toBe('SENT');
    expect(t.resend!.requests.filter((r) => r.status === 403)).toHaveLength(3);
    expect(await (await fetch(`${origin}/ready`)).json()).toMatchObject({ status: 'ready', emailsHeld: 0 });
    expect(await (await fetch(`${origin}/metrics`)).text()).toMatch(/^numos_emails\{[^}]*status="held"[^}]*\} 0$/m);
  }, 60_000);

  it('never prunes a held e-mail with those handled', async () => {
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('kept@example.org')));
    await t.resend!.waitFor(() => t.resend!.to('kept@example.org').length === 1);
    await expect.poll(() => statusOf(id)).toBe('SENT');
    // Written long ago and held since: the daily prune removes what was handled, not what waits.
    const old = new Date('2020-01-01T00:00:00Z');
    await t.app.prisma.emailOutbox.update({ where: { id }, data: { status: 'HELD', createdAt: old } });
    await pruneHandledEmails(t.app.db, new Date('2021-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
    expect(await statusOf(id)).toBe('HELD');
    await t.app.prisma.emailOutbox.update({ where: { id }, data: { status: 'SENT' } });
  });

  it('sends again, with `npm run cli -- outbox:retry --since`, the e-mails given up since that day', async () => {
    t.resend!.failNext({ status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' } });
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('given-up@example.org')));
    await expect.poll(() => statusOf(id), { timeout: 10_000 }).toBe('FAILED');
    expect((await (await fetch(`${origin}/ready`)).json()).reasons).toContain('emails failed');
    // Another one given up long before the date asked: left alone.
    const older = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('older@example.org')));
    await t.resend!.waitFor(() => t.resend!.to('older@example.org').length === 1);
    await expect.poll(() => statusOf(older)).toBe('SENT');
    await t.app.prisma.emailOutbox.update({ where: { id: older }, data: { status: 'FAILED', createdAt: new Date('2020-01-01T00:00:00Z') } });

    const env = {
      ...process.env,
      DATABASE_URL: t.database.url,
      NODE_ENV: 'test',
      RESEND_API_KEY: 're_test_key',
      RESEND_BASE_URL: t.resend!.url,
      EMAIL_FROM: 'numos@numos.local',
    };
    const bad = spawnSync('npm', ['run', '--silent', 'cli', '--', 'outbox:retry', '--since', '2026-02-30'], { env, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('outbox:retry [--since AAAA-MM-JJ]');

    const cli = spawnSync('npm', ['run', '--silent', 'cli', '--', 'outbox:retry', '--since', '2021-01-01'], { env, encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toContain("1 e-mail(s) remis en file d'envoi.");
    expect(cli.status).toBe(0);
    await t.resend!.waitFor(() => t.resend!.to('given-up@example.org').length === 1, 20_000);
    await expect.poll(() => statusOf(id)).toBe('SENT');
    expect(await statusOf(older)).toBe('FAILED');
  }, 60_000);
});
