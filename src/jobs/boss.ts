// pg-boss: the job queue inside PostgreSQL. Its schema is created (or upgraded) at start-up and
// every queue of queueDefinitions exists before anything is sent or worked.
import { PgBoss, type Db } from 'pg-boss';
import { isDatabaseUnavailable, reportDatabaseError } from '../db/availability.js';
import type { Sql } from '../db/sql.js';
import { log } from '../observability/logger.js';
import { repeatedErrors } from '../observability/repeated-errors.js';
import { queueDefinitions, type QueueOptions } from './queues.js';

export type { PgBoss };

/** `quiet`: only to send jobs (a command line), without the schedules and the maintenance of a server. */
export async function startBoss(connectionString: string, options: QueueOptions & { poolMax?: number; quiet?: boolean }): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString,
    max: options.poolMax ?? 4,
    application_name: 'numos-jobs',
    // A job sent wakes the workers of every instance at once (src/jobs/queues.ts, POLLING), over
    // one connection of its own that listens. A command line only sends.
    ...(options.quiet ? { schedule: false, supervise: false } : { useListenNotify: true }),
  });
  // During a database outage every poll of every worker fails: one line per cause, not one per poll.
  boss.on('error', (error) =>
    isDatabaseUnavailable(error) ? reportDatabaseError(error) : repeatedErrors.report(`pg-boss:${error.message}`, `pg-boss : ${error.message}`),
  );
  // Without a listener (PgBouncer in transaction pooling) the workers poll at their base pace: said once.
  boss.on('warning', (warning) => {
    if ((warning.data as { type?: string }).type === 'listen_notify_unavailable') {
      log().warn(
        { cause: warning.message },
        'pg-boss : notifications indisponibles, les files sont interrogées toutes les 0,5 s (5 s pour les tâches planifiées)',
      );
    }
  });
  await boss.start();
  // createQueue leaves an existing queue as it was; updateQueue brings its options up to date.
  // Dead-letter queues first (a queue can only name one that exists), then the others together:
  // one round of statements instead of one per queue, at each start.
  const definitions = queueDefinitions(options);
  const deadLetters = new Set(definitions.map((queue) => queue.deadLetter).filter(Boolean));
  const ensure = async ({ name, ...queue }: (typeof definitions)[number]) => {
    await boss.createQueue(name, queue);
    await boss.updateQueue(name, queue);
  };
  await Promise.all(definitions.filter((queue) => deadLetters.has(queue.name)).map(ensure));
  await Promise.all(definitions.filter((queue) => !deadLetters.has(queue.name)).map(ensure));
  return boss;
}

/**
 * pg-boss's view of a transaction (the SQL port, over pg or a Prisma transaction), so that a job
 * exists if and only if the change that caused it commits (transactional outbox).
 */
export const bossDb = (sql: Sql): Db => ({ executeSql: (text, values = []) => sql.query(text, values) });
