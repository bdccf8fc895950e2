import { Client, makeResult, type Exchange, type Operation, type OperationResult } from 'urql';
import { makeSubject, pipe, subscribe } from 'wonka';
import { portalCache } from '../lib/client';
import { heardExchange } from '../lib/heard';
import { opName } from './render';

/**
 * A client with the portal's own normalized cache in front of a server the test scripts: it sees
 * every operation the page sends and answers each (queries, subscription events) when and with
 * what the test says, in the order the test says. For the races between live events and re-reads
 * that the fake client (render.tsx), which answers at once, cannot show.
 */
export function scriptedServer() {
  const sent: Operation[] = [];
  const results = makeSubject<OperationResult>();
  const transport: Exchange = () => (ops$) => {
    pipe(
      ops$,
      subscribe((op) => {
        if (op.kind !== 'teardown') sent.push(op);
      }),
    );
    return results.source;
  };
  const client = new Client({ url: '/graphql', exchanges: [heardExchange, portalCache(), transport], requestPolicy: 'cache-and-network' });
  return {
    client,
    /** The operations named name the page sent, in order. */
    sent: (name: string) => sent.filter((op) => opName(op.query) === name),
    /** Answers op with data; a subscription stays open for its next event. */
    answer: (op: Operation, data: Record<string, unknown>) => results.next({ ...makeResult(op, { data }), hasNext: op.kind === 'subscription' }),
  };
}
