// Writes src/gql/introspection.json: the schema's types, minified, for Graphcache. With it the
// cache matches fragments on interfaces (Entity, Node) exactly and knows which fields are
// nullable, instead of guessing from what it holds. Run by `npm run codegen`; checked like the rest
// of src/gql.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { minifyIntrospectionQuery } from '@urql/introspection';

const dir = '../graph/schema';
const sdl = readdirSync(dir)
  .filter((f) => f.endsWith('.graphqls'))
  .sort()
  .map((f) => readFileSync(`${dir}/${f}`, 'utf8'))
  .join('\n');
const mini = minifyIntrospectionQuery(introspectionFromSchema(buildSchema(sdl)), { includeScalars: false, includeEnums: false, includeInputs: false });
writeFileSync('src/gql/introspection.json', JSON.stringify(mini) + '\n');
