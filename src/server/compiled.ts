// The resource providers' calls run as code compiled once per document (graphql-jit) instead of
// being walked field by field by the standard executor on each request. They are the volume:
// every loan or reading on a platform is a consumeQuota, server to server. Compiled, NuMos answers
// 3-14 % more of them a second than with the standard executor in the same run, and 84-98 % as
// many as a bare yoga server calling the same SQL (80-93 % before): npm run bench -- consume.
//
// Every other operation keeps the standard executor, and so does any call whose variables are
// refused: graphql-jit words refusals of its own (scalars, enums, missing fields), and
// src/server/errors.ts reads graphql-js's wording to give each its code, field and French reason;
// Pothos's Prisma plugin plans its queries from a fuller `info` than graphql-jit's. What a compiled
// call answers is what the standard executor answers: test/server/compiled.test.ts sends the same
// calls to both and compares.
import {
  GraphQLError,
  getOperationAST,
  Kind,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ExecutionResult,
  type SourceLocation,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import { log } from '../observability/logger.js';

/** The root fields of the providers' calls: metered use and the balance a platform shows. */
export const COMPILED_FIELDS: ReadonlySet<string> = new Set(['consumeQuota', 'cancelConsumption', 'quotaBalance']);

/** A document's compiled operations by name ('' for the only one); null: run by the standard executor. */
type Compiled = Map<string, CompiledQuery | null>;

/** The operation, if it is a query or mutation whose every root selection is one of COMPILED_FIELDS (or __typename). */
function providersCall(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation === 'subscription') return undefined;
  const compiled = operation.selectionSet.selections.every(
    (selection) => selection.kind === Kind.FIELD && (COMPILED_FIELDS.has(selection.name.value) || selection.name.value === '__typename'),
  );
  return compiled ? operation : undefined;
}

/** The character offset of a line and column (both from 1) in a text. */
function offsetOf(text: string, { line, column }: SourceLocation): number {
  let offset = 0;
  for (let at = 1; at < line; at += 1) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

/**
 * graphql-jit's errors as graphql-js makes them: the same class, `extensions` always an object,
 * and their locations kept as positions in the document's source (the error shaping of
 * src/server/errors.ts rebuilds errors from those).
 */
function asGraphQLError(error: GraphQLError, document: DocumentNode): GraphQLError {
  const source = document.loc?.source;
  return new GraphQLError(error.message, {
    source,
    positions: source && error.locations?.map((location) => offsetOf(source.body, location)),
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

/** One per yoga server, whose one schema its documents are compiled against. */
export function compiledExecution(): Plugin {
  const cache = new WeakMap<DocumentNode, Compiled>();
  const compiledFor = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined) => {
    let operations = cache.get(document);
    if (!operations) {
      operations = new Map();
      cache.set(document, operations);
    }
    const name = operationName ?? '';
    if (!operations.has(name)) {
      const operation = providersCall(document, operationName);
      const compiled = operation && compileQuery(schema, document, operationName ?? undefined);
      // What graphql-jit cannot compile is run by the standard executor, which answers it as before.
      operations.set(name, compiled && isCompiledQuery(compiled) ? compiled : null);
      if (compiled) log().debug({ operation: operation.name?.value, compiled: isCompiledQuery(compiled) }, 'appel des fournisseurs compilé');
    }
    return operations.get(name)!;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const compiled = compiledFor(args.schema, args.document, args.operationName);
      if (!compiled) return;
      setExecuteFn(async (call) => {
        const result = (await compiled.query(call.rootValue, call.contextValue, call.variableValues ?? {})) as ExecutionResult;
        // Refused variables (no `data`: nothing ran): the standard executor refuses them again, in
        // the words the error shaping knows.
        if (!('data' in result)) return executeFn(call);
        // In the standard executor's order: errors first.
        return result.errors ? { errors: result.errors.map((error) => asGraphQLError(error, call.document)), data: result.data } : result;
      });
    },
  };
}
