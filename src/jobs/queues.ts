// Every pg-boss queue of the application, created in one place at start-up.
import type { Queue } from 'pg-boss';

export const EMAIL_QUEUE = 'email.send';
export const EMAIL_DEAD_QUEUE = 'email.dead';
export const RESEND_CONFIRMATION_QUEUE = 'registration.resend-confirmation';
export const PASSWORD_RESET_QUEUE = 'password.reset-request';
export const MEMBERSHIP_CHECK_QUEUE = 'membership.check';

/** Payloads that carry personal data (an address, a login) do not outlive their use by long. */
const PERSONAL_PAYLOAD = { deleteAfterSeconds: 3_600, retentionSeconds: 86_400, retryLimit: 5, retryDelay: 5, retryBackoff: true };

type QueueDefinition = Omit<Queue, 'name'> & { name: string };

/**
 * How a worker looks for jobs. Every queue has `notify`: a job sent wakes the workers of every
 * instance at once (PostgreSQL's LISTEN/NOTIFY, src/jobs/boss.ts), and a worker that has just
 * handled a job looks again at once (src/jobs/work.ts). Polling is then a backstop for what no
 * notification announces, a job due later (a retry, a `startAfter`), which starts at most
 * `notifyPollingIntervalSeconds` after it is due; `pollingIntervalSeconds` is the pace when the
 * instance cannot listen (PgBouncer in transaction pooling, a listener being reconnected). Before
 * notifications each instance asked about 20 times a second whether anything had come, idle or
 * not, and took one job per poll from a backlog.
 */
export type Pace = { pollingIntervalSeconds: number; notifyPollingIntervalSeconds: number };
export interface Polling {
  /** The queues whose jobs someone is waiting for: e-mails, checks in a library's system. */
  prompt: Pace;
  /** Scheduled steps (every ten minutes at the most) and given-up e-mails. */
  slow: Pace;
}

export const POLLING: Polling = {
  prompt: { pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 2 },
  slow: { pollingIntervalSeconds: 5, notifyPollingIntervalSeconds: 30 },
};

export interface QueueOptions {
  emailRetryDelaySeconds: number;
  /** One queue per scheduled job. */
  scheduledJobs: string[];
}

/** The queues, given the names of the scheduled jobs (src/wiring/schedules.ts, which imports the modules: not imported here). */
export const queueDefinitions = (options: QueueOptions): QueueDefinition[] =>
  // Every queue announces its jobs (POLLING).
  queues(options).map((queue) => ({ ...queue, notify: true }));

const queues = (options: QueueOptions): QueueDefinition[] => [
  // Dead letters first: a queue can only name a dead-letter queue that exists.
  { name: EMAIL_DEAD_QUEUE, retentionSeconds: 30 * 86_400 },
  {
    name: EMAIL_QUEUE,
    // Resend outages are usually short; back off exponentially (10 s by default) up to an hour
    // between attempts, for about a day in all.
    retryLimit: 12,
    retryDelay: options.emailRetryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: 3_600,
    // A job holds up to 50 e-mails of a bulk run (~30 s at Resend's pace); a worker that died
    // mid-job has its job retried after this long (sent e-mails are skipped then).
    expireInSeconds: 5 * 60,
    deadLetter: EMAIL_DEAD_QUEUE,
  },
  // Requests answered at once with the same words whoever asks; the work happens here, so the
  // answer's timing tells nothing either.
  { name: RESEND_CONFIRMATION_QUEUE, ...PERSONAL_PAYLOAD },
  { name: PASSWORD_RESET_QUEUE, ...PERSONAL_PAYLOAD },
  // A check in a library's system (ids only in the payload): a failure of NuMos's own is retried
  // a few times; the library's system failing is an UNAVAILABLE check, not a failed job.
  { name: MEMBERSHIP_CHECK_QUEUE, retryLimit: 3, retryDelay: 10, expireInSeconds: 120, deleteAfterSeconds: 86_400 },
  // Scheduled steps: a failed run is retried a few times; the next occurrence catches up anyway.
  ...options.scheduledJobs.map((name) => ({ name, retryLimit: 3, retryDelay: 30, expireInSeconds: 15 * 60 })),
];
