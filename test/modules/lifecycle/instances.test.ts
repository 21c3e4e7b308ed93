// Two application instances (two yoga + pg-boss runtimes) on one database: each cron occurrence
// yields one job run, and each account one reminder, whichever instance runs it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCHEDULED_JOBS } from '../../../src/wiring/schedules.js';
import { hashPassword } from '../../../src/lib/password.js';
import { FakeResend } from '../../support/fake-resend.js';
import { seedLibrary, startTestApp, type TestApp } from '../../support/harness.js';

const REMINDER = 'account.renewal-reminder';
// Every minute instead of every hour, so that the test sees an occurrence soon.
const schedules = SCHEDULED_JOBS.filter((j) => j.name === REMINDER).map((j) => ({ ...j, cron: '* * * * *' }));
const reminderJob = schedules[0]!;

let resend: FakeResend;
let a: TestApp;
let b: TestApp;
let libraryId: string;
let seq = 0;

async function duePatron(app: TestApp) {
  seq += 1;
  const login = `rappel.${seq}`;
  await app.app.prisma.patron.create({
    data: {
      libraryId,
      lastName: 'Rappel',
      firstName: `N${seq}`,
      birthDate: new Date('1980-01-01'),
      email: `${login}@example.org`,
      login,
      loginKey: login,
      passwordHash: await hashPassword('mot de passe'),
      newsletter: false,
      identityKey: `rappel|${seq}`,
      searchText: login,
      status: 'ACTIVE',
      activeUntil: new Date(app.clock.now().getTime() + 10 * 86_400_000),
    },
  });
  return `${login}@example.org`;
}

const reminders = (address: string) => resend.to(address).filter((e) => e.subject === 'Votre abonnement NuMos arrive à échéance');

beforeAll(async () => {
  resend = await new FakeResend().start();
  a = await startTestApp({ resend, workers: true, schedules });
  b = await startTestApp({ resend, workers: true, schedules, database: a.database });
  libraryId = (await seedLibrary(a.app, { code: '5212345', name: 'Nilvange' })).id;
});
afterAll(async () => {
  await b.close();
  await a.close();
  await resend.stop();
});

it('runs each cron occurrence once across two instances, one reminder per account', async () => {
  const addresses = [await duePatron(a), await duePatron(a), await duePatron(a)];
  // Wait for an occurrence sent after these accounts exist to have been run (one sent while they
  // were being written may have run before them: its worker is woken as soon as it is sent).
  const since = (await a.app.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
  await expect
    .poll(
      async () =>
        (await a.app.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed' AND created_on > $2`, [REMINDER, since]))
          .rows[0].n,
      { timeout: 90_000, interval: 1_000 },
    )
    .toBeGreaterThanOrEqual(1);
  const { rows } = await a.app.pool.query(
    `SELECT date_trunc('minute', created_on) AS minute, count(*)::int AS jobs FROM pgboss.job WHERE name = $1 GROUP BY 1`,
    [REMINDER],
  );
  for (const row of rows) expect(row.jobs).toBe(1);
  await resend.waitFor(() => addresses.every((address) => reminders(address).length === 1));
  await new Promise((r) => setTimeout(r, 1_000));
  for (const address of addresses) expect(reminders(address)).toHaveLength(1);
}, 120_000);

it('sends one reminder per account when both instances run the job at the same moment', async () => {
  const addresses = [await duePatron(a), await duePatron(a)];
  const counts = await Promise.all([reminderJob.run(a.app, a.clock.now()), reminderJob.run(b.app, b.clock.now())]);
  // The minute's occurrence may run beside them and remind some first: never more than one each.
  expect(counts.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(2);
  await resend.waitFor(() => addresses.every((address) => reminders(address).length === 1));
  await new Promise((r) => setTimeout(r, 1_000));
  for (const address of addresses) expect(reminders(address)).toHaveLength(1);
});
