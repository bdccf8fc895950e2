import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Input, Label, TextField } from 'react-aria-components';
import { useQuery, useSubscription } from 'urql';
import { graphql } from '../../gql';
import type { DeployRequestFilter, DeployRequestState } from '../../gql/graphql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge } from '../../components/Tag';
import { ago, entityPath, shortRef } from '../../lib/format';
import { deployPath, shortVersion, stateLabel, STATES, stateTone, when } from './fields';
import { useReread } from '../../lib/reread';

const RequestsQuery = graphql(`
  query DeployRequests($filter: DeployRequestFilter, $after: String) {
    deployRequests(filter: $filter, first: 25, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...DeployRequestFields }
    }
  }
`);

const AnyRequestChanged = graphql(`
  subscription AnyDeployRequestChanged {
    deployRequestChanged { request { ...DeployRequestFields } transition { at to } }
  }
`);

/** The page's views: whose requests it lists. */
const VIEWS = [
  { key: 'mine', label: 'Mine', empty: 'You have asked for no deploy matching this. Request one from a component you own.' },
  { key: 'awaiting', label: 'Awaiting my approval', empty: 'Nothing waits for your approval: no request of a component you own (any component, for an admin) asked for by someone else.' },
  { key: 'all', label: 'All', empty: 'No deploy request matches these filters.' },
] as const;
type View = (typeof VIEWS)[number]['key'];

function filterOf(view: View, state: string, component: string): DeployRequestFilter {
  return {
    mine: view === 'mine' ? true : null,
    awaitingMyApproval: view === 'awaiting' ? true : null,
    states: state ? [state as DeployRequestState] : null,
    component: component || null,
  };
}

/**
 * Deploy requests, newest first: mine, those awaiting my approval, or all; narrowed by state and
 * component; live. Everything is in the URL (?view=awaiting&state=REQUESTED&component=payments-api).
 */
export function DeploysPage() {
  const [params, setParams] = useSearchParams();
  const view: View = VIEWS.some((v) => v.key === params.get('view')) ? (params.get('view') as View) : 'mine';
  const state = params.get('state') ?? '';
  const component = params.get('component') ?? '';
  const after = params.get('c');
  const [draft, setDraft] = useState(component);
  useEffect(() => setDraft(component), [component]);

  const [{ data, error, fetching }] = useQuery({ query: RequestsQuery, variables: { filter: filterOf(view, state, component), after } });
  const reread = useReread(RequestsQuery, { filter: filterOf(view, state, component), after });
  const [live] = useSubscription({ query: AnyRequestChanged });
  // A move may add a request to this view or take one out of it (a decision leaves "awaiting"):
  // the first page is read again; the cache alone updates the rows already shown.
  const ev = live.data?.deployRequestChanged;
  const moved = ev ? `${ev.request.id}:${ev.transition.to}:${ev.transition.at}` : '';
  useEffect(() => {
    if (moved && !after) reread();
  }, [moved, after, reread]);

  function link(next: { view?: View; state?: string; component?: string; c?: string }): string {
    const p = new URLSearchParams();
    const v = next.view ?? view;
    if (v !== 'mine') p.set('view', v);
    const s = next.state ?? state;
    if (s) p.set('state', s);
    const comp = next.component ?? component;
    if (comp) p.set('component', comp);
    if (next.c) p.set('c', next.c);
    const q = p.toString();
    return q ? `?${q}` : '';
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    setParams(new URLSearchParams(link({ component: draft.trim() }).slice(1)));
  }

  const conn = data?.deployRequests;
  const current = VIEWS.find((v) => v.key === view)!;
  return (
    <>
      <h1>Deploy requests</h1>
      <nav aria-label="Which requests" className="view-tabs">
        {VIEWS.map((v) => (
          <Link key={v.key} to={{ search: link({ view: v.key }) }} aria-current={v.key === view ? 'page' : undefined}>
            {v.label}
          </Link>
        ))}
      </nav>
      <form className="card filters-form" onSubmit={submit} aria-label="Filter requests">
        <div className="filters">
          <TextField className="text-field" value={draft} onChange={setDraft}>
            <Label>Component</Label>
            <Input placeholder="e.g. payments-api" />
          </TextField>
          <div className="text-field">
            <label htmlFor="deploy-state">State</label>
            <select id="deploy-state" className="select" value={state} onChange={(e) => setParams(new URLSearchParams(link({ state: e.target.value }).slice(1)))}>
              <option value="">Any</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {stateLabel(s)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="actions">
          <button type="submit" className="button button-primary">
            Filter
          </button>
          <Link className="button button-quiet" to={{ search: link({ state: '', component: '' }) }}>
            Clear
          </Link>
        </div>
      </form>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      {fetching && !data && <Loading label="Loading deploy requests…" />}
      {error && <ErrorNotice error={error} title="Deploy requests could not be loaded" />}
      {conn && (
        <>
          <p className="result-count" role="status">
            {conn.totalCount} {conn.totalCount === 1 ? 'request' : 'requests'}
          </p>
          {conn.nodes.length === 0 ? (
            <Empty>{current.empty}</Empty>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">Deploy requests ({current.label}), newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Request</th>
                    <th scope="col">Component</th>
                    <th scope="col">Version</th>
                    <th scope="col">Environment</th>
                    <th scope="col">State</th>
                    <th scope="col">Requester</th>
                    <th scope="col">Approver</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {conn.nodes.map((q) => (
                    <tr key={q.id} data-state={q.state}>
                      <th scope="row">
                        <Link to={deployPath(q.number)}>#{q.number}</Link>
                      </th>
                      <td>
                        <Link to={entityPath(q.component)}>{shortRef(q.component)}</Link>
                      </td>
                      <td>
                        <code title={q.version}>{shortVersion(q.version)}</code>
                      </td>
                      <td>{q.environment}</td>
                      <td>
                        <Badge tone={stateTone(q.state)}>{stateLabel(q.state)}</Badge>
                        {q.waiting && <span className="muted"> · waiting</span>}
                      </td>
                      <td>{q.requester}</td>
                      <td>{q.approver ?? <span className="muted">—</span>}</td>
                      <td>
                        <time dateTime={q.createdAt} title={when(q.createdAt)}>
                          {ago(q.createdAt)}
                        </time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            {after && (
              <Link className="button" to={{ search: link({}) }}>
                First page
              </Link>
            )}
            {conn.pageInfo.hasNextPage && conn.pageInfo.endCursor && (
              <Link className="button" to={{ search: link({ c: conn.pageInfo.endCursor }) }}>
                Next page
              </Link>
            )}
          </div>
        </>
      )}
    </>
  );
}
