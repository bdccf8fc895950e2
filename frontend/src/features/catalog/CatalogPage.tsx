import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { Button, Checkbox, CheckboxGroup, Input, Label, SearchField } from 'react-aria-components';
import { graphql } from '../../gql';
import type { EntityOrderField, FacetField } from '../../gql/graphql';
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
  const state = readState(params);
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
  const current = text === state.q ? state : withText(state, text);
  const filter = toFilter(current);
  const [{ data, error, fetching, operation }] = useQuery({
    query: ExplorerResultsQuery,
    variables: {
      filter,
      orderBy: { field: orderOf[state.sort], direction: state.desc ? 'DESC' : 'ASC' },
      first: PAGE,
      after: current.cursors.at(-1) ?? null,
    },
  });
  // Facet counts follow the search once typing pauses (the URL's text): counting seven fields over
  // every entity a one-letter prefix matches costs the server far more than the page of results,
  // and on every keystroke it held up the results the person is waiting for.
  const [facetsResult] = useQuery({ query: ExplorerFacetsQuery, variables: { filter: toFilter(state), fields: facetParams.map((f) => fieldOf[f]) } });

  // A header pressed again turns its order around; another header starts ascending.
  const sortBy = (field: SortField) => setParams(writeState(withSort(state, field, state.sort === field ? !state.desc : false)));
  const page = state.cursors.length + 1;
  const total = data?.entities.totalCount ?? 0;

  return (
    <>
      <h1>Catalog</h1>
      <div className="explorer">
        <aside className="facets" aria-label="Filters">
          <SearchField className="search-field" value={text} onChange={setText} aria-label="Search the catalog">
            <Label>Search</Label>
            <Input placeholder="Name, title, description, tag…" />
            <Button aria-label="Clear search">✕</Button>
          </SearchField>
          {facetParams.map((f) => {
            const facet = facetsResult.data?.facets.find((x) => x.field === fieldOf[f]);
            const selected = state.filters[f];
            const values = facet?.values ?? [];
            // Keep selected values visible even when the current filter leaves them no results.
            const shown = [...values, ...selected.filter((s) => !values.some((v) => v.value === s)).map((value) => ({ value, count: 0 }))];
            if (!shown.length) return null;
            return (
              <CheckboxGroup
                key={f}
                className="facet"
                value={selected}
                onChange={(v) => setParams(writeState(withFilter(state, f, v)))}
              >
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
          })}
        </aside>
        <section
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
          {(error ?? facetsResult.error) && <ErrorNotice error={(error ?? facetsResult.error)!} title="The catalog could not be searched" />}
          {!data && fetching && <Loading />}
          {data && data.entities.nodes.length === 0 && (
            <Empty>Nothing in the catalog matches. Try fewer words or filters.</Empty>
          )}
          {data && data.entities.nodes.length > 0 && (
            <div className="table-scroll">
              {/* A plain table: rows are read, not selected or edited, so a grid widget would
                  only add weight; the sortable headers are the component library's buttons. */}
              <table className="table">
                <caption className="visually-hidden">Catalog entities{sortCaption(state.sort, state.desc)}</caption>
                <thead>
                  <tr>
                    <SortHeader field="name" label="Name" state={state} onSort={sortBy} />
                    <SortHeader field="kind" label="Kind" state={state} onSort={sortBy} />
                    <th scope="col">Type</th>
                    <th scope="col">Owner</th>
                    <th scope="col">Lifecycle</th>
                    <th scope="col">Description</th>
                    <SortHeader field="updated" label="Updated" state={state} onSort={sortBy} />
                  </tr>
                </thead>
                <tbody>
                  {data.entities.nodes.map((e) => {
                    const x = e as typeof e & { type?: string | null; lifecycle?: string; ownerRef?: string };
                    return (
                      <tr key={e.id}>
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
                  })}
                </tbody>
              </table>
            </div>
          )}
          <RunbookHits text={state.q} />
          <nav className="pager" aria-label="Pages">
            <Button
              className="button"
              isDisabled={page === 1}
              onPress={() => setParams(writeState({ ...state, cursors: state.cursors.slice(0, -1) }))}
            >
              Previous page
            </Button>
            <Button
              className="button"
              isDisabled={!data?.entities.pageInfo.hasNextPage}
              onPress={() => setParams(writeState({ ...state, cursors: [...state.cursors, data!.entities.pageInfo.endCursor!] }))}
            >
              Next page
            </Button>
          </nav>
        </section>
      </div>
    </>
  );
}

/**
 * The runbooks a search finds, under the catalog's results. It follows the URL's text (once typing
 * pauses, as the facets do) and asks nothing for a text without letters or digits.
 */
function RunbookHits({ text }: { text: string }) {
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
}

function sortCaption(sort: SortField, desc: boolean): string {
  return `, sorted by ${sort === 'updated' ? 'last update' : sort}, ${desc ? 'descending' : 'ascending'}`;
}

/** A column header that sorts the table by its field; aria-sort says how it is sorted now. */
function SortHeader({ field, label, state, onSort }: { field: SortField; label: string; state: ExplorerState; onSort: (f: SortField) => void }) {
  const active = state.sort === field;
  return (
    <th scope="col" aria-sort={active ? (state.desc ? 'descending' : 'ascending') : 'none'}>
      <Button className="sort-button" onPress={() => onSort(field)}>
        {label}
        <span aria-hidden="true">{active ? (state.desc ? ' ▼' : ' ▲') : ''}</span>
      </Button>
    </th>
  );
}
