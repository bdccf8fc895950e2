import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import type { DeployDecisionInput } from '../../gql/graphql';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge, toneOf } from '../../components/Tag';
import { problemOf } from '../../lib/errors';
import { ago, entityPath, shortRef } from '../../lib/format';
import { deployRequestId, stateLabel, stateTone, when } from './fields';
import { useReread } from '../../lib/reread';

/** The page's own fields beyond the list's: history, provenance, and what the viewer may do. */
export const DeployRequestPageFields = graphql(`
  fragment DeployRequestPageFields on DeployRequest {
    ...DeployRequestFields
    repo
    commitSha
    pullRequestUrl
    pipelineRun { id pipeline status }
    transitions { actor client from to note at }
    viewerCanApprove
    viewerCanReject
    viewerCanCancel
  }
`);

const RequestQuery = graphql(`
  query DeployRequestPage($id: ID!) {
    deployRequest(id: $id) { ...DeployRequestPageFields }
  }
`);

const RequestChanged = graphql(`
  subscription DeployRequestChanged($id: ID!) {
    deployRequestChanged(id: $id) { request { ...DeployRequestFields } transition { at to note } }
  }
`);

const Approve = graphql(`
  mutation ApproveDeployRequest($input: DeployDecisionInput!) { approveDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }
`);
const Reject = graphql(`
  mutation RejectDeployRequest($input: DeployDecisionInput!) { rejectDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }
`);
const Cancel = graphql(`
  mutation CancelDeployRequest($input: DeployDecisionInput!) { cancelDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }
`);

type Decision = 'approve' | 'reject' | 'cancel';

// Matches deploys.MaxNote: the server refuses longer notes, the field stops at it.
const MAX_NOTE = 500;

/**
 * One deploy request, deep-linkable by its number (the link commit messages and Slack carry):
 * everything about it, its transitions, live; Approve, Reject and Cancel for those the API says
 * may (viewerCan*), each behind a confirmation, the server's refusal shown in it.
 */
