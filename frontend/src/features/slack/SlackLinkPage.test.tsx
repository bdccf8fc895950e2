import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { bob, calls, fakeClient, renderAt } from '../../test/render';
import { SlackLinkPage } from './SlackLinkPage';

const link = (slackUser: string) => ({ __typename: 'SlackLink', teamId: 'T0ACME', slackUser, createdAt: '2026-12-03T09:00:00Z' });

const dave = { __typename: 'SlackLinkPreview', teamId: 'T0ACME', slackUser: 'U0DAVE', handle: 'dave', name: 'Dave Davis', email: null, expiresAt: '2026-12-03T09:10:00Z' };

function open(
  path: string,
  links: unknown[],
  mutations: Record<string, (v: Record<string, unknown>) => unknown> = {},
  preview: (v: Record<string, unknown>) => unknown = () => ({ slackLinkPreview: dave }),
) {
  const fake = fakeClient({ SlackLinks: () => ({ me: { __typename: 'Viewer', slackLinks: links } }), SlackLinkPreview: preview }, mutations);
  renderAt(fake.client, bob, path, '/slack/link', <SlackLinkPage />);
  return fake;
}

describe('the Slack link page', () => {
  it('links nothing on load: the signed-in person confirms the token of the URL', async () => {
    const { executeMutation } = open('/slack/link?token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', [], {
      LinkSlackUser: () => ({ linkSlackUser: link('U0DAVE') }),
    });
    const button = await screen.findByRole('button', { name: 'Link my Slack user' });
    expect(screen.getByText(/Only confirm a link you asked for yourself/)).toBeTruthy();
    expect(calls(executeMutation, 'LinkSlackUser')).toEqual([]);
    await userEvent.click(button);
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('U0DAVE'));
    expect(calls(executeMutation, 'LinkSlackUser')).toEqual([{ input: { token: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' } }]);
    expect(screen.queryByRole('button', { name: 'Link my Slack user' })).toBeNull();
  });

  it('says which Slack user the URL links, before anything is confirmed', async () => {
    const { executeQuery, executeMutation } = open('/slack/link?token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', []);
    const preview = await screen.findByTestId('slack-link-preview');
    expect(preview.textContent?.replace(/\s+/g, ' ')).toBe(
      'You are linking Slack user @dave (U0DAVE, Dave Davis) in workspace T0ACME to your Portside account, bob.',
    );
    expect(calls(executeQuery, 'SlackLinkPreview')).toEqual([{ token: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }]);
    expect(calls(executeMutation, 'LinkSlackUser')).toEqual([]);
    expect(screen.getByRole('button', { name: 'Link my Slack user' })).toBeTruthy();
  });

  it('names the Slack user by its IDs and address when Slack gave no handle', async () => {
    open('/slack/link?token=abcdefghijklmnopqrstuvwxyz0123456789', [], {}, () => ({
      slackLinkPreview: { ...dave, slackUser: 'U0ERIN', handle: null, name: null, email: 'erin@acme.example' },
    }));
    const preview = await screen.findByTestId('slack-link-preview');
    expect(preview.textContent?.replace(/\s+/g, ' ')).toBe(
      'You are linking Slack user U0ERIN (U0ERIN, erin@acme.example) in workspace T0ACME to your Portside account, bob.',
    );
  });

  it('says a used or expired URL cannot be used, and offers no confirmation', async () => {
    const { executeMutation } = open('/slack/link?token=usedusedusedusedused', [], {}, () => ({
      error: new CombinedError({
        graphQLErrors: [new GraphQLError('this Slack link was used already or has expired: type `/deploy link` in Slack for a new one', { extensions: { code: 'NOT_FOUND' } })],
      }),
    }));
    const said = await screen.findByTestId('slack-link-preview');
    expect(said.getAttribute('role')).toBe('alert');
    expect(said.textContent).toMatch(/used already or has expired/);
    expect(screen.queryByRole('button', { name: 'Link my Slack user' })).toBeNull();
    expect(calls(executeMutation, 'LinkSlackUser')).toEqual([]);
  });

  it("shows the server's refusal of a used or expired link", async () => {
    open('/slack/link?token=usedusedusedusedused', [], {
      LinkSlackUser: () => ({
        error: new CombinedError({
          graphQLErrors: [new GraphQLError('this Slack link was used already or has expired: type `/deploy link` in Slack for a new one', { extensions: { code: 'NOT_FOUND' } })],
        }),
      }),
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Link my Slack user' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('used already or has expired');
    expect(alert.textContent).toContain('NOT_FOUND');
  });

  it('without a usable token, says how to get one and offers no confirmation', async () => {
    const { executeQuery } = open('/slack/link?token=' + 'x'.repeat(65), []);
    await screen.findByText(/No Slack user is linked to you/);
    expect(calls(executeQuery, 'SlackLinkPreview')).toEqual([]);
    expect(screen.getByText(/in Slack: Portside answers, only to you/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Link my Slack user' })).toBeNull();
  });

  it("lists the viewer's links and unlinks one", async () => {
    const { executeMutation } = open('/slack/link', [link('U0DAVE'), link('U0BOB')], {
      UnlinkSlackUser: () => ({ unlinkSlackUser: { __typename: 'UnlinkSlackUserPayload', teamId: 'T0ACME', slackUser: 'U0DAVE' } }),
    });
    const list = await screen.findByRole('list', { name: 'Linked Slack users' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    await userEvent.click(within(list).getByRole('button', { name: 'Unlink U0DAVE' }));
    await waitFor(() => expect(calls(executeMutation, 'UnlinkSlackUser')).toEqual([{ input: { teamId: 'T0ACME', slackUser: 'U0DAVE' } }]));
  });
});
