// The quotas' SQL. The rules that must live in the database (the limits in force, taking a unit
// below the limit) are its functions (prisma/migrations/*_quota_rules_once); this module calls
// them by name and types what they return.
import { lockKey, type Sql } from '../../db/sql.js';
import type { AgeGroup, ContentCategory } from '../../generated/prisma/enums.js';

/** The metered categories, in the order balances and policies list them: quota_seed_limits()'s. */
export const METERED_CATEGORIES = ['FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER'] as const satisfies readonly ContentCategory[];
export type MeteredCategory = (typeof METERED_CATEGORIES)[number];

export interface QuotaRow {
  category: MeteredCategory;
  limit: number;
  used: number;
}

/** A patron's usage and limits for a period, one row per metered category. */
export async function balanceRows(sql: Sql, patronId: string, period: string): Promise<QuotaRow[]> {
  const { rows } = await sql.query<QuotaRow>('SELECT category, "limit", used FROM quota_balance($1::uuid, $2)', [patronId, period], 'quota-balance');
  return rows;
}

/** The limits in force for a period, and the month the policy they come from started. */
export async function limitsInForce(sql: Sql, period: string): Promise<{ category: MeteredCategory; limit: number; effective_from: string }[]> {
  const { rows } = await sql.query<{ category: MeteredCategory; limit: number; effective_from: string }>(
    'SELECT category, "limit", effective_from FROM quota_limits_in_force($1)',
    [period],
  );
  return rows;
}

/** What a consumption needs to know of the patron (a prepared statement: providers call often). */
export async function consumer(sql: Sql, patronId: string): Promise<{ status: string; birth_date: Date; library_id: string } | undefined> {
  const { rows } = await sql.query<{ status: string; birth_date: Date; library_id: string }>(
    'SELECT status, birth_date, library_id FROM patron WHERE id = $1',
    [patronId],
    'consume-patron',
  );
  return rows[0];
}

export interface ConsumeCall {
  patronId: string | null;
  period: string;
  category: ContentCategory;
  /** True when a unit is to be taken: a metered category and no refusal. */
  metered: boolean;
  providerId: string;
  key: string;
  requestHash: string;
  libraryId: string | null;
  ageGroup: AgeGroup | null;
  resourceId: string;
  minimumAge: number | null;
  refusal: string | null;
  now: Date;
}

export interface ConsumeOutcome {
  id: string;
  granted: boolean;
  error_code: string | null;
  request_hash: string;
  balance: QuotaRow[] | null;
  period: string;
  replayed: boolean;
}

/** One round trip, one transaction: consume_quota, with its arguments by name. */
export async function takeUnit(sql: Sql, call: ConsumeCall): Promise<ConsumeOutcome> {
  const { rows } = await sql.query<ConsumeOutcome>(
    `SELECT id, granted, error_code, request_hash, balance, period, replayed FROM consume_quota(
       p_patron_id => $1, p_period => $2, p_category => $3, p_metered => $4, p_provider_id => $5, p_key => $6,
       p_request_hash => $7, p_library_id => $8, p_age_group => $9, p_resource_id => $10, p_minimum_age => $11,
       p_refusal => $12, p_now => $13)`,
    [
      call.patronId,
      call.period,
      call.category,
      call.metered,
      call.providerId,
      call.key,
      call.requestHash,
      call.libraryId,
      call.ageGroup,
      call.resourceId,
      call.minimumAge,
      call.refusal,
      call.now,
    ],
    'consume-quota',
  );
  return rows[0]!;
}

export interface ConsumptionRow {
  patron_id: string | null;
  granted: boolean;
  cancelled_at: Date | null;
  occurred_at: Date;
  period: string;
  category: ContentCategory;
}

/** A consumption made by this provider. */
export async function consumptionOf(sql: Sql, id: string, providerId: string): Promise<ConsumptionRow | undefined> {
  const { rows } = await sql.query<ConsumptionRow>(
    'SELECT patron_id, granted, cancelled_at, occurred_at, period, category FROM consumption WHERE id = $1 AND provider_id = $2',
    [id, providerId],
  );
  return rows[0];
}

/**
 * Cancels a granted consumption and gives its unit back, if nobody cancelled it first (a
 * conditional update: two concurrent cancellations give one unit back). True when it did.
 */
export async function giveUnitBack(sql: Sql, id: string, consumption: ConsumptionRow, now: Date): Promise<boolean> {
  const { rowCount } = await sql.query('UPDATE consumption SET cancelled_at = $2 WHERE id = $1 AND granted AND cancelled_at IS NULL', [id, now]);
  if (rowCount === 1 && consumption.category !== 'UNLIMITED') {
    await sql.query('UPDATE quota_usage SET used = used - 1 WHERE patron_id = $1 AND period = $2 AND category = $3 AND used > 0', [
      consumption.patron_id,
      consumption.period,
      consumption.category,
    ]);
  }
  return rowCount === 1;
}

/** Policies change one at a time (the policy in force is read, then replaced). */
export const lockPolicies = (sql: Sql) => lockKey(sql, 72_707_004);
