// Every job handler of the application, started with the server.
import type { App } from '../instance.js';
import { TIME_ZONE } from '../lib/calendar.js';
import { workEmailQueues } from '../email/delivery.js';
import { sendPasswordReset } from '../modules/passwords/service.js';
import { resendConfirmationTo } from '../modules/registration/service.js';
import type { Realm } from '../modules/sessions/service.js';
import { MEMBERSHIP_CHECK_QUEUE, PASSWORD_RESET_QUEUE, POLLING, RESEND_CONFIRMATION_QUEUE, type Polling } from '../jobs/queues.js';
import { runMembershipCheck, type CheckJob } from '../modules/membership/service.js';
import { runScheduledJob } from '../jobs/run.js';
import { drainQueue } from '../jobs/work.js';
import { syncTestClock } from '../modules/lifecycle/test-clock.js';

export async function startWorkers(app: App, polling: Polling = POLLING): Promise<void> {
  await workEmailQueues(app, polling);
  await drainQueue<{ email: string }>(app.boss, RESEND_CONFIRMATION_QUEUE, { pace: polling.prompt }, async (jobs) => {
    for (const job of jobs) await resendConfirmationTo(app, job.data.email);
  });
  await drainQueue<{ realm: Realm; login: string }>(app.boss, PASSWORD_RESET_QUEUE, { pace: polling.prompt }, async (jobs) => {
    for (const job of jobs) await sendPasswordReset(app, job.data.realm, job.data.login);
  });
  // Checks in libraries' systems: I/O-bound, a few at once per instance; a library whose calls are
  // all taken (2 at once, 60 a minute) has its job come back when one frees.
  await drainQueue<CheckJob>(app.boss, MEMBERSHIP_CHECK_QUEUE, { pace: polling.prompt, workers: 6 }, async ([job]) => {
    const wait = await runMembershipCheck(app, job!.data);
    if (wait) await app.boss.send(MEMBERSHIP_CHECK_QUEUE, job!.data, { startAfter: new Date(Date.now() + wait.retryAfterSeconds * 1_000) });
  });
  for (const job of app.schedules) {
    await app.boss.schedule(job.name, job.cron, null, { tz: TIME_ZONE });
    await app.boss.work(job.name, polling.slow, async () => {
      if (app.config.testClock) await syncTestClock(app);
      await runScheduledJob(app, job, app.clock.now());
    });
  }
}
