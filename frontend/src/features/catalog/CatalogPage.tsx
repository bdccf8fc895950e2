import { memo, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery, type CombinedError } from 'urql';
import { Button, Checkbox, CheckboxGroup, Input, Label, SearchField } from 'react-aria-components';
import { graphql } from '../../gql';
import type { EntityOrderField, EntityRowFragment as EntityRowData, ExplorerFacetsQuery as FacetsData, FacetField } from '../../gql/graphql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { ago, entityPath, shortRef } from '../../lib/format';
import { runbookPath } from '../runbooks/paths';
import { facetParams, readState, toFilter, withFilter, withSort, withText, writeState, type ExplorerState, type FacetParam, type SortField } from './urlState';

export const EntityRowFragment = graphql(`
  fragment EntityRow on Entity {
    id
    ref
    kind
    namespace
    name
    title
    description
    tags
    updatedAt
    ... on Component { type lifecycle ownerRef }
    ... on API { type lifecycle ownerRef }
    ... on System { ownerRef }
    ... on Domain { ownerRef }
    ... on Resource { type ownerRef }
    ... on Group { type }
  }
`);

// The results and the facet counts are two requests: the rows come back in milliseconds, while
// counting facets over many matches (a one-letter search) can take much longer, and the table must
// not wait for the counts as the person types.
const ExplorerResultsQuery = graphql(`
  query ExplorerResults($filter: EntityFilter, $orderBy: EntityOrder, $first: Int!, $after: String) {
    entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...EntityRow }
    }
  }
`);

const ExplorerFacetsQuery = graphql(`
  query ExplorerFacets($filter: EntityFilter, $fields: [FacetField!]!) {
    facets(filter: $filter, fields: $fields, limit: 25) {
      field
      values { value count }
    }
  }
`);

// Runbooks whose title or text hold the words, beside the catalog's results: a query of its own,
// so the catalog's search (and its cost) is the same with or without it.
const CatalogRunbookHitsQuery = graphql(`
  query CatalogRunbookHits($text: String!) {
    runbooks(filter: { text: $text }, first: 5) {
      totalCount
      nodes { id title }
    }
  }
`);

const PAGE = 25;
const fieldOf: Record<FacetParam, FacetField> = {
  kind: 'KIND', type: 'TYPE', lifecycle: 'LIFECYCLE', owner: 'OWNER', tag: 'TAG', system: 'SYSTEM', namespace: 'NAMESPACE',
};
const labels: Record<FacetParam, string> = {
  kind: 'Kind', type: 'Type', lifecycle: 'Lifecycle', owner: 'Owner', tag: 'Tag', system: 'System', namespace: 'Namespace',
};
const orderOf: Record<SortField, EntityOrderField> = { name: 'NAME', kind: 'KIND', updated: 'UPDATED_AT' };

/** Debounces a value: the URL follows the search once typing pauses, not at every keystroke. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function CatalogPage() {
  const [params, setParams] = useSearchParams();
  // One state object per URL, so that the panels below can skip rendering while only the text
  // being typed changes.
  const search = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const state = useMemo(() => readState(params), [search]);
  const [text, setText] = useState(state.q);
  const debounced = useDebounced(text, 200);

  // Typing updates the URL (replacing, not pushing: one history entry per search, not per key).
  const written = useRef(state.q);
  useEffect(() => {
    if (debounced !== state.q) {
      written.current = debounced;
      setParams(writeState(withText(state, debounced)), { replace: true });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);
  // Back/forward (or a link) to another search shows its text; the URL catching up with what is
  // being typed must not overwrite keys typed since.
  useEffect(() => {
    if (state.q !== written.current) {
      written.current = state.q;
      setText(state.q);
    }
  }, [state.q]);

  // The results follow every keystroke (each search answers in a few milliseconds, and a newer
  // one cancels the one in flight); only the URL waits for typing to pause.
  const current = useMemo(() => (text === state.q ? state : withText(state, text)), [state, text]);

  // Facet counts follow the search once typing pauses (the URL's text): counting seven fields over
  // every entity a one-letter prefix matches costs the server far more than the page of results,
  // and on every keystroke it held up the results the person is waiting for. While typing goes
  // on (the text is ahead of the URL) they wait, keeping the counts shown: a key cancels the
  // counting of a text already typed past, which would only compete with the key's own results.
  const facetVariables = useMemo(() => ({ filter: toFilter(state), fields: facetParams.map((f) => fieldOf[f]) }), [state]);
  const [facetsResult] = useQuery({ query: ExplorerFacetsQuery, variables: facetVariables, pause: text !== state.q });
  // Up to 175 checkboxes: rendering new counts is deferred (interruptible), so a keystroke's rows
  // arriving meanwhile are not held up behind them.
  const facets = useDeferredValue(facetsResult.data?.facets);

  // The selection as a value: the URL catching up with the text leaves it (and so the facet
  // filters) as it was.
  const selection = JSON.stringify(state.filters);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const filters = useMemo(() => state.filters, [selection]);

  // The handlers read the URL as it is when they are called, so that they stay the same functions
  // and the memoized panels skip renders where only the text or the URL's copy of it changes.
  const latest = useRef({ state, setParams });
  useLayoutEffect(() => {
    latest.current = { state, setParams };
  });
  const onFilter = useCallback((f: FacetParam, v: string[]) => {
    const { state, setParams } = latest.current;
    setParams(writeState(withFilter(state, f, v)));
  }, []);
  // A header pressed again turns its order around; another header starts ascending.
  const onSort = useCallback((field: SortField) => {
    const { state, setParams } = latest.current;
    setParams(writeState(withSort(state, field, state.sort === field ? !state.desc : false)));
  }, []);
  const onPage = useCallback((cursors: string[]) => {
    const { state, setParams } = latest.current;
    setParams(writeState({ ...state, cursors }));
  }, []);

  return (
    <>
      <h1>Catalog</h1>
      <div className="explorer">
        <aside className="facets" aria-label="Filters">
          {/* The API takes at most 200 bytes of text (characters past ASCII take more than one). */}
          <SearchField className="search-field" value={text} onChange={setText} aria-label="Search the catalog" maxLength={200}>
            <Label>Search</Label>
            <Input placeholder="Name, title, description, tag…" />
            <Button aria-label="Clear search">✕</Button>
          </SearchField>
          {/* The facets are dozens of Tab stops: a keyboard user may pass them by. */}
          <a
            href="#results"
            className="skip-inline"
            onClick={(e) => {
              e.preventDefault();
              document.getElementById('results')?.focus();
            }}
          >
            Skip the filters to the results
          </a>
          <FacetFilters facets={facets} filters={filters} onFilter={onFilter} />
        </aside>
        <Results state={current} runbookText={state.q} facetsError={facetsResult.error} onSort={onSort} onPage={onPage} />
      </div>
    </>
  );
}

