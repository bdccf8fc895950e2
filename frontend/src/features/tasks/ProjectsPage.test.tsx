import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import { bob, fakeClient, renderAt } from '../../test/render';
import { ProjectsPage } from './ProjectsPage';

function open(projects: unknown[]) {
  const { client } = fakeClient({ Projects: () => ({ projects }) });
  renderAt(client, bob, '/projects', '/projects', <ProjectsPage />);
}

describe('the projects page', () => {
  it('lists the projects, each linked to its table and its owning group', async () => {
    open([
      {
        __typename: 'Project', id: 'P1', name: 'deployment-roadmap', title: 'Deployment stage roadmap', owner: 'group:default/team-platform', members: [],
        createdAt: new Date().toISOString(), tasks: { __typename: 'TaskConnection', totalCount: 5 },
      },
    ]);
    const row = (await screen.findByRole('rowheader', { name: /Deployment stage roadmap/ })).closest('tr')!;
    expect(within(row).getByRole('link', { name: 'Deployment stage roadmap' }).getAttribute('href')).toBe('/projects/deployment-roadmap');
    expect(within(row).getByRole('link', { name: 'team-platform' }).getAttribute('href')).toBe('/catalog/default/group/team-platform');
    expect(within(row).getAllByRole('cell')[1].textContent).toBe('5');
  });

  it('says how a project is made when there is none', async () => {
    open([]);
    expect((await screen.findByText(/There is no project yet/)).textContent).toContain('portside tasks project create');
  });
});
