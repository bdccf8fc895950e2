import { useEffect } from 'react';
import { useMutation, useQuery, useSubscription, type AnyVariables, type CombinedError, type TypedDocumentNode } from 'urql';
import { graphql } from '../../gql';
import type { DeploymentFieldsFragment } from '../../gql/graphql';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Badge, toneOf } from '../../components/Tag';
import { Empty, Loading } from '../../components/States';
import { problemOf, type Problem } from '../../lib/errors';
import { useReread } from '../../lib/reread';
import { ago, shortRef } from '../../lib/format';
import { DoraSection } from './DoraSection';

export const DeploymentFields = graphql(`
  fragment DeploymentFields on Deployment {
    instance
    appNamespace
    application
    environment
    cluster
    namespace
    syncStatus
    health
    revision
    lastSyncedAt
    stale
    removed
    operation { phase message startedAt finishedAt requestedBy }
    canary {
      strategy
      currentStep
      setWeight
      actualWeight
      phase
      aborted
      pausedReason
      steps { kind weight pause }
    }
  }
`);

export const RolloutFields = graphql(`
  fragment RolloutFields on Rollout {
    id
    instance
    application
    appNamespace
    environment
    revision
    result
    message
    startedAt
    finishedAt
    requestedBy
    initiatedBy
    historyId
    commit { author message }
  }
`);

const DeploymentsQuery = graphql(`
  query ComponentDelivery($ref: String!) {
    entity(ref: $ref) {
      __typename
      id
      ... on Component {
        viewerCanOperate
        location { id }
        deployments { ...DeploymentFields }
        rollouts(first: 10) { totalCount nodes { ...RolloutFields } }
      }
    }
  }
`);

// current: each deployment as it is comes first, on every (re)subscription: a change made between
// the page's read (or its re-read after a lost connection) and the subscription's start is not lost.
const DeploymentChanged = graphql(`
  subscription DeploymentChanged($component: String!) {
    deploymentChanged(component: $component, current: true) { ...DeploymentFields }
  }
`);

const RolloutChanged = graphql(`
  subscription RolloutChanged($component: String!) {
    rolloutChanged(component: $component) { ...RolloutFields }
  }
`);

const Sync = graphql(`
  mutation Sync($input: SyncDeploymentInput!) { syncDeployment(input: $input) { deployment { ...DeploymentFields } } }
`);
const Refresh = graphql(`
  mutation RefreshDeployment($input: RefreshDeploymentInput!) { refreshDeployment(input: $input) { deployment { ...DeploymentFields } } }
`);
const Terminate = graphql(`
  mutation Terminate($input: DeploymentInput!) { terminateDeploymentOperation(input: $input) { deployment { ...DeploymentFields } } }
`);
// The canary actions select only the deployment's key: their answer carries the canary as Portside
// had it before Argo Rollouts moved (it reads the Rollout again after the action), and written
// into the cache it overwrote the newer state a deploymentChanged event had already brought, so
// the page stayed on the old step. The subscription brings the canary's new state.
const Promote = graphql(`
  mutation Promote($input: PromoteDeploymentInput!) { promoteDeployment(input: $input) { deployment { instance appNamespace application } } }
`);
const Abort = graphql(`
  mutation Abort($input: DeploymentInput!) { abortDeployment(input: $input) { deployment { instance appNamespace application } } }
`);
const Retry = graphql(`
  mutation Retry($input: DeploymentInput!) { retryDeployment(input: $input) { deployment { instance appNamespace application } } }
`);
const Rollback = graphql(`
  mutation Rollback($input: RollbackDeploymentInput!) { rollbackDeployment(input: $input) { deployment { ...DeploymentFields } } }
`);
const RefreshLocation = graphql(`
  mutation RefreshEntityLocation($id: ID!) { refreshLocation(id: $id) { unchanged added updated removed location { id status } } }
`);

