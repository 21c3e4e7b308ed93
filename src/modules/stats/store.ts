// The statistics' SQL: figures over a date range and per month, from the live tables and from
// the monthly roll-ups. The metered categories and their limits come from the quota functions
// (quota_limits_in_force, prisma/migrations/*_quota_rules_once).
import type { Sql } from '../../db/sql.js';

export interface RegistrationFigures {
  submitted: number;
  confirmed: number;
  accepted: number;
  refused: number;
  lapsed: number;
  escalated: number;
  renewalsRequested: number;
  medianHoursToDecision: number | null;
  /** Requests NuMos accepted on a library's behalf. */
  acceptedAutomatically: number;
}

const within = (column: string) => `${column} >= $1 AND ${column} < $2`;

/** Registrations in [start, end) for one library (null: all). */
export async function registrationFigures(sql: Sql, start: Date, end: Date, library: string | null): Promise<RegistrationFigures> {
  const { rows } = await sql.query<RegistrationFigures>(
    `SELECT count(*) FILTER (WHERE kind = 'REGISTRATION' AND ${within('submitted_at')})::int AS submitted,
              count(*) FILTER (WHERE kind = 'REGISTRATION' AND ${within('confirmed_at')})::int AS confirmed,
              count(*) FILTER (WHERE decision = 'ACCEPT' AND ${within('decided_at')})::int AS accepted,
              count(*) FILTER (WHERE decision = 'REFUSE' AND ${within('decided_at')})::int AS refused,
              count(*) FILTER (WHERE ${within('lapsed_at')})::int AS lapsed,
              count(*) FILTER (WHERE ${within('escalated_at')})::int AS escalated,
              count(*) FILTER (WHERE kind = 'RENEWAL' AND ${within('submitted_at')})::int AS "renewalsRequested",
              count(*) FILTER (WHERE decided_automatically AND ${within('decided_at')})::int AS "acceptedAutomatically",
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - confirmed_at) / 3600)
                FILTER (WHERE ${within('decided_at')} AND confirmed_at IS NOT NULL) AS "medianHoursToDecision"
         FROM registration_request
        WHERE ($3::uuid IS NULL OR library_id = $3)
          AND (${within('submitted_at')} OR ${within('confirmed_at')} OR ${within('decided_at')} OR ${within('lapsed_at')} OR ${within('escalated_at')})`,
    [start, end, library],
  );
  const r = rows[0]!;
  // percentile_cont is a double precision: a number through `pg`, a string through Prisma.
  return { ...r, medianHoursToDecision: r.medianHoursToDecision === null ? null : Number(r.medianHoursToDecision) };
}

/** Membership checks made in [start, end), by outcome (what stays of them after erasure). */
export async function membershipCheckFigures(sql: Sql, start: Date, end: Date, library: string | null): Promise<{ outcome: string; count: number }[]> {
  const { rows } = await sql.query<{ outcome: string; count: number }>(
    `SELECT outcome::text AS outcome, count(*)::int AS count FROM membership_check
      WHERE ${within('checked_at')} AND ($3::uuid IS NULL OR library_id = $3)
      GROUP BY outcome ORDER BY outcome`,
    [start, end, library],
  );
  return rows;
}

export async function accountFigures(sql: Sql, library: string | null): Promise<{ active: number; temporary: number }> {
  const { rows } = await sql.query<{ active: number; temporary: number }>(
    `SELECT count(*) FILTER (WHERE status = 'ACTIVE')::int AS active, count(*) FILTER (WHERE status = 'TEMPORARY')::int AS temporary
         FROM patron WHERE $1::uuid IS NULL OR library_id = $1`,
    [library],
  );
  return rows[0]!;
}

/** Granted consumption per month and category: rolled-up months, else the live log. */
export async function consumptionByMonth(sql: Sql, periods: string[], library: string | null): Promise<{ period: string; category: string; count: number }[]> {
  const { rows } = await sql.query<{ period: string; category: string; count: number }>(
    `WITH rolled AS (
         SELECT period, category::text AS category, sum(count)::int AS count FROM consumption_monthly
          WHERE period = ANY($1) AND ($2::uuid IS NULL OR library_id = $2) GROUP BY period, category
       ), rolled_periods AS (SELECT DISTINCT period FROM consumption_monthly WHERE period = ANY($1))
       SELECT * FROM rolled
       UNION ALL
       SELECT period, category::text, count(*)::int FROM consumption
        WHERE period = ANY($1) AND period NOT IN (SELECT period FROM rolled_periods)
          AND granted AND cancelled_at IS NULL AND ($2::uuid IS NULL OR library_id = $2)
        GROUP BY period, category
       ORDER BY 1, 2`,
    [periods, library],
  );
  return rows;
}

