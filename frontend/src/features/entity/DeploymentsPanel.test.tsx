import { beforeAll, describe, expect, it } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, carol, fakeClient, renderAt } from '../../test/render';
import { scriptedServer } from '../../test/scripted';
import { live } from '../../lib/live';
import type { Viewer } from '../../app/viewer';
import { DeploymentsPanel } from './DeploymentsPanel';

const ref = 'component:default/payments-api';
const revA = '3f1c2a9b7d5e4f60718293a4b5c6d7e8f9012345';
const key = { component: ref, instance: 'scripted', appNamespace: 'argocd', application: 'payments-api' };

// The confirmation dialog's code is loaded lazily; load it once up front.
beforeAll(async () => {
  await import('../../components/ConfirmDialogImpl');
});

const deployment = {
  __typename: 'Deployment', instance: 'scripted', appNamespace: 'argocd', application: 'payments-api', environment: 'production',
  cluster: 'https://kubernetes.default.svc', namespace: 'payments-api', syncStatus: 'SYNCED', health: 'SUSPENDED', revision: revA,
  lastSyncedAt: '2026-12-03T09:00:00Z', stale: false, removed: false, operation: null,
  canary: {
    __typename: 'Canary', strategy: 'CANARY', currentStep: 3, setWeight: 50, actualWeight: 50, phase: 'Paused', aborted: false, pausedReason: 'CanaryPauseStep',
    steps: [
      { __typename: 'CanaryStep', kind: 'setWeight', weight: 20, pause: null },
      { __typename: 'CanaryStep', kind: 'pause', weight: null, pause: 'until promoted' },
      { __typename: 'CanaryStep', kind: 'setWeight', weight: 50, pause: null },
      { __typename: 'CanaryStep', kind: 'pause', weight: null, pause: 'until promoted' },
      { __typename: 'CanaryStep', kind: 'setWeight', weight: 100, pause: null },
    ],
  },
};
const rolloutA = {
  __typename: 'Rollout', id: 'Um9sbG91dDox', instance: 'scripted', application: 'payments-api', appNamespace: 'argocd', environment: 'production',
  revision: revA, result: 'SUCCEEDED', message: 'successfully synced', startedAt: '2026-12-03T09:00:00Z', finishedAt: '2026-12-03T09:00:30Z',
  requestedBy: null, initiatedBy: null, historyId: 0, commit: null,
};

function open(viewer: Viewer, canOperate: boolean, mutations: Record<string, (v: Record<string, unknown>) => unknown> = {}) {
  const fake = fakeClient({
    ComponentDelivery: () => ({
      entity: { __typename: 'Component', id: 'RW50aXR5OjE', viewerCanOperate: canOperate, location: { __typename: 'Location', id: 'TG9jYXRpb246MQ' },
        deployments: [deployment], rollouts: { __typename: 'RolloutConnection', totalCount: 1, nodes: [rolloutA] } },
    }),
  }, mutations);
  renderAt(fake.client, viewer, '/c', '/c', <DeploymentsPanel componentRef={ref} />);
  return fake;
}

const usable = (name: string) => waitFor(() => expect((screen.getByRole('button', { name }) as HTMLButtonElement).disabled).toBe(false), { timeout: 10000 });
const answer = (field: string) => () => ({ [field]: { __typename: 'DeploymentActionPayload', deployment } });

