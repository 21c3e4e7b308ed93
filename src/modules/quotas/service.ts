// Monthly quotas of metered content, checked and consumed by resource providers.
// The limit is enforced by one conditional statement (an upsert that only increments below the
// limit), in the same transaction that records the call under its idempotency key: any number of
// concurrent calls never grant more than the limit, and a replayed key counts once. The writes
// live in a database function (consume_quota), so that a call costs one round trip.
import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { PoolClient } from 'pg';
import type { App } from '../../app.js';
import type { Caller } from '../../auth/caller.js';
import { sqlTransaction } from '../../db/sql.js';
import type { ContentCategory } from '../../generated/prisma/client.js';
import { userError, type UserError } from '../../domain/errors.js';
import { idOf } from '../../graphql/ids.js';
import { ageAt, ageGroupOf, monthPeriod, nextPeriod, periodStart } from '../../lib/calendar.js';
import { audit } from '../audit/service.js';
import { DEFAULT_LIMITS, METERED_CATEGORIES, policyInForce, type MeteredCategory, type PolicyInForce } from './policy.js';

export interface QuotaLine {
  category: MeteredCategory;
  limit: number;
  used: number;
  remaining: number;
}

export interface QuotaBalance {
  patronId: string;
  period: string;
  resetsAt: Date;
  lines: QuotaLine[];
}

const DEFAULT_LIMITS_JSON = JSON.stringify(DEFAULT_LIMITS);

/**
 * The limit in force for (period, category), as SQL: the latest policy started at or before the
 * period, else the seed's limit (a database function, shared with consume_quota).
 */
export const LIMIT_SQL = (period: string, category: string) => `quota_limit_in_force(${period}, ${category}, '${DEFAULT_LIMITS_JSON}'::jsonb)`;

interface QuotaRow {
  category: MeteredCategory;
  limit: number;
  used: number;
}

function balanceOf(patronId: string, period: string, rows: QuotaRow[]): QuotaBalance {
  const byCategory = new Map(rows.map((r) => [r.category, r]));
  return {
    patronId,
    period,
    resetsAt: periodStart(nextPeriod(period)),
    lines: METERED_CATEGORIES.map((category) => {
      const { limit, used } = byCategory.get(category)!;
      return { category, limit, used, remaining: Math.max(0, limit - used) };
    }),
  };
}

/** Balance of a patron for the period holding `at`: one query for usage and limits. */
export async function quotaBalance(db: { query: PoolClient['query'] }, patronId: string, at: Date): Promise<QuotaBalance> {
  const period = monthPeriod(at);
  const { rows } = await db.query<QuotaRow>(
    `SELECT c.category, ${LIMIT_SQL('$2', 'c.category')}::int AS limit, coalesce(u.used, 0)::int AS used
       FROM unnest($3::"ContentCategory"[]) AS c(category)
       LEFT JOIN quota_usage u ON u.patron_id = $1 AND u.period = $2 AND u.category = c.category`,
    [patronId, period, METERED_CATEGORIES],
  );
  return balanceOf(patronId, period, rows);
}

/** What a provider may read of a balance: the lines of its own categories only. */
export function balanceFor(caller: Caller, balance: QuotaBalance): QuotaBalance {
  if (caller.kind !== 'provider') return balance;
  return { ...balance, lines: balance.lines.filter((line) => caller.categories.includes(line.category)) };
}

export interface ConsumeInput {
  patronId: string;
  category: ContentCategory;
  resourceId: string;
  minimumAge?: number | null;
  idempotencyKey: string;
}

export interface ConsumeResult {
  granted: boolean;
  consumptionId: string | null;
  balance: QuotaBalance | null;
  /** The stored answer to an earlier call with the same key. */
  replayed: boolean;
  errors: UserError[];
}

/** The provider's document identifiers and idempotency keys (checked before anything runs). */
export const RESOURCE_ID_MAX = 200;
export const IDEMPOTENCY_KEY_MAX = 255;

const MESSAGES: Record<string, string> = {
  QUOTA_EXCEEDED: 'Le forfait mensuel de cette catégorie est épuisé.',
  ACCOUNT_NOT_ACTIVE: 'Le compte de cet usager ne donne pas accès à ce contenu.',
  AGE_RESTRICTED: "Ce contenu n'est pas accessible à l'âge de cet usager.",
  CATEGORY_NOT_ALLOWED: "Ce fournisseur n'est pas habilité pour cette catégorie de contenus.",
  NOT_FOUND: 'Usager introuvable.',
};

