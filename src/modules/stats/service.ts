// Statistics for the DLPB and the libraries: registrations over a date range (Paris calendar
// dates, inclusive), accounts, licence pool, consumption and quota saturation per month and
// category. Finished months come from the monthly roll-ups, the others from the live tables.
import type { App } from '../../app.js';
import type { Caller } from '../../auth/caller.js';
import { badArgument } from '../../domain/errors.js';
import { libraryScope } from '../../auth/visibility.js';
import { addParisDays, addParisMonths, monthPeriod, nextPeriod, parisStartOfDay } from '../../lib/calendar.js';
import { licencePool, type LicencePoolState } from '../licences/service.js';
import { LIMIT_SQL } from '../quotas/service.js';

export interface StatsFilter {
  from: string;
  to: string;
  libraryId?: string | null;
}

export interface Stats {
  /** What was asked: the dates and the library (null: all). */
  filter: { from: string; to: string; libraryId: string | null };
  registrations: {
    submitted: number;
    confirmed: number;
    accepted: number;
    refused: number;
    lapsed: number;
    escalated: number;
    renewalsRequested: number;
    medianHoursToDecision: number | null;
  };
  activeAccounts: number;
  temporaryAccounts: number;
  licencePool: LicencePoolState;
  consumption: { period: string; category: string; count: number }[];
  saturation: { period: string; category: string; share: number }[];
}

const MAX_MONTHS = 120;

