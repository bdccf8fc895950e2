import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, carol, fakeClient, renderAt } from '../../test/render';
import { TaskPage } from './TaskPage';

const at = '2026-11-20T10:00:00Z';
const theTask = {
  __typename: 'Task', id: 'T5', project: 'deployment-roadmap', title: 'Review the payments-api runbook', priority: 'MEDIUM',
  assignee: 'user:default/bob', status: 'IN_PROGRESS', comment: 'Failover step added', due: '2026-12-10', labels: ['ops'],
  links: [
    { __typename: 'TaskLink', kind: 'COMPONENT', target: 'component:default/payments-api' },
    { __typename: 'TaskLink', kind: 'RUNBOOK', target: '1' },
    { __typename: 'TaskLink', kind: 'PIPELINE_RUN', target: '7' },
    { __typename: 'TaskLink', kind: 'ROLLOUT', target: '3' },
  ],
  version: 2, updatedBy: 'portside', updatedAt: at, createdBy: 'portside', createdAt: at,
  comments: [{ __typename: 'TaskComment', id: 'C1', author: 'portside', body: 'Please check the escalation time.', createdAt: at }],
  history: [
    { __typename: 'TaskFieldChange', actor: 'portside', at, field: 'created', oldValue: '', newValue: 'Review the payments-api runbook' },
    { __typename: 'TaskFieldChange', actor: 'alice', at, field: 'status', oldValue: 'NOT_STARTED', newValue: 'IN_PROGRESS' },
  ],
};

const project = {
  project: { __typename: 'Project', id: 'P1', name: 'deployment-roadmap', title: 'Deployment stage roadmap', owner: 'group:default/team-platform', members: ['user:default/bob'] },
};

// viewerCanEdit is the server's answer; bob is a project member, carol is not.
function setup(canEdit: boolean, update: (v: Record<string, unknown>) => unknown = () => ({ updateTask: { __typename: 'TaskPayload', task: { ...theTask, status: 'BLOCKED', version: 3 } } })) {
  return fakeClient(
    {
      TaskPage: () => ({ task: { ...theTask, viewerCanEdit: canEdit } }),
      TaskProject: () => project,
    },
    {
      UpdateTask: update,
      AddTaskComment: () => ({ addTaskComment: { __typename: 'TaskCommentPayload', comment: { __typename: 'TaskComment', id: 'C2', author: 'bob', body: 'ok', createdAt: at }, task: { __typename: 'Task', id: 'T5' } } }),
    },
  );
}

function open(viewer = bob, update?: (v: Record<string, unknown>) => unknown) {
  const fake = setup(viewer !== carol, update);
  renderAt(fake.client, viewer, '/tasks/T5', '/tasks/:id', <TaskPage />);
  return fake;
}

describe('the task page', () => {
  it('shows the task, its links where they lead, its comment thread and every change', async () => {
    open();
    await screen.findByRole('heading', { name: 'Review the payments-api runbook' });
    const links = within(screen.getByRole('list', { name: 'Links' }));
    expect(links.getByRole('link', { name: 'Component payments-api' }).getAttribute('href')).toBe('/catalog/default/component/payments-api');
    expect(links.getByRole('link', { name: 'Runbook 1' }).getAttribute('href')).toBe('/runbooks/UnVuYm9vazox');
    expect(links.getByRole('link', { name: 'Pipeline run #7' }).getAttribute('href')).toBe('/pipelines/runs/UGlwZWxpbmVSdW46Nw');
    expect(links.getByText('Rollout #3')).toBeTruthy();
    expect(within(screen.getByRole('list', { name: 'Comments' })).getByText('Please check the escalation time.')).toBeTruthy();
    const rows = within(screen.getByRole('table', { name: /Every change/ })).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell').slice(1).map((c) => c.textContent))).toEqual([
      ['portside', 'created', '—', 'Review the payments-api runbook'],
      ['alice', 'status', 'NOT_STARTED', 'IN_PROGRESS'],
    ]);
  });

  it('lets a member change the status against the version shown', async () => {
    const user = userEvent.setup();
    const { executeMutation } = open();
    await user.selectOptions(await screen.findByRole('combobox', { name: 'Status' }), 'BLOCKED');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText(/Saved\./)).toBeTruthy();
    expect(calls(executeMutation, 'UpdateTask')).toEqual([{ input: { id: 'T5', version: 2, status: 'BLOCKED' } }]);
  });

  it('shows a refusal with the server\'s words and request ID', async () => {
    const user = userEvent.setup();
    open(bob, () => ({ error: new CombinedError({ graphQLErrors: [{ message: 'task T5 is at version 3, not 2: read it again (request req-77)', extensions: { code: 'CONFLICT' } }] }) }));
    await user.clear(await screen.findByRole('textbox', { name: 'Comments / Issues' }));
    await user.type(screen.getByRole('textbox', { name: 'Comments / Issues' }), 'Waiting on IAM');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Someone changed this task meanwhile');
    expect(alert.textContent).toContain('read it again');
    expect(screen.getByTestId('request-id').textContent).toBe('req-77');
  });

  it('adds a comment to the thread', async () => {
    const user = userEvent.setup();
    const { executeMutation } = open();
    await user.type(await screen.findByRole('textbox', { name: 'Add a comment' }), 'Checked: 15 minutes is right.');
    await user.click(screen.getByRole('button', { name: 'Add comment' }));
    expect(calls(executeMutation, 'AddTaskComment')).toEqual([{ input: { id: 'T5', body: 'Checked: 15 minutes is right.' } }]);
  });

  it('offers someone outside the project no change', async () => {
    open(carol);
    await screen.findByRole('heading', { name: 'Review the payments-api runbook' });
    await screen.findByRole('heading', { name: 'Changing this task' });
    expect(screen.queryByRole('button', { name: 'Save changes' })).toBeNull();
    expect(screen.queryByRole('textbox', { name: 'Add a comment' })).toBeNull();
  });

  it('offers the forms by the server\'s viewerCanEdit, not by the viewer\'s groups', async () => {
    // bob is a project member by the portal's reckoning, but the server says no (a read-only
    // token, say): no form. The server still refuses a change the portal did not offer.
    const fake = setup(false);
    renderAt(fake.client, bob, '/tasks/T5', '/tasks/:id', <TaskPage />);
    await screen.findByRole('heading', { name: 'Changing this task' });
    expect(screen.queryByRole('button', { name: 'Save changes' })).toBeNull();
    expect(screen.queryByRole('textbox', { name: 'Add a comment' })).toBeNull();
  });
});
