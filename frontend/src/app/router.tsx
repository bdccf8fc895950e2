import { createBrowserRouter } from 'react-router';
import { Layout, ShellQuery } from './Layout';
import { RouteError } from './RouteError';
import { portalClient } from './portalClient';
import { EntityPageQuery, entityRef } from '../features/entity/query';

// A route's loader runs beside its lazy chunk (React Router starts both at once): the loaders
// below only start queries, so that the answers are on the way while the page's code loads, and
// return at once (nothing waits for them; the components' own useQuery finds them in flight, or
// in the cache). Without them a first visit loaded the chunk, then rendered, then asked.
function prefetch<Q extends Parameters<typeof portalClient.query>[0]>(query: Q, variables: Parameters<typeof portalClient.query>[1]) {
  void portalClient.query(query, variables, { requestPolicy: 'cache-first' }).toPromise();
  return null;
}

// Each page is its own chunk: a first visit loads the shell and the page it asked for.
export const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    loader: () => prefetch(ShellQuery, {}),
    shouldRevalidate: () => false, // who is signed in does not change with the URL
    errorElement: <RouteError />,
    children: [
      { index: true, lazy: () => import('../features/home/HomePage').then((m) => ({ Component: m.HomePage })) },
      { path: 'catalog', lazy: () => import('../features/catalog/CatalogPage').then((m) => ({ Component: m.CatalogPage })) },
      {
        path: 'catalog/:namespace/:kind/:name',
        loader: ({ params }) => prefetch(EntityPageQuery, { ref: entityRef(params) }),
        lazy: () => import('../features/entity/EntityPage').then((m) => ({ Component: m.EntityPage })),
      },
      { path: 'locations', lazy: () => import('../features/locations/LocationsPage').then((m) => ({ Component: m.LocationsPage })) },
      { path: 'pipelines', lazy: () => import('../features/pipelines/RunsPage').then((m) => ({ Component: m.RunsPage })) },
      { path: 'pipelines/runs/:id', lazy: () => import('../features/pipelines/RunPage').then((m) => ({ Component: m.RunPage })) },
      { path: 'projects', lazy: () => import('../features/tasks/ProjectsPage').then((m) => ({ Component: m.ProjectsPage })) },
      { path: 'projects/:name', lazy: () => import('../features/tasks/ProjectPage').then((m) => ({ Component: m.ProjectPage })) },
      { path: 'tasks/:id', lazy: () => import('../features/tasks/TaskPage').then((m) => ({ Component: m.TaskPage })) },
      { path: 'deploys', lazy: () => import('../features/deploys/DeploysPage').then((m) => ({ Component: m.DeploysPage })) },
      // :id is the request's number, as the commit message's Deploy-Request-URL links it.
      { path: 'deploys/:id', lazy: () => import('../features/deploys/DeployPage').then((m) => ({ Component: m.DeployPage })) },
      { path: 'runbooks', lazy: () => import('../features/runbooks/RunbooksPage').then((m) => ({ Component: m.RunbooksPage })) },
      { path: 'runbooks/:id', lazy: () => import('../features/runbooks/RunbookPage').then((m) => ({ Component: m.RunbookPage })) },
      // Where `/deploy link` in Slack sends a person to link their Slack user (?token=…).
      { path: 'slack/link', lazy: () => import('../features/slack/SlackLinkPage').then((m) => ({ Component: m.SlackLinkPage })) },
      { path: 'audit', lazy: () => import('../features/audit/AuditPage').then((m) => ({ Component: m.AuditPage })) },
      { path: '*', lazy: () => import('./NotFound').then((m) => ({ Component: m.NotFound })) },
    ],
  },
]);
