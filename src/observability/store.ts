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
}

export async function readServiceState(sql: Sql, boss: PgBoss, now: Date, defaultCapacity: number): Promise<ServiceState> {
  const [{ rows }, queues] = await Promise.all([
    sql.query<{
      outbox_pending: number;
      outbox_oldest: Date | null;
      pending: { state: string; count: number }[];
      capacity: number;
      used: number;
    }>(
      `SELECT (SELECT count(*) FROM email_outbox WHERE status = 'PENDING')::int AS outbox_pending,
            (SELECT min(created_at) FROM email_outbox WHERE status = 'PENDING') AS outbox_oldest,
            (SELECT coalesce(json_agg(json_build_object('state', state, 'count', n)), '[]') FROM (
               SELECT state, count(*)::int AS n FROM registration_request
                WHERE state IN ('AWAITING_CONFIRMATION', 'AWAITING_DECISION') GROUP BY state) s) AS pending,
            coalesce((SELECT capacity FROM licence_pool WHERE id = 1), $1)::int AS capacity,
            (SELECT count(*) FROM patron WHERE status = 'ACTIVE')::int AS used`,
      [defaultCapacity],
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
  };
}
