// Deploy requests as the API answers them, for the feature's tests.
const at = '2026-12-03T09:00:00Z';
export const digest = 'sha256:4f2b0c6a9d1e8b7f3a5c2e9d0b1f4a6c8e7d5b3a1f9c0e2d4b6a8c7e5f3d1b0a';

export function request(number: number, over: Record<string, unknown> = {}) {
  return {
    __typename: 'DeployRequest', id: btoa(`DeployRequest:${number}`).replace(/=+$/, ''), number, component: 'component:default/payments-api',
    environment: 'production', version: digest, reason: 'fix the rounding bug', requester: 'bob', approver: null, client: 'PORTAL',
    state: 'REQUESTED', waiting: null, outcome: null, createdAt: at, updatedAt: at, expiresAt: '2026-12-04T09:00:00Z',
    ...over,
  };
}

export function page(nodes: unknown[], more = false) {
  return {
    deployRequests: {
      __typename: 'DeployRequestConnection', totalCount: nodes.length + (more ? 25 : 0),
      pageInfo: { __typename: 'PageInfo', hasNextPage: more, endCursor: more ? '3' : null }, nodes,
    },
  };
}

/** A request as its page reads it: with history, provenance and what the viewer may do. */
export function full(number: number, can: { approve?: boolean; reject?: boolean; cancel?: boolean } = {}, over: Record<string, unknown> = {}) {
  return {
    ...request(number),
    repo: null, commitSha: null, pullRequestUrl: null,
    pipelineRun: { __typename: 'PipelineRun', id: 'UGlwZWxpbmVSdW46Nw', pipeline: 'ci', status: 'SUCCEEDED' },
    transitions: [{ __typename: 'DeployTransition', actor: 'bob', client: 'PORTAL', from: null, to: 'REQUESTED', note: 'fix the rounding bug', at }],
    viewerCanApprove: !!can.approve, viewerCanReject: !!can.reject, viewerCanCancel: !!can.cancel,
    ...over,
  };
}
