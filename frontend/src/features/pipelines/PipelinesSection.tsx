import { lazy, Suspense, useEffect } from 'react';
import { Link } from 'react-router';
import { useQuery, useSubscription } from 'urql';
import { graphql } from '../../gql';
import type { PipelineRunFieldsFragment } from '../../gql/graphql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge, toneOf } from '../../components/Tag';
import { ago, duration } from '../../lib/format';
import { runLabel, runPath, secondsBetween } from './fields';
import { StageChips } from './StageList';
import { useReread } from '../../lib/reread';

// The dialog's widgets load only where someone may run a pipeline.
const RunDialog = lazy(() => import('./RunDialog'));

const ComponentPipelines = graphql(`
  query ComponentPipelines($ref: String!) {
    entity(ref: $ref) {
      __typename
      id
      ... on Component {
        viewerCanOperate
        pipelines {
          ...PipelineFields
          runs(first: 5) { totalCount nodes { ...PipelineRunFields } }
        }
      }
    }
  }
`);

const ComponentRunChanged = graphql(`
  subscription ComponentPipelineRunChanged($component: String!) {
    pipelineRunChanged(component: $component) { ...PipelineRunFields }
  }
`);

/** A component's declared pipelines, their latest runs (live), and a Run button for owners. */
export function PipelinesSection({ componentRef }: { componentRef: string }) {
  const [{ data, error, fetching }] = useQuery({ query: ComponentPipelines, variables: { ref: componentRef } });
  const reread = useReread(ComponentPipelines, { ref: componentRef });
  const [live] = useSubscription({ query: ComponentRunChanged, variables: { component: componentRef } });
  const c = data?.entity?.__typename === 'Component' ? data.entity : undefined;
  // Known runs update in place in the cache; a new one needs the lists again.
  const changed = live.data?.pipelineRunChanged.id;
  const known = !changed || !c || c.pipelines.some((p) => p.runs.nodes.some((r) => r.id === changed));
  useEffect(() => {
    if (!known) reread();
  }, [known, changed, reread]);

  return (
    <section className="card spaced" aria-labelledby="pipelines">
      <div className="section-header">
        <h2 id="pipelines">Pipelines</h2>
        <Link to={`/pipelines?component=${encodeURIComponent(componentRef)}`}>All runs</Link>
      </div>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      {fetching && !data && <Loading label="Loading pipelines…" />}
      {error && <ErrorNotice error={error} title="Pipelines could not be loaded" />}
      {c && c.pipelines.length === 0 && (
        <Empty>
          This component declares no pipeline (its <code>portside.dev/pipelines</code> annotation lists them).
        </Empty>
      )}
      {c?.pipelines.map((p) => (
        <article key={p.name} className="pipeline" aria-labelledby={`pipeline-${p.name}`}>
          <div className="section-header">
            <h3 id={`pipeline-${p.name}`}>
              {p.name}{' '}
              <span className="muted">
                · {p.provider === 'github' ? `GitHub Actions${p.workflow ? ` (${p.workflow})` : ''}` : p.provider} · default ref <code>{p.defaultRef}</code>
              </span>
            </h3>
            {c.viewerCanOperate && (
              <Suspense
                fallback={
                  <button type="button" className="button button-primary" disabled aria-label={`Run ${p.name}`}>
                    Run
                  </button>
                }
              >
                <RunDialog component={componentRef} pipeline={p.name} defaultRef={p.defaultRef} params={p.parameters} />
              </Suspense>
            )}
          </div>
          {p.runs.nodes.length === 0 ? (
            <Empty>No runs yet.</Empty>
          ) : (
            <ul className="plain-list run-list" aria-label={`Latest runs of ${p.name}`}>
              {p.runs.nodes.map((r) => (
                <RunRow key={r.id} r={r} />
              ))}
            </ul>
          )}
          {p.runs.totalCount > p.runs.nodes.length && (
            <p>
              <Link to={`/pipelines?component=${encodeURIComponent(componentRef)}&pipeline=${encodeURIComponent(p.name)}`}>
                All {p.runs.totalCount} runs of {p.name}
              </Link>
            </p>
          )}
        </article>
      ))}
    </section>
  );
}

function RunRow({ r }: { r: PipelineRunFieldsFragment }) {
  const secs = secondsBetween(r.startedAt, r.finishedAt);
  return (
    <li className="run-row">
      <Badge tone={toneOf(r.status)}>{r.status.replace('_', ' ')}</Badge>{' '}
      <Link to={runPath(r.id)}>Run {runLabel(r.id)}</Link>{' '}
      <span className="muted">
        on <code>{r.ref}</code> · by {r.triggeredBy} via {r.client} · {ago(r.createdAt)}
        {secs != null ? ` · took ${duration(secs)}` : ''}
        {r.retryOfId ? ` · retry of ${runLabel(r.retryOfId)}` : ''}
      </span>
      <StageChips stages={r.stages} />
    </li>
  );
}
