import { Client, fetchExchange, subscriptionExchange } from 'urql';
import { cacheExchange } from '@urql/exchange-graphcache';
import schema from '../gql/introspection.json';
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws';

// The one header Portside asks of every cookie-authenticated change (server/auth.go): other sites
// cannot set it without a CORS preflight, which Portside never grants.
export const CSRF_HEADER = 'X-Portside-CSRF';

/** Connection state of the subscriptions' WebSocket, for the shell's indicator. */
export type LiveState = 'idle' | 'connecting' | 'live' | 'lost';
type Listener = (s: LiveState) => void;
const listeners = new Set<Listener>();
let liveState: LiveState = 'idle';
function setLive(s: LiveState) {
  liveState = s;
  listeners.forEach((l) => l(s));
}
export function onLiveState(l: Listener): () => void {
  listeners.add(l);
  l(liveState);
  return () => listeners.delete(l);
}

function wsURL(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/graphql`;
}

let ws: WSClient | undefined;
function socket(): WSClient {
  // Lazy: pages without live data open no socket. The cookie authenticates the upgrade; a socket
  // closed 4401/4403 (session ended, rights changed) is reopened, and the server then decides.
  ws ??= createWSClient({
    url: wsURL(),
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** retries, 15000)));
    },
    on: {
      connecting: () => setLive(liveState === 'live' ? 'lost' : 'connecting'),
      connected: () => setLive('live'),
      closed: () => setLive(liveState === 'idle' ? 'idle' : 'lost'),
    },
  });
  return ws;
}

// Objects without an `id` are embedded in their parent, except deployments, which subscriptions
// update by their natural key (instance, namespace, application).
const embedded = [
  'Viewer', 'Session', 'Facet', 'FacetValue', 'EntityConnection', 'EntityEdge', 'PageInfo', 'Relation', 'KeyValue',
  'Link', 'Profile', 'SyncWindows', 'SyncWindow', 'DeploymentCondition', 'Canary', 'BlueGreen', 'CanaryStep',
  'AnalysisVerdict', 'CanaryProgress', 'CanaryStepReached', 'SyncOperation', 'Commit', 'RolloutConnection',
  'RolloutEdge', 'ArgoCDInstance', 'DeploymentActionPayload', 'DoraMetrics', 'LocationConnection', 'LocationEdge',
  'LocationError', 'RefreshLocationPayload', 'UnregisterLocationPayload', 'AuditRecordConnection',
  'Pipeline', 'PipelineParameter', 'PipelineParameterValue', 'PipelineStage', 'PipelineArtifact', 'PipelineRunConnection',
  'PipelineRunEdge', 'PipelineRunPayload',
  'TaskLink', 'TaskFieldChange', 'TaskConnection', 'TaskEdge', 'TaskImportError', 'ImportTasksPayload', 'TaskPayload',
  'TaskCommentPayload', 'ProjectPayload', 'MeetingPayload', 'MeetingChange', 'TaskEvent', 'DeleteTaskPayload',
  'RunbookVersion', 'RunbookConnection', 'RunbookEdge', 'RunbookPayload', 'DeleteRunbookPayload', 'CatalogLink',
  'LinkStatus', 'GrafanaAnnotations',
  'DeployTransition', 'DeployRequestConnection', 'DeployRequestEdge', 'DeployRequestPayload', 'DeployRequestEvent', 'DeployEnvironment',
];

export function createClient(): Client {
  const keys: Record<string, (data: Record<string, unknown>) => string | null> = Object.fromEntries(
    embedded.map((t) => [t, () => null]),
  );
  keys.Deployment = (d) =>
    d.instance != null && d.application != null ? `${d.instance}/${d.appNamespace ?? ''}/${d.application}` : null;
  return new Client({
    url: '/graphql',
    exchanges: [
      // The schema lets the cache match fragments on interfaces exactly (see scripts/introspection.mjs).
      cacheExchange({ schema, keys }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket().subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
    fetchOptions: () => ({ headers: { [CSRF_HEADER]: '1' }, credentials: 'same-origin' }),
    requestPolicy: 'cache-and-network',
  });
}
