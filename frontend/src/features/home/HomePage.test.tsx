import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { Provider, type Client } from 'urql';
import { fromValue, never } from 'wonka';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { ViewerContext, type Viewer } from '../../app/viewer';
import { HomePage } from './HomePage';

const mine = {
  entities: {
    __typename: 'EntityConnection',
    totalCount: 1,
    nodes: [
      {
        __typename: 'Component', id: 'c1', ref: 'component:default/payments-api', name: 'payments-api', title: 'Payments API', description: null,
        type: 'service', lifecycle: 'production', ownerRef: 'group:default/team-payments',
        deployments: [{ __typename: 'Deployment', instance: 'prod', appNamespace: '', application: 'payments-prod', environment: 'production', syncStatus: 'SYNCED', health: 'HEALTHY', stale: false }],
      },
    ],
  },
};

const rollout = (id: string, result: string, revision: string) => ({
  __typename: 'Rollout', id, instance: 'prod', appNamespace: '', application: 'payments-prod', environment: 'production', revision, result,
  startedAt: new Date().toISOString(), requestedBy: 'bob', initiatedBy: null,
});

function setup(rollouts: unknown[]) {
  const executeQuery = vi.fn((req: { query: DocumentNode }) => {
    const name = (req.query.definitions[0] as OperationDefinitionNode).name?.value;
    if (name === 'Home') return fromValue({ data: mine });
    if (name === 'HomeRollouts') return fromValue({ data: { rollouts: { __typename: 'RolloutConnection', totalCount: rollouts.length, nodes: rollouts } } });
    return never;
  });
  const client = { executeQuery, executeMutation: vi.fn(), executeSubscription: vi.fn(() => never) } as unknown as Client;
  const viewer: Viewer = { username: 'bob', admin: false, groups: ['group:default/team-payments'], user: { ref: 'user:default/bob' } };
  render(
    <Provider value={client}>
      <ViewerContext value={{ viewer, ready: Promise.resolve(viewer) }}>
        <MemoryRouter>
          <HomePage />
        </MemoryRouter>
      </ViewerContext>
    </Provider>,
  );
  return executeQuery;
}

describe('home: your recent rollouts', () => {
  it('lists the rollouts of your groups’ components in the order the server gives (newest first), each linked to its component', async () => {
    const executeQuery = setup([rollout('r2', 'RUNNING', 'bbbbbbbbbbbbbb'), rollout('r1', 'SUCCEEDED', 'aaaaaaaaaaaaaa')]);
    const section = (await screen.findByRole('heading', { name: 'Your recent rollouts' })).closest('section')!;
    const items = await within(section).findAllByRole('listitem');
    expect(items.map((li) => li.textContent?.replace(/\s+/g, ' ').match(/^.*? in production \w{10}/)?.[0])).toEqual([
      'RUNNING Payments API in production bbbbbbbbbb',
      'SUCCEEDED Payments API in production aaaaaaaaaa',
    ]);
    expect(within(items[0]).getByRole('link', { name: 'Payments API' }).getAttribute('href')).toBe('/catalog/default/component/payments-api');
    const asked = executeQuery.mock.calls.map((c) => c[0] as unknown as { query: DocumentNode; variables: Record<string, unknown> })
      .find((r) => (r.query.definitions[0] as OperationDefinitionNode).name?.value === 'HomeRollouts');
    expect(asked?.variables).toEqual({ components: ['component:default/payments-api'] });
  });

  it('says so when none is recorded', async () => {
    setup([]);
    expect(await screen.findByText("No rollout of your groups' components is recorded yet.")).toBeTruthy();
  });
});
