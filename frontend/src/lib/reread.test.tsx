import { describe, expect, it } from 'vitest';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { gql, Provider, useSubscription } from 'urql';
import { scriptedServer } from '../test/scripted';
import { MAX_REREAD_PASSES, useReread } from './reread';
import { live } from './live';

const Me = gql`
  query Me {
    me {
      username
    }
  }
`;
const me = (username: string) => ({ me: { __typename: 'Viewer', username } });
const Changed = gql`
  subscription RereadTestChanged {
    taskChanged(project: "p") {
      taskId
    }
  }
`;

function setup() {
  const server = scriptedServer();
  const wrapper = ({ children }: { children: ReactNode }) => <Provider value={server.client}>{children}</Provider>;
  // The page listens to a subscription beside its query, as the portal's pages do.
  const { result } = renderHook(() => {
    useSubscription({ query: Changed });
    return { reread: useReread(Me, {}) };
  }, { wrapper });
  const sent = () => server.sent('Me');
  const settle = () => act(() => new Promise((r) => setTimeout(r, 20)));
  // A live event, as the server sends it; counted when it arrives, not when the page renders it.
  const event = (n: number) => server.answer(server.sent('RereadTestChanged')[0], { taskChanged: { __typename: 'TaskEvent', taskId: String(n) } });
  return { server, hook: () => result.current, sent, settle, event };
}

describe('a re-read', () => {
  it('asks the server once, bypassing the cache, and stops when no event came meanwhile', async () => {
    const { server, hook, sent, settle } = setup();
    act(() => hook().reread());
    await waitFor(() => expect(sent()).toHaveLength(1));
    expect(sent()[0].context.requestPolicy).toBe('network-only');
    server.answer(sent()[0], me('bob'));
    await settle();
    expect(sent()).toHaveLength(1);
  });

  it('asks again after its answer when an event was heard while it was in flight', async () => {
    const { server, hook, sent, settle, event } = setup();
    act(() => hook().reread());
    await waitFor(() => expect(sent()).toHaveLength(1));
    event(1);
    server.answer(sent()[0], me('bob'));
    await waitFor(() => expect(sent()).toHaveLength(2));
    server.answer(sent()[1], me('bob'));
    await settle();
    expect(sent()).toHaveLength(2);
  });

  it('never overlaps: one asked for during a pass runs once, after it', async () => {
    const { server, hook, sent, settle } = setup();
    act(() => hook().reread());
    await waitFor(() => expect(sent()).toHaveLength(1));
    act(() => {
      hook().reread();
      hook().reread();
    });
    await settle();
    expect(sent()).toHaveLength(1);
    server.answer(sent()[0], me('bob'));
    await waitFor(() => expect(sent()).toHaveLength(2));
    server.answer(sent()[1], me('bob'));
    await settle();
    expect(sent()).toHaveLength(2);
  });

  it(`gives up after ${MAX_REREAD_PASSES} passes when events never stop`, async () => {
    const { server, hook, sent, settle, event } = setup();
    act(() => hook().reread());
    for (let pass = 1; pass <= MAX_REREAD_PASSES; pass++) {
      await waitFor(() => expect(sent()).toHaveLength(pass));
      event(pass);
      server.answer(sent()[pass - 1], me('bob'));
    }
    await settle();
    expect(sent()).toHaveLength(MAX_REREAD_PASSES);
    // And a later re-read runs again.
    act(() => hook().reread());
    await waitFor(() => expect(sent()).toHaveLength(MAX_REREAD_PASSES + 1));
  });

  it('reads again by itself when the live connection comes back after a loss', async () => {
    const { server, sent, settle } = setup();
    await settle();
    expect(sent()).toHaveLength(0);
    act(() => { live.started(); live.connecting(); live.connected(); });
    await settle();
    expect(sent()).toHaveLength(0); // connected the first time: nothing was missed
    act(() => { live.closed(1006); live.connected(); });
    await waitFor(() => expect(sent()).toHaveLength(1));
    expect(sent()[0].context.requestPolicy).toBe('network-only');
    server.answer(sent()[0], me('bob'));
    act(() => live.stopped());
  });
});
