// Monthly quotas of metered content, checked and consumed by resource providers.
// The limit is enforced by one conditional statement (an upsert that only increments below the
// limit), in the same transaction that records the call under its idempotency key: any number of
// concurrent calls never grant more than the limit, and a replayed key counts once. The writes
// live in a database function (consume_quota, called from store.ts), so that a call costs one
// round trip; the rules about who may have what stay here and arrive as its arguments.
import { hash } from 'node:crypto';
import type { App } from '../../instance.js';
import type { Caller } from '../../auth/caller.js';
import { canSeePatron, type Viewing } from '../../auth/visibility.js';
import type { Sql } from '../../db/sql.js';
import type { ContentCategory } from '../../generated/prisma/client.js';
import { NO_MATCH } from '../../domain/ids.js';
import { forbidden, refuseIfAny, Refusal, unauthenticated, userError, type UserError } from '../../domain/errors.js';
import { monthPeriod, nextPeriod, periodStart } from '../../lib/calendar.js';
import { unitOfWork } from '../unit-of-work.js';
import {
  balanceRows,
  consumeForProvider,
  consumptionOf,
  giveUnitBack,
  limitsInForce,
  lockPolicies,
  METERED_CATEGORIES,
  type MeteredCategory,
  type QuotaRow,
} from './store.js';

export { METERED_CATEGORIES, type MeteredCategory } from './store.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'boss' | 'clock' | 'db' | 'metrics' | 'outbox' | 'prisma' | 'settings'>;

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

export interface PolicyInForce {
  /** The month (YYYY-MM) it was read for: the policy in force then. */
  period: string;
  effectiveFrom: string;
  limits: Record<MeteredCategory, number>;
}

