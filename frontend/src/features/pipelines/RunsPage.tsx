import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Input, Label, TextField } from 'react-aria-components';
import { useQuery, useSubscription } from 'urql';
import { graphql } from '../../gql';
import type { PipelineRunStatus } from '../../gql/graphql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge, toneOf } from '../../components/Tag';
import { ago, duration, entityPath, shortRef } from '../../lib/format';
import { runLabel, runPath, secondsBetween } from './fields';
import { StageChips } from './StageList';
import { useReread } from '../../lib/reread';

const RunsQuery = graphql(`
  query PipelineRuns($filter: PipelineRunFilter, $after: String) {
    pipelineRuns(filter: $filter, first: 25, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...PipelineRunFields }
    }
  }
`);

const AnyRunChanged = graphql(`
  subscription AnyPipelineRunChanged($component: String, $pipeline: String) {
    pipelineRunChanged(component: $component, pipeline: $pipeline) { ...PipelineRunFields }
  }
`);

const STATUSES: PipelineRunStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];
const TEXT = ['component', 'pipeline', 'triggeredBy'] as const;

/** Runs across the catalog, newest first; the filters live in the URL. */
export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const text = Object.fromEntries(TEXT.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof TEXT)[number], string>;
  const status = params.get('status') ?? '';
  const after = params.get('c');
  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [params.toString()]); // eslint-disable-line react-hooks/exhaustive-deps

  const filter = {
    component: text.component || null,
    pipeline: text.pipeline || null,
    triggeredBy: text.triggeredBy || null,
    statuses: status ? [status as PipelineRunStatus] : null,
  };
  const [{ data, error, fetching }] = useQuery({ query: RunsQuery, variables: { filter, after } });
  const reread = useReread(RunsQuery, { filter, after });
  const [live] = useSubscription({ query: AnyRunChanged, variables: { component: filter.component, pipeline: filter.pipeline } });
  const changed = live.data?.pipelineRunChanged.id;
  const known = !changed || !data || data.pipelineRuns.nodes.some((r) => r.id === changed);
  useEffect(() => {
    if (!known && !after) reread();
  }, [known, changed, after, reread]);

  function apply(next: Record<string, string>) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v) p.set(k, v);
    setParams(p);
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    apply({ ...draft, status });
  }

  const conn = data?.pipelineRuns;
  return (
    <>
      <h1>Pipeline runs</h1>
      <form className="card filters-form" onSubmit={submit} aria-label="Filter runs">
        <div className="filters">
          <TextField className="text-field" value={draft.component} onChange={(v) => setDraft({ ...draft, component: v })}>
            <Label>Component</Label>
            <Input placeholder="e.g. payments-api" />
          </TextField>
          <TextField className="text-field" value={draft.pipeline} onChange={(v) => setDraft({ ...draft, pipeline: v })}>
            <Label>Pipeline</Label>
            <Input placeholder="e.g. ci" />
          </TextField>
          <TextField className="text-field" value={draft.triggeredBy} onChange={(v) => setDraft({ ...draft, triggeredBy: v })}>
            <Label>Triggered by</Label>
            <Input placeholder="e.g. bob" />
          </TextField>
          <div className="text-field">
            <label htmlFor="run-status">Status</label>
            <select id="run-status" className="select" value={status} onChange={(e) => apply({ ...text, status: e.target.value })}>
              <option value="">Any</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.replace('_', ' ').toLowerCase()}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="actions">
          <button type="submit" className="button button-primary">
            Filter
          </button>
          <button type="button" className="button button-quiet" onClick={() => apply({})}>
            Clear
          </button>
        </div>
      </form>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      {fetching && !data && <Loading label="Loading runs…" />}
      {error && <ErrorNotice error={error} title="Runs could not be loaded" />}
      {conn && (
        <>
          <p className="result-count" role="status">
            {conn.totalCount} {conn.totalCount === 1 ? 'run' : 'runs'}
          </p>
          {conn.nodes.length === 0 ? (
            <Empty>No run matches these filters. Runs appear here when someone runs a component's pipeline.</Empty>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">Pipeline runs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Status</th>
                    <th scope="col">Component</th>
                    <th scope="col">Ref</th>
                    <th scope="col">Triggered</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Stages</th>
                  </tr>
                </thead>
                <tbody>
                  {conn.nodes.map((r) => {
                    const secs = secondsBetween(r.startedAt, r.finishedAt);
                    return (
                      <tr key={r.id}>
                        <th scope="row">
                          <Link to={runPath(r.id)}>
                            {r.pipeline} <span className="muted">{runLabel(r.id)}</span>
                          </Link>
                        </th>
                        <td>
                          <Badge tone={toneOf(r.status)}>{r.status.replace('_', ' ')}</Badge>
                        </td>
                        <td>
                          <Link to={entityPath(r.component)}>{shortRef(r.component)}</Link>
                        </td>
                        <td>
                          <code>{r.ref}</code>
                        </td>
                        <td>
                          {r.triggeredBy} <span className="muted">via {r.client}, {ago(r.createdAt)}</span>
                        </td>
                        <td>{duration(secs)}</td>
                        <td>
                          <StageChips stages={r.stages} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            {after && (
              <button type="button" className="button" onClick={() => apply({ ...text, status })}>
                First page
              </button>
            )}
            {conn.pageInfo.hasNextPage && conn.pageInfo.endCursor && (
              <button type="button" className="button" onClick={() => apply({ ...text, status, c: conn.pageInfo.endCursor! })}>
                Next page
              </button>
            )}
          </div>
        </>
      )}
    </>
  );
}
