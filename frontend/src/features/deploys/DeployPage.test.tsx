import { beforeAll, describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { bob, calls, carol, fakeClient, renderAt } from '../../test/render';
import type { Viewer } from '../../app/viewer';
import { DeployPage } from './DeployPage';
import { digest, full } from './testdata';

const alice: Viewer = { username: 'alice', admin: true, groups: [], user: { ref: 'user:default/alice' } };
// The request's global ID: base64url of "DeployRequest:12", as the server encodes it.
const ID12 = 'RGVwbG95UmVxdWVzdDoxMg';

// The confirmation dialog's code is loaded lazily; load it once up front.
beforeAll(async () => {
  await import('../../components/ConfirmDialogImpl');
});

function open(viewer: Viewer, request: unknown, mutations: Record<string, (v: Record<string, unknown>) => unknown> = {}) {
  const fake = fakeClient({ DeployRequestPage: () => ({ deployRequest: request }) }, mutations);
  renderAt(fake.client, viewer, '/deploys/12', '/deploys/:id', <DeployPage />);
  return fake;
}

const usable = (name: string) => waitFor(() => expect((screen.getByRole('button', { name }) as HTMLButtonElement).disabled).toBe(false));

describe('the deploy request page', () => {
  it('reads the request by the number in the link and shows everything about it', async () => {
    const { executeQuery } = open(carol, full(12, {}, {
      state: 'ROLLING_OUT', approver: 'alice', repo: '/tmp/manifests.git', commitSha: '0123456789abcdef0123456789abcdef01234567',
      transitions: [
        { __typename: 'DeployTransition', actor: 'bob', client: 'PORTAL', from: null, to: 'REQUESTED', note: 'fix the rounding bug', at: '2026-12-03T09:00:00Z' },
        { __typename: 'DeployTransition', actor: 'alice', client: 'SLACK', from: 'REQUESTED', to: 'APPROVED', note: 'go', at: '2026-12-03T09:05:00Z' },
        { __typename: 'DeployTransition', actor: 'portside', client: 'SYSTEM', from: 'APPLYING', to: 'ROLLING_OUT', note: 'commit 0123456789ab pushed', at: '2026-12-03T09:05:01Z' },
      ],
    }));
    await screen.findByRole('heading', { name: 'Deploy request #12: payments-api to production' });
    expect(calls(executeQuery, 'DeployRequestPage')).toEqual([{ id: ID12 }]);
    expect(screen.getByRole('status').textContent).toBe('State: rolling out');
    const about = within(screen.getByRole('region', { name: 'About this request' }));
    expect(about.getByText(digest)).toBeTruthy();
    expect(about.getByText('fix the rounding bug')).toBeTruthy();
    const built = within(screen.getByRole('region', { name: 'Built and applied' }));
    expect(built.getByRole('link', { name: 'ci run' }).getAttribute('href')).toBe('/pipelines/runs/UGlwZWxpbmVSdW46Nw');
    expect(built.getByText('0123456789ab')).toBeTruthy();
    expect(built.getByText('/tmp/manifests.git')).toBeTruthy();
    expect(built.getByText('Argo CD is rolling the commit out')).toBeTruthy();
    const rows = within(screen.getByRole('table', { name: /Every transition/ })).getAllByRole('row').slice(1);
    expect(rows.map((r) => [...r.children].slice(1).map((c) => c.textContent))).toEqual([
      ['bob', 'PORTAL', 'requested', 'fix the rounding bug'],
      ['alice', 'SLACK', 'requested → approved', 'go'],
      ['portside', 'SYSTEM', 'applying → rolling out', 'commit 0123456789ab pushed'],
    ]);
    expect(screen.queryByRole('group', { name: 'Decisions on this request' })).toBeNull();
  });

  it('links the pull request of a request applied by one, while it waits for the merge', async () => {
    const url = 'https://github.example/acme/manifests/pull/3';
    open(carol, full(12, {}, {
      state: 'APPLYING', approver: 'alice', repo: 'https://github.example/acme/manifests.git', pullRequestUrl: url,
      waiting: `waiting for the pull request to merge: ${url}`,
    }));
    await screen.findByRole('heading', { name: 'Deploy request #12: payments-api to production' });
    const built = within(screen.getByRole('region', { name: 'Built and applied' }));
    const link = built.getByRole('link', { name: url });
    expect(link.getAttribute('href')).toBe(url);
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toBe('noreferrer');
    expect(built.getByText('waiting for the pull request to merge')).toBeTruthy();
    expect(screen.getByText(`Waiting: waiting for the pull request to merge: ${url}`)).toBeTruthy();
  });

  it('shows no pull request for a request that was pushed', async () => {
    open(carol, full(12, {}, { state: 'ROLLING_OUT', approver: 'alice', repo: '/tmp/manifests.git', commitSha: '0123456789abcdef0123456789abcdef01234567' }));
    await screen.findByRole('heading', { name: 'Deploy request #12: payments-api to production' });
    expect(screen.queryByText('Pull request')).toBeNull();
  });

  it('offers the requester Cancel, never Approve or Reject (four eyes)', async () => {
    open(bob, full(12, { cancel: true }));
    await usable('Cancel request');
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reject' })).toBeNull();
  });

  it('lets another owner approve with a note, behind a confirmation', async () => {
    const user = userEvent.setup();
    const { executeMutation } = open(alice, full(12, { approve: true, reject: true, cancel: true }), {
      ApproveDeployRequest: () => ({ approveDeployRequest: { __typename: 'DeployRequestPayload', request: full(12, {}, { state: 'ROLLING_OUT', approver: 'alice' }) } }),
    });
    await usable('Approve');
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    const dialog = within(screen.getByRole('alertdialog', { name: `Approve deploying payments-api ${digest} to production?` }));
    expect(dialog.getByText(/commits the new version to the production manifest repository as bob/)).toBeTruthy();
    await user.type(dialog.getByRole('textbox', { name: 'Note (optional)' }), 'go');
    await user.click(dialog.getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls(executeMutation, 'ApproveDeployRequest')).toEqual([{ input: { id: ID12, note: 'go' } }]);
  });

  it('keeps what was typed in one decision out of another', async () => {
    const user = userEvent.setup();
    const { executeMutation } = open(alice, full(12, { approve: true, reject: true, cancel: true }), {
      ApproveDeployRequest: () => ({ approveDeployRequest: { __typename: 'DeployRequestPayload', request: full(12, {}, { state: 'ROLLING_OUT', approver: 'alice' }) } }),
    });
    await usable('Reject');
    await user.click(screen.getByRole('button', { name: 'Reject' }));
    await user.type(within(screen.getByRole('alertdialog')).getByRole('textbox', { name: 'Reason' }), 'not during the freeze');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    const dialog = within(screen.getByRole('alertdialog'));
    expect((dialog.getByRole('textbox', { name: 'Note (optional)' }) as HTMLTextAreaElement).value).toBe('');
    await user.click(dialog.getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls(executeMutation, 'ApproveDeployRequest')).toEqual([{ input: { id: ID12, note: null } }]);
  });

  it("shows the server's refusal in the dialog, with its code and request ID", async () => {
    const user = userEvent.setup();
    open(alice, full(12, { approve: true, reject: true }), {
      RejectDeployRequest: () => ({
        error: new CombinedError({ graphQLErrors: [{ message: 'deploy request 12 is APPROVED; only a REQUESTED request can be decided (request req-31)', extensions: { code: 'CONFLICT' } }] }),
      }),
    });
    await usable('Reject');
    await user.click(screen.getByRole('button', { name: 'Reject' }));
    const dialog = screen.getByRole('alertdialog');
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'not during the freeze');
    await user.click(within(dialog).getByRole('button', { name: 'Reject' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('Portside refused');
    expect(alert.textContent).toContain('only a REQUESTED request can be decided');
    expect(alert.textContent).toContain('CONFLICT');
    expect(within(alert).getByTestId('request-id').textContent).toBe('req-31');
  });

  it('says so when there is no such request', async () => {
    open(bob, null);
    expect((await screen.findByText(/There is no deploy request/)).textContent).toContain('12');
  });
});
