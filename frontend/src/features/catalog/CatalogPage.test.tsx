import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { Provider, type Client } from 'urql';
import { fromValue } from 'wonka';
import { forwardRef, type ComponentProps } from 'react';
import { CatalogPage } from './CatalogPage';
import { calls, fakeClient } from '../../test/render';

// Render counters for the tests of what a keystroke renders: every facet checkbox rendered, and
// every row's "updated" cell (format's ago) rendered.
const rendered = vi.hoisted(() => ({ checkboxes: 0, rows: 0 }));
vi.mock('react-aria-components', async (original) => {
  const m = await original<typeof import('react-aria-components')>();
  const Checkbox = forwardRef<HTMLLabelElement, ComponentProps<typeof m.Checkbox>>((props, ref) => {
    rendered.checkboxes++;
    return <m.Checkbox {...props} ref={ref} />;
  });
  return { ...m, Checkbox };
});
vi.mock('../../lib/format', async (original) => {
  const m = await original<typeof import('../../lib/format')>();
  return { ...m, ago: (...a: Parameters<typeof m.ago>) => (rendered.rows++, m.ago(...a)) };
});

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

  it('lets the keyboard pass the facets by: the skip link moves focus to the results', async () => {
    setup('/catalog?q=pay');
    await screen.findByRole('link', { name: 'Payments API' });
    await userEvent.click(screen.getByRole('searchbox'));
    await userEvent.tab(); // the search field's clear button is no Tab stop
    const skip = screen.getByRole('link', { name: 'Skip the filters to the results' });
    expect(document.activeElement).toBe(skip);
    await userEvent.keyboard('{Enter}');
    expect(document.activeElement).toBe(screen.getByRole('region', { name: 'Results' }));
    // Past the sortable headers, the first result's link (no facet on the way).
    const link = screen.getByRole('link', { name: 'Payments API' });
    const stops: string[] = [];
    for (let i = 0; i < 10 && document.activeElement !== link; i++) {
      await userEvent.tab();
      stops.push(document.activeElement?.textContent ?? '');
      expect(document.activeElement?.closest('.facets')).toBeNull();
    }
    expect(document.activeElement).toBe(link);
    expect(stops.length).toBeLessThan(10);
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

describe('a keystroke in the catalog explorer', () => {
  // Each answer is a new object, as the client's cache gives: the same entities, the text echoed.
  const answers = {
    ExplorerResults: () => structuredClone(page),
    ExplorerFacets: () => ({ facets: structuredClone(page.facets) }),
  };
  function typing(url: string) {
    const { client, executeQuery } = fakeClient(answers);
    const router = createMemoryRouter([{ path: '/catalog', element: <CatalogPage /> }], { initialEntries: [url] });
    render(
      <Provider value={client}>
        <RouterProvider router={router} />
      </Provider>,
    );
    return { router, executeQuery };
  }
  const results = () => document.querySelector('section.results')!;
  /** Calls take() at the commit that shows the results for text (before any timer can run). */
  function whenShown<T>(text: string, take: () => T): Promise<T> {
    return new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        if (results().getAttribute('data-results-for') === text) {
          mo.disconnect();
          resolve(take());
        }
      });
      mo.observe(results(), { attributes: true, attributeFilter: ['data-results-for'] });
    });
  }

  it('searches with every key, and counts facets and writes the URL once typing pauses', async () => {
    const user = userEvent.setup();
    const { router, executeQuery } = typing('/catalog?q=pay');
    await screen.findByRole('link', { name: 'Payments API' });
    await waitFor(() => expect(results().getAttribute('data-results-for')).toBe('pay'));
    const facetCalls = calls(executeQuery, 'ExplorerFacets').length;

    const shown = whenShown('paym', () => ({ facetCalls: calls(executeQuery, 'ExplorerFacets').length, search: router.state.location.search }));
    await user.type(screen.getByRole('searchbox'), 'm');
    expect(calls(executeQuery, 'ExplorerResults').at(-1)).toMatchObject({ filter: { text: 'paym' } });
    expect(await shown).toEqual({ facetCalls, search: '?q=pay' });

    await waitFor(() => expect(router.state.location.search).toBe('?q=paym'));
    await waitFor(() => expect(calls(executeQuery, 'ExplorerFacets').at(-1)).toMatchObject({ filter: { text: 'paym' } }));
  });

  it('renders neither the facet filters nor a row already shown between a key and its results', async () => {
    const user = userEvent.setup();
    typing('/catalog?q=pay');
    await screen.findByRole('checkbox', { name: /Component/ });
    await waitFor(() => expect(results().getAttribute('data-results-for')).toBe('pay'));
    const before = { ...rendered };
    expect(before.checkboxes).toBeGreaterThan(0);
    expect(before.rows).toBeGreaterThan(0);

    // The answer for "paym" holds the same entity (a new object).
    const shown = whenShown('paym', () => ({ ...rendered }));
    await user.type(screen.getByRole('searchbox'), 'm');
    expect(await shown).toEqual(before);
    expect(screen.getByRole('link', { name: 'Payments API' })).toBeTruthy();
  });
});
