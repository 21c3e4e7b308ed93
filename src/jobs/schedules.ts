// The time-driven steps of SPEC.md, as pg-boss cron schedules (time zone Europe/Paris). pg-boss
// makes one job per cron occurrence whatever the number of instances; each job is set-based SQL
// that is idempotent, so a retry or an overlap with the next run changes nothing twice.
import type { App } from '../app.js';
import { escalateOverdueRequests, expireTemporaryAccounts } from '../modules/decisions/jobs.js';

export interface ScheduledJob {
  name: string;
  cron: string;
  /** Runs the step for everything due at `at` (the application clock); returns rows changed. */
  run(app: App, at: Date): Promise<number>;
}

export const SCHEDULED_JOBS: ScheduledJob[] = [
  { name: 'registration.escalate', cron: '*/10 * * * *', run: escalateOverdueRequests },
  { name: 'account.temporary-expiry', cron: '*/10 * * * *', run: expireTemporaryAccounts },
];

export const SCHEDULE_TIME_ZONE = 'Europe/Paris';
