import { pipe, tap } from 'wonka';
import type { Client, Exchange } from 'urql';

// How many live events (subscription results) each client has received, counted as they arrive.
// A re-read (reread.ts) asks again when one arrived while it was in flight. Counting in a
// useSubscription handler is too late: urql applies the handler when React renders the update,
// which can come after the re-read's answer has landed, and the newer event was then missed.
const received = new WeakMap<Client, number>();

/** The exchange that counts; first in the client's list, so it sees results as the page will. */
export const heardExchange: Exchange = ({ client, forward }) => (ops$) =>
  pipe(
    forward(ops$),
    tap((result) => {
      if (result.operation.kind === 'subscription') received.set(client, (received.get(client) ?? 0) + 1);
    }),
  );

/** How many live events client has received so far. */
export function eventsHeard(client: Client): number {
  return received.get(client) ?? 0;
}
