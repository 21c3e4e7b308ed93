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
      presetConfig: { persistedDocuments: true },
      config: {
        scalars: { DateTime: 'string', LocalDate: 'string', EmailAddress: 'string' },
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