/** The facet filters with their counts; renders only when the counts or the selection change. */
const FacetFilters = memo(function FacetFilters({
  facets,
  filters,
  onFilter,
}: {
  facets: FacetsData['facets'] | undefined;
  filters: ExplorerState['filters'];
  onFilter: (f: FacetParam, values: string[]) => void;
}) {
  return facetParams.map((f) => {
    const facet = facets?.find((x) => x.field === fieldOf[f]);
    const selected = filters[f];
    const values = facet?.values ?? [];
    // Keep selected values visible even when the current filter leaves them no results.
    const shown = [...values, ...selected.filter((s) => !values.some((v) => v.value === s)).map((value) => ({ value, count: 0 }))];
    if (!shown.length) return null;
    return (
      <CheckboxGroup key={f} className="facet" value={selected} onChange={(v) => onFilter(f, v)}>
        <Label className="facet-label">{labels[f]}</Label>
        {shown.map((v) => (
          <Checkbox key={v.value} value={v.value} className="checkbox">
            <span className="checkbox-box" aria-hidden="true" />
            <span className="facet-value">{f === 'owner' || f === 'system' ? shortRef(v.value) : v.value}</span>
            <span className="facet-count">{v.count}</span>
          </Checkbox>
        ))}
      </CheckboxGroup>
    );
  });
});