/** Share of active patrons who used a whole limit, per month (up to `current`) and category. */
export async function saturationByMonth(
  sql: Sql,
  periods: string[],
  library: string | null,
  current: string,
): Promise<{ period: string; category: string; share: number }[]> {
  const { rows } = await sql.query<{ period: string; category: string; share: number }>(
    `WITH rolled AS (
         SELECT period, category::text, CASE WHEN sum(active_patrons) = 0 THEN 0 ELSE sum(saturated_patrons)::float / sum(active_patrons) END AS share
           FROM saturation_monthly WHERE period = ANY($1) AND ($2::uuid IS NULL OR library_id = $2) GROUP BY period, category
       ), live_periods AS (
         SELECT p AS period FROM unnest($1::text[]) p WHERE p NOT IN (SELECT DISTINCT period FROM saturation_monthly WHERE period = ANY($1))
       ), active AS (
         SELECT count(*)::float AS n FROM patron WHERE status = 'ACTIVE' AND ($2::uuid IS NULL OR library_id = $2)
       )
       SELECT * FROM rolled
       UNION ALL
       SELECT lp.period, c.category::text,
              CASE WHEN (SELECT n FROM active) = 0 THEN 0 ELSE (
                SELECT count(*) FROM quota_usage u JOIN patron p ON p.id = u.patron_id
                 WHERE u.period = lp.period AND u.category = c.category AND ($2::uuid IS NULL OR p.library_id = $2)
                   AND u.used >= c."limit"
              ) / (SELECT n FROM active) END
         FROM live_periods lp, quota_limits_in_force(lp.period) c
        WHERE lp.period <= $3
       ORDER BY 1, 2`,
    [periods, library, current],
  );
  return rows.map((s) => ({ ...s, share: Number(s.share) }));
}

/**
 * Rolls a finished month into the monthly tables (upserts: a second run writes the same figures),
 * then prunes consumption rows and counters older than `keepFrom`. Returns the consumption groups.
 */
export async function rollUpMonth(sql: Sql, finished: string, keepFrom: string): Promise<number> {
  const { rowCount } = await sql.query(
    `INSERT INTO consumption_monthly (period, library_id, age_group, category, count)
       SELECT period, library_id, age_group, category, count(*) FROM consumption
        WHERE period = $1 AND granted AND cancelled_at IS NULL AND library_id IS NOT NULL AND age_group IS NOT NULL
        GROUP BY period, library_id, age_group, category
       ON CONFLICT (period, library_id, age_group, category) DO UPDATE SET count = EXCLUDED.count`,
    [finished],
  );
  // Active in the month: ACTIVE now, or used a quota that month. Counted per library in one pass.
  await sql.query(
    `WITH active AS (
         SELECT library_id, count(*)::int AS n FROM patron
          WHERE status = 'ACTIVE' OR id IN (SELECT patron_id FROM quota_usage WHERE period = $1)
          GROUP BY library_id
       ), saturated AS (
         SELECT p.library_id, u.category, count(*)::int AS n FROM quota_usage u JOIN patron p ON p.id = u.patron_id
           JOIN quota_limits_in_force($1) f ON f.category = u.category
          WHERE u.period = $1 AND u.used >= f."limit"
          GROUP BY p.library_id, u.category
       )
       INSERT INTO saturation_monthly (period, library_id, category, active_patrons, saturated_patrons)
       SELECT $1, l.id, c.category, coalesce(a.n, 0), coalesce(s.n, 0)
         FROM library l CROSS JOIN quota_seed_limits() c
         LEFT JOIN active a ON a.library_id = l.id
         LEFT JOIN saturated s ON s.library_id = l.id AND s.category = c.category
       ON CONFLICT (period, library_id, category) DO UPDATE
          SET active_patrons = EXCLUDED.active_patrons, saturated_patrons = EXCLUDED.saturated_patrons`,
    [finished],
  );
  await sql.query('DELETE FROM consumption WHERE period < $1', [keepFrom]);
  await sql.query('DELETE FROM quota_usage WHERE period < $1', [keepFrom]);
  return rowCount ?? 0;
}