export function DeployPage() {
  const { id: param = '' } = useParams();
  const id = deployRequestId(param);
  const [{ data, error, fetching }] = useQuery({ query: RequestQuery, variables: { id } });
  const reread = useReread(RequestQuery, { id });
  const q = data?.deployRequest;
  const [live] = useSubscription({ query: RequestChanged, variables: { id }, pause: !q });
  // A move adds a transition and may change what the viewer may do: read the request again.
  const ev = live.data?.deployRequestChanged;
  const moved = ev ? `${ev.transition.to}:${ev.transition.at}:${ev.transition.note}` : '';
  useEffect(() => {
    if (moved) reread();
  }, [moved, reread]);
  const [, approve] = useMutation(Approve);
  const [, reject] = useMutation(Reject);
  const [, cancel] = useMutation(Cancel);
  // One note per decision: what was typed in a dialog that was then dismissed stays with that
  // decision, never carried into another's.
  const [notes, setNotes] = useState<Partial<Record<Decision, string>>>({});

  if (fetching && !data) return <Loading label="Loading the deploy request…" />;
  if (error && !q) return <ErrorNotice error={error} title="This deploy request could not be loaded" />;
  if (!q) {
    return (
      <>
        <h1>Deploy request {param}</h1>
        <Empty>
          There is no deploy request <code>{param}</code>. <Link to="/deploys?view=all">All deploy requests</Link>
        </Empty>
      </>
    );
  }
  const what = `${shortRef(q.component)} ${q.version} to ${q.environment}`;
  const noteField = (decision: Decision, label: string, help: string) => (
    <div className="text-field">
      <label htmlFor={`${decision}-note`}>{label}</label>
      <textarea
        id={`${decision}-note`}
        className="textarea"
        rows={3}
        maxLength={MAX_NOTE}
        value={notes[decision] ?? ''}
        onChange={(e) => setNotes((n) => ({ ...n, [decision]: e.target.value }))}
        aria-describedby={`${decision}-note-help`}
      />
      <span id={`${decision}-note-help`} className="field-help">
        {help}
      </span>
    </div>
  );
  const decide = (decision: Decision, run: (v: { input: DeployDecisionInput }) => Promise<{ error?: CombinedError }>) => async () => {
    const r = await run({ input: { id: q.id, note: notes[decision]?.trim() || null } });
    if (r.error) return problemOf(r.error as CombinedError);
    setNotes((n) => ({ ...n, [decision]: '' }));
    return null;
  };
  const offered = q.viewerCanApprove || q.viewerCanReject || q.viewerCanCancel;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/deploys">Deploy requests</Link> / <Link to={entityPath(q.component)}>{shortRef(q.component)}</Link> / #{q.number}
      </nav>
      <div className="entity-header">
        <h1>
          Deploy request #{q.number}: {shortRef(q.component)} to {q.environment}
        </h1>
        <span role="status" aria-live="polite" aria-atomic="true" className="run-status" data-state={q.state}>
          <span className="visually-hidden">State: </span>
          <Badge tone={stateTone(q.state)}>{stateLabel(q.state)}</Badge>
        </span>
      </div>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      {q.waiting && <p className="notice">Waiting: {q.waiting}</p>}
      {q.outcome && <p className={['FAILED', 'ROLLED_BACK', 'REJECTED'].includes(q.state) ? 'notice notice-error' : 'notice'}>{q.outcome}</p>}
      {offered && (
        <div className="actions" role="group" aria-label="Decisions on this request">
          {q.viewerCanApprove && (
            <ConfirmDialog label="Approve" title={`Approve deploying ${what}?`} confirmLabel="Approve" onConfirm={decide('approve', approve)}>
              <p>
                Portside then commits the new version to the {q.environment} manifest repository as {q.requester}, with you as the approver, unless a
                sync window holds it; Argo CD rolls the commit out.
              </p>
              {noteField('approve', 'Note (optional)', 'Recorded with the approval.')}
            </ConfirmDialog>
          )}
          {q.viewerCanReject && (
            <ConfirmDialog label="Reject" danger title={`Reject deploying ${what}?`} confirmLabel="Reject" onConfirm={decide('reject', reject)}>
              <p>The request ends as rejected; {q.requester} sees your reason. Nothing is deployed.</p>
              {noteField('reject', 'Reason', `Why: ${q.requester} reads it on the request (and in Slack).`)}
            </ConfirmDialog>
          )}
          {q.viewerCanCancel && (
            <ConfirmDialog label="Cancel request" danger title={`Cancel the request to deploy ${what}?`} confirmLabel="Cancel request" onConfirm={decide('cancel', cancel)}>
              <p>The request is withdrawn before anything is applied.</p>
              {noteField('cancel', 'Note (optional)', 'Recorded with the cancellation.')}
            </ConfirmDialog>
          )}
        </div>
      )}
      <div className="grid-2 spaced">
        <section className="card" aria-labelledby="deploy-about">
          <h2 id="deploy-about">About this request</h2>
          <dl className="facts">
            <dt>Component</dt>
            <dd>
              <Link to={entityPath(q.component)}>{shortRef(q.component)}</Link>
            </dd>
            <dt>Version</dt>
            <dd>
              <code className="wrap">{q.version}</code>
            </dd>
            <dt>Environment</dt>
            <dd>{q.environment}</dd>
            <dt>Reason</dt>
            <dd>{q.reason || <span className="muted">none given</span>}</dd>
            <dt>Requested</dt>
            <dd>
              by {q.requester} <span className="muted">through {q.client}, {when(q.createdAt)}</span>
            </dd>
            <dt>Approver</dt>
            <dd>{q.approver ?? <span className="muted">nobody yet</span>}</dd>
            {q.expiresAt && (
              <>
                <dt>{q.state === 'REQUESTED' ? 'Expires' : 'Would have expired'}</dt>
                <dd>
                  {when(q.expiresAt)} <span className="muted">({ago(q.expiresAt)})</span>
                </dd>
              </>
            )}
            <dt>Last change</dt>
            <dd>{when(q.updatedAt)}</dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="deploy-provenance">
          <h2 id="deploy-provenance">Built and applied</h2>
          <dl className="facts">
            <dt>Built by</dt>
            <dd>
              {q.pipelineRun ? (
                <>
                  <Link to={`/pipelines/runs/${encodeURIComponent(q.pipelineRun.id)}`}>{q.pipelineRun.pipeline} run</Link>{' '}
                  <Badge tone={toneOf(q.pipelineRun.status)}>{q.pipelineRun.status.replace('_', ' ')}</Badge>
                </>
              ) : (
                <span className="muted">{q.version.startsWith('sha256:') ? 'an image digest; no known run built it' : 'unknown'}</span>
              )}
            </dd>
            <dt>Repository</dt>
            <dd>{q.repo ? <code className="wrap">{q.repo}</code> : <span className="muted">not applied yet</span>}</dd>
            {q.pullRequestUrl && (
              <>
                <dt>Pull request</dt>
                <dd>
                  {/^https?:\/\//.test(q.pullRequestUrl) ? (
                    <a href={q.pullRequestUrl} target="_blank" rel="noreferrer">
                      {q.pullRequestUrl}
                    </a>
                  ) : (
                    <code className="wrap">{q.pullRequestUrl}</code>
                  )}
                </dd>
              </>
            )}
            <dt>Commit</dt>
            <dd>{q.commitSha ? <code title={q.commitSha}>{q.commitSha.slice(0, 12)}</code> : <span className="muted">—</span>}</dd>
            <dt>Rollout</dt>
            <dd>{rollout(q.state, q.outcome, !!q.pullRequestUrl)}</dd>
          </dl>
        </section>
      </div>
      <section className="card spaced" aria-labelledby="deploy-history">
        <h2 id="deploy-history">Transitions</h2>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Every transition of the request, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Client</th>
                <th scope="col">From → to</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {q.transitions.map((t, i) => (
                <tr key={i}>
                  <th scope="row">
                    <time dateTime={t.at}>{when(t.at)}</time>
                  </th>
                  <td>{t.actor}</td>
                  <td>{t.client}</td>
                  <td>
                    {t.from ? `${stateLabel(t.from)} → ` : ''}
                    {stateLabel(t.to)}
                  </td>
                  <td className="pre-line">{t.note || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

/** Where the rollout of the request's commit stands, in words. */
function rollout(state: string, outcome?: string | null, pullRequest = false): string {
  switch (state) {
    case 'APPLYING':
      return pullRequest ? 'waiting for the pull request to merge' : 'the commit is being pushed';
    case 'ROLLING_OUT':
      return 'Argo CD is rolling the commit out';
    case 'SUCCEEDED':
    case 'FAILED':
    case 'ROLLED_BACK':
      return outcome ?? stateLabel(state);
    default:
      return 'not started';
  }
}
