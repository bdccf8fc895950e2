// The explorer's whole state lives in the URL, so every view is a link: text, facet filters,
// order, and the cursors of the pages before this one (opaque to the portal, so kept as a stack).

export const facetParams = ['kind', 'type', 'lifecycle', 'owner', 'tag', 'system', 'namespace'] as const;
export type FacetParam = (typeof facetParams)[number];

export type SortField = 'name' | 'kind' | 'updated';

export interface ExplorerState {
  q: string;
  filters: Record<FacetParam, string[]>;
  sort: SortField;
  desc: boolean;
  /** Cursors of the pages before this one; the last is this page's `after`. */
  cursors: string[];
}

export function readState(params: URLSearchParams): ExplorerState {
  const filters = Object.fromEntries(facetParams.map((f) => [f, params.getAll(f)])) as Record<FacetParam, string[]>;
  const sort = params.get('sort');
  return {
    q: params.get('q') ?? '',
    filters,
    sort: sort === 'kind' || sort === 'updated' ? sort : 'name',
    desc: params.get('dir') === 'desc',
    cursors: params.getAll('c'),
  };
}

export function writeState(s: ExplorerState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  for (const f of facetParams) for (const v of s.filters[f]) p.append(f, v);
  if (s.sort !== 'name') p.set('sort', s.sort);
  if (s.desc) p.set('dir', 'desc');
  for (const c of s.cursors) p.append('c', c);
  return p;
}

/** A change of what is shown starts again at the first page. */
export function withFilter(s: ExplorerState, field: FacetParam, values: string[]): ExplorerState {
  return { ...s, filters: { ...s.filters, [field]: values }, cursors: [] };
}

export function withText(s: ExplorerState, q: string): ExplorerState {
  return { ...s, q, cursors: [] };
}

export function withSort(s: ExplorerState, sort: SortField, desc: boolean): ExplorerState {
  return { ...s, sort, desc, cursors: [] };
}

/** The API's filter for a state (fields left out when empty). */
export function toFilter(s: ExplorerState) {
  const f: Record<string, unknown> = {};
  if (s.q.trim()) f.text = s.q.trim();
  const map: Record<FacetParam, string> = {
    kind: 'kinds', type: 'types', lifecycle: 'lifecycles', owner: 'owners', tag: 'tags', system: 'systems', namespace: 'namespaces',
  };
  for (const k of facetParams) if (s.filters[k].length) f[map[k]] = s.filters[k];
  return f;
}
