import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.js';
import { payloadType, type UserError } from '../../graphql/errors.js';
import { decodeId } from '../../graphql/ids.js';
import { NO_MATCH } from '../../domain/ids.js';
import { maxChars, maxItems } from '../../graphql/input-guard.js';
import { monthPeriod } from '../../lib/calendar.js';
import {
  balanceFor,
  cancelConsumption,
  consumeQuota,
  IDEMPOTENCY_KEY_MAX,
  METERED_CATEGORIES,
  policyInForce,
  quotaBalance,
  readBalance,
  RESOURCE_ID_MAX,
  setQuotaLimits,
  type ConsumeResult,
  type PolicyInForce,
  type QuotaBalance,
} from './service.js';

export const ContentCategoryEnum = builder.enumType('ContentCategory', {
  description: 'Kinds of content; all but UNLIMITED are metered with monthly limits.',
  values: {
    UNLIMITED: { description: '"Accès libre": open to TEMPORARY and ACTIVE accounts, counted for statistics only.' },
    FILM: { description: 'Films (4 a month by default).' },
    BOOK: { description: 'E-books and comics together, PNB and Izneo (7 a month by default).' },
    MAGAZINE: { description: 'Magazines (15 a month by default).' },
    NEWSPAPER: { description: 'Newspapers (31 a month by default).' },
  } as const,
});

/** A line with the balance it belongs to, for its cache key. */
type BalanceLine = QuotaBalance['lines'][number] & Pick<QuotaBalance, 'patronId' | 'period'>;

const QuotaLineType = builder.objectRef<BalanceLine>('QuotaLine').implement({
  description: 'One metered category of a balance.',
  fields: (t) => ({
    id: t.id({
      description: "A stable key for clients' caches (the patron, the month and the category); not a node.",
      resolve: (l) => encodeGlobalID('QuotaLine', `${l.patronId}:${l.period}:${l.category}`),
    }),
    category: t.field({ type: ContentCategoryEnum, description: 'The category.', resolve: (l) => l.category }),
    limit: t.exposeInt('limit', { description: 'The monthly limit in force for the month.' }),
    used: t.exposeInt('used', { description: 'Units used in the month (cancelled ones given back).' }),
    remaining: t.exposeInt('remaining', { description: 'Units left this month (never below 0).' }),
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
    resetsAt: t.expose('resetsAt', { type: 'DateTime', description: 'When the next month starts (midnight, Paris time): the counts start again from 0.' }),
    lines: t.field({
      type: [QuotaLineType],
      description: 'One line per metered category (FILM, BOOK, MAGAZINE, NEWSPAPER).',
      resolve: (b) => b.lines.map((line) => ({ ...line, patronId: b.patronId, period: b.period })),
    }),
  }),
});

const QuotaLimitType = builder.objectRef<{ period: string; category: string; limit: number }>('QuotaLimit').implement({
  description: 'The monthly limit of one category.',
  fields: (t) => ({
    id: t.id({
      description: "A stable key for clients' caches (the month of its policy and the category); not a node.",
      resolve: (l) => encodeGlobalID('QuotaLimit', `${l.period}:${l.category}`),
    }),
    category: t.field({ type: ContentCategoryEnum, description: 'The category.', resolve: (l) => l.category as never }),
    limit: t.exposeInt('limit', { description: 'Units a patron may use in a month.' }),
  }),
});

const QuotaPolicyType = builder.objectRef<PolicyInForce>('QuotaPolicy').implement({
  description: 'Monthly limits per metered category, in force from a month until the next policy.',
  fields: (t) => ({
    id: t.id({
      description:
        "A stable key for clients' caches: the month the policy is read for (quotaPolicy: this month; setQuotaLimits: `effectiveFrom`), so that new limits from this month replace the cached policy of this month. Not a node.",
      resolve: (p) => encodeGlobalID('QuotaPolicy', p.period),
    }),
    effectiveFrom: t.exposeString('effectiveFrom', { description: 'First month (YYYY-MM) these limits apply to.' }),
    limits: t.field({
      type: [QuotaLimitType],
      description: 'One limit per metered category.',
      resolve: (p) => METERED_CATEGORIES.map((category) => ({ period: p.period, category, limit: p.limits[category] })),
    }),
  }),
});

builder.prismaObjectField('Patron', 'quotaBalance', (t) =>
  t.field({
    type: QuotaBalanceType,
    description: "The patron's balance this month.",
    resolve: (patron, _args, { app }) => quotaBalance(app.db, patron.id, app.clock.now()),
  }),
);

builder.queryField('quotaBalance', (t) =>
  t.field({
    type: QuotaBalanceType,
    description: "The patron themself, a provider (the lines of its own categories only), staff of the patron's library, or the DLPB.",
    authScopes: { patron: true, staff: true, provider: true },
    args: { patronId: t.arg.id({ required: true, description: 'The patron (a provider gets it from the NuMos sign-in).' }) },
    resolve: (_root, { patronId }, { app, caller, granted }) => readBalance(app, { caller, granted }, decodeId('Patron', patronId)),
  }),
);

