import { graphql } from '../../gql';

/** Everything the portal shows of a run; subscriptions select the same, so the cache updates in place. */
export const PipelineRunFields = graphql(`
  fragment PipelineRunFields on PipelineRun {
    id
    component
    pipeline
    provider
    providerRunId
    url
    attempt
    ref
    commitSha
    parameters { name value }
    triggeredBy
    client
    status
    message
    stages { name status startedAt finishedAt durationSeconds logUrl }
    artifacts { name image version }
    retryOfId
    createdAt
    startedAt
    finishedAt
    updatedAt
  }
`);

export const PipelineFields = graphql(`
  fragment PipelineFields on Pipeline {
    component
    name
    provider
    repository
    workflow
    defaultRef
    stages
    parameters { name type description options default required }
  }
`);

/** Statuses a run no longer leaves. */
export const finished = (status: string) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED' || status === 'TIMED_OUT';
/** Statuses a run can be retried from. */
export const retryable = (status: string) => status === 'FAILED' || status === 'CANCELLED' || status === 'TIMED_OUT';

export function runPath(id: string): string {
  return `/pipelines/runs/${encodeURIComponent(id)}`;
}

/** Seconds between two instants, or null while one is missing. */
export function secondsBetween(start?: string | null, end?: string | null): number | null {
  if (!start || !end) return null;
  return (new Date(end).getTime() - new Date(start).getTime()) / 1000;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A run's short name: its number ("#12") from the global ID (base64 of "PipelineRun:12"), else the ID. */
export function runLabel(id: string): string {
  try {
    const m = /^PipelineRun:(.+)$/.exec(atob(id.replace(/-/g, '+').replace(/_/g, '/')));
    if (m) return `#${m[1]}`;
  } catch {
    // not base64: shown as it is
  }
  return id;
}
