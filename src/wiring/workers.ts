// Every job handler of the application, started with the server.
import type { App } from '../instance.js';
import { TIME_ZONE } from '../lib/calendar.js';
import { workEmailQueues } from '../email/delivery.js';
import { sendPasswordReset } from '../modules/passwords/service.js';
import { resendConfirmationTo } from '../modules/registration/service.js';
import type { Realm } from '../modules/sessions/service.js';
import { MEMBERSHIP_CHECK_QUEUE, PASSWORD_RESET_QUEUE, RESEND_CONFIRMATION_QUEUE } from '../jobs/queues.js';
import { runMembershipCheck, type CheckJob } from '../modules/membership/service.js';
import { runScheduledJob } from '../jobs/run.js';
import { syncTestClock } from '../modules/lifecycle/test-clock.js';

export async function startWorkers(app: App): Promise<void> {
  await workEmailQueues(app);
  await app.boss.work<{ email: string }>(RESEND_CONFIRMATION_QUEUE, { pollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const job of jobs) await resendConfirmationTo(app, job.data.email);
  });
  await app.boss.work<{ realm: Realm; login: string }>(PASSWORD_RESET_QUEUE, { pollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const job of jobs) await sendPasswordReset(app, job.data.realm, job.data.login);
  });
  // Checks in libraries' systems: I/O-bound, a few at once per instance; a library whose calls are
  // all taken (2 at once, 60 a minute) has its job come back when one frees.
  await app.boss.work<CheckJob>(MEMBERSHIP_CHECK_QUEUE, { localConcurrency: 6, batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
    const wait = await runMembershipCheck(app, job!.data);
    if (wait) await app.boss.send(MEMBERSHIP_CHECK_QUEUE, job!.data, { startAfter: new Date(Date.now() + wait.retryAfterSeconds * 1_000) });
  });
  for (const job of app.schedules) {
    await app.boss.schedule(job.name, job.cron, null, { tz: TIME_ZONE });
    await app.boss.work(job.name, { pollingIntervalSeconds: 5 }, async () => {
      if (app.config.testClock) await syncTestClock(app);
      await runScheduledJob(app, job, app.clock.now());
    });
  }
}
