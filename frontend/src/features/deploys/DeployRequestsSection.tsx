import { lazy, Suspense, useEffect } from 'react';
import { Link } from 'react-router';
import { useQuery, useSubscription } from 'urql';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge } from '../../components/Tag';
import { ago } from '../../lib/format';
import { deployPath, shortVersion, stateLabel, stateTone } from './fields';
import { useReread } from '../../lib/reread';

// The dialog's widgets load only where someone may request a deploy.
const RequestDeployDialog = lazy(() => import('./RequestDeployDialog'));

const ComponentDeployRequests = graphql(`
  query ComponentDeployRequests($ref: String!) {
    entity(ref: $ref) {
      __typename
      id
      ... on Component {
        viewerCanOperate
        deployEnvironments { name requiresApproval }
        deployRequests(first: 5) { totalCount nodes { ...DeployRequestFields } }
      }
    }
  }
`);

const ComponentRequestChanged = graphql(`
  subscription ComponentDeployRequestChanged($component: String!) {
    deployRequestChanged(component: $component) { request { ...DeployRequestFields } transition { at to } }
  }
`);

/** A component's latest deploy requests (live) and, for its owners and admins, the Request deploy dialog. */
export function DeployRequestsSection({ componentRef }: { componentRef: string }) {
  const [{ data, error, fetching }] = useQuery({ query: ComponentDeployRequests, variables: { ref: componentRef } });
  const reread = useReread(ComponentDeployRequests, { ref: componentRef });
  const [live] = useSubscription({ query: ComponentRequestChanged, variables: { component: componentRef } });
  const c = data?.entity?.__typename === 'Component' ? data.entity : undefined;
  // Known requests update in place in the cache; a new one needs the list again.
  const changed = live.data?.deployRequestChanged.request.id;
  const known = !changed || !c || c.deployRequests.nodes.some((q) => q.id === changed);
  useEffect(() => {
    if (!known) reread();
  }, [known, changed, reread]);

  const envs = c?.deployEnvironments ?? [];
  return (
    <section className="card spaced" aria-labelledby="deploy-requests">
      <div className="section-header">
        <h2 id="deploy-requests">Deploy requests</h2>
        <span className="actions">
          <Link to={`/deploys?view=all&component=${encodeURIComponent(componentRef)}`}>All requests</Link>
          {c?.viewerCanOperate && envs.length > 0 && (
            <Suspense
              fallback={
                <button type="button" className="button button-primary" disabled>
                  Request deploy
                </button>
              }
            >
              <RequestDeployDialog component={componentRef} environments={envs} />
            </Suspense>
          )}
        </span>
      </div>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      {fetching && !data && <Loading label="Loading deploy requests…" />}
      {error && <ErrorNotice error={error} title="Deploy requests could not be loaded" />}
      {c && envs.length === 0 && !error && (
        <p className="muted">
          This component has no deploy targets: its <code>portside.dev/deploy</code> annotation names the manifest repository of each environment.
        </p>
      )}
      {c && envs.length > 0 && (
        <p className="muted">
          Environments: {envs.map((e) => `${e.name}${e.requiresApproval ? ' (needs approval)' : ''}`).join(', ')}.
        </p>
      )}
      {c && c.deployRequests.nodes.length === 0 && <Empty>No deploy request yet.</Empty>}
      {c && c.deployRequests.nodes.length > 0 && (
        <ul className="plain-list run-list" aria-label="Latest deploy requests">
          {c.deployRequests.nodes.map((q) => (
            <li key={q.id} className="run-row">
              <Badge tone={stateTone(q.state)}>{stateLabel(q.state)}</Badge> <Link to={deployPath(q.number)}>#{q.number}</Link>{' '}
              <code title={q.version}>{shortVersion(q.version)}</code> to {q.environment}{' '}
              <span className="muted">
                · by {q.requester}
                {q.approver ? `, approved by ${q.approver}` : ''} · {ago(q.createdAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {c && c.deployRequests.totalCount > c.deployRequests.nodes.length && (
        <p>
          <Link to={`/deploys?view=all&component=${encodeURIComponent(componentRef)}`}>All {c.deployRequests.totalCount} deploy requests</Link>
        </p>
      )}
    </section>
  );
}
