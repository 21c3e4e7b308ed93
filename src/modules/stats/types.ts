import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.js';
import { LicencePoolType } from '../licences/types.js';
import { ContentCategoryEnum } from '../quotas/types.js';
import { MembershipCheckOutcomeEnum } from '../membership/types.js';
import { stats, type Stats } from './service.js';
import { decodeIds } from '../../graphql/ids.js';

const StatsFilter = builder.inputType('StatsFilter', {
  description: 'Which dates and which library.',
  fields: (t) => ({
    from: t.field({ type: 'LocalDate', required: true, description: 'First day (Paris calendar), included.' }),
    to: t.field({ type: 'LocalDate', required: true, description: 'Last day (Paris calendar), included; ten years at most after `from`.' }),
    libraryId: t.id({ required: false, description: 'Library staff: their own library only. DLPB: one library, or all when null.' }),
  }),
});

const MembershipCheckStat = builder.objectRef<Stats['membershipChecks'][number]>('MembershipCheckStat').implement({
  description: 'How many checks had one outcome.',
  fields: (t) => ({
    outcome: t.field({ type: MembershipCheckOutcomeEnum, description: 'The outcome.', resolve: (s) => s.outcome as never }),
    count: t.exposeInt('count', { description: 'How many checks.' }),
  }),
});

/** The cache key of figures: the dates and the library asked. */
const statsKey = ({ filter }: Pick<Stats, 'filter'>) => `${filter.from}:${filter.to}:${filter.libraryId ?? 'all'}`;

const RegistrationStats = builder.objectRef<Stats['registrations'] & Pick<Stats, 'filter' | 'membershipChecks'>>('RegistrationStats').implement({
  description: 'Requests over the dates asked, each counted on the day of its step.',
  fields: (t) => ({
    id: t.id({
      description: "A stable key for clients' caches (the dates and the library asked, as its Stats); not a node.",
      resolve: (r) => encodeGlobalID('RegistrationStats', statsKey(r)),
    }),
    submitted: t.exposeInt('submitted', { description: 'Registration forms sent.' }),
    confirmed: t.exposeInt('confirmed', { description: 'Registrations confirmed by their person.' }),
    accepted: t.exposeInt('accepted', { description: 'Requests accepted (registrations and renewals).' }),
    refused: t.exposeInt('refused', { description: 'Requests refused (registrations and renewals).' }),
    lapsed: t.exposeInt('lapsed', { description: 'Registrations never confirmed (their data deleted).' }),
    escalated: t.exposeInt('escalated', { description: 'Requests handed to the DLPB after 5 days without a decision.' }),
    renewalsRequested: t.exposeInt('renewalsRequested', { description: 'Renewals asked.' }),
    medianHoursToDecision: t.exposeFloat('medianHoursToDecision', {
      nullable: true,
      description: 'Median hours from confirmation to decision; null without any decision.',
    }),
    acceptedAutomatically: t.exposeInt('acceptedAutomatically', { description: "Requests accepted by NuMos on a library's behalf." }),
    membershipChecks: t.field({
      type: [MembershipCheckStat],
      description: 'Checks made in the period, by outcome.',
      // The registrations' figures and the checks' are read together (src/modules/stats/service.ts).
      resolve: (r) => r.membershipChecks,
    }),
  }),
});

const ConsumptionStat = builder.objectRef<Stats['consumption'][number]>('ConsumptionStat').implement({
  description: 'Units consumed in a month and a category (granted, not cancelled).',
  fields: (t) => ({
    period: t.exposeString('period', { description: 'The month, YYYY-MM.' }),
    category: t.field({ type: ContentCategoryEnum, description: 'The category.', resolve: (s) => s.category as never }),
    count: t.exposeInt('count', { description: 'How many units.' }),
  }),
});

const SaturationStat = builder.objectRef<Stats['saturation'][number]>('SaturationStat').implement({
  description: 'How many patrons reached a limit: what the DLPB uses to adjust the quotas.',
  fields: (t) => ({
    period: t.exposeString('period', { description: 'The month, YYYY-MM.' }),
    category: t.field({ type: ContentCategoryEnum, description: 'The category.', resolve: (s) => s.category as never }),
    share: t.exposeFloat('share', { description: 'Share (0..1) of the patrons active in that month who used their whole limit.' }),
  }),
});

const StatsType = builder.objectRef<Stats>('Stats').implement({
  description: 'Figures of a library (or all) over dates: anonymous, they survive the purge of personal data.',
  fields: (t) => ({
    id: t.id({
      description: "A stable key for clients' caches (the dates and the library asked); not a node.",
      resolve: (s) => encodeGlobalID('Stats', statsKey(s)),
    }),
    registrations: t.field({
      type: RegistrationStats,
      description: 'Requests over the dates.',
      resolve: (s) => ({ ...s.registrations, filter: s.filter, membershipChecks: s.membershipChecks }),
    }),
    activeAccounts: t.exposeInt('activeAccounts', { description: 'ACTIVE accounts now.' }),
    temporaryAccounts: t.exposeInt('temporaryAccounts', { description: 'TEMPORARY accounts now.' }),
    licencePool: t.field({ type: LicencePoolType, description: "The département's licence pool now.", resolve: (s) => s.licencePool }),
    consumption: t.field({ type: [ConsumptionStat], description: 'Consumption per month and category over the dates.', resolve: (s) => s.consumption }),
    saturation: t.field({ type: [SaturationStat], description: 'Quota saturation per month and category over the dates.', resolve: (s) => s.saturation }),
  }),
});

builder.queryField('stats', (t) =>
  t.field({
    type: StatsType,
    description: 'Staff only: their own library; the DLPB one library or all.',
    authScopes: { staff: true },
    args: { filter: t.arg({ type: StatsFilter, required: true, description: 'The dates and the library.' }) },
    resolve: (_root, { filter }, { app, caller }) => stats(app, caller, decodeIds(filter, { libraryId: 'Library' })),
  }),
);
