// Which language an API definition is written in: apart from the highlighter (highlight.ts) so
// the API page can say it without loading the highlighter's chunk.

export type Language = 'yaml' | 'json' | 'graphql' | 'text';

/** The language of an API's definition, from its spec.type and its first character. */
export function languageOf(apiType: string | null | undefined, definition: string): Language {
  const t = (apiType ?? '').toLowerCase();
  if (t === 'graphql') return 'graphql';
  if (t === 'openapi' || t === 'asyncapi' || t === '') {
    const first = definition.trimStart()[0];
    if (first === '{' || first === '[') return 'json';
    return 'yaml';
  }
  return 'text';
}
