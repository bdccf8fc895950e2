import { graphql } from '../../gql';
import type { DeployRequestState } from '../../gql/graphql';

/** What lists and pages show of a request; subscriptions select the same, so the cache updates in place. */
export const DeployRequestFields = graphql(`
  fragment DeployRequestFields on DeployRequest {
    id
    number
    component
    environment
    version
    reason
    requester
    approver
    client
    state
    waiting
    outcome
    createdAt
    updatedAt
    expiresAt
  }
`);

/** Every state, in the order a request moves through them. */
export const STATES: DeployRequestState[] = [
  'REQUESTED', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED', 'APPLYING', 'ROLLING_OUT', 'SUCCEEDED', 'FAILED', 'ROLLED_BACK',
];

/** A state as people read it: "rolling out". */
export function stateLabel(s: string): string {
  return s.replace(/_/g, ' ').toLowerCase();
}

export function stateTone(s: string): 'neutral' | 'good' | 'warn' | 'bad' | 'info' {
  switch (s) {
    case 'SUCCEEDED':
      return 'good';
    case 'REQUESTED':
    case 'APPROVED':
      return 'warn';
    case 'APPLYING':
    case 'ROLLING_OUT':
      return 'info';
    case 'REJECTED':
    case 'FAILED':
    case 'ROLLED_BACK':
      return 'bad';
    default:
      return 'neutral';
  }
}

/**
 * The portal's path of a request: by its number, as commit messages and Slack link it
 * (deploys.Service.Link builds <public-url>/deploys/<number>).
 */
export function deployPath(number: number): string {
  return `/deploys/${number}`;
}

/**
 * The global ID the API takes for the :id of /deploys/:id: a number is the request's number
 * (base64url of "DeployRequest:<n>", as the server encodes it); anything else is taken as an ID.
 */
export function deployRequestId(param: string): string {
  if (!/^[1-9][0-9]*$/.test(param)) return param;
  return btoa(`DeployRequest:${param}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A version short enough for a table: a digest's first 12 hex digits. */
export function shortVersion(v: string): string {
  return v.startsWith('sha256:') ? `${v.slice(0, 19)}…` : v;
}

/** Exact time, for the details (the lists say "3 minutes ago"). */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}