/** Runs a mutation and turns a refusal (GraphQL error or HTTP failure) into what the dialog shows. */
function useAction<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>) {
  const [, run] = useMutation(doc);
  return async (vars: V): Promise<Problem | null> => {
    const res = await run(vars);
    return res.error ? problemOf(res.error as CombinedError) : null;
  };
}

/** A component's deployments (live), its rollout history, its DORA figures and, for owners, the actions. */
export function DeploymentsPanel({ componentRef }: { componentRef: string }) {
  const [{ data, error, fetching }] = useQuery({ query: DeploymentsQuery, variables: { ref: componentRef } });
  // Re-reads keep the events heard while they are in flight, and follow a lost connection's
  // return (lib/reread.ts).
  const reread = useReread(DeploymentsQuery, { ref: componentRef });
  // Deployments update in place in the normalized cache (keyed by instance/namespace/application).
  const [live] = useSubscription({ query: DeploymentChanged, variables: { component: componentRef } });
  const [rollout] = useSubscription({ query: RolloutChanged, variables: { component: componentRef } });
  // A rollout not on the page yet (a new one) needs the list again; known ones update in place.
  const known = data?.entity?.__typename === 'Component' ? data.entity.rollouts.nodes.some((r) => r.id === rollout.data?.rolloutChanged.id) : true;
  useEffect(() => {
    if (rollout.data && !known) reread();
  }, [rollout.data, known, reread]);
  // A deployment not on the page (an application Portside began to follow, or one the server did
  // not know yet when the page last read the list: just after a restart) needs the list again too:
  // the event updates the cache, but no list would show it. Asked on every such event, not only
  // when the list first lacks one: after a restart the re-read can answer before the server lists
  // the application, and its events then name a deployment the list still lacks.
  const changed = live.data?.deploymentChanged;
  const listed =
    !changed || changed.removed || data?.entity?.__typename !== 'Component'
      ? true
      : data.entity.deployments.some((d) => d.instance === changed.instance && d.appNamespace === changed.appNamespace && d.application === changed.application);
  useEffect(() => {
    if (!listed) reread();
  }, [changed, listed, reread]);

  const refreshLocation = useAction(RefreshLocation);
  const c = data?.entity?.__typename === 'Component' ? data.entity : undefined;
  return (
    <>
      <section className="card spaced" aria-labelledby="deployments">
        <h2 id="deployments">Deployments</h2>
        {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
        {fetching && !data && <Loading />}
        {error && <ErrorNotice error={error} title="Deployments could not be loaded" />}
        {c && c.deployments.length === 0 && (
          <Empty>
            Not deployed through Argo CD, or Portside follows no Argo CD instance that has it (the component's{' '}
            <code>argocd/*</code> annotations name its applications).
          </Empty>
        )}
        {c && c.deployments.filter((d) => !d.removed).map((d) => (
          <Deployment key={`${d.instance}/${d.appNamespace}/${d.application}`} d={d} componentRef={componentRef} canOperate={c.viewerCanOperate} />
        ))}
        {c?.viewerCanOperate && c.location && (
          <div className="actions">
            <ConfirmDialog
              label="Refresh from source"
              title={`Read ${shortRef(componentRef)}'s catalog location again?`}
              confirmLabel="Refresh now"
              onConfirm={() => refreshLocation({ id: c.location!.id })}
            >
              <p>
                Portside reads the location that provides <code>{componentRef}</code> again and applies what changed, for
                every entity it provides. Nothing changes in Argo CD.
              </p>
            </ConfirmDialog>
          </div>
        )}
      </section>
      {c && (
        <div className="grid-2 spaced">
          <RolloutHistory rollouts={c.rollouts.nodes} total={c.rollouts.totalCount} componentRef={componentRef} canOperate={c.viewerCanOperate} />
          <DoraSection entityRef={componentRef} />
        </div>
      )}
    </>
  );
}

function target(componentRef: string, d: DeploymentFieldsFragment) {
  return { component: componentRef, instance: d.instance, appNamespace: d.appNamespace, application: d.application };
}

function Deployment({ d, componentRef, canOperate }: { d: DeploymentFieldsFragment; componentRef: string; canOperate: boolean }) {
  const component = shortRef(componentRef);
  const sync = useAction(Sync);
  const refresh = useAction(Refresh);
  const terminate = useAction(Terminate);
  const promote = useAction(Promote);
  const abort = useAction(Abort);
  const retry = useAction(Retry);
  const where = `${d.application} in ${d.environment}`;
  const t = target(componentRef, d);
  const running = d.operation?.phase === 'RUNNING';
  const cn = d.canary;
  return (
    <article className="card spaced" aria-label={`Deployment ${where}`}>
      <h3>
        {d.environment} <span className="muted">· {d.application} on {d.instance}</span>
      </h3>
      <p>
        <Badge tone={toneOf(d.syncStatus)}>{d.syncStatus.replace('_', ' ')}</Badge>{' '}
        <Badge tone={toneOf(d.health)}>{d.health}</Badge>{' '}
        {d.stale && <Badge tone="warn">STALE: Argo CD unreachable</Badge>}{' '}
        <span className="muted">
          revision <code>{d.revision?.slice(0, 10) ?? '—'}</code>, synced {ago(d.lastSyncedAt)}
        </span>
      </p>
      {d.operation && (
        <p>
          Operation <Badge tone={toneOf(d.operation.phase)}>{d.operation.phase}</Badge> {d.operation.message}
          {d.operation.requestedBy && <span className="muted"> (asked by {d.operation.requestedBy})</span>}
        </p>
      )}
      {cn && (
        <div>
          <p className="canary-state" data-step={cn.currentStep + 1} data-phase={cn.phase} data-weight={cn.setWeight}>
            Canary {cn.phase}, {cn.currentStep >= cn.steps.length ? 'all steps done' : `step ${cn.currentStep + 1} of ${cn.steps.length}`}, weight{' '}
            {cn.setWeight}%{cn.actualWeight != null ? ` (actual ${cn.actualWeight}%)` : ''}
            {cn.aborted ? ', aborted' : ''}
            {cn.pausedReason ? `, paused: ${cn.pausedReason}` : ''}
          </p>
          <ol className="steps" aria-label="Canary steps">
            {cn.steps.map((s, i) => (
              <li key={i} aria-current={i === cn.currentStep ? 'step' : undefined}>
                {s.kind}
                {s.weight != null ? ` ${s.weight}%` : ''}
                {s.pause ? ` ${s.pause}` : ''}
              </li>
            ))}
          </ol>
        </div>
      )}
      {canOperate && (
        <div className="actions" aria-label={`Actions on ${where}`}>
          <ConfirmDialog label="Sync" title={`Sync ${where}?`} confirmLabel="Sync now" onConfirm={() => sync({ input: t })}>
            <p>
              Argo CD applies the target revision of {d.application} (component {component}, {d.environment}) from git to{' '}
              {d.cluster}/{d.namespace}; it runs revision <code>{d.revision?.slice(0, 10) ?? 'none yet'}</code> now.
            </p>
          </ConfirmDialog>
          <ConfirmDialog label="Refresh" title={`Refresh ${where}?`} confirmLabel="Refresh now" onConfirm={() => refresh({ input: t })}>
            <p>Argo CD compares {d.application} (component {component}, {d.environment}) with git again now. Nothing is deployed.</p>
          </ConfirmDialog>
          {running && (
            <ConfirmDialog label="Terminate" danger title={`Stop the running operation of ${where}?`} confirmLabel="Terminate" onConfirm={() => terminate({ input: t })}>
              <p>The sync under way stops where it is; resources already applied stay as they are.</p>
            </ConfirmDialog>
          )}
          {cn && !cn.aborted && cn.phase === 'Paused' && (
            <>
              <ConfirmDialog label="Promote" title={`Promote the canary of ${where}?`} confirmLabel="Promote" onConfirm={() => promote({ input: { ...t, full: false } })}>
                <p>The canary moves on to its next step (now at step {cn.currentStep + 1} of {cn.steps.length}, {cn.setWeight}%).</p>
              </ConfirmDialog>
              <ConfirmDialog label="Promote fully" title={`Promote the canary of ${where} fully?`} confirmLabel="Promote fully" onConfirm={() => promote({ input: { ...t, full: true } })}>
                <p>
                  Every remaining step of {component}'s canary in {d.environment} is skipped (now at step {cn.currentStep + 1} of{' '}
                  {cn.steps.length}, {cn.setWeight}%): the new version takes all traffic.
                </p>
              </ConfirmDialog>
            </>
          )}
          {cn && !cn.aborted && (cn.phase === 'Paused' || cn.phase === 'Progressing') && (
            <ConfirmDialog label="Abort" danger title={`Abort the canary of ${where}?`} confirmLabel="Abort canary" onConfirm={() => abort({ input: t })}>
              <p>
                {component}'s canary in {d.environment} stops at step {cn.currentStep + 1} of {cn.steps.length} ({cn.setWeight}%): traffic
                returns to the stable version and the rollout is recorded as aborted (a failed change in DORA).
              </p>
            </ConfirmDialog>
          )}
          {cn?.aborted && (
            <ConfirmDialog label="Retry" title={`Retry the canary of ${where}?`} confirmLabel="Retry" onConfirm={() => retry({ input: t })}>
              <p>
                {component}'s aborted canary in {d.environment} starts again from its first step (step 1 of {cn.steps.length}
                {cn.steps[0]?.weight != null ? `, ${cn.steps[0].weight}%` : ''}).
              </p>
            </ConfirmDialog>
          )}
        </div>
      )}
    </article>
  );
}

type RolloutRow = {
  id: string; instance: string; application: string; appNamespace: string; environment: string; revision?: string | null;
  result: string; message: string; startedAt: string; finishedAt?: string | null; requestedBy?: string | null;
  initiatedBy?: string | null; historyId?: number | null; commit?: { author: string; message: string } | null;
};

function RolloutHistory({ rollouts, total, componentRef, canOperate }: { rollouts: RolloutRow[]; total: number; componentRef: string; canOperate: boolean }) {
  const rollback = useAction(Rollback);
  return (
    <section className="card" aria-labelledby="rollouts">
      <h2 id="rollouts">Rollout history {total > rollouts.length ? `(latest ${rollouts.length} of ${total})` : ''}</h2>
      {rollouts.length === 0 ? (
        <Empty>No rollouts recorded yet.</Empty>
      ) : (
        <ul className="plain-list">
          {rollouts.map((r) => (
            <li key={r.id}>
              <Badge tone={toneOf(r.result)}>{r.result}</Badge> {r.environment} <code>{r.revision?.slice(0, 10) ?? '—'}</code>{' '}
              <span className="muted">
                {ago(r.startedAt)}
                {r.commit ? ` · ${r.commit.author}: ${r.commit.message.split('\n')[0]}` : ''}
                {r.requestedBy ? ` · by ${r.requestedBy}` : r.initiatedBy ? ` · by ${r.initiatedBy}` : ' · automated'}
              </span>
              {canOperate && r.result === 'SUCCEEDED' && r.historyId != null && (
                <ConfirmDialog
                  label="Roll back to this"
                  danger
                  title={`Roll ${r.application} in ${r.environment} back?`}
                  confirmLabel="Roll back"
                  onConfirm={() =>
                    rollback({ input: { component: componentRef, instance: r.instance, appNamespace: r.appNamespace, application: r.application, historyId: r.historyId! } })
                  }
                >
                  <p>
                    Argo CD syncs {r.application} (component {shortRef(componentRef)}, {r.environment}) back to revision{' '}
                    <code>{r.revision ?? '?'}</code> (history entry {r.historyId}).
                  </p>
                </ConfirmDialog>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
