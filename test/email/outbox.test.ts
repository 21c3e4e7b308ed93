// The transactional outbox and its delivery through (a fake) Resend.
import { createElement } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordReset } from '../../emails/PasswordReset.js';
import { REDACTED } from '../../src/email/delivery.js';
import type { OutgoingEmail } from '../../src/email/outbox.js';
import { startTestApp, type TestApp } from '../support/harness.js';

const email = (to: string, token = `secret-token-${crypto.randomUUID()}`): OutgoingEmail => ({
  template: 'PasswordReset',
  to: [to],
  fromName: 'Administration NILVANGE',
  subject: 'Réinitialisez votre mot de passe NuMos',
  body: createElement(PasswordReset, {
    displayName: 'Camille',
    login: 'camille',
    link: `http://localhost:3000/mot-de-passe?token=${token}`,
    expiresAt: '28 novembre 2026 à 12:00',
  }),
  secrets: [token],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbox delivered through Resend', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ resend: true, workers: true, env: { NUMOS_EMAIL_RETRY_DELAY_SECONDS: '1' } });
  });
  afterAll(() => t.close());

  it('sends an e-mail queued with a committed change, in French HTML and text, then redacts its link', async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('a@example.org', token)));
    const [sent] = await t.resend!.waitFor(() => t.resend!.to('a@example.org').length === 1).then(() => t.resend!.to('a@example.org'));
    expect(sent!.from).toBe('"Administration NILVANGE" <numos@numos.local>');
    expect(sent!.subject).toBe('Réinitialisez votre mot de passe NuMos');
    expect(sent!.html).toMatch(/<html[^>]* lang="fr"/);
    expect(sent!.html).toContain(token);
    expect(sent!.text).toContain('Bonjour Camille');
    expect(sent!.text).toContain(`token=${token}`);
    expect(sent!.idempotencyKey).toBeTruthy();

    await expect.poll(async () => (await t.app.prisma.emailOutbox.findUnique({ where: { id } }))?.status).toBe('SENT');
    const record = await t.app.prisma.emailOutbox.findUniqueOrThrow({ where: { id } });
    expect(record.html).not.toContain(token);
    expect(record.text).not.toContain(token);
    expect(record.text).toContain(REDACTED);
    expect(record.secrets).toEqual([]);
  });

  it('sends nothing when the change that queued the e-mail rolls back', async () => {
    await expect(
      t.app.prisma.$transaction(async (tx) => {
        await t.app.outbox.queue(tx, email('rolled-back@example.org'));
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    // A later e-mail goes through the same queue: once it has arrived, the first would have too.
    await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('after-rollback@example.org')));
    await t.resend!.waitFor(() => t.resend!.to('after-rollback@example.org').length === 1);
    expect(t.resend!.to('rolled-back@example.org')).toEqual([]);
    expect(await t.app.prisma.emailOutbox.count({ where: { toAddresses: { has: 'rolled-back@example.org' } } })).toBe(0);
  });

  it('retries after a Resend failure, with backoff, and sends once', async () => {
    t.resend!.failNext({ status: 500 }, { status: 503 });
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('retry@example.org')));
    await t.resend!.waitFor(() => t.resend!.to('retry@example.org').length === 1, 25_000);
    const attempts = t.resend!.requests.filter((r) => r.status >= 500 || r.idempotencyKey === t.resend!.to('retry@example.org')[0]!.idempotencyKey);
    expect(attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    // Exponential backoff from a 1 s base: the second wait is not shorter than the first base delay.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    await expect.poll(async () => (await t.app.prisma.emailOutbox.findUnique({ where: { id } }))?.status).toBe('SENT');
    const record = await t.app.prisma.emailOutbox.findUniqueOrThrow({ where: { id } });
    expect(record.attempts).toBe(3);
  }, 40_000);

  it('waits as long as a 429 answer says before trying again', async () => {
    t.resend!.failNext({ status: 429, headers: { 'retry-after': '2' }, body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' } });
    await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('slow-down@example.org')));
    await t.resend!.waitFor(() => t.resend!.to('slow-down@example.org').length === 1, 20_000);
    const limited = t.resend!.requests.find((r) => r.status === 429)!;
    const accepted = t.resend!.requests.find((r) => r.idempotencyKey === t.resend!.to('slow-down@example.org')[0]!.idempotencyKey && r.status === 200)!;
    expect(accepted.at - limited.at).toBeGreaterThanOrEqual(1_900);
  });

  it('gives up at once on an address Resend refuses (4xx)', async () => {
    t.resend!.failNext({ status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' } });
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('refused@example.org')));
    await expect.poll(async () => (await t.app.prisma.emailOutbox.findUnique({ where: { id } }))?.status, { timeout: 10_000 }).toBe('FAILED');
    const record = await t.app.prisma.emailOutbox.findUniqueOrThrow({ where: { id } });
    expect(record.lastError).toContain('422');
    await sleep(1_500);
    expect(t.resend!.to('refused@example.org')).toEqual([]);
  });

  it('never sends an e-mail twice, even when a delivery runs again after a crash', async () => {
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('once@example.org')));
    await t.resend!.waitFor(() => t.resend!.to('once@example.org').length === 1);
    await expect.poll(async () => (await t.app.prisma.emailOutbox.findUnique({ where: { id } }))?.status).toBe('SENT');

    // A crash between Resend's answer and our update: the record still says PENDING, the job runs
    // again, twice at once even. Resend sees the same idempotency key and sends nothing more.
    await t.app.prisma.emailOutbox.update({ where: { id }, data: { status: 'PENDING' } });
    await Promise.all([t.app.deliverer.deliver(id), t.app.deliverer.deliver(id)]);
    const key = t.resend!.to('once@example.org')[0]!.idempotencyKey;
    expect(t.resend!.requests.filter((r) => r.idempotencyKey === key).length).toBeGreaterThanOrEqual(2);
    expect(t.resend!.to('once@example.org')).toHaveLength(1);

    // And a job for an e-mail already SENT does not even call Resend.
    const before = t.resend!.requests.length;
    await t.app.deliverer.deliver(id);
    expect(t.resend!.requests.length).toBe(before);
  });
});

describe('outbox without RESEND_API_KEY (development mailbox)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ workers: true });
  });
  afterAll(() => t.close());

  it('keeps the e-mail, link included, and creates no delivery job', async () => {
    const token = `dev-${crypto.randomUUID()}`;
    const id = await t.app.prisma.$transaction((tx) => t.app.outbox.queue(tx, email('dev@example.org', token)));
    const record = await t.app.prisma.emailOutbox.findUniqueOrThrow({ where: { id } });
    expect(record.status).toBe('LOCAL');
    expect(record.text).toContain(`token=${token}`);
    const jobs = await t.app.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'email.send'`);
    expect(jobs.rows[0].n).toBe(0);
  });
});
