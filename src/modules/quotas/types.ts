import { encodeGlobalID } from '@pothos/plugin-relay';
import { canSeePatron } from '../../auth/visibility.js';
import { builder, forbidden } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { idOf } from '../../graphql/ids.js';
import { maxChars } from '../../graphql/input-guard.js';
import { monthPeriod } from '../../lib/calendar.js';
import { policyInForce, METERED_CATEGORIES, type PolicyInForce } from './policy.js';
import {
  balanceFor,
  cancelConsumption,
  consumeQuota,
  IDEMPOTENCY_KEY_MAX,
  quotaBalance,
  RESOURCE_ID_MAX,
  setQuotaLimits,
  type ConsumeResult,
  type QuotaBalance,
} from './service.js';

export const ContentCategoryEnum = builder.enumType('ContentCategory', {
  values: ['UNLIMITED', 'FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER'] as const,
});

const QuotaLineType = builder.objectRef<QuotaBalance['lines'][number]>('QuotaLine').implement({
  fields: (t) => ({
    category: t.field({ type: ContentCategoryEnum, resolve: (l) => l.category }),
    limit: t.exposeInt('limit'),
    used: t.exposeInt('used'),
    remaining: t.exposeInt('remaining'),
  }),
});

export const QuotaBalanceType = builder.objectRef<QuotaBalance>('QuotaBalance').implement({
  description: "A patron's use of their monthly quotas, for one month.",
  fields: (t) => ({
    id: t.id({
      description: "A stable key for clients' caches (the patron and the month); not a node.",
      resolve: (b) => encodeGlobalID('QuotaBalance', `${b.patronId}:${b.period}`),
    }),
    period: t.exposeString('period', { description: 'Calendar month in Europe/Paris, as YYYY-MM.' }),
    resetsAt: t.expose('resetsAt', { type: 'DateTime' }),
    lines: t.field({
      type: [QuotaLineType],
      description: 'One line per metered category (FILM, BOOK, MAGAZINE, NEWSPAPER).',
      resolve: (b) => b.lines,
    }),
  }),
});

const QuotaLimitType = builder.objectRef<{ category: string; limit: number }>('QuotaLimit').implement({
  fields: (t) => ({
    category: t.field({ type: ContentCategoryEnum, resolve: (l) => l.category as never }),
    limit: t.exposeInt('limit'),
  }),
});

const QuotaPolicyType = builder.objectRef<PolicyInForce>('QuotaPolicy').implement({
  fields: (t) => ({
    effectiveFrom: t.exposeString('effectiveFrom', { description: 'First month (YYYY-MM) these limits apply to.' }),
    limits: t.field({
      type: [QuotaLimitType],
      resolve: (p) => METERED_CATEGORIES.map((category) => ({ category, limit: p.limits[category] })),
    }),
  }),
});

builder.prismaObjectField('Patron', 'quotaBalance', (t) =>
  t.field({ type: QuotaBalanceType, resolve: (patron, _args, { app }) => quotaBalance(app.pool, patron.id, app.clock.now()) }),
);

builder.queryField('quotaBalance', (t) =>
  t.field({
    type: QuotaBalanceType,
    description: "The patron themself, a provider (the lines of its own categories only), staff of the patron's library, or the DLPB.",
    authScopes: { patron: true, staff: true, provider: true },
    args: { patronId: t.arg.id({ required: true }) },
    resolve: async (_root, { patronId }, { app, caller, granted }) => {
      const id = idOf('Patron', patronId);
      const patron = id ? await app.prisma.patron.findUnique({ where: { id }, select: { id: true, libraryId: true } }) : null;
      // A provider learns no more than the balance; others only for patrons they may see.
      if (!patron || (caller.kind !== 'provider' && !canSeePatron({ caller, granted }, patron))) throw forbidden();
      return balanceFor(caller, await quotaBalance(app.pool, patron.id, app.clock.now()));
    },
  }),
);

builder.queryField('quotaPolicy', (t) =>
  t.field({
    type: QuotaPolicyType,
    description: 'The monthly limits in force this month.',
    resolve: (_root, _args, { app }) => policyInForce(app.prisma, monthPeriod(app.clock.now())),
  }),
);