builder.queryField('quotaPolicy', (t) =>
  t.field({
    type: QuotaPolicyType,
    description: 'The monthly limits in force this month.',
    resolve: (_root, _args, { app }) => policyInForce(app.db, monthPeriod(app.clock.now())),
  }),
);

const ConsumeQuotaInput = builder.inputType('ConsumeQuotaInput', {
  description: 'One unit of content a patron opens.',
  fields: (t) => ({
    patronId: t.id({ required: true, description: 'The patron.' }),
    category: t.field({ type: ContentCategoryEnum, required: true, description: "The resource's category (one of the provider's)." }),
    resourceId: t.string({ required: true, ...maxChars(RESOURCE_ID_MAX, "The provider's identifier of the document.") }),
    minimumAge: t.int({ required: false, description: 'Minimum age of the resource (film rating), if any.' }),
    idempotencyKey: t.string({ required: true, ...maxChars(IDEMPOTENCY_KEY_MAX, 'Unique per logical consumption; a retry reuses it.') }),
  }),
});

const ConsumeQuotaPayload = payloadType<ConsumeResult>(
  'ConsumeQuotaPayload',
  'The answer to a consumption.',
  (t) => ({
    granted: t.exposeBoolean('granted', { description: 'True when the patron may open the resource (the unit is counted).' }),
    consumptionId: t.id({
      nullable: true,
      resolve: (p) => p.consumptionId && encodeGlobalID('Consumption', p.consumptionId),
      description: 'The call, granted or not, for `cancelConsumption`; null when refused before it was recorded (key reused, bad input).',
    }),
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
  }),
  { granted: false, replayed: false },
);

builder.mutationField('consumeQuota', (t) =>
  t.field({
    type: ConsumeQuotaPayload,
    description:
      "Providers only. Grants one unit if the patron may have it. Idempotent per key (kept at least 24 hours): a retry with the same key and parameters returns the first call's answer and counts nothing; the same key with other parameters is IDEMPOTENCY_KEY_REUSED.",
    // No scope check before it: the key is checked in the statement that consumes (one round trip).
    args: { input: t.arg({ type: ConsumeQuotaInput, required: true, description: 'The consumption.' }) },
    resolve: (_root, { input }, { app, caller }) =>
      consumeQuota(app, caller, { ...input, patronId: decodeId('Patron', input.patronId) ?? NO_MATCH, patronRef: input.patronId }),
  }),
);

const CancelConsumptionInput = builder.inputType('CancelConsumptionInput', {
  description: 'A consumption to cancel (the loan failed on the provider’s side).',
  fields: (t) => ({ consumptionId: t.id({ required: true, description: 'As `consumeQuota` answered it.' }) }),
});

const CancelConsumptionPayload = payloadType<{ balance: QuotaBalance | null; errors: UserError[] }>(
  'CancelConsumptionPayload',
  'The answer to a cancellation.',
  (t) => ({
    balance: t.field({
      type: QuotaBalanceType,
      nullable: true,
      description: "The patron's balance after the cancellation, in the provider's own categories.",
      resolve: (p, _args, { caller }) => p.balance && balanceFor(caller, p.balance),
    }),
  }),
);

builder.mutationField('cancelConsumption', (t) =>
  t.field({
    type: CancelConsumptionPayload,
    description: 'Providers only, within 24 hours of the consumption they made: the unit is given back.',
    authScopes: { provider: true },
    args: { input: t.arg({ type: CancelConsumptionInput, required: true, description: 'The consumption.' }) },
    resolve: (_root, { input }, { app, caller }) => cancelConsumption(app, caller, decodeId('Consumption', input.consumptionId)),
  }),
);

const QuotaLimitInput = builder.inputType('QuotaLimitInput', {
  description: 'A new monthly limit for one category.',
  fields: (t) => ({
    category: t.field({ type: ContentCategoryEnum, required: true, description: 'A metered category (not UNLIMITED).' }),
    limit: t.int({ required: true, description: 'Units a month, from 0 to 10,000.' }),
  }),
});

const SetQuotaLimitsInput = builder.inputType('SetQuotaLimitsInput', {
  description: 'New monthly limits, from a month on.',
  fields: (t) => ({
    effectiveFrom: t.string({ required: true, ...maxChars(7, 'YYYY-MM, the current month or a later one.') }),
    limits: t.field({ type: [QuotaLimitInput], required: true, ...maxItems(10, 'The categories that change; the others keep their limits.') }),
  }),
});

const QuotaPolicyPayload = payloadType<{ policy: PolicyInForce | null; errors: UserError[] }>('QuotaPolicyPayload', 'The answer to new quota limits.', (t) => ({
  policy: t.field({ type: QuotaPolicyType, nullable: true, description: 'The policy saved; null when refused.', resolve: (p) => p.policy }),
}));

builder.mutationField('setQuotaLimits', (t) =>
  t.field({
    type: QuotaPolicyPayload,
    description: 'DLPB only. Categories left out keep their limits. Audit-logged.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: SetQuotaLimitsInput, required: true, description: 'The limits.' }) },
    resolve: (_root, { input }, { app, caller }) => setQuotaLimits(app, caller, input),
  }),
);
