import { describe, expect, it } from 'vitest';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { gql, Provider } from 'urql';
import { scriptedServer } from '../test/scripted';
import { MAX_REREAD_PASSES, useReread } from './reread';

const Me = gql`
  query Me {
    me {
      username
    }
  }
`;
const me = (username: string) => ({ me: { __typename: 'Viewer', username } });

function setup() {
  const server = scriptedServer();
  const wrapper = ({ children }: { children: ReactNode }) => <Provider value={server.client}>{children}</Provider>;
  const { result } = renderHook(() => useReread(Me, {}), { wrapper });
  const sent = () => server.sent('Me');
  const settle = () => act(() => new Promise((r) => setTimeout(r, 20)));
  return { server, hook: () => result.current, sent, settle };
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
    const { server, hook, sent, settle } = setup();
    act(() => hook().reread());
    await waitFor(() => expect(sent()).toHaveLength(1));
    hook().heard(undefined, { event: 1 });
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
    const { server, hook, sent, settle } = setup();
    act(() => hook().reread());
    for (let pass = 1; pass <= MAX_REREAD_PASSES; pass++) {
      await waitFor(() => expect(sent()).toHaveLength(pass));
      hook().heard(undefined, { event: pass });
      server.answer(sent()[pass - 1], me('bob'));
    }
    await settle();
    expect(sent()).toHaveLength(MAX_REREAD_PASSES);
    // And a later re-read runs again.
    act(() => hook().reread());
    await waitFor(() => expect(sent()).toHaveLength(MAX_REREAD_PASSES + 1));
  });

  it('keeps the event the subscription heard as its data', () => {
    const { hook } = setup();
    const event = { deploymentChanged: { phase: 'SUCCEEDED' } };
    expect(hook().heard(undefined, event)).toBe(event);
  });
});
