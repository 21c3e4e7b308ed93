// Every job handler of the application, started with the server.
import type { App } from '../instance.js';
import { TIME_ZONE } from '../lib/calendar.js';
import { workEmailQueues } from '../email/delivery.js';
import { sendPasswordReset } from '../modules/passwords/service.js';
import { resendConfirmationTo } from '../modules/registration/service.js';
import type { Realm } from '../modules/sessions/service.js';
import { PASSWORD_RESET_QUEUE, RESEND_CONFIRMATION_QUEUE } from '../jobs/queues.js';
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
  for (const job of app.schedules) {
    await app.boss.schedule(job.name, job.cron, null, { tz: TIME_ZONE });
    await app.boss.work(job.name, { pollingIntervalSeconds: 5 }, async () => {
      if (app.config.testClock) await syncTestClock(app);
      await runScheduledJob(app, job, app.clock.now());
    });
  }
}
