import { createClient as createWSClient, type Client as WSClient, type SubscribePayload } from 'graphql-ws';
import { live, type LiveTracker } from './live';

// The subscriptions' WebSocket. This module (and graphql-ws) loads with the first page that
// listens to live data (lib/client.ts imports it on demand), not with the shell.

function wsURL(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/graphql`;
}

let ws: WSClient | undefined;
function socket(): WSClient {
  // Lazy: pages without live data open no socket. The cookie authenticates the upgrade; a socket
  // closed 4401/4403 (session ended, rights changed) is reopened, and the server then decides.
  ws ??= createWSClient({
    url: wsURL(),
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** retries, 15000)));
    },
    // The shell says when live updates are interrupted and when they resume (lib/live.ts).
    on: wsEvents(live),
  });
  return ws;
}

/** Runs one of the portal's subscriptions over the shared socket until the returned function is called. */
export function subscribe<T>(request: SubscribePayload, sink: Sink<T>): () => void {
  return endless<T>((s) => socket().subscribe(request, s as Sink<never>), sink);
}

/** The graphql-ws client's `on` listeners that keep tracker in step with the socket. */
export function wsEvents(tracker: LiveTracker) {
  return {
    connecting: () => tracker.connecting(),
    connected: () => tracker.connected(),
    closed: (event: unknown) => {
      const code = typeof event === 'object' && event !== null && 'code' in event ? Number((event as { code: unknown }).code) : undefined;
      tracker.closed(code);
    },
  };
}

/** What receives a subscription's results (graphql-ws's and urql's sinks have this shape). */
export interface Sink<T> {
  next(value: T): void;
  error(err: unknown): void;
  complete(): void;
}

/**
 * Runs a subscription that never ends by itself: every Portside subscription is "every change
 * of …", so the server completes one only when it stops serving it (a graceful shutdown completes
 * them all and the socket then closes normally, which graphql-ws does not retry). That is a loss
 * like a dropped socket: tracker says so, and the subscription starts again after a pause (1 s,
 * doubling up to 15 s while the server keeps ending it at once); graphql-ws retries the socket
 * itself while the server is away. Returns the function that stops it for good.
 */
export function endless<T>(subscribe: (sink: Sink<T>) => () => void, sink: Sink<T>, tracker: LiveTracker = live): () => void {
  let stop = () => {};
  let done = false;
  let attempt = 0;
  let again: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    stop = subscribe({
      next: (v) => {
        attempt = 0;
        sink.next(v);
      },
      error: (e) => sink.error(e),
      complete: () => {
        if (done) return;
        tracker.interrupted();
        again = setTimeout(start, Math.min(1000 * 2 ** attempt++, 15_000));
      },
    });
  };
  tracker.started();
  start();
  return () => {
    if (done) return;
    done = true;
    clearTimeout(again);
    stop();
    tracker.stopped();
  };
}

