import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge, toneOf } from '../../components/Tag';
import { problemOf } from '../../lib/errors';
import { duration, entityPath, shortRef } from '../../lib/format';
import { finished, retryable, runLabel, runPath, secondsBetween, time } from './fields';
import { StageList } from './StageList';

const RunQuery = graphql(`
  query PipelineRunPage($id: ID!) {
    pipelineRun(id: $id) {
      ...PipelineRunFields
      retryOf { id status createdAt }
    }
  }
`);

const CanOperate = graphql(`
  query PipelineRunComponent($ref: String!) {
    entity(ref: $ref) {
      __typename
      id
      title
      ... on Component { viewerCanOperate }
    }
  }
`);

const RunChanged = graphql(`
  subscription PipelineRunChanged($id: ID!) {
    pipelineRunChanged(id: $id) { ...PipelineRunFields }
  }
`);

const Cancel = graphql(`
  mutation CancelPipelineRun($input: PipelineRunInput!) { cancelPipelineRun(input: $input) { run { ...PipelineRunFields } } }
`);
const Retry = graphql(`
  mutation RetryPipelineRun($input: PipelineRunInput!) { retryPipelineRun(input: $input) { run { ...PipelineRunFields } } }
`);

/** One run, deep-linkable: its stages in order, artifacts, who ran it and how; live until it finishes. */
export function RunPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const [{ data, error, fetching }] = useQuery({ query: RunQuery, variables: { id } });
  const [live] = useSubscription({ query: RunChanged, variables: { id } });
  const run = data?.pipelineRun;
  const [comp] = useQuery({ query: CanOperate, variables: { ref: run?.component ?? '' }, pause: !run });
  const [, cancel] = useMutation(Cancel);
  const [, retry] = useMutation(Retry);

  if (fetching && !data) return <Loading label="Loading the run…" />;
  if (error && !run) return <ErrorNotice error={error} title="This run could not be loaded" />;
  if (!run) {
    return (
      <>
        <h1>Run {runLabel(id)}</h1>
        <Empty>
          There is no pipeline run <code>{id}</code>. <Link to="/pipelines">All runs</Link>
        </Empty>
      </>
    );
  }
  const e = comp.data?.entity;
  const canOperate = e?.__typename === 'Component' && e.viewerCanOperate;
  const secs = secondsBetween(run.startedAt, run.finishedAt);
  const what = `${run.pipeline} of ${shortRef(run.component)}`;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/pipelines">Pipelines</Link> / <Link to={entityPath(run.component)}>{shortRef(run.component)}</Link> / {run.pipeline}
      </nav>
      <div className="entity-header">
        <h1>
          {run.pipeline} run {runLabel(run.id)}
        </h1>
        <span role="status" aria-live="polite" aria-atomic="true" className="run-status">
          <span className="visually-hidden">Status: </span>
          <Badge tone={toneOf(run.status)}>{run.status.replace('_', ' ')}</Badge>
        </span>
      </div>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      {run.message && (
        <p className={run.status === 'FAILED' || run.status === 'TIMED_OUT' ? 'notice notice-error' : 'notice'}>{run.message}</p>
      )}
      {canOperate && (!finished(run.status) || retryable(run.status)) && (
        <div className="actions" role="group" aria-label="Actions on this run">
          {!finished(run.status) && (
            <ConfirmDialog
              label="Cancel run"
              danger
              title={`Cancel this run of ${what}?`}
              confirmLabel="Cancel run"
              onConfirm={async () => {
                const r = await cancel({ input: { id: run.id } });
                return r.error ? problemOf(r.error as CombinedError) : null;
              }}
            >
              <p>
                Portside asks {run.provider === 'github' ? 'GitHub Actions' : `the ${run.provider} provider`} to stop the run. Stages that have not
                started are skipped; what a finished stage did stays done.
              </p>
            </ConfirmDialog>
          )}
          {retryable(run.status) && (
            <ConfirmDialog
              label="Retry run"
              title={`Retry this run of ${what}?`}
              confirmLabel="Retry"
              onConfirm={async () => {
                const r = await retry({ input: { id: run.id } });
                if (r.error) return problemOf(r.error as CombinedError);
                const next = r.data?.retryPipelineRun.run.id;
                if (next) navigate(runPath(next));
                return null;
              }}
            >
              <p>
                A new run starts with the same ref (<code>{run.ref}</code>) and parameters, linked to this one.
                {run.provider === 'github' ? ' On GitHub, its failed jobs run again as the next attempt.' : ''}
              </p>
            </ConfirmDialog>
          )}
        </div>
      )}
      <div className="grid-2 spaced">
        <section className="card" aria-labelledby="run-about">
          <h2 id="run-about">About this run</h2>
          <dl className="facts">
            <dt>Component</dt>
            <dd>
              <Link to={entityPath(run.component)}>{shortRef(run.component)}</Link>
            </dd>
            <dt>Pipeline</dt>
            <dd>
              {run.pipeline} <span className="muted">on {run.provider}</span>
            </dd>
            <dt>Ref</dt>
            <dd>
              <code>{run.ref}</code>
              {run.commitSha && (
                <>
                  {' '}
                  at <code>{run.commitSha.slice(0, 12)}</code>
                </>
              )}
            </dd>
            <dt>Triggered by</dt>
            <dd>
              {run.triggeredBy} <span className="muted">through {run.client}</span>
            </dd>
            <dt>Created</dt>
            <dd>{time(run.createdAt)}</dd>
            <dt>Started</dt>
            <dd>{time(run.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{time(run.finishedAt)}</dd>
            <dt>Duration</dt>
            <dd>{duration(secs)}</dd>
            {run.providerRunId && (
              <>
                <dt>On the provider</dt>
                <dd>
                  {run.url ? (
                    <a href={run.url} target="_blank" rel="noreferrer">
                      Run {run.providerRunId}
                    </a>
                  ) : (
                    run.providerRunId
                  )}
                  {run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}
                </dd>
              </>
            )}
            {run.retryOf && (
              <>
                <dt>Retry of</dt>
                <dd>
                  <Link to={runPath(run.retryOf.id)}>Run {runLabel(run.retryOf.id)}</Link>{' '}
                  <Badge tone={toneOf(run.retryOf.status)}>{run.retryOf.status.replace('_', ' ')}</Badge>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="run-params">
          <h2 id="run-params">Parameters</h2>
          {run.parameters.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <dl className="facts">
              {run.parameters.map((p) => (
                <div key={p.name} className="contents">
                  <dt>{p.name}</dt>
                  <dd>
                    <code>{p.value}</code>
                  </dd>
                </div>
              ))}
            </dl>
          )}
          <h2 id="run-artifacts" className="spaced">
            Artifacts
          </h2>
          {run.artifacts.length === 0 ? (
            <p className="muted">{finished(run.status) ? 'This run produced no artifact.' : 'None yet.'}</p>
          ) : (
            <ul className="plain-list" aria-labelledby="run-artifacts">
              {run.artifacts.map((a) => (
                <li key={a.name}>
                  <strong>{a.name}</strong>
                  {a.version && <> version <code>{a.version}</code></>}
                  {a.image && (
                    <>
                      <br />
                      <code className="wrap">{a.image}</code>
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section className="card spaced" aria-labelledby="run-stages">
        <h2 id="run-stages">Stages</h2>
        <StageList stages={run.stages} />
      </section>
    </>
  );
}
