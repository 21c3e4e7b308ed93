// The quotas' SQL. The rules that must live in the database (the limits in force, taking a unit
// below the limit) are its functions (src/db/functions/); this module calls them by name and
// checks what they return.
import { column, rowsOf, z } from '../../db/rows.js';
import { lockKey, type Sql } from '../../db/sql.js';
import type { ContentCategory } from '../../generated/prisma/enums.js';

/** The metered categories, in the order balances and policies list them: quota_seed_limits()'s. */
export const METERED_CATEGORIES = ['FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER'] as const satisfies readonly ContentCategory[];
export type MeteredCategory = (typeof METERED_CATEGORIES)[number];

const QuotaRowShape = z.object({ category: z.enum(METERED_CATEGORIES), limit: column.count, used: column.count });
export type QuotaRow = z.infer<typeof QuotaRowShape>;

/** A patron's usage and limits for a period, one row per metered category. */
export async function balanceRows(sql: Sql, patronId: string, period: string): Promise<QuotaRow[]> {
  const { rows } = await sql.query('SELECT category, "limit", used FROM quota_balance($1::uuid, $2)', [patronId, period], 'quota-balance');
  return rowsOf(QuotaRowShape, rows, 'quota_balance');
}

const LimitShape = z.object({ category: z.enum(METERED_CATEGORIES), limit: column.count, effective_from: column.period });

/** The limits in force for a period, and the month the policy they come from started. */
export async function limitsInForce(sql: Sql, period: string): Promise<z.infer<typeof LimitShape>[]> {
  const { rows } = await sql.query('SELECT category, "limit", effective_from FROM quota_limits_in_force($1)', [period]);
  return rowsOf(LimitShape, rows, 'quota_limits_in_force');
}

export interface ConsumeCall {
  /** SHA-256 of the provider's API key, checked in the same statement. */
  keyHash: string;
  patronId: string | null;
  period: string;
  category: ContentCategory;
  key: string;
  requestHash: string;
  resourceId: string;
  minimumAge: number | null;
  now: Date;
}

const ConsumeOutcomeShape = z.object({
  provider_id: column.uuid,
  categories: z.array(z.enum(['UNLIMITED', ...METERED_CATEGORIES])),
  id: column.uuid,
  granted: z.boolean(),
  error_code: z.string().nullable(),
  request_hash: z.string(),
  balance: z.array(QuotaRowShape).nullable(),
  period: column.period,
  replayed: z.boolean(),
});
export type ConsumeOutcome = z.infer<typeof ConsumeOutcomeShape>;

/**
 * consumeQuota in one round trip (consume_for_provider): the key checked, the patron read, the
 * rules applied, the unit taken, the call recorded. Undefined: the key names no live provider.
 */
export async function consumeForProvider(sql: Sql, call: ConsumeCall): Promise<ConsumeOutcome | undefined> {
  const { rows } = await sql.query(
    `SELECT provider_id, categories, id, granted, error_code, request_hash, balance, period, replayed
       FROM consume_for_provider(p_key_hash => $1, p_patron_id => $2, p_period => $3, p_category => $4, p_key => $5,
                                 p_request_hash => $6, p_resource_id => $7, p_minimum_age => $8, p_now => $9)`,
    [call.keyHash, call.patronId, call.period, call.category, call.key, call.requestHash, call.resourceId, call.minimumAge, call.now],
    'consume-for-provider',
  );
  return rowsOf(ConsumeOutcomeShape, rows, 'consume_for_provider')[0];
}

const ConsumptionShape = z.object({
  patron_id: column.uuid.nullable(),
  granted: z.boolean(),
  cancelled_at: column.instant.nullable(),
  occurred_at: column.instant,
  period: column.period,
  category: z.enum(['UNLIMITED', ...METERED_CATEGORIES]),
});
export type ConsumptionRow = z.infer<typeof ConsumptionShape>;

/** A consumption made by this provider. */
export async function consumptionOf(sql: Sql, id: string, providerId: string): Promise<ConsumptionRow | undefined> {
  const { rows } = await sql.query(
    'SELECT patron_id, granted, cancelled_at, occurred_at, period, category FROM consumption WHERE id = $1 AND provider_id = $2',
    [id, providerId],
  );
  return rowsOf(ConsumptionShape, rows, 'consumptionOf')[0];
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
