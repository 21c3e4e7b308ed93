// Jobs announced by PostgreSQL's LISTEN/NOTIFY: a job one instance sends wakes the workers of
// another at once, without waiting for their next poll. Here the workers poll once an hour: only a
// notification can bring them an e-mail queued after they went to sleep.
import { createElement } from 'react';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PasswordReset } from '../../emails/PasswordReset.js';
import { EMAIL_QUEUE, queueDefinitions } from '../../src/jobs/queues.js';
import { FakeResend } from '../support/fake-resend.js';
import { startTestApp, type TestApp } from '../support/harness.js';

const HOUR = { pollingIntervalSeconds: 3_600, notifyPollingIntervalSeconds: 3_600 };

let resend: FakeResend;
let sender: TestApp;
let worker: TestApp;

beforeAll(async () => {
  resend = await new FakeResend().start();
  sender = await startTestApp({ resend });
  worker = await startTestApp({ resend, workers: true, polling: { prompt: HOUR, slow: HOUR }, database: sender.database });
});
afterAll(async () => {
  await worker?.close();
  await sender?.close();
  await resend?.stop();
});

/** An e-mail queued by the sending instance, with the change that causes it. */
const queue = (to: string) =>
  sender.app.prisma.$transaction((tx) =>
    sender.app.outbox.queue(tx, {
      template: 'PasswordReset',
      to: [to],
      fromName: 'NuMos',
      subject: 'Réinitialisez votre mot de passe NuMos',
      body: createElement(PasswordReset, { displayName: 'Camille', login: 'camille', link: 'http://localhost:3000/mot-de-passe?token=t', expiresAt: 'demain' }),
      secrets: [],
    }),
  );

/** Jobs of the e-mail queue not yet done. */
const unfinished = async () =>
  Number(
    (await sender.app.pool.query(`SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state NOT IN ('completed', 'failed')`, [EMAIL_QUEUE])).rows[0].n,
  );

it('every queue announces its jobs', () => {
  const definitions = queueDefinitions({ emailRetryDelaySeconds: 10, scheduledJobs: ['a.job'] });
  expect(definitions.filter((queue) => queue.notify !== true)).toEqual([]);
});

it("a job sent by one instance wakes another instance's sleeping worker at once", async () => {
  // The first e-mail may be taken by the worker's first look at its queue, as it starts.
  await queue('premier@example.org');
  await resend.waitFor(() => resend.to('premier@example.org').length === 1);
  // Its job done, the worker sleeps for an hour unless woken.
  await expect.poll(unfinished).toBe(0);
  await queue('second@example.org');
  const [sent] = await resend.waitFor(() => resend.to('second@example.org').length === 1).then(() => resend.to('second@example.org'));
  expect(sent!.subject).toBe('Réinitialisez votre mot de passe NuMos');
  await expect.poll(unfinished).toBe(0);
});

it('a worker woken for a backlog takes it all, one job after the other, before it sleeps again', async () => {
  // Ten e-mails queued at once: ten notifications, most while the worker is busy with the first.
  const recipients = Array.from({ length: 10 }, (_, i) => `lot.${i}@example.org`);
  await Promise.all(recipients.map(queue));
  await resend.waitFor(() => recipients.every((to) => resend.to(to).length === 1));
  await expect.poll(unfinished).toBe(0);
});
