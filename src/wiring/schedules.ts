// The time-driven steps of the life cycle, as pg-boss cron schedules (time zone Europe/Paris). pg-boss
// makes one job per cron occurrence whatever the number of instances; each job is set-based SQL
// that is idempotent, so a retry or an overlap with the next run changes nothing twice. The list
// is in pipeline order: the test clock runs due jobs in this order, so that one step's output
// (an expiry) is there for the next (the purge).
import type { ScheduledJob } from '../instance.js';
import { escalateOverdueRequests, expireTemporaryAccounts } from '../modules/decisions/jobs.js';
import { expireAccounts, lapseUnconfirmedRequests, pruneOutbox, purgePersonalData, sendRenewalReminders } from '../modules/lifecycle/jobs.js';
import { rollUpFinishedMonth } from '../modules/stats/service.js';
import { pruneEventLog } from '../events/bus.js';

export type { ScheduledJob } from '../instance.js';

export const SCHEDULED_JOBS: ScheduledJob[] = [
  { name: 'registration.lapse', cron: '*/10 * * * *', run: lapseUnconfirmedRequests },
  { name: 'account.temporary-expiry', cron: '*/10 * * * *', run: expireTemporaryAccounts },
  { name: 'registration.escalate', cron: '*/10 * * * *', run: escalateOverdueRequests },
  { name: 'account.renewal-reminder', cron: '0 * * * *', run: sendRenewalReminders },
  { name: 'account.expiry', cron: '*/10 * * * *', run: expireAccounts },
  { name: 'account.purge', cron: '30 3 * * *', run: purgePersonalData },
  { name: 'email.prune', cron: '45 3 * * *', run: pruneOutbox },
  { name: 'stats.monthly-rollup', cron: '15 0 1 * *', run: rollUpFinishedMonth },
  { name: 'events.prune', cron: '7 * * * *', run: (app) => pruneEventLog(app.db) },
];
