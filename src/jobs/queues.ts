// Every pg-boss queue of the application, created in one place at start-up.
import type { Queue } from 'pg-boss';

export const EMAIL_QUEUE = 'email.send';
export const EMAIL_DEAD_QUEUE = 'email.dead';

type QueueDefinition = Omit<Queue, 'name'> & { name: string };

export const QUEUES: QueueDefinition[] = [
  // Dead letters first: a queue can only name a dead-letter queue that exists.
  { name: EMAIL_DEAD_QUEUE, retentionSeconds: 30 * 86_400 },
  {
    name: EMAIL_QUEUE,
    // Resend outages are usually short; back off from 10 s up to an hour, for about a day.
    retryLimit: 12,
    retryDelay: 10,
    retryBackoff: true,
    retryDelayMax: 3_600,
    expireInSeconds: 60,
    deadLetter: EMAIL_DEAD_QUEUE,
  },
];