describe("a component's deployments", () => {
  it('asks before promoting fully, saying the component, environment and step; Cancel sends nothing', async () => {
    const user = userEvent.setup();
    const { executeMutation } = open(bob, true, { Promote: answer('promoteDeployment') });
    await usable('Promote fully');
    await user.click(screen.getByRole('button', { name: 'Promote fully' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Promote the canary of payments-api in production fully?' });
    expect(dialog.textContent).toContain("Every remaining step of payments-api's canary in production is skipped (now at step 4 of 5, 50%)");
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls(executeMutation, 'Promote')).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Promote fully' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Promote fully' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls(executeMutation, 'Promote')).toEqual([{ input: { ...key, full: true } }]);
  });

  it('rolls back to the history entry chosen, after saying its revision', async () => {
    const user = userEvent.setup();
    const { executeMutation } = open(bob, true, { Rollback: answer('rollbackDeployment') });
    await usable('Roll back to this');
    await user.click(screen.getByRole('button', { name: 'Roll back to this' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Roll payments-api in production back?' });
    expect(dialog.textContent).toContain(`back to revision ${revA} (history entry 0)`);
    await user.click(within(dialog).getByRole('button', { name: 'Roll back' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls(executeMutation, 'Rollback')).toEqual([{ input: { ...key, historyId: 0 } }]);
  });

  it("shows Argo CD's refusal of a sync in the dialog, with its code and request ID", async () => {
    const user = userEvent.setup();
    open(bob, true, {
      Sync: () => ({
        error: new CombinedError({ graphQLErrors: [{ message: 'Argo CD "scripted" refused to sync payments-api: a sync window forbids syncing it now (request req-7)', extensions: { code: 'CONFLICT' } }] }),
      }),
    });
    await usable('Sync');
    await user.click(screen.getByRole('button', { name: 'Sync' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Sync payments-api in production?' });
    expect(dialog.textContent).toContain(`runs revision ${revA.slice(0, 10)} now`);
    await user.click(within(dialog).getByRole('button', { name: 'Sync now' }));
    const refusal = await within(dialog).findByRole('alert');
    expect(refusal.textContent).toContain('a sync window forbids syncing it now');
    expect(refusal.textContent).toContain('CONFLICT');
    expect(within(refusal).getByTestId('request-id').textContent).toBe('req-7');
    expect(screen.getByRole('alertdialog')).toBe(dialog); // still open
  });

  it('offers a viewer none of the actions', async () => {
    open(carol, false);
    await screen.findByText(/Canary Paused, step 4 of 5/);
    await screen.findByText(/No rollouts recorded yet|SUCCEEDED/);
    expect(screen.queryAllByRole('button').map((b) => b.textContent)).toEqual([]);
  });
});

describe("a component's deployments, live", () => {
  const running = { __typename: 'SyncOperation', phase: 'RUNNING', message: 'syncing', startedAt: '2026-12-03T10:00:00Z', finishedAt: null, requestedBy: 'bob' };
  const succeeded = { ...running, phase: 'SUCCEEDED', message: 'successfully synced', finishedAt: '2026-12-03T10:00:20Z' };
  const rolloutB = { ...rolloutA, id: 'Um9sbG91dDoy', revision: revA, result: 'RUNNING', message: '', startedAt: '2026-12-03T10:00:00Z', finishedAt: null, historyId: null };
  const delivery = (operation: unknown, rollouts: unknown[]) => ({
    entity: { __typename: 'Component', id: 'RW50aXR5OjE', viewerCanOperate: true, location: null,
      deployments: [{ ...deployment, operation }], rollouts: { __typename: 'RolloutConnection', totalCount: rollouts.length, nodes: rollouts } },
  });

  // The panel in front of a scripted server, its first read answered with first and its two
  // subscriptions started; rereads are the reads it sends past the cache.
  const openLive = async (first: Record<string, unknown>) => {
    const server = scriptedServer();
    renderAt(server.client, bob, '/c', '/c', <DeploymentsPanel componentRef={ref} />);
    const rereads = () => server.sent('ComponentDelivery').filter((op) => op.context.requestPolicy === 'network-only');
    await waitFor(() => expect(server.sent('ComponentDelivery').length).toBeGreaterThan(0));
    server.answer(server.sent('ComponentDelivery')[0], first);
    await waitFor(() => expect(server.sent('DeploymentChanged')).toHaveLength(1));
    await waitFor(() => expect(server.sent('RolloutChanged')).toHaveLength(1));
    return { server, rereads };
  };

  it('keeps an operation end heard while the page re-read its list, though the re-read answers the older state', async () => {
    const { server, rereads } = await openLive(delivery(running, [rolloutA]));
    await screen.findByText('RUNNING');

    // The sync's new rollout: the page reads its list again.
    server.answer(server.sent('RolloutChanged')[0], { rolloutChanged: rolloutB });
    await waitFor(() => expect(rereads()).toHaveLength(1));
    // While that re-read is in flight, the operation ends, and the page shows it.
    server.answer(server.sent('DeploymentChanged')[0], { deploymentChanged: { ...deployment, operation: succeeded } });
    await screen.findByText('SUCCEEDED');
    // The re-read answers what the server read before the end: the page asks once more...
    server.answer(rereads()[0], delivery(running, [rolloutB, rolloutA]));
    await waitFor(() => expect(rereads()).toHaveLength(2));
    // ...and that answer, read after the end was heard, is what stays on screen.
    server.answer(rereads()[1], delivery(succeeded, [{ ...rolloutB, result: 'SUCCEEDED', finishedAt: succeeded.finishedAt }, rolloutA]));
    await waitFor(() => expect(screen.getAllByText('SUCCEEDED')).toHaveLength(3)); // the operation and both rollouts
    expect(screen.queryByText('RUNNING')).toBeNull();
  });

  it('after a lost connection, shows a deployment the restarted server listed only after the page re-read', async () => {
    const { server, rereads } = await openLive(delivery(null, [rolloutA]));
    await screen.findByText(/Canary Paused, step 4 of 5/);
    const events = server.sent('DeploymentChanged')[0];
    // An event before the loss: the page keeps it as the subscription's last.
    server.answer(events, { deploymentChanged: deployment });
    const without = { entity: { ...delivery(null, [rolloutA]).entity, deployments: [] } };

    // The socket drops and comes back: the page reads its state again.
    act(() => { live.started(); live.connecting(); live.connected(); live.closed(1006); live.connected(); live.stopped(); });
    await waitFor(() => expect(rereads()).toHaveLength(1));
    // The restarted server has not heard from Argo CD yet: no deployments. The last event names
    // one the list lacks, so the page asks once more, and hears the same.
    server.answer(rereads()[0], without);
    await waitFor(() => expect(rereads()).toHaveLength(2));
    server.answer(rereads()[1], without);
    await screen.findByText(/Not deployed through Argo CD/);
    // Then the server lists the application (stale, then connected) and reads its canary, now at
    // step 2: each event names a deployment the list lacks, and the page asks again.
    const atStep2 = { ...deployment.canary, currentStep: 1, setWeight: 20, actualWeight: 20 };
    server.answer(events, { deploymentChanged: { ...deployment, stale: true, canary: null } });
    await waitFor(() => expect(rereads()).toHaveLength(3));
    server.answer(events, { deploymentChanged: { ...deployment, canary: atStep2 } });
    server.answer(rereads()[2], { entity: { ...delivery(null, [rolloutA]).entity, deployments: [{ ...deployment, canary: null }] } });
    // The event heard while that re-read was in flight is newer than its answer: one more pass.
    await waitFor(() => expect(rereads()).toHaveLength(4));
    server.answer(rereads()[3], { entity: { ...delivery(null, [rolloutA]).entity, deployments: [{ ...deployment, canary: atStep2 }] } });
    await screen.findByText(/Canary Paused, step 2 of 5/);
  });
});
