import { useCallback, useEffect, useRef } from 'react';
import { eventsHeard } from './heard';
import { useLiveState } from './live';
import { useClient, type AnyVariables, type TypedDocumentNode } from 'urql';

/** How many times one re-read asks again because events kept arriving while it was in flight. */
export const MAX_REREAD_PASSES = 5;

/**
 * Re-reads a page's query from the server when a live event says the page's list changed (a new
 * rollout, run or request), or its live connection came back, without losing the events that
 * arrive meanwhile.
 *
 * Why not the query's own reexecute: a re-read's answer is the state when the server read it. An
 * event that arrives while the re-read is in flight is newer; the answer, written into the
 * normalized cache after it, takes the page back to the older state, and nothing corrects it
 * (a sync's SUCCEEDED, heard while the list re-read after the sync's new rollout, vanished under
 * the re-read's RUNNING). So reread() asks again, after its answer lands, when any live event
 * reached the client during the pass (heard.ts counts them as they arrive): the last pass starts
 * after the last event was received, so its answer is at least as new. An event of another
 * subscription costs at most a needless pass. Re-reads never overlap (two answers could land out
 * of order); one asked for during a pass runs after it. Bounded by MAX_REREAD_PASSES: events that
 * keep coming update the cache themselves.
 *
 * Events sent while the live connection was lost are gone: once it is back, every page that
 * re-reads reads its state again by itself.
 */
export function useReread<D, V extends AnyVariables>(query: TypedDocumentNode<D, V>, variables: V) {
  const client = useClient();
  const vars = useRef(variables);
  vars.current = variables;
  const state = useRef({ running: false, asked: false });

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
          const events = eventsHeard(client);
          s.asked = false;
          await client.query(query, vars.current, { requestPolicy: 'network-only' }).toPromise();
          if (eventsHeard(client) === events && !s.asked) break;
        }
      } finally {
        s.running = false;
      }
    })();
  }, [client, query]);

  const liveState = useLiveState();
  useEffect(() => {
    if (liveState === 'resumed') reread();
  }, [liveState, reread]);
  return reread;
}
