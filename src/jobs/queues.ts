// Every pg-boss queue of the application, created in one place at start-up.
import type { Queue } from 'pg-boss';

export const EMAIL_QUEUE = 'email.send';
export const EMAIL_DEAD_QUEUE = 'email.dead';

type QueueDefinition = Omit<Queue, 'name'> & { name: string };

export const queueDefinitions = (options: { emailRetryDelaySeconds: number }): QueueDefinition[] => [
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
    expireInSeconds: 60,
    deadLetter: EMAIL_DEAD_QUEUE,
  },
];