/** The results of what is typed and selected: count, table and pager. */
const Results = memo(function Results({
  state,
  runbookText,
  facetsError,
  onSort,
  onPage,
}: {
  state: ExplorerState;
  /** The URL's text, which the runbook hits follow (not every key). */
  runbookText: string;
  facetsError: CombinedError | undefined;
  onSort: (f: SortField) => void;
  onPage: (cursors: string[]) => void;
}) {
  const variables = useMemo(
    () => ({
      filter: toFilter(state),
      orderBy: { field: orderOf[state.sort], direction: state.desc ? ('DESC' as const) : ('ASC' as const) },
      first: PAGE,
      after: state.cursors.at(-1) ?? null,
    }),
    [state],
  );
  const [{ data, error, fetching, operation }] = useQuery({ query: ExplorerResultsQuery, variables });
  const page = state.cursors.length + 1;
  const total = data?.entities.totalCount ?? 0;
  const nodes = data?.entities.nodes;
  const endCursor = data?.entities.pageInfo.endCursor;

  return (
    <section
      id="results"
      tabIndex={-1}
      className="results"
      aria-labelledby="results-heading"
      aria-busy={fetching}
      data-results-for={data ? (operation?.variables.filter?.text ?? '') : undefined}
    >
      <h2 id="results-heading" className="visually-hidden">
        Results
      </h2>
      <p className="result-count" role="status" aria-live="polite">
        {fetching && !data ? 'Searching…' : `${total} ${total === 1 ? 'entity' : 'entities'}${page > 1 ? `, page ${page}` : ''}`}
      </p>
      {(error ?? facetsError) && <ErrorNotice error={(error ?? facetsError)!} title="The catalog could not be searched" />}
      {!data && fetching && <Loading />}
      {nodes && nodes.length === 0 && <Empty>Nothing in the catalog matches. Try fewer words or filters.</Empty>}
      {nodes && nodes.length > 0 && (
        <div className="table-scroll">
          {/* A plain table: rows are read, not selected or edited, so a grid widget would
              only add weight; the sortable headers are the component library's buttons. */}
          <table className="table">
            <caption className="visually-hidden">Catalog entities{sortCaption(state.sort, state.desc)}</caption>
            <thead>
              <tr>
                <SortHeader field="name" label="Name" sort={state.sort} desc={state.desc} onSort={onSort} />
                <SortHeader field="kind" label="Kind" sort={state.sort} desc={state.desc} onSort={onSort} />
                <th scope="col">Type</th>
                <th scope="col">Owner</th>
                <th scope="col">Lifecycle</th>
                <th scope="col">Description</th>
                <SortHeader field="updated" label="Updated" sort={state.sort} desc={state.desc} onSort={onSort} />
              </tr>
            </thead>
            <tbody>
              {nodes.map((e) => (
                <EntityRow key={e.id} e={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <RunbookHits text={runbookText} />
      <nav className="pager" aria-label="Pages">
        <Button className="button" isDisabled={page === 1} onPress={() => onPage(state.cursors.slice(0, -1))}>
          Previous page
        </Button>
        <Button
          className="button"
          isDisabled={!data?.entities.pageInfo.hasNextPage}
          onPress={() => onPage([...state.cursors, endCursor!])}
        >
          Next page
        </Button>
      </nav>
    </section>
  );
});

type Row = EntityRowData & { type?: string | null; lifecycle?: string; ownerRef?: string };

/** One entity's row. A row already on screen (the same entity in the next keystroke's results)
 *  is not rendered again: each answer brings new objects, so rows compare what they show. */
const EntityRow = memo(
  function EntityRow({ e }: { e: EntityRowData }) {
    const x = e as Row;
    return (
      <tr>
        <th scope="row">
          <Link to={entityPath(e.ref)} className="link">
            {e.title ?? e.name}
          </Link>
          {e.namespace !== 'default' && <span className="muted"> · {e.namespace}</span>}
        </th>
        <td>{e.kind}</td>
        <td>{x.type ?? '—'}</td>
        <td>{x.ownerRef ? <Link to={entityPath(x.ownerRef)} className="link">{shortRef(x.ownerRef)}</Link> : '—'}</td>
        <td>{x.lifecycle ?? '—'}</td>
        <td>
          <span className="clamp">{e.description ?? ''}</span>
          {e.tags.slice(0, 3).map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </td>
        <td>{ago(e.updatedAt)}</td>
      </tr>
    );
  },
  (a, b) => sameRow(a.e as Row, b.e as Row),
);

function sameRow(a: Row, b: Row): boolean {
  return (
    a === b ||
    (a.id === b.id &&
      a.ref === b.ref &&
      a.title === b.title &&
      a.name === b.name &&
      a.namespace === b.namespace &&
      a.kind === b.kind &&
      a.type === b.type &&
      a.ownerRef === b.ownerRef &&
      a.lifecycle === b.lifecycle &&
      a.description === b.description &&
      a.updatedAt === b.updatedAt &&
      a.tags.length === b.tags.length &&
      a.tags.every((t, i) => t === b.tags[i]))
  );
}

function sortCaption(sort: SortField, desc: boolean): string {
  return `, sorted by ${sort === 'updated' ? 'last update' : sort}, ${desc ? 'descending' : 'ascending'}`;
}

/** A column header that sorts the table by its field; aria-sort says how it is sorted now. */
const SortHeader = memo(function SortHeader({
  field,
  label,
  sort,
  desc,
  onSort,
}: {
  field: SortField;
  label: string;
  sort: SortField;
  desc: boolean;
  onSort: (f: SortField) => void;
}) {
  const active = sort === field;
  return (
    <th scope="col" aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}>
      <Button className="sort-button" onPress={() => onSort(field)}>
        {label}
        <span aria-hidden="true">{active ? (desc ? ' ▼' : ' ▲') : ''}</span>
      </Button>
    </th>
  );
});

/**
 * The runbooks a search finds, under the catalog's results. It follows the URL's text (once typing
 * pauses, as the facets do) and asks nothing for a text without letters or digits.
 */
const RunbookHits = memo(function RunbookHits({ text }: { text: string }) {
  const words = /[\p{L}\p{N}]/u.test(text);
  const [{ data }] = useQuery({ query: CatalogRunbookHitsQuery, variables: { text }, pause: !words });
  const hits = words ? data?.runbooks : undefined;
  if (!hits || hits.totalCount === 0) return null;
  return (
    <section className="runbook-hits" aria-labelledby="runbook-hits-heading">
      <h3 id="runbook-hits-heading">Runbooks</h3>
      <ul>
        {hits.nodes.map((r) => (
          <li key={r.id}>
            <Link to={runbookPath(r.id)} className="link">
              {r.title}
            </Link>
          </li>
        ))}
      </ul>
      {hits.totalCount > hits.nodes.length && (
        <Link to={`/runbooks?${new URLSearchParams({ q: text })}`} className="link">
          All {hits.totalCount} runbooks with these words
        </Link>
      )}
    </section>
  );
});
