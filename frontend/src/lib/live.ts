import { useSyncExternalStore } from 'react';

/**
 * What the portal says about its live updates (the subscriptions' WebSocket): idle (no page
 * listens), connecting (the first time), live, lost (the socket dropped and is being reopened:
 * what is on screen may be out of date) and resumed (open again after a loss, for a while, so a
 * person who saw "interrupted" also sees that it came back; then live).
 */
export type LiveState = 'idle' | 'connecting' | 'live' | 'lost' | 'resumed';

type Listener = (s: LiveState) => void;

/** How long "resumed" shows before it settles to "live". */
export const RESUMED_FOR_MS = 10_000;

/** The live state, moved by the socket's events (see wsEvents) and read by the shell and pages. */
export class LiveTracker {
  #state: LiveState = 'idle';
  #running = 0;
  #listeners = new Set<Listener>();
  #calm: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly resumedFor = RESUMED_FOR_MS) {}

  get state(): LiveState {
    return this.#state;
  }

  /** Calls l with every new state (and the current one now); returns the unsubscribe. */
  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    l(this.#state);
    return () => {
      this.#listeners.delete(l);
    };
  }

  #set(s: LiveState) {
    clearTimeout(this.#calm);
    this.#calm = undefined;
    if (s === this.#state) return;
    this.#state = s;
    this.#listeners.forEach((l) => l(s));
  }

  /** The socket starts to open. Retrying after a loss, it is still lost until it is open. */
  connecting() {
    if (this.#state === 'idle') this.#set('connecting');
    else if (this.#state === 'live' || this.#state === 'resumed') this.#set('lost');
  }

  /** The server acknowledged the connection: subscriptions run (again). */
  connected() {
    if (this.#state !== 'lost') {
      this.#set('live');
      return;
    }
    this.#set('resumed');
    this.#calm = setTimeout(() => this.#set('live'), this.resumedFor);
  }

  /**
   * The socket closed. 1000 is the client closing it because no subscription runs on it any more
   * (the lazy close): nothing is lost, unless the server ended them (see interrupted). Any other
   * close (the server gone, the network cut, 4401/4403 after a session ended) is a loss the client
   * retries.
   */
  closed(code: number | undefined) {
    if (code === 1000) {
      if (this.#state !== 'lost') this.#set('idle');
    } else if (this.#state !== 'idle') this.#set('lost');
  }

  /** The server ended a subscription that only ends when the server stops serving it. */
  interrupted() {
    this.#set('lost');
  }

  /** A page started a subscription. */
  started() {
    this.#running++;
  }

  /** A page stopped a subscription: with none left, nothing is live and nothing is lost. */
  stopped() {
    if (--this.#running === 0 && this.#state === 'lost') this.#set('idle');
  }
}

/** The portal's one tracker, fed by the GraphQL client (lib/client.ts). */
export const live = new LiveTracker();

/** The live state, re-rendering on change. */
export function useLiveState(tracker: LiveTracker = live): LiveState {
  return useSyncExternalStore(
    (notify) => tracker.subscribe(() => notify()),
    () => tracker.state,
  );
}
