import type { ReactNode } from 'react';
import { render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider, type RouteObject } from 'react-router';
import { Provider, type Client } from 'urql';
import { concat, fromValue, never, pipe, take, toPromise } from 'wonka';
import { vi } from 'vitest';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { ViewerContext, type Viewer } from '../app/viewer';

/** The operation's name in a document (fragments may come first or after). */
export function opName(doc: DocumentNode): string | undefined {
  return (doc.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode | undefined)?.name?.value;
}

type Req = { query: DocumentNode; variables: Record<string, unknown> };
type Answer = (variables: Record<string, unknown>) => unknown;

/**
 * A client that answers each operation by name (data, or { error } for a refusal) and never
 * answers the others: tests see what a page asks the API and what it makes of the answers.
 */
export function fakeClient(queries: Record<string, Answer>, mutations: Record<string, Answer> = {}) {
  const answer = (table: Record<string, Answer>) => (req: Req) => {
    const f = table[opName(req.query) ?? ''];
    if (!f) return never;
    const out = f(req.variables) as { error?: unknown } | Record<string, unknown>;
    // Like the client's own sources, the answer stays open: urql clears an error when one ends.
    return concat([fromValue(out && 'error' in out ? { operation: req, ...out } : { operation: req, data: out }), never]);
  };
  const executeQuery = vi.fn(answer(queries));
  const executeMutation = vi.fn(answer(mutations));
  // client.query (a page's re-read, lib/reread.ts) goes through executeQuery, as urql's own does.
  const query = (q: DocumentNode, variables: Record<string, unknown>) => ({
    toPromise: () => toPromise(pipe(executeQuery({ query: q, variables }), take(1))),
  });
  const client = { executeQuery, executeMutation, executeSubscription: vi.fn(() => never), query } as unknown as Client;
  return { client, executeQuery, executeMutation };
}

/** The variables of the calls of one operation, in order. */
export function calls(fn: ReturnType<typeof vi.fn>, name: string): Record<string, unknown>[] {
  return fn.mock.calls.map((c) => c[0] as unknown as Req).filter((r) => opName(r.query) === name).map((r) => r.variables);
}

export const bob: Viewer = { username: 'bob', admin: false, groups: [], user: { ref: 'user:default/bob' } };
export const carol: Viewer = { username: 'carol', admin: false, groups: [], user: { ref: 'user:default/carol' } };

/** Renders a page at a path, its route declared as the router declares it, signed in as viewer. */
export function renderAt(client: Client, viewer: Viewer, path: string, route: string, element: ReactNode) {
  const routes: RouteObject[] = [{ path: route, element }];
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  render(
    <Provider value={client}>
      <ViewerContext value={{ viewer, ready: Promise.resolve(viewer) }}>
        <RouterProvider router={router} />
      </ViewerContext>
    </Provider>,
  );
  return router;
}
