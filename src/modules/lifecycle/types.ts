import { builder } from '../../graphql/builder.js';
import { payloadType } from '../../graphql/errors.js';
import { advanceTestClock, type AdvanceResult } from './test-clock.js';

const AdvanceTestClockInput = builder.inputType('AdvanceTestClockInput', {
  fields: (t) => ({ to: t.field({ type: 'DateTime', required: true }) }),
});

const TestClockPayload = payloadType<AdvanceResult>('TestClockPayload', (t) => ({
  now: t.expose('now', { type: 'DateTime' }),
  jobsRun: t.exposeStringList('jobsRun', { description: 'Names of the jobs that ran.' }),
}));

export const TEST_CLOCK_MUTATION = 'advanceTestClock';

builder.mutationField(TEST_CLOCK_MUTATION, (t) =>
  t.field({
    type: TestClockPayload,
    description: 'Exists only when NUMOS_TEST_CLOCK=1. DLPB only.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: AdvanceTestClockInput, required: true }) },
    resolve: (_root, { input }, { app }) => advanceTestClock(app, input.to),
  }),
);
