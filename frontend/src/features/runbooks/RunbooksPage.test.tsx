import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { bob, calls, fakeClient, renderAt } from '../../test/render';
import { RunbooksPage } from './RunbooksPage';

describe('the runbooks page', () => {
  it('searches runbook titles and text through the API, the search in the URL', async () => {
    const user = userEvent.setup();
    const { client, executeQuery } = fakeClient({
      Runbooks: (v) => ({
        runbooks: {
          __typename: 'RunbookConnection', totalCount: v.filter ? 1 : 0, pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null },
          nodes: v.filter
            ? [{ __typename: 'Runbook', id: 'UnVuYm9vazox', title: 'Payments API: card payments failing', kind: 'MARKDOWN', version: 2, linkedRefs: ['component:default/payments-api'], updatedAt: new Date().toISOString(), updatedBy: 'bob' }]
            : [],
        },
      }),
    });
    const router = renderAt(client, bob, '/runbooks', '/runbooks', <RunbooksPage />);
    expect(await screen.findByText(/No runbook is kept in Portside yet/)).toBeTruthy();
    await user.type(screen.getByRole('textbox', { name: 'Words in the title or text' }), 'payments');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    expect(router.state.location.search).toBe('?q=payments');
    expect((await screen.findByRole('link', { name: 'Payments API: card payments failing' })).getAttribute('href')).toBe('/runbooks/UnVuYm9vazox');
    expect(screen.getByRole('link', { name: 'payments-api' }).getAttribute('href')).toBe('/catalog/default/component/payments-api');
    await waitFor(() => expect(calls(executeQuery, 'Runbooks').at(-1)).toEqual({ filter: { text: 'payments' }, after: null }));
  });
});