const errorOf = (code: string | null, field?: string): UserError[] => (code ? [userError(code as UserError['code'], MESSAGES[code] ?? code, field)] : []);

export async function consumeQuota(app: App, caller: Caller, input: ConsumeInput): Promise<ConsumeResult> {
  if (caller.kind !== 'provider') throw new Error('consumeQuota: provider only');
  const now = app.clock.now();
  const period = monthPeriod(now);
  const patronId = idOf('Patron', input.patronId) ?? null;
  const key = input.idempotencyKey.trim();
  if (!key) {
    return {
      granted: false,
      consumptionId: null,
      balance: null,
      replayed: false,
      errors: [userError('INVALID_INPUT', "La clé d'idempotence est obligatoire.", 'idempotencyKey')],
    };
  }
  const requestHash = createHash('sha256')
    .update(JSON.stringify([patronId ?? input.patronId, input.category, input.resourceId, input.minimumAge ?? null]))
    .digest('hex');

  const patron = patronId
    ? (
        await app.pool.query<{ status: string; birth_date: Date; library_id: string }>({
          name: 'consume-patron',
          text: 'SELECT status, birth_date, library_id FROM patron WHERE id = $1',
          values: [patronId],
        })
      ).rows[0]
    : undefined;
  const age = patron ? ageAt(patron.birth_date.toISOString().slice(0, 10), now) : null;
  // Open access needs a TEMPORARY or ACTIVE account, metered content an ACTIVE one.
  const statuses = input.category === 'UNLIMITED' ? ['ACTIVE', 'TEMPORARY'] : ['ACTIVE'];
  const refusal = !caller.categories.includes(input.category)
    ? 'CATEGORY_NOT_ALLOWED'
    : !patron
      ? 'NOT_FOUND'
      : !statuses.includes(patron.status)
        ? 'ACCOUNT_NOT_ACTIVE'
        : input.minimumAge != null && age! < input.minimumAge
          ? 'AGE_RESTRICTED'
          : null;

  // One round trip, one transaction: the unit taken below the limit, the balance after it, the call
  // and its answer recorded under its key, a replay counted once and answered as the first call
  // (prisma/migrations/*_consumption_answer).
  const { rows } = await app.pool.query<{
    id: string;
    granted: boolean;
    error_code: string | null;
    request_hash: string;
    balance: QuotaRow[] | null;
    period: string;
    replayed: boolean;
  }>({
    name: 'consume-quota',
    text: `SELECT id, granted, error_code, request_hash, balance, period, replayed FROM consume_quota(
             p_patron_id => $1, p_period => $2, p_category => $3, p_metered => $4, p_defaults => $5, p_provider_id => $6,
             p_key => $7, p_request_hash => $8, p_library_id => $9, p_age_group => $10, p_resource_id => $11,
             p_minimum_age => $12, p_refusal => $13, p_now => $14)`,
    values: [
      patron ? patronId : null,
      period,
      input.category,
      !refusal && input.category !== 'UNLIMITED',
      DEFAULT_LIMITS_JSON,
      caller.providerId,
      key,
      requestHash,
      patron?.library_id ?? null,
      age === null ? null : ageGroupOf(age),
      input.resourceId,
      input.minimumAge ?? null,
      refusal,
      now,
    ],
  });
  const outcome = rows[0]!;
  if (outcome.request_hash !== requestHash) {
    return {
      granted: false,
      consumptionId: null,
      balance: null,
      replayed: false,
      errors: [userError('IDEMPOTENCY_KEY_REUSED', "Cette clé d'idempotence a déjà servi pour un autre appel.", 'idempotencyKey')],
    };
  }
  app.metrics.consumptions.inc({
    category: input.category,
    outcome: outcome.replayed ? 'replayed' : outcome.granted ? 'granted' : (outcome.error_code ?? 'refused'),
  });
  const field = outcome.error_code === 'CATEGORY_NOT_ALLOWED' ? 'category' : outcome.error_code === 'NOT_FOUND' ? 'patronId' : undefined;
  return {
    granted: outcome.granted,
    consumptionId: encodeGlobalID('Consumption', outcome.id),
    balance: outcome.balance && patronId ? balanceOf(patronId, outcome.period, outcome.balance) : null,
    replayed: outcome.replayed,
    errors: errorOf(outcome.error_code, field),
  };
}

