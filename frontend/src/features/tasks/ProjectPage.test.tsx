import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, carol, fakeClient, renderAt } from '../../test/render';
import { ProjectPage } from './ProjectPage';

const now = new Date().toISOString();
const task = (n: number, title: string, priority: string, assignee: string | null, status: string, comment: string) => ({
  __typename: 'Task', id: `T${n}`, project: 'deployment-roadmap', title, priority, assignee, status, comment, due: null, labels: [], links: [],
  version: 1, updatedBy: 'alice', updatedAt: now,
});

const tasks = [
  task(1, 'Define k8s deployment specs', 'HIGH', 'user:default/alice', 'BLOCKED', 'Waiting on service account permissions'),
  task(2, 'CI to CD handoff automation', 'MEDIUM', 'user:default/alice', 'NOT_STARTED', 'Evaluate GitLab release job'),
  task(3, 'Helm chart templating', 'LOW', null, 'COMPLETED', ''),
];

function project(canEdit: boolean) {
  return {
    project: {
      __typename: 'Project', id: 'P1', name: 'deployment-roadmap', title: 'Deployment stage roadmap', owner: 'group:default/team-platform',
      members: ['user:default/bob'], viewerCanEdit: canEdit, createdBy: 'alice', createdAt: now,
      tasks: { __typename: 'TaskConnection', totalCount: tasks.length, pageInfo: { __typename: 'PageInfo', hasNextPage: false }, nodes: tasks },
    },
  };
}

const meetings = {
  project: {
    __typename: 'Project', id: 'P1',
    changesSinceLastMeeting: [
      { __typename: 'MeetingChange', taskId: 'T1', title: 'Define k8s deployment specs', kind: 'BLOCKER', oldValue: '', newValue: 'Waiting on service account permissions' },
      { __typename: 'MeetingChange', taskId: 'T1', title: 'Define k8s deployment specs', kind: 'STATUS', oldValue: 'IN_PROGRESS', newValue: 'BLOCKED' },
    ],
    meetings: [{ __typename: 'Meeting', id: 'M1', heldAt: now, notes: 'Agree on the canary steps', createdBy: 'alice', changes: [] }],
  },
};

function setup(viewer = bob, answers: Record<string, (v: Record<string, unknown>) => unknown> = {}) {
  // viewerCanEdit is the server's answer: bob is a project member, carol is not.
  const fake = fakeClient({ ProjectPage: () => project(viewer !== carol), ProjectMeetings: () => meetings, ...answers }, {
    ImportTasks: () => ({
      importTasks: {
        __typename: 'ImportTasksPayload', created: 0, updated: 0, unchanged: 0, tasks: [],
        errors: [{ __typename: 'TaskImportError', row: 2, line: 4, column: 'Assignee', message: '"Zed" is no catalog user' }],
      },
    }),
  });
  const router = renderAt(fake.client, viewer, '/projects/deployment-roadmap', '/projects/:name', <ProjectPage />);
  return { ...fake, router };
}

const titles = () => within(screen.getByRole('table', { name: /Tasks of/ })).getAllByRole('rowheader').map((th) => th.textContent?.replace(/ · due.*/, ''));

