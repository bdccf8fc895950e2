import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { Provider, type Client } from 'urql';
import { fromValue } from 'wonka';
import { CatalogPage } from './CatalogPage';

const page = {
  entities: {
    __typename: 'EntityConnection',
    totalCount: 1,
    pageInfo: { __typename: 'PageInfo', hasNextPage: true, endCursor: 'cursor-1' },
    nodes: [
      {
        __typename: 'Component', id: 'c1', ref: 'component:default/payments-api', kind: 'Component', namespace: 'default',
        name: 'payments-api', title: 'Payments API', description: 'Takes payments.', tags: ['pci'], updatedAt: new Date().toISOString(),
        type: 'service', lifecycle: 'production', ownerRef: 'group:default/team-payments',
      },
    ],
  },
  facets: [
    { __typename: 'Facet', field: 'KIND', values: [{ __typename: 'FacetValue', value: 'Component', count: 30 }, { __typename: 'FacetValue', value: 'API', count: 16 }] },
  ],
};

function setup(url: string, data: object = page) {
  const executeQuery = vi.fn(() => fromValue({ data }));
  const client = { executeQuery, executeMutation: vi.fn(), executeSubscription: vi.fn() } as unknown as Client;
  const router = createMemoryRouter([{ path: '/catalog', element: <CatalogPage /> }], { initialEntries: [url] });
  render(
    <Provider value={client}>
      <RouterProvider router={router} />
    </Provider>,
  );
  // The results' query (the facets' has no order).
  const lastFilter = () =>
    (executeQuery.mock.calls as unknown as [{ variables: Record<string, unknown> }][]).filter((c) => 'orderBy' in c[0].variables).at(-1)![0].variables;
  return { router, lastFilter, executeQuery };
}

describe('the catalog explorer', () => {
  it('shows and queries what a deep link says', async () => {
    const { lastFilter } = setup('/catalog?q=pay&kind=Component&sort=updated&dir=desc');
    expect(await screen.findByRole('link', { name: 'Payments API' })).toBeTruthy();
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('pay');
    expect((screen.getByRole('checkbox', { name: /Component/ }) as HTMLInputElement).checked).toBe(true);
    expect(lastFilter()).toMatchObject({ filter: { text: 'pay', kinds: ['Component'] }, orderBy: { field: 'UPDATED_AT', direction: 'DESC' }, after: null });
  });

  it('puts filters, order and pages in the URL', async () => {
    const user = userEvent.setup();
    const { router, lastFilter } = setup('/catalog?q=pay');
    await screen.findByRole('link', { name: 'Payments API' });

    await user.click(screen.getByRole('checkbox', { name: /API/ }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=pay&kind=API'));
    expect(lastFilter()).toMatchObject({ filter: { text: 'pay', kinds: ['API'] } });

    await user.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=pay&kind=API&c=cursor-1'));
    expect(lastFilter()).toMatchObject({ after: 'cursor-1' });

    // A new order starts again at the first page.
    await user.click(screen.getByRole('button', { name: 'Kind' }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=pay&kind=API&sort=kind'));
  });

  it('shows the runbooks the search finds beside the entities, from a query of their own', async () => {
    const runbooks = {
      __typename: 'RunbookConnection', totalCount: 7,
      nodes: [{ __typename: 'Runbook', id: 'UnVuYm9vazox', title: 'Payments API is down' }],
    };
    setup('/catalog?q=pay', { ...page, runbooks });
    const hits = await screen.findByRole('region', { name: 'Runbooks' });
    expect(within(hits).getByRole('link', { name: 'Payments API is down' }).getAttribute('href')).toBe('/runbooks/UnVuYm9vazox');
    expect(within(hits).getByRole('link', { name: 'All 7 runbooks with these words' }).getAttribute('href')).toBe('/runbooks?q=pay');
    // The entities' query is the catalog's own, without the runbooks.
    expect(screen.getByRole('link', { name: 'Payments API' })).toBeTruthy();
  });

  it('asks for no runbooks without a search', async () => {
    const { executeQuery } = setup('/catalog', { ...page, runbooks: { __typename: 'RunbookConnection', totalCount: 1, nodes: [] } });
    await screen.findByRole('link', { name: 'Payments API' });
    const calls = executeQuery.mock.calls as unknown as [{ variables: Record<string, unknown> }][];
    expect(calls.some((c) => 'text' in c[0].variables)).toBe(false);
    expect(screen.queryByRole('region', { name: 'Runbooks' })).toBeNull();
  });
});
