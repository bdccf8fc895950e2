import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for every operation, from the server's schema (graph/schema) and the operations and
// fragments written next to the components that use them. The output is committed; `make
// portal-test` regenerates it and fails when it differs (the schema or an operation changed
// without it).
const config: CodegenConfig = {
  schema: '../graph/schema/*.graphqls',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { Time: 'string', JSON: 'unknown' },
        skipTypename: false,
        nonOptionalTypename: true,
      },
    },
  },
};
export default config;
