// GraphQL Code Generator for front-end teams: `npm run codegen` reads the committed schema.graphql
// and the operations of a front end (FRONTEND_DOCUMENTS, a glob; by default the sample operations
// under codegen/) and writes, in CODEGEN_OUTPUT (codegen/generated/ by default):
// - typed documents with the client preset, ready for persisted documents, and their manifest
//   persisted-documents.json (hash → document) for the server;
// - possible-types.ts: the members of each union and interface, for Apollo's
//   InMemoryCache({ possibleTypes });
// - urql-schema.ts: the schema minified for urql's graphcache, cacheExchange({ schema }).
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';
import type { CodegenConfig } from '@graphql-codegen/cli';

const output = process.env.CODEGEN_OUTPUT ?? 'codegen/generated/';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: process.env.FRONTEND_DOCUMENTS ?? 'codegen/**/*.graphql',
  ignoreNoDocuments: true,
  generates: {
    [output]: {
      preset: 'client',
      // SHA-256, as Apollo's persisted queries and the GraphQL-over-HTTP `documentId` use it: the
      // server takes the written persisted-documents.json (NUMOS_PERSISTED_DOCUMENTS or
      // NUMOS_TRUSTED_DOCUMENTS).
      presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' } },
      // `__typename` in every selection set, in the manifest too: sent by hash, a document runs as
      // the manifest has it, whatever the client added to its own copy, and a normalised cache
      // (Apollo, urql) keys objects by type and id. Without it Apollo's cache keeps every object
      // inside ROOT_QUERY.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: {
        scalars: { DateTime: 'string', LocalDate: 'string', EmailAddress: 'string' },
        enumsAsTypes: true,
      },
    },
    [`${output}possible-types.ts`]: {
      plugins: ['fragment-matcher'],
      // Apollo Client 3 and later take { Supertype: [Subtype, …] }; sorted, so that a schema
      // change shows as a small diff.
      config: { apolloClientVersion: 3, deterministic: true },
    },
    // graphcache takes possibleTypes too, but only the schema keeps it from writing a union
    // member's fields from another member's fragment (and warning that they are missing).
    [`${output}urql-schema.ts`]: {
      plugins: ['./scripts/codegen-urql-schema.js'],
    },
  },
};

export default config;
