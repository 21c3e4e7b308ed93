// Workers that drain their queue: each looks again at once after a job, so that a backlog goes at
// its handlers' pace, and sleeps while its queue is empty until a job is announced (POLLING in
// src/jobs/queues.ts). pg-boss would otherwise wait out its interval after every job: with one job
// a fetch (batchSize 1, which its burstWhenBatchFull ignores), one job every two seconds.
import type { Job, PgBoss } from 'pg-boss';
import type { Pace } from './queues.js';

export async function drainQueue<T>(
  boss: PgBoss,
  queue: string,
  options: { pace: Pace; workers?: number },
  handler: (jobs: Job<T>[]) => Promise<void>,
): Promise<void> {
  for (let n = 0; n < (options.workers ?? 1); n += 1) {
    // Each worker its own work() call: pg-boss wakes a worker by the id work() answers.
    let workerId: string | undefined;
    workerId = await boss.work<T>(queue, { ...options.pace, batchSize: 1, localConcurrency: 1 }, async (jobs) => {
      try {
        await handler(jobs);
      } finally {
        if (workerId) boss.notifyWorker(workerId);
      }
    });
  }
}
