import { Client, fetchExchange, subscriptionExchange } from 'urql';
import { cacheExchange } from '@urql/exchange-graphcache';
import schema from '../gql/introspection.json';
import { heardExchange } from './heard';

// The one header Portside asks of every cookie-authenticated change (server/auth.go): other sites
// cannot set it without a CORS preflight, which Portside never grants.
export const CSRF_HEADER = 'X-Portside-CSRF';

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

/** The portal's normalized cache: what createClient uses, and what tests put in front of a scripted server. */
export function portalCache() {
  const keys: Record<string, (data: Record<string, unknown>) => string | null> = Object.fromEntries(
    embedded.map((t) => [t, () => null]),
  );
  keys.Deployment = (d) =>
    d.instance != null && d.application != null ? `${d.instance}/${d.appNamespace ?? ''}/${d.application}` : null;
  // The schema lets the cache match fragments on interfaces exactly (see scripts/introspection.mjs).
  return cacheExchange({ schema, keys });
}

export function createClient(): Client {
  return new Client({
    url: '/graphql',
    exchanges: [
      heardExchange,
      portalCache(),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => {
            // The socket's code (graphql-ws) loads with the first page that listens, not with the shell.
            let stop: (() => void) | undefined;
            let gone = false;
            void import('./socket').then((m) => {
              if (!gone) stop = m.subscribe({ ...request, query: request.query ?? '' }, sink);
            });
            return {
              unsubscribe: () => {
                gone = true;
                stop?.();
              },
            };
          },
        }),
      }),
    ],
    fetchOptions: () => ({ headers: { [CSRF_HEADER]: '1' }, credentials: 'same-origin' }),
    requestPolicy: 'cache-and-network',
  });
}
