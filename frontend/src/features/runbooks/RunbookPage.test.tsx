import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, carol, fakeClient, renderAt } from '../../test/render';
import { RunbookPage } from './RunbookPage';
import { RunbooksSection } from './RunbooksSection';

const at = '2026-11-20T10:00:00Z';
const runbook = (owner: boolean) => ({
  runbook: {
    __typename: 'Runbook', id: 'UnVuYm9vazox', title: 'Payments API: card payments failing', kind: 'MARKDOWN', url: null,
    markdown: '# Card payments failing\n\n1. Check the dashboard.\n', html: '<h1>Card payments failing</h1>\n<ol><li>Check the <strong>dashboard</strong>.</li></ol>',
    version: 2,
    versions: [
      { __typename: 'RunbookVersion', version: 2, title: 'Payments API: card payments failing', author: 'portside', message: 'Provider failover', createdAt: at },
      { __typename: 'RunbookVersion', version: 1, title: 'Payments API: card payments failing', author: 'portside', message: 'First steps', createdAt: at },
    ],
    linkedRefs: ['component:default/payments-api'],
    linkedEntities: [{ __typename: 'Component', id: 'E1', ref: 'component:default/payments-api', title: 'Payments API', name: 'payments-api', viewerCanOperate: owner }],
    linkStatus: null, createdBy: 'portside', createdAt: at, updatedBy: 'portside', updatedAt: at,
  },
});

const diff = '--- version 1\n+++ version 2\n@@ -1,2 +1,3 @@\n 1. Check the dashboard.\n+2. Fail over.\n';

function open(owner: boolean, update?: (v: Record<string, unknown>) => unknown, path = '/runbooks/UnVuYm9vazox') {
  const fake = fakeClient(
    { RunbookPage: () => runbook(owner), RunbookDiff: () => ({ runbook: { __typename: 'Runbook', id: 'UnVuYm9vazox', diff } }) },
    { UpdateRunbook: update ?? (() => ({ updateRunbook: { __typename: 'RunbookPayload', runbook: { ...runbook(owner).runbook, version: 3 } } })) },
  );
  const router = renderAt(fake.client, owner ? bob : carol, path, '/runbooks/:id', <RunbookPage />);
  return { ...fake, router };
}

describe('the runbook page', () => {
  it('renders the server\'s HTML, lists the versions and diffs one against the one before', async () => {
    const user = userEvent.setup();
    const { router, executeQuery } = open(false);
    expect(await screen.findByRole('heading', { name: 'Card payments failing', level: 1 })).toBeTruthy();
    expect(screen.getByText('dashboard').tagName).toBe('STRONG');
    const rows = within(screen.getByRole('table', { name: /Versions/ })).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([expect.stringMatching(/^2Provider failoverportside.*against 1$/), expect.stringMatching(/^1First stepsportside.*first$/)]);
    await user.click(screen.getByRole('link', { name: 'Diff of version 2 against 1' }));
    expect(router.state.location.search).toBe('?from=1&to=2');
    const pre = await screen.findByLabelText('Unified diff');
    expect(within(pre).getByText(/2\. Fail over\./).closest('.diff-line')?.className).toBe('diff-line diff-add');
    expect(calls(executeQuery, 'RunbookDiff')).toEqual([{ id: 'UnVuYm9vazox', from: 1, to: 2 }]);
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
  });

  it('lets an owner save a new version against the version shown; a conflict is shown with its request ID', async () => {
    const user = userEvent.setup();
    let answer: unknown = { error: new CombinedError({ graphQLErrors: [{ message: 'the runbook is at version 3 (request req-3)', extensions: { code: 'CONFLICT' } }] }) };
    const { executeMutation } = open(true, () => answer);
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const body = screen.getByRole('textbox', { name: 'Markdown' });
    await user.type(body, '2. Fail over.\n');
    await user.type(screen.getByRole('textbox', { name: 'What this version changes' }), 'Failover');
    await user.click(screen.getByRole('button', { name: 'Save new version' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Someone saved a newer version meanwhile');
    expect(screen.getByTestId('request-id').textContent).toBe('req-3');
    expect(calls(executeMutation, 'UpdateRunbook')[0]).toEqual({
      input: { id: 'UnVuYm9vazox', baseVersion: 2, title: null, markdown: '# Card payments failing\n\n1. Check the dashboard.\n2. Fail over.\n', message: 'Failover' },
    });
    answer = { updateRunbook: { __typename: 'RunbookPayload', runbook: { __typename: 'Runbook', id: 'UnVuYm9vazox', title: 'x', markdown: '', html: '', url: null, version: 3, updatedAt: at, updatedBy: 'bob' } } };
    await user.click(screen.getByRole('button', { name: 'Save new version' }));
    await waitFor(() => expect(screen.queryByRole('textbox', { name: 'Markdown' })).toBeNull());
  });
});

describe('the component page\'s runbooks and dashboards', () => {
  it('lists the runbooks kept in Portside and the links the catalog entry declares, filled in for the component', async () => {
    const link = (kind: string, title: string, url: string, source: string, state = 'OK') => ({
      __typename: 'CatalogLink', kind, title, url, template: url, source, missing: [], status: { __typename: 'LinkStatus', state, httpStatus: state === 'DEAD' ? 404 : 200, message: null },
    });
    const { client } = fakeClient({
      ComponentRunbooks: () => ({
        entity: {
          __typename: 'Component', id: 'E1',
          runbooks: [{ __typename: 'Runbook', id: 'UnVuYm9vazox', title: 'Payments API: card payments failing', kind: 'MARKDOWN', version: 2 }],
          runbookLinks: [link('RUNBOOK', 'Runbook', 'https://runbooks.example/payments', 'metadata.links[0]', 'DEAD')],
          dashboards: [link('DASHBOARD', 'Latency', 'https://grafana.example/d/x?var-app=payments-api', 'portside.dev/dashboards')],
          grafana: { __typename: 'GrafanaAnnotations', dashboardSelector: "tags @> 'payments-api'", alertLabelSelector: null },
        },
      }),
    });
    renderAt(client, bob, '/c', '/c', <RunbooksSection componentRef="component:default/payments-api" />);
    const runbooks = within(await screen.findByRole('list', { name: 'Runbooks kept in Portside' }));
    expect(runbooks.getByRole('link', { name: 'Payments API: card payments failing' }).getAttribute('href')).toBe('/runbooks/UnVuYm9vazox');
    const declared = within(screen.getByRole('list', { name: 'Runbooks the catalog entry declares' }));
    expect(declared.getByRole('link', { name: 'Runbook' }).getAttribute('href')).toBe('https://runbooks.example/payments');
    expect(declared.getByText('dead link (404)')).toBeTruthy();
    const dashboards = within(screen.getByRole('list', { name: 'Dashboards' }));
    expect(dashboards.getByRole('link', { name: 'Latency' }).getAttribute('href')).toBe('https://grafana.example/d/x?var-app=payments-api');
    expect(screen.getByText("tags @> 'payments-api'")).toBeTruthy();
  });
});
