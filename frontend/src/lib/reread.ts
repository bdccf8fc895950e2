import { useCallback, useRef } from 'react';
import { useClient, type AnyVariables, type TypedDocumentNode } from 'urql';

/** How many times one re-read asks again because events kept arriving while it was in flight. */
export const MAX_REREAD_PASSES = 5;

/**
 * Re-reads a page's query from the server when a live event says the page's list changed (a new
 * rollout, run or request), without losing the events that arrive meanwhile.
 *
 * Why not the query's own reexecute: a re-read's answer is the state when the server read it. An
 * event that arrives while the re-read is in flight is newer; the answer, written into the
 * normalized cache after it, takes the page back to the older state, and nothing corrects it
 * (a sync's SUCCEEDED, heard while the list re-read after the sync's new rollout, vanished under
 * the re-read's RUNNING). So heard, the handler of every subscription the page listens to, counts its events, and reread() asks
 * again, after its answer lands, when events arrived during the pass: the last pass starts after
 * the last event was received, so its answer is at least as new. Re-reads never overlap (two
 * answers could land out of order); one asked for during a pass runs after it. Bounded by
 * MAX_REREAD_PASSES: events that keep coming update the cache themselves.
 */
export function useReread<D, V extends AnyVariables>(query: TypedDocumentNode<D, V>, variables: V) {
  const client = useClient();
  const vars = useRef(variables);
  vars.current = variables;
  const state = useRef({ events: 0, running: false, asked: false });

  // A useSubscription handler: counts the event and keeps it as the subscription's data.
  const heard = useCallback(<T,>(_prev: unknown, event: T): T => {
    state.current.events++;
    return event;
  }, []);

  const reread = useCallback(() => {
    const s = state.current;
    if (s.running) {
      s.asked = true;
      return;
    }
    s.running = true;
    void (async () => {
      try {
        for (let pass = 0; pass < MAX_REREAD_PASSES; pass++) {
          const events = s.events;
          s.asked = false;
          await client.query(query, vars.current, { requestPolicy: 'network-only' }).toPromise();
          if (s.events === events && !s.asked) break;
        }
      } finally {
        s.running = false;
      }
    })();
  }, [client, query]);

  return { heard, reread };
}