export async function stats(app: App, caller: Caller, filter: StatsFilter): Promise<Stats> {
  const library = libraryScope(caller, filter.libraryId);
  if (filter.from > filter.to) {
    throw badArgument('La date de début doit précéder la date de fin.', 'filter');
  }
  const start = parisStartOfDay(filter.from);
  const end = addParisDays(parisStartOfDay(filter.to), 1);
  const periods: string[] = [];
  for (let p = monthPeriod(start); p <= monthPeriod(new Date(end.getTime() - 1)); p = nextPeriod(p)) {
    periods.push(p);
    if (periods.length > MAX_MONTHS) throw badArgument('Période trop longue : dix ans au plus.', 'filter');
  }
  const within = (column: string) => `${column} >= $1 AND ${column} < $2`;
  const [registrations, accounts, pool, consumption, saturation] = await Promise.all([
    app.pool.query(
      `SELECT count(*) FILTER (WHERE kind = 'REGISTRATION' AND ${within('submitted_at')})::int AS submitted,
              count(*) FILTER (WHERE kind = 'REGISTRATION' AND ${within('confirmed_at')})::int AS confirmed,
              count(*) FILTER (WHERE decision = 'ACCEPT' AND ${within('decided_at')})::int AS accepted,
              count(*) FILTER (WHERE decision = 'REFUSE' AND ${within('decided_at')})::int AS refused,
              count(*) FILTER (WHERE ${within('lapsed_at')})::int AS lapsed,
              count(*) FILTER (WHERE ${within('escalated_at')})::int AS escalated,
              count(*) FILTER (WHERE kind = 'RENEWAL' AND ${within('submitted_at')})::int AS "renewalsRequested",
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - confirmed_at) / 3600)
                FILTER (WHERE ${within('decided_at')} AND confirmed_at IS NOT NULL) AS "medianHoursToDecision"
         FROM registration_request
        WHERE ($3::uuid IS NULL OR library_id = $3)
          AND (${within('submitted_at')} OR ${within('confirmed_at')} OR ${within('decided_at')} OR ${within('lapsed_at')} OR ${within('escalated_at')})`,
      [start, end, library],
    ),
    app.pool.query(
      `SELECT count(*) FILTER (WHERE status = 'ACTIVE')::int AS active, count(*) FILTER (WHERE status = 'TEMPORARY')::int AS temporary
         FROM patron WHERE $1::uuid IS NULL OR library_id = $1`,
      [library],
    ),
    licencePool(app),
    app.pool.query<{ period: string; category: string; count: number }>(
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
    ),
    app.pool.query<{ period: string; category: string; share: number }>(
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
                   AND u.used >= ${LIMIT_SQL('lp.period', 'c.category')}
              ) / (SELECT n FROM active) END
         FROM live_periods lp, unnest(ARRAY['FILM','BOOK','MAGAZINE','NEWSPAPER']::"ContentCategory"[]) AS c(category)
        WHERE lp.period <= $3
       ORDER BY 1, 2`,
      [periods, library, monthPeriod(app.clock.now())],
    ),
  ]);
  const r = registrations.rows[0];
  return {
    filter: { from: filter.from, to: filter.to, libraryId: library },
    registrations: { ...r, medianHoursToDecision: r.medianHoursToDecision === null ? null : Number(r.medianHoursToDecision) },
    activeAccounts: accounts.rows[0].active,
    temporaryAccounts: accounts.rows[0].temporary,
    licencePool: pool,
    consumption: consumption.rows,
    saturation: saturation.rows.map((s) => ({ ...s, share: Number(s.share) })),
  };
}

/**
 * On the 1st of each month: the finished month's consumption and saturation are rolled into the
 * monthly tables (upserts: a second run writes the same figures), then what no longer serves is
 * pruned: consumption rows and counters older than the month before (idempotency keys live far
 * longer than the 24 hours promised).
 */
export async function rollUpFinishedMonth(app: App, at: Date): Promise<number> {
  const finished = monthPeriod(addParisMonths(at, -1));
  return app.prisma.$transaction(
    async (tx) => {
      const consumption = await tx.$executeRawUnsafe(
        `INSERT INTO consumption_monthly (period, library_id, age_group, category, count)
       SELECT period, library_id, age_group, category, count(*) FROM consumption
        WHERE period = $1 AND granted AND cancelled_at IS NULL AND library_id IS NOT NULL AND age_group IS NOT NULL
        GROUP BY period, library_id, age_group, category
       ON CONFLICT (period, library_id, age_group, category) DO UPDATE SET count = EXCLUDED.count`,
        finished,
      );
      // Active in the month: ACTIVE now, or used a quota that month. Counted per library in one pass.
      await tx.$executeRawUnsafe(
        `WITH active AS (
         SELECT library_id, count(*)::int AS n FROM patron
          WHERE status = 'ACTIVE' OR id IN (SELECT patron_id FROM quota_usage WHERE period = $1)
          GROUP BY library_id
       ), saturated AS (
         SELECT p.library_id, u.category, count(*)::int AS n FROM quota_usage u JOIN patron p ON p.id = u.patron_id
          WHERE u.period = $1 AND u.used >= ${LIMIT_SQL('$1', 'u.category')}
          GROUP BY p.library_id, u.category
       )
       INSERT INTO saturation_monthly (period, library_id, category, active_patrons, saturated_patrons)
       SELECT $1, l.id, c.category, coalesce(a.n, 0), coalesce(s.n, 0)
         FROM library l CROSS JOIN unnest(ARRAY['FILM','BOOK','MAGAZINE','NEWSPAPER']::"ContentCategory"[]) AS c(category)
         LEFT JOIN active a ON a.library_id = l.id
         LEFT JOIN saturated s ON s.library_id = l.id AND s.category = c.category
       ON CONFLICT (period, library_id, category) DO UPDATE
          SET active_patrons = EXCLUDED.active_patrons, saturated_patrons = EXCLUDED.saturated_patrons`,
        finished,
      );
      const keepFrom = monthPeriod(addParisMonths(at, -2));
      await tx.$executeRawUnsafe(`DELETE FROM consumption WHERE period < $1`, keepFrom);
      await tx.$executeRawUnsafe(`DELETE FROM quota_usage WHERE period < $1`, keepFrom);
      return consumption;
    },
    { timeout: 600_000 },
  );
}
