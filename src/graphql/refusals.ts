// Business refusals answered in one place. A use case throws a Refusal (its transaction rolls back);
// here, for every field of the schema, it becomes what the contract says: the payload's `errors`
// for a mutation (its other fields null, or what the payload answers when refused), a top-level
// error with the refusal's code for a query (with HTTP 429 for RATE_LIMITED: src/server/errors.ts).
import { getNamedType, isObjectType, type GraphQLFieldResolver, type GraphQLOutputType, type GraphQLSchema } from 'graphql';
import { Refusal } from '../domain/errors.js';
import { queryRefused, refusedPayload } from './errors.js';

/** The payload type a field returns, if it carries business errors. */
export const payloadOf = (type: GraphQLOutputType): string | undefined => {
  const named = getNamedType(type);
  const errors = isObjectType(named) ? named.getFields().errors : undefined;
  return errors !== undefined && getNamedType(errors.type).name === 'UserError' ? named.name : undefined;
};

/** Use cases run from the root fields of queries and mutations: those are wrapped, nothing beneath. */
export function refusalsAnswered(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field.resolve;
      if (!resolve) continue;
      const payload = payloadOf(field.type);
      const answer = (error: unknown) => {
        if (!(error instanceof Refusal)) throw error;
        if (payload) return refusedPayload(payload, error.errors);
        throw queryRefused(error.error);
      };
      field.resolve = (source, args, context, info) => {
        try {
          const result = resolve(source, args, context, info);
          return result instanceof Promise ? result.catch(answer) : result;
        } catch (error) {
          return answer(error);
        }
      };
    }
  }
  return schema;
}
