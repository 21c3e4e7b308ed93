// Imports every domain's types for their side effects and builds the schema. Nothing imports this
// file but the server and the schema printer, which keeps the builder out of import cycles.
import { GraphQLObjectType, GraphQLSchema, lexicographicSortSchema } from 'graphql';
import { builder, SCHEMA_DESCRIPTION } from '../graphql/builder.js';
import { typedCursors } from '../graphql/cursors.js';
import { refusalsAnswered } from '../graphql/refusals.js';
import { guardInputs } from '../graphql/input-guard.js';
import '../graphql/errors.js';
import '../modules/libraries/types.js';
import '../modules/staff/types.js';
import '../modules/patrons/types.js';
import '../modules/sessions/types.js';
import '../modules/licences/types.js';
import '../modules/registration/types.js';
import '../modules/passwords/types.js';
import '../modules/decisions/types.js';
import '../modules/decisions/event-types.js';
import '../modules/renewals/types.js';
import '../modules/quotas/types.js';
import '../modules/providers/types.js';
import '../modules/messages/types.js';
import '../modules/stats/types.js';
import '../modules/account/types.js';
import '../modules/audit/types.js';
import '../modules/membership/types.js';
import { TEST_CLOCK_MUTATION } from '../modules/lifecycle/types.js';

const schemas = new Map<boolean, GraphQLSchema>();

/** The schema; `advanceTestClock` is in it only with the test clock (NUMOS_TEST_CLOCK=1). */
export function getSchema(testClock = false): GraphQLSchema {
  let schema = schemas.get(testClock);
  if (!schema) {
    // Pothos has no option for the schema's own description: it is set on the built schema.
    const full = new GraphQLSchema({ ...builder.toSchema().toConfig(), description: SCHEMA_DESCRIPTION });
    schema = guardInputs(typedCursors(refusalsAnswered(lexicographicSortSchema(testClock ? full : withoutTestClock(full)))));
    schemas.set(testClock, schema);
  }
  return schema;
}

function withoutTestClock(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const mutation = schema.getMutationType()!.toConfig();
  const { [TEST_CLOCK_MUTATION]: _removed, ...fields } = mutation.fields;
  const types = config.types.filter((t) => !['AdvanceTestClockInput', 'TestClockPayload', mutation.name].includes(t.name));
  const Mutation = new GraphQLObjectType({ ...mutation, fields });
  return new GraphQLSchema({ ...config, mutation: Mutation, types: [...types, Mutation] });
}
