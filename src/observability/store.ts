// The state an operator watches: in one query, the e-mail outbox (backlog and its oldest e-mail),
// requests waiting for a person, the licence pool; and from pg-boss's own API (its tables are its
// business), the jobs that gave up, counted by its monitor (at most a minute old). Read by
// /metrics (gauges) and /ready (degraded beyond thresholds).
import type { Sql } from '../db/sql.js';
import type { PgBoss } from '../jobs/boss.js';

export interface ServiceState {
  outboxPending: number;
  outboxOldestSeconds: number;
  pending: { state: string; count: number }[];
  licences: { capacity: number; used: number };
  failedJobs: number;
  /** pg-boss's queues, as its monitor counts them. */
  queues: { name: string; queued: number; active: number; deferred: number; failed: number }[];
  /** E-mails Resend refuses for NuMos's own configuration, kept for retry. */
  emailsHeld: number;
  /** E-mails given up in the last 24 hours. */
  emailsFailedRecently: number;
  /** E-mails waiting whose last attempt failed (a provider's outage, a refusal): delivery is failing now. */
  emailsFailing: number;
}

export async function readServiceState(sql: Sql, boss: PgBoss, now: Date, defaultCapacity: number): Promise<ServiceState> {
  const [{ rows }, queues] = await Promise.all([
    sql.query<{
      outbox_pending: number;
      outbox_oldest: Date | null;
      pending: { state: string; count: number }[];
      capacity: number;
      used: number;
      held: number;
      failed_recently: number;
      failing: number;
    }>(
      `SELECT (SELECT count(*) FROM email_outbox WHERE status IN ('PENDING', 'HELD'))::int AS outbox_pending,
            (SELECT min(created_at) FROM email_outbox WHERE status IN ('PENDING', 'HELD')) AS outbox_oldest,
            (SELECT coalesce(json_agg(json_build_object('state', state, 'count', n)), '[]') FROM (
               SELECT state, count(*)::int AS n FROM registration_request
                WHERE state IN ('AWAITING_CONFIRMATION', 'AWAITING_DECISION') GROUP BY state) s) AS pending,
            coalesce((SELECT capacity FROM licence_pool WHERE id = 1), $1)::int AS capacity,
            (SELECT count(*) FROM patron WHERE status = 'ACTIVE')::int AS used,
            (SELECT count(*) FROM email_outbox WHERE status = 'HELD')::int AS held,
            (SELECT count(*) FROM email_outbox WHERE status = 'FAILED' AND created_at > $2::timestamptz - interval '1 day')::int AS failed_recently,
            (SELECT count(*) FROM email_outbox WHERE status IN ('PENDING', 'HELD') AND last_error IS NOT NULL)::int AS failing`,
      [defaultCapacity, now],
    ),
    boss.getQueues(),
  ]);
  const row = rows[0]!;
  return {
    outboxPending: row.outbox_pending,
    outboxOldestSeconds: row.outbox_oldest ? Math.max(0, (now.getTime() - row.outbox_oldest.getTime()) / 1_000) : 0,
    pending: row.pending,
    licences: { capacity: row.capacity, used: row.used },
    failedJobs: queues.reduce((sum, queue) => sum + queue.failedCount, 0),
    queues: queues.map((q) => ({ name: q.name, queued: q.queuedCount, active: q.activeCount, deferred: q.deferredCount, failed: q.failedCount })),
    emailsHeld: row.held,
    emailsFailedRecently: row.failed_recently,
    emailsFailing: row.failing,
  };
}