const ConsumeQuotaInput = builder.inputType('ConsumeQuotaInput', {
  fields: (t) => ({
    patronId: t.id({ required: true }),
    category: t.field({ type: ContentCategoryEnum, required: true }),
    resourceId: t.string({ required: true, ...maxChars(RESOURCE_ID_MAX, "The provider's identifier of the document.") }),
    minimumAge: t.int({ required: false, description: 'Minimum age of the resource (film rating), if any.' }),
    idempotencyKey: t.string({ required: true, ...maxChars(IDEMPOTENCY_KEY_MAX, 'Unique per logical consumption; a retry reuses it.') }),
  }),
});

const ConsumeQuotaPayload = payloadType<ConsumeResult>('ConsumeQuotaPayload', (t) => ({
  granted: t.exposeBoolean('granted'),
  consumptionId: t.exposeID('consumptionId', { nullable: true }),
  balance: t.field({
    type: QuotaBalanceType,
    nullable: true,
    description: "The patron's balance after the call, in the provider's own categories.",
    resolve: (p, _args, { caller }) => p.balance && balanceFor(caller, p.balance),
  }),
  replayed: t.exposeBoolean('replayed', {
    description:
      'True when the idempotency key was used before: this is the first answer again, word for word (it does not reflect a cancellation or later calls; read quotaBalance for the current state).',
  }),
}), { granted: false, replayed: false });

builder.mutationField('consumeQuota', (t) =>
  t.field({
    type: ConsumeQuotaPayload,
    description:
      "Providers only. Grants one unit if the patron may have it. Idempotent per key (kept at least 24 hours): a retry with the same key and parameters returns the first call's answer and counts nothing; the same key with other parameters is IDEMPOTENCY_KEY_REUSED.",
    authScopes: { provider: true },
    args: { input: t.arg({ type: ConsumeQuotaInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => consumeQuota(app, caller, input),
  }),
);

const CancelConsumptionInput = builder.inputType('CancelConsumptionInput', {
  fields: (t) => ({ consumptionId: t.id({ required: true }) }),
});

const CancelConsumptionPayload = payloadType<{ balance: QuotaBalance | null; errors: UserError[] }>('CancelConsumptionPayload', (t) => ({
    balance: t.field({ type: QuotaBalanceType, nullable: true, resolve: (p, _args, { caller }) => p.balance && balanceFor(caller, p.balance) }),
}));

builder.mutationField('cancelConsumption', (t) =>
  t.field({
    type: CancelConsumptionPayload,
    description: 'Providers only, within 24 hours of the consumption they made: the unit is given back.',
    authScopes: { provider: true },
    args: { input: t.arg({ type: CancelConsumptionInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => cancelConsumption(app, caller, input.consumptionId),
  }),
);

const QuotaLimitInput = builder.inputType('QuotaLimitInput', {
  fields: (t) => ({
    category: t.field({ type: ContentCategoryEnum, required: true }),
    limit: t.int({ required: true }),
  }),
});

const SetQuotaLimitsInput = builder.inputType('SetQuotaLimitsInput', {
  fields: (t) => ({
    effectiveFrom: t.string({ required: true, ...maxChars(7, 'YYYY-MM, the current month or a later one.') }),
    limits: t.field({ type: [QuotaLimitInput], required: true }),
  }),
});

const QuotaPolicyPayload = payloadType<{ policy: PolicyInForce | null; errors: UserError[] }>('QuotaPolicyPayload', (t) => ({
  policy: t.field({ type: QuotaPolicyType, nullable: true, resolve: (p) => p.policy }),
}));

builder.mutationField('setQuotaLimits', (t) =>
  t.field({
    type: QuotaPolicyPayload,
    description: 'DLPB only. Categories left out keep their limits. Audit-logged.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: SetQuotaLimitsInput, required: true }) },
    resolve: (_root, { input }, { app, caller }) => setQuotaLimits(app, caller, input),
  }),
);