describe('the project page', () => {
  it('shows the status-meeting table in board order, each task linked to its page', async () => {
    setup();
    await screen.findByRole('heading', { name: 'Deployment stage roadmap' });
    expect(titles()).toEqual(['Define k8s deployment specs', 'CI to CD handoff automation', 'Helm chart templating']);
    const first = screen.getAllByRole('row')[1];
    expect(within(first).getAllByRole('cell').map((c) => c.textContent)).toEqual(['High', 'alice', 'Blocked', 'Waiting on service account permissions']);
    expect(within(first).getByRole('link', { name: 'Define k8s deployment specs' }).getAttribute('href')).toBe('/tasks/T1');
    expect(screen.getByRole('status', { name: '' }).textContent).toBe('3 tasks');
  });

  it('sorts by a column (priority in the table\'s order, not alphabetically) and keeps the order in the URL', async () => {
    const user = userEvent.setup();
    const { router } = setup();
    await screen.findByRole('heading', { name: 'Deployment stage roadmap' });
    await user.click(screen.getByRole('button', { name: 'Priority' }));
    expect(router.state.location.search).toBe('?sort=priority');
    expect(titles()).toEqual(['Define k8s deployment specs', 'CI to CD handoff automation', 'Helm chart templating']);
    await user.click(screen.getByRole('button', { name: /Priority/ }));
    expect(router.state.location.search).toBe('?sort=priority&dir=desc');
    expect(titles()).toEqual(['Helm chart templating', 'CI to CD handoff automation', 'Define k8s deployment specs']);
    expect(screen.getByRole('columnheader', { name: /Priority/ }).getAttribute('aria-sort')).toBe('descending');
    await user.click(screen.getByRole('button', { name: /Status/ }));
    expect(titles()).toEqual(['CI to CD handoff automation', 'Define k8s deployment specs', 'Helm chart templating']);
  });

  it('asks the API for the tasks the filters name, from the URL', async () => {
    const user = userEvent.setup();
    const { executeQuery, router } = setup();
    await screen.findByRole('heading', { name: 'Deployment stage roadmap' });
    await user.click(screen.getByRole('checkbox', { name: 'Blocked' }));
    await user.click(screen.getByRole('checkbox', { name: 'High' }));
    await user.type(screen.getByRole('textbox', { name: 'Assignee' }), 'Alice');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    expect(router.state.location.search).toBe('?status=BLOCKED&priority=HIGH&assignee=Alice');
    await waitFor(() =>
      expect(calls(executeQuery, 'ProjectPage').at(-1)).toEqual({
        name: 'deployment-roadmap', first: 100, after: null, filter: { status: ['BLOCKED'], priority: ['HIGH'], assignee: 'Alice' },
      }),
    );
  });

  it('lists what changed since the last meeting, and the meetings', async () => {
    setup();
    const since = await screen.findByRole('list', { name: 'Changed since the last meeting' });
    expect(within(since).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Blocker Define k8s deployment specs — → Waiting on service account permissions',
      'Status Define k8s deployment specs In Progress → Blocked',
    ]);
    expect(screen.getByText(/recorded by alice, 0 changes/)).toBeTruthy();
  });

  it('offers a member import; a table with problems is reported by row and column', async () => {
    const user = userEvent.setup();
    const { executeMutation } = setup();
    const box = await screen.findByRole('textbox', { name: /Table to import/ });
    await user.click(box);
    await user.paste('| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| x | High | Zed | Not Started |');
    await user.click(screen.getByRole('button', { name: 'Import' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Nothing was imported: one problem');
    expect(alert.textContent).toContain('Row 2 (line 4), column Assignee: "Zed" is no catalog user');
    expect(calls(executeMutation, 'ImportTasks')[0]).toEqual({
      input: { project: 'deployment-roadmap', format: 'MARKDOWN', text: '| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| x | High | Zed | Not Started |' },
    });
  });

  it('offers someone outside the project export only', async () => {
    const user = userEvent.setup();
    setup(carol, { ExportTasks: (v) => ({ exportTasks: v.format === 'CSV' ? 'Task,Priority\n' : '| Task | Priority |\n' }) });
    await screen.findByRole('heading', { name: 'Export' });
    expect(screen.queryByRole('textbox', { name: /Table to import/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Record meeting' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Export as CSV' }));
    expect(((await screen.findByRole('textbox', { name: 'The table as CSV' })) as HTMLTextAreaElement).value).toBe('Task,Priority\n');
    const link = screen.getByRole('link', { name: 'Download deployment-roadmap.csv' });
    expect(link.getAttribute('href')).toBe('data:text/csv;charset=utf-8,Task%2CPriority%0A');
  });

  it('shows the server\'s refusal with its request ID, and an unknown project as such', async () => {
    setup(bob, {
      ProjectPage: () => ({ error: new CombinedError({ graphQLErrors: [{ message: 'the database is unavailable (request req-9)', extensions: { code: 'UNAVAILABLE' } }] }) }),
    });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This project could not be loaded');
    expect(screen.getByTestId('request-id').textContent).toBe('req-9');
  });

  it('says so when there is no such project', async () => {
    setup(bob, { ProjectPage: () => ({ project: null }) });
    expect(await screen.findByText(/There is no project/)).toBeTruthy();
  });

  it('pages through a board of more than 100 tasks along the connection\'s cursor, the pages in the URL', async () => {
    const user = userEvent.setup();
    // 250 tasks: the server answers 100 a page; each page's end cursor leads to the next.
    const board = (v: Record<string, unknown>) => {
      const start = v.after ? Number(String(v.after).slice('after-'.length)) : 0;
      const nodes = Array.from({ length: Math.min(100, 250 - start) }, (_, i) => task(start + i + 1, `Task ${start + i + 1}`, 'LOW', null, 'NOT_STARTED', ''));
      const p = project(true).project;
      return {
        project: {
          ...p,
          tasks: { ...p.tasks, totalCount: 250, nodes, pageInfo: { __typename: 'PageInfo', hasNextPage: start + 100 < 250, endCursor: `after-${start + nodes.length}` } },
        },
      };
    };
    const { router, executeQuery } = setup(bob, { ProjectPage: board });
    // A row header found by its link's text: role queries weigh every one of 100 row headers' names
    // and styles at each retry, which took this test past its time on a busy machine.
    const rowHeader = (title: string) => screen.findByText(title, { selector: 'th[scope=row] > a' });
    const rows = () => document.querySelectorAll('table.task-table tbody th[scope=row]');
    await rowHeader('Task 1');
    expect(rows()).toHaveLength(100);
    expect(screen.getByText(/^250 tasks, page 1/)).toBeTruthy();
    const pages = within(screen.getByRole('navigation', { name: 'Pages of tasks' }));
    expect((pages.getByRole('button', { name: 'Previous page' }) as HTMLButtonElement).disabled).toBe(true);

    await user.click(pages.getByRole('button', { name: 'Next page' }));
    await rowHeader('Task 101');
    expect(router.state.location.search).toBe('?c=after-100');
    expect(calls(executeQuery, 'ProjectPage').at(-1)).toMatchObject({ after: 'after-100', first: 100 });
    await user.click(screen.getByRole('button', { name: 'Next page' }));
    await rowHeader('Task 250');
    expect(rows()).toHaveLength(50);
    expect(screen.getByText(/^250 tasks, page 3/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Next page' }) as HTMLButtonElement).disabled).toBe(true);

    await user.click(screen.getByRole('button', { name: 'Previous page' }));
    await rowHeader('Task 101');
    expect(router.state.location.search).toBe('?c=after-100');

    // Another filter starts again at the first page.
    await user.click(screen.getByRole('checkbox', { name: /Blocked/ }));
    expect(router.state.location.search).toBe('?status=BLOCKED');
    expect(calls(executeQuery, 'ProjectPage').at(-1)).toMatchObject({ after: null });
  });

  it('shows no pager for a board of one page', async () => {
    setup();
    await screen.findByRole('heading', { name: 'Deployment stage roadmap' });
    expect(screen.queryByRole('navigation', { name: 'Pages of tasks' })).toBeNull();
  });
});
