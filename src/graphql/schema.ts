// Imports every domain's types for their side effects and builds the schema. Nothing imports this
// file but the server and the schema printer, which keeps the builder out of import cycles.
import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import '../modules/libraries/types.js';
import '../modules/staff/types.js';
import '../modules/patrons/types.js';
import '../modules/sessions/types.js';
import '../modules/licences/types.js';
import '../modules/registration/types.js';
import '../modules/passwords/types.js';
import '../modules/decisions/types.js';
import '../modules/decisions/events.js';

let schema: GraphQLSchema | undefined;

export function getSchema(): GraphQLSchema {
  schema ??= lexicographicSortSchema(builder.toSchema());
  return schema;
}
