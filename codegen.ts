// GraphQL Code Generator for front-end teams: `npm run codegen` reads the committed schema.graphql
// and the operations of a front end (FRONTEND_DOCUMENTS, a glob; by default the sample operations
// under codegen/) and writes typed documents with the client preset, ready for persisted documents.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: process.env.FRONTEND_DOCUMENTS ?? 'codegen/**/*.graphql',
  ignoreNoDocuments: true,
  generates: {
    [process.env.CODEGEN_OUTPUT ?? 'codegen/generated/']: {
      preset: 'client',
      // SHA-256, as Apollo's persisted queries and the GraphQL-over-HTTP `documentId` use it: the
      // server takes the written persisted-documents.json (NUMOS_PERSISTED_DOCUMENTS or
      // NUMOS_TRUSTED_DOCUMENTS).
      presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        scalars: { DateTime: 'string', LocalDate: 'string', EmailAddress: 'string' },
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
