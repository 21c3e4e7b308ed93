import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.js';
import { LicencePoolType } from '../licences/types.js';
import { ContentCategoryEnum } from '../quotas/types.js';
import { stats, type Stats } from './service.js';

const StatsFilter = builder.inputType('StatsFilter', {
  fields: (t) => ({
    from: t.field({ type: 'LocalDate', required: true }),
    to: t.field({ type: 'LocalDate', required: true }),
    libraryId: t.id({ required: false, description: 'Library staff: their own library only. DLPB: one library, or all when null.' }),
  }),
});

const RegistrationStats = builder.objectRef<Stats['registrations']>('RegistrationStats').implement({
  fields: (t) => ({
    submitted: t.exposeInt('submitted'),
    confirmed: t.exposeInt('confirmed'),
    accepted: t.exposeInt('accepted'),
    refused: t.exposeInt('refused'),
    lapsed: t.exposeInt('lapsed'),
    escalated: t.exposeInt('escalated'),
    renewalsRequested: t.exposeInt('renewalsRequested'),
    medianHoursToDecision: t.exposeFloat('medianHoursToDecision', { nullable: true }),
  }),
});

const ConsumptionStat = builder.objectRef<Stats['consumption'][number]>('ConsumptionStat').implement({
  fields: (t) => ({
    period: t.exposeString('period'),
    category: t.field({ type: ContentCategoryEnum, resolve: (s) => s.category as never }),
    count: t.exposeInt('count'),
  }),
});

const SaturationStat = builder.objectRef<Stats['saturation'][number]>('SaturationStat').implement({
  fields: (t) => ({
    period: t.exposeString('period'),
    category: t.field({ type: ContentCategoryEnum, resolve: (s) => s.category as never }),
    share: t.exposeFloat('share', { description: 'Share (0..1) of the patrons active in that month who used their whole limit.' }),
  }),
});

const StatsType = builder.objectRef<Stats>('Stats').implement({
  fields: (t) => ({
    id: t.id({
      description: "A stable key for clients' caches (the dates and the library asked); not a node.",
      resolve: ({ filter }) => encodeGlobalID('Stats', `${filter.from}:${filter.to}:${filter.libraryId ?? 'all'}`),
    }),
    registrations: t.field({ type: RegistrationStats, resolve: (s) => s.registrations }),
    activeAccounts: t.exposeInt('activeAccounts'),
    temporaryAccounts: t.exposeInt('temporaryAccounts'),
    licencePool: t.field({ type: LicencePoolType, resolve: (s) => s.licencePool }),
    consumption: t.field({ type: [ConsumptionStat], resolve: (s) => s.consumption }),
    saturation: t.field({ type: [SaturationStat], resolve: (s) => s.saturation }),
  }),
});

builder.queryField('stats', (t) =>
  t.field({
    type: StatsType,
    description: 'Staff only: their own library; the DLPB one library or all.',
    authScopes: { staff: true },
    args: { filter: t.arg({ type: StatsFilter, required: true }) },
    resolve: (_root, { filter }, { app, caller }) => stats(app, caller, filter),
  }),
);
