import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, fakeClient, renderAt } from '../../test/render';
import { DeploysPage } from './DeploysPage';
import { page, request } from './testdata';

function open(path: string, answer: (v: Record<string, unknown>) => unknown = () => page([request(12), request(11, { state: 'ROLLING_OUT', approver: 'alice', environment: 'staging' })])) {
  const fake = fakeClient({ DeployRequests: answer });
  const router = renderAt(fake.client, bob, path, '/deploys', <DeploysPage />);
  return { ...fake, router };
}

describe('the deploy requests page', () => {
  it('shows my requests by default: number, component, version, environment, state, requester, approver, when', async () => {
    const { executeQuery } = open('/deploys');
    const table = await screen.findByRole('table', { name: /Deploy requests \(Mine\)/ });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => [...r.children].slice(0, 7).map((c) => c.textContent))).toEqual([
      ['#12', 'payments-api', 'sha256:4f2b0c6a9d1e…', 'production', 'requested', 'bob', '—'],
      ['#11', 'payments-api', 'sha256:4f2b0c6a9d1e…', 'staging', 'rolling out', 'bob', 'alice'],
    ]);
    expect(within(rows[0]).getByRole('link', { name: '#12' }).getAttribute('href')).toBe('/deploys/12');
    expect(within(rows[0]).getByRole('link', { name: 'payments-api' }).getAttribute('href')).toBe('/catalog/default/component/payments-api');
    expect(screen.getByRole('link', { name: 'Mine' }).getAttribute('aria-current')).toBe('page');
    expect(calls(executeQuery, 'DeployRequests')[0]).toEqual({ filter: { mine: true, awaitingMyApproval: null, states: null, component: null }, after: null });
  });

  it('asks the API for what awaits my approval, and for all, from the URL', async () => {
    const { executeQuery } = open('/deploys?view=awaiting&state=REQUESTED&component=payments-api');
    await screen.findByRole('table', { name: /Awaiting my approval/ });
    expect(calls(executeQuery, 'DeployRequests')[0]).toEqual({
      filter: { mine: null, awaitingMyApproval: true, states: ['REQUESTED'], component: 'payments-api' }, after: null,
    });
    expect((screen.getByRole('combobox', { name: 'State' }) as HTMLSelectElement).value).toBe('REQUESTED');
    expect((screen.getByRole('textbox', { name: 'Component' }) as HTMLInputElement).value).toBe('payments-api');
  });

  it('keeps the filters in the URL as the tabs and the state change', async () => {
    const user = userEvent.setup();
    const { executeQuery, router } = open('/deploys?state=FAILED');
    await screen.findByRole('table');
    await user.click(screen.getByRole('link', { name: 'All' }));
    await waitFor(() => expect(router.state.location.search).toBe('?view=all&state=FAILED'));
    await user.selectOptions(screen.getByRole('combobox', { name: 'State' }), 'SUCCEEDED');
    await waitFor(() => expect(router.state.location.search).toBe('?view=all&state=SUCCEEDED'));
    await waitFor(() => expect(calls(executeQuery, 'DeployRequests').at(-1)).toEqual({
      filter: { mine: null, awaitingMyApproval: null, states: ['SUCCEEDED'], component: null }, after: null,
    }));
  });

  it('says why a view is empty', async () => {
    open('/deploys?view=awaiting', () => page([]));
    expect((await screen.findByText(/Nothing waits for your approval/)).textContent).toContain('asked for by someone else');
  });

  it("shows a refusal with the server's words, code and request ID", async () => {
    open('/deploys?component=nope', () => ({
      error: new CombinedError({ graphQLErrors: [{ message: 'filter.component: no component component:default/nope (request req-9)', extensions: { code: 'NOT_FOUND' } }] }),
    }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('no component component:default/nope');
    expect(alert.textContent).toContain('NOT_FOUND');
    expect(screen.getByTestId('request-id').textContent).toBe('req-9');
  });
});