export async function cancelConsumption(app: App, caller: Caller, consumptionGlobalId: string): Promise<{ balance: QuotaBalance | null; errors: UserError[] }> {
  if (caller.kind !== 'provider') throw new Error('cancelConsumption: provider only');
  const now = app.clock.now();
  const id = idOf('Consumption', consumptionGlobalId);
  const found = id
    ? (
        await app.pool.query<{ patron_id: string | null; granted: boolean; cancelled_at: Date | null; occurred_at: Date; period: string; category: string }>(
          'SELECT patron_id, granted, cancelled_at, occurred_at, period, category FROM consumption WHERE id = $1 AND provider_id = $2',
          [id, caller.providerId],
        )
      ).rows[0]
    : undefined;
  if (!found) return { balance: null, errors: [userError('NOT_FOUND', 'Consommation introuvable.', 'consumptionId')] };
  const windowEnd = new Date(found.occurred_at.getTime() + app.settings.cancellationHours * 3_600_000);
  if (now >= windowEnd) {
    return {
      balance: null,
      errors: [
        userError(
          'CANCELLATION_WINDOW_CLOSED',
          `Une consommation ne peut être annulée que dans les ${app.settings.cancellationHours} heures.`,
          'consumptionId',
        ),
      ],
    };
  }
  const cancelled = await sqlTransaction(app.pool, async (sql) => {
    const { rowCount } = await sql.query('UPDATE consumption SET cancelled_at = $2 WHERE id = $1 AND granted AND cancelled_at IS NULL', [id, now]);
    if (rowCount === 1 && found.category !== 'UNLIMITED') {
      await sql.query('UPDATE quota_usage SET used = used - 1 WHERE patron_id = $1 AND period = $2 AND category = $3 AND used > 0', [
        found.patron_id,
        found.period,
        found.category,
      ]);
    }
    return rowCount === 1;
  });
  if (!cancelled) {
    return { balance: null, errors: [userError('INVALID_STATE', "Cette consommation n'a pas été accordée ou est déjà annulée.", 'consumptionId')] };
  }
  return { balance: found.patron_id ? await quotaBalance(app.pool, found.patron_id, now) : null, errors: [] };
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export async function setQuotaLimits(
  app: App,
  caller: Caller,
  input: { effectiveFrom: string; limits: { category: ContentCategory; limit: number }[] },
): Promise<{ policy: PolicyInForce | null; errors: UserError[] }> {
  const now = app.clock.now();
  const current = monthPeriod(now);
  const errors: UserError[] = [];
  if (!PERIOD.test(input.effectiveFrom)) {
    errors.push(userError('INVALID_INPUT', 'Le mois doit être au format AAAA-MM.', 'effectiveFrom'));
  } else if (input.effectiveFrom < current) {
    errors.push(userError('INVALID_INPUT', `Les quotas ne changent qu'à partir du mois en cours (${current}) ou d'un mois à venir.`, 'effectiveFrom'));
  }
  for (const { category, limit } of input.limits) {
    if (category === 'UNLIMITED') errors.push(userError('INVALID_INPUT', "L'Accès libre n'a pas de quota.", 'limits'));
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000)
      errors.push(userError('INVALID_INPUT', 'Un quota est un nombre entier entre 0 et 10 000.', 'limits'));
  }
  if (new Set(input.limits.map((l) => l.category)).size !== input.limits.length) {
    errors.push(userError('INVALID_INPUT', 'Chaque catégorie ne peut figurer qu’une fois.', 'limits'));
  }
  if (errors.length) return { policy: null, errors };
  const policy = await app.prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707004)`;
    const before = await policyInForce(tx, input.effectiveFrom);
    const limits = { ...before.limits };
    for (const { category, limit } of input.limits) limits[category as MeteredCategory] = limit;
    const saved = await tx.quotaPolicy.upsert({
      where: { effectiveFrom: input.effectiveFrom },
      create: { effectiveFrom: input.effectiveFrom, createdAt: now, createdById: caller.kind === 'staff' ? caller.staffId : null },
      update: {},
    });
    await tx.quotaLimit.deleteMany({ where: { policyId: saved.id } });
    await tx.quotaLimit.createMany({ data: METERED_CATEGORIES.map((category) => ({ policyId: saved.id, category, limit: limits[category] })) });
    await audit(tx, caller, now, {
      action: 'SET_QUOTA_LIMITS',
      subjectType: 'QuotaPolicy',
      subjectId: input.effectiveFrom,
      before: { effectiveFrom: before.effectiveFrom, limits: before.limits },
      after: { effectiveFrom: input.effectiveFrom, limits },
    });
    return { effectiveFrom: input.effectiveFrom, limits };
  });
  return { policy, errors: [] };
}
