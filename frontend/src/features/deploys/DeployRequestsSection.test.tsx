import { beforeAll, describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, carol, fakeClient, renderAt } from '../../test/render';
import { DeployRequestsSection } from './DeployRequestsSection';
import { digest, request } from './testdata';

beforeAll(async () => {
  await import('./RequestDeployDialog');
});

const REF = 'component:default/payments-api';

function component(viewerCanOperate: boolean, environments = [{ __typename: 'DeployEnvironment', name: 'production', requiresApproval: true }, { __typename: 'DeployEnvironment', name: 'staging', requiresApproval: false }]) {
  return {
    entity: {
      __typename: 'Component', id: 'c1', viewerCanOperate, deployEnvironments: environments,
      deployRequests: { __typename: 'DeployRequestConnection', totalCount: 1, nodes: [request(12, { state: 'SUCCEEDED', approver: 'alice' })] },
    },
  };
}

function open(viewerCanOperate: boolean, requestDeploy?: (v: Record<string, unknown>) => unknown, environments?: Parameters<typeof component>[1]) {
  const fake = fakeClient({ ComponentDeployRequests: () => component(viewerCanOperate, environments) }, requestDeploy ? { RequestDeploy: requestDeploy } : {});
  const router = renderAt(fake.client, viewerCanOperate ? bob : carol, '/catalog/default/component/payments-api', '/catalog/:ns/:kind/:name', <DeployRequestsSection componentRef={REF} />);
  return { ...fake, router };
}

const usable = () => waitFor(() => expect((screen.getByRole('button', { name: 'Request deploy' }) as HTMLButtonElement).disabled).toBe(false));

describe("the component's deploy requests", () => {
  it('lists the latest requests with links, and the environments', async () => {
    open(false);
    const list = within(await screen.findByRole('list', { name: 'Latest deploy requests' }));
    expect(list.getByRole('link', { name: '#12' }).getAttribute('href')).toBe('/deploys/12');
    expect(list.getByRole('listitem').textContent).toContain('approved by alice');
    expect(screen.getByText(/Environments: production \(needs approval\), staging\./)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Request deploy' })).toBeNull();
  });

  it('offers no Request deploy where the component has no deploy targets', async () => {
    open(true, undefined, []);
    await screen.findByText(/has no deploy targets/);
    expect(screen.queryByRole('button', { name: 'Request deploy' })).toBeNull();
  });

  it('lets an owner request a deploy and goes to the request', async () => {
    const user = userEvent.setup();
    const { executeMutation, router } = open(true, () => ({ requestDeploy: { __typename: 'DeployRequestPayload', request: request(13) } }));
    await usable();
    await user.click(screen.getByRole('button', { name: 'Request deploy' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Request a deploy of payments-api' }));
    // Nothing is sent without a version.
    await user.click(dialog.getByRole('button', { name: 'Request deploy' }));
    expect(dialog.getByText('Say which version to deploy.')).toBeTruthy();
    expect(calls(executeMutation, 'RequestDeploy')).toEqual([]);
    await user.type(dialog.getByRole('textbox', { name: /Version/ }), digest);
    expect(dialog.getByText(/production needs the approval of another owner/)).toBeTruthy();
    await user.selectOptions(dialog.getByRole('combobox', { name: 'Environment' }), 'staging');
    expect(dialog.getByText(/staging needs no approval/)).toBeTruthy();
    await user.type(dialog.getByRole('textbox', { name: 'Reason' }), 'fix the rounding bug');
    await user.click(dialog.getByRole('button', { name: 'Request deploy' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/deploys/13'));
    expect(calls(executeMutation, 'RequestDeploy')).toEqual([{ input: { component: REF, environment: 'staging', version: digest, reason: 'fix the rounding bug' } }]);
  });

  it("keeps the dialog open with the server's refusal", async () => {
    const user = userEvent.setup();
    open(true, () => ({
      error: new CombinedError({ graphQLErrors: [{ message: 'version: "latest" is not an image digest, and none of the last 100 successful pipeline runs produced it (request req-5)', extensions: { code: 'INVALID', field: 'version' } }] }),
    }));
    await usable();
    await user.click(screen.getByRole('button', { name: 'Request deploy' }));
    const dialog = within(screen.getByRole('dialog'));
    await user.type(dialog.getByRole('textbox', { name: /Version/ }), 'latest');
    await user.click(dialog.getByRole('button', { name: 'Request deploy' }));
    const alert = await dialog.findByRole('alert');
    expect(alert.textContent).toContain('Portside refused the request');
    expect(alert.textContent).toContain('INVALID');
    expect(dialog.getByRole('textbox', { name: /Version/ }).getAttribute('aria-invalid')).toBe('true');
    expect(within(alert).getByTestId('request-id').textContent).toBe('req-5');
  });
});
