import { lazy, Suspense } from 'react';
import { Empty } from '../../components/States';
import { languageOf } from './language';

// The highlighter is its own chunk: only an API page with a definition loads it.
const Highlighted = lazy(() => import('./Highlighted'));

const names = { yaml: 'YAML', json: 'JSON', graphql: 'GraphQL SDL', text: 'text' } as const;

/** An API's definition, highlighted once the highlighter has loaded and plain until then. */
export function Definition({ type, definition }: { type?: string | null; definition?: string | null }) {
  if (!definition) return <Empty>This API has no definition in the catalog (its spec.definition is empty).</Empty>;
  const lang = languageOf(type, definition);
  return (
    <>
      <p className="muted">
        {type ?? 'Unknown type'}, shown as {names[lang]} ({definition.split('\n').length} lines)
      </p>
      <pre className="definition" tabIndex={0} aria-label="API definition" data-lang={lang}>
        <Suspense fallback={<code>{definition}</code>}>
          <Highlighted text={definition} lang={lang} />
        </Suspense>
      </pre>
    </>
  );
}
