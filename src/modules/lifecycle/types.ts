import { builder } from '../../graphql/builder.js';
import { payloadType } from '../../graphql/errors.js';
import { advanceTestClock, type AdvanceResult } from './test-clock.js';

const AdvanceTestClockInput = builder.inputType('AdvanceTestClockInput', {
  description: "Where to move the server's clock.",
  fields: (t) => ({ to: t.field({ type: 'DateTime', required: true, description: 'The new "now": later than the current one.' }) }),
});

const TestClockPayload = payloadType<AdvanceResult>('TestClockPayload', 'The answer to a move of the test clock.', (t) => ({
  now: t.expose('now', { type: 'DateTime', description: '"Now" for the server after the call.' }),
  jobsRun: t.exposeStringList('jobsRun', { description: 'Names of the jobs that ran.' }),
}));

export const TEST_CLOCK_MUTATION = 'advanceTestClock';

builder.mutationField(TEST_CLOCK_MUTATION, (t) =>
  t.field({
    type: TestClockPayload,
    description:
      'Exists only when NUMOS_TEST_CLOCK=1 (QA, tests). DLPB only. Moves "now" forward, for every instance, and runs every job that became due in between before answering.',
    authScopes: { dlpb: true },
    args: { input: t.arg({ type: AdvanceTestClockInput, required: true, description: 'The new "now".' }) },
    resolve: (_root, { input }, { app }) => advanceTestClock(app, input.to),
  }),
);