/** The limits in force for a period (quota_limits_in_force: the latest policy, else the seed's). */
export async function policyInForce(sql: Sql, period: string): Promise<PolicyInForce> {
  const rows = await limitsInForce(sql, period);
  // Every category comes from the same policy (or from the seed, before the first one).
  return {
    period,
    effectiveFrom: rows[0]!.effective_from,
    limits: Object.fromEntries(rows.map((r) => [r.category, r.limit])) as PolicyInForce['limits'],
  };
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
export async function quotaBalance(sql: Sql, patronId: string, at: Date): Promise<QuotaBalance> {
  const period = monthPeriod(at);
  return balanceOf(patronId, period, await balanceRows(sql, patronId, period));
}

/**
 * A patron's balance this month, for whoever may read it: the patron themself, staff who may see
 * them, or a provider (the lines of its own categories only: it learns no more than the balance).
 * FORBIDDEN for anyone else, and for a patron that does not exist.
 */
export async function readBalance(app: Services, viewing: Viewing, patronId: string | undefined): Promise<QuotaBalance> {
  const { caller } = viewing;
  if (caller.kind === 'provider' && !(await caller.identity())) throw unauthenticated();
  const patron = patronId ? await app.prisma.patron.findUnique({ where: { id: patronId }, select: { id: true, libraryId: true } }) : null;
  if (!patron || (caller.kind !== 'provider' && !canSeePatron(viewing, patron))) throw forbidden();
  return balanceFor(caller, await quotaBalance(app.db, patron.id, app.clock.now()));
}

/** What a provider may read of a balance: the lines of its own categories only (none before its key was checked). */
export function balanceFor(caller: Caller, balance: QuotaBalance): QuotaBalance {
  if (caller.kind !== 'provider') return balance;
  const categories = caller.known?.categories ?? [];
  return { ...balance, lines: balance.lines.filter((line) => categories.includes(line.category)) };
}

export interface ConsumeInput {
  /** The patron's id (NO_MATCH when the reference named no patron). */
  patronId: string;
  /** The patron as the provider named them: what the request hash holds when it named nobody. */
  patronRef: string;
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

/**
 * A provider takes a unit of a patron's monthly quota, in one round trip to the database (the key,
 * the patron, the rules, the unit and the record in one statement: consume_for_provider).
 */
export async function consumeQuota(app: Services, caller: Caller, input: ConsumeInput): Promise<ConsumeResult> {
  if (caller.kind !== 'provider') throw caller.kind === 'visitor' ? unauthenticated() : forbidden();
  const key = input.idempotencyKey.trim();
  if (!key) throw new Refusal(userError('INVALID_INPUT', "La clé d'idempotence est obligatoire.", 'idempotencyKey'));
  const named = input.patronId !== NO_MATCH;
  const requestHash = hash(
    'sha256',
    JSON.stringify([named ? input.patronId : input.patronRef, input.category, input.resourceId, input.minimumAge ?? null]),
    'hex',
  );
  const now = app.clock.now();
  const outcome = await consumeForProvider(app.db, {
    keyHash: caller.keyHash,
    patronId: named ? input.patronId : null,
    period: monthPeriod(now),
    category: input.category,
    key,
    requestHash,
    resourceId: input.resourceId,
    minimumAge: input.minimumAge ?? null,
    now,
  });
  caller.learn(outcome ? { providerId: outcome.provider_id, categories: outcome.categories } : null);
  // The key names no live provider (unknown, revoked, past its rotation's overlap).
  if (!outcome) throw unauthenticated();
  if (outcome.request_hash !== requestHash) {
    throw new Refusal(userError('IDEMPOTENCY_KEY_REUSED', "Cette clé d'idempotence a déjà servi pour un autre appel.", 'idempotencyKey'));
  }
  app.metrics.consumptions.inc({
    category: input.category,
    outcome: outcome.replayed ? 'replayed' : outcome.granted ? 'granted' : (outcome.error_code ?? 'refused'),
  });
  const field = outcome.error_code === 'CATEGORY_NOT_ALLOWED' ? 'category' : outcome.error_code === 'NOT_FOUND' ? 'patronId' : undefined;
  return {
    granted: outcome.granted,
    consumptionId: outcome.id,
    balance: outcome.balance && named ? balanceOf(input.patronId, outcome.period, outcome.balance) : null,
    replayed: outcome.replayed,
    errors: errorOf(outcome.error_code, field),
  };
}

/** `consumptionId`: as decoded by the GraphQL layer (NO_MATCH names nothing). */
export async function cancelConsumption(
  app: Services,
  caller: Caller,
  consumptionId: string | undefined,
): Promise<{ balance: QuotaBalance | null; errors: UserError[] }> {
  const provider = caller.kind === 'provider' ? await caller.identity() : null;
  if (!provider) throw unauthenticated();
  const now = app.clock.now();
  const found = consumptionId ? await consumptionOf(app.db, consumptionId, provider.providerId) : undefined;
  if (!consumptionId || !found) return { balance: null, errors: [userError('NOT_FOUND', 'Consommation introuvable.', 'consumptionId')] };
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
  const cancelled = await app.db.transaction((sql) => giveUnitBack(sql, consumptionId, found, now));
  if (!cancelled) {
    return { balance: null, errors: [userError('INVALID_STATE', "Cette consommation n'a pas été accordée ou est déjà annulée.", 'consumptionId')] };
  }
  return { balance: found.patron_id ? await quotaBalance(app.db, found.patron_id, now) : null, errors: [] };
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export async function setQuotaLimits(
  app: Services,
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
  refuseIfAny(errors);
  const policy = await unitOfWork(app, { actor: caller }, async ({ tx, sql, audit }) => {
    await lockPolicies(sql);
    const before = await policyInForce(sql, input.effectiveFrom);
    const limits = { ...before.limits };
    for (const { category, limit } of input.limits) limits[category as MeteredCategory] = limit;
    const saved = await tx.quotaPolicy.upsert({
      where: { effectiveFrom: input.effectiveFrom },
      create: { effectiveFrom: input.effectiveFrom, createdAt: now, createdById: caller.kind === 'staff' ? caller.staffId : null },
      update: {},
    });
    await tx.quotaLimit.deleteMany({ where: { policyId: saved.id } });
    await tx.quotaLimit.createMany({ data: METERED_CATEGORIES.map((category) => ({ policyId: saved.id, category, limit: limits[category] })) });
    await audit({
      action: 'SET_QUOTA_LIMITS',
      subjectType: 'QuotaPolicy',
      subjectId: input.effectiveFrom,
      before: { effectiveFrom: before.effectiveFrom, limits: before.limits },
      after: { effectiveFrom: input.effectiveFrom, limits },
    });
    return { period: input.effectiveFrom, effectiveFrom: input.effectiveFrom, limits };
  });
  return { policy, errors: [] };
}
