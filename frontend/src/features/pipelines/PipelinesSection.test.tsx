import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { Provider, type Client } from 'urql';
import { fromValue, never } from 'wonka';
import { PipelinesSection } from './PipelinesSection';

function data(viewerCanOperate: boolean) {
  return {
    entity: {
      __typename: 'Component',
      id: 'c1',
      viewerCanOperate,
      pipelines: [
        {
          __typename: 'Pipeline', component: 'component:default/payments-api', name: 'ci', provider: 'local', repository: null, workflow: null,
          defaultRef: 'main', stages: ['Build', 'Test'],
          parameters: [{ __typename: 'PipelineParameter', name: 'failAt', type: 'CHOICE', description: null, options: ['none', 'Test'], default: 'none', required: false }],
          runs: {
            __typename: 'PipelineRunConnection',
            totalCount: 1,
            nodes: [
              {
                __typename: 'PipelineRun', id: 'UGlwZWxpbmVSdW46Nw', component: 'component:default/payments-api', pipeline: 'ci', provider: 'local',
                providerRunId: null, url: null, attempt: 1, ref: 'main', commitSha: null, parameters: [], triggeredBy: 'bob', client: 'web',
                status: 'FAILED', message: null, artifacts: [], retryOfId: null, createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
                updatedAt: new Date().toISOString(),
                stages: [
                  { __typename: 'PipelineStage', name: 'Build', status: 'FAILED', startedAt: null, finishedAt: null, durationSeconds: null, logUrl: null },
                  { __typename: 'PipelineStage', name: 'Test', status: 'SKIPPED', startedAt: null, finishedAt: null, durationSeconds: null, logUrl: null },
                ],
              },
            ],
          },
        },
      ],
    },
  };
}

function setup(viewerCanOperate: boolean) {
  const client = {
    executeQuery: vi.fn(() => fromValue({ data: data(viewerCanOperate) })),
    executeMutation: vi.fn(),
    executeSubscription: vi.fn(() => never),
  } as unknown as Client;
  render(
    <Provider value={client}>
      <MemoryRouter>
        <PipelinesSection componentRef="component:default/payments-api" />
      </MemoryRouter>
    </Provider>,
  );
}

describe('the Pipelines section', { timeout: 20000 }, () => {
  it('lists the pipelines and their latest runs, and offers owners a Run button', async () => {
    setup(true);
    expect(await screen.findByRole('link', { name: 'Run #7' })).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Latest runs of ci' })).toBeTruthy();
    const chips = within(screen.getByRole('list', { name: 'Stages' })).getAllByRole('listitem');
    expect(chips.map((li) => li.textContent)).toEqual(['Build: FAILED', 'Test: SKIPPED']);
    // The dialog's widgets load lazily: first a disabled stand-in, then the button itself.
    await waitFor(() => expect((screen.getByRole('button', { name: 'Run ci' }) as HTMLButtonElement).disabled).toBe(false), { timeout: 15000 });
  });

  it('offers a viewer no Run button', async () => {
    setup(false);
    await screen.findByRole('link', { name: 'Run #7' });
    expect(screen.queryByRole('button', { name: /Run/ })).toBeNull();
  });
});
