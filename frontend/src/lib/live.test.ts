import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveTracker, type LiveState } from './live';
import { endless, wsEvents } from './socket';

// The socket's events as graphql-ws dispatches them: a CloseEvent-like object on close.
const close = (code: number) => ({ code, reason: '', wasClean: code === 1000 });

function track() {
  const tracker = new LiveTracker(10_000);
  const seen: LiveState[] = [];
  tracker.subscribe((s) => seen.push(s));
  return { tracker, on: wsEvents(tracker), seen };
}

describe('the live state of the subscriptions socket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is idle until a page listens, then connecting, then live', () => {
    const { on, seen } = track();
    on.connecting();
    on.connected();
    expect(seen).toEqual(['idle', 'connecting', 'live']);
  });

  it('says lost when the socket drops, stays lost through every retry, and says resumed when it is back', () => {
    const { tracker, on, seen } = track();
    on.connecting();
    on.connected();
    on.closed(close(1006)); // the server went away
    expect(tracker.state).toBe('lost');
    // graphql-ws retries: each attempt starts to connect and fails while the server is down.
    for (let i = 0; i < 3; i++) {
      on.connecting();
      expect(tracker.state).toBe('lost');
      on.closed(close(1006));
      expect(tracker.state).toBe('lost');
    }
    on.connecting();
    on.connected();
    expect(tracker.state).toBe('resumed');
    expect(seen).toEqual(['idle', 'connecting', 'live', 'lost', 'resumed']);
  });

  it('settles from resumed to live after a while, unless the socket drops again first', () => {
    const { tracker, on } = track();
    on.connecting();
    on.connected();
    on.closed(close(1006));
    on.connecting();
    on.connected();
    vi.advanceTimersByTime(9_999);
    expect(tracker.state).toBe('resumed');
    vi.advanceTimersByTime(1);
    expect(tracker.state).toBe('live');

    on.closed(close(1001));
    on.connecting();
    on.connected();
    on.closed(close(4403)); // dropped again while it said resumed
    vi.advanceTimersByTime(20_000);
    expect(tracker.state).toBe('lost'); // the earlier timer does not claim it is live
  });

  it('is idle, not lost, when the client closes the socket because no page listens (1000)', () => {
    const { tracker, on } = track();
    on.connecting();
    on.connected();
    on.closed(close(1000));
    expect(tracker.state).toBe('idle');
    on.connecting();
    on.connected();
    expect(tracker.state).toBe('live');
  });

  it('says lost when the first connection fails, and live (not resumed from a loss it never showed as live) is still reached', () => {
    const { tracker, on, seen } = track();
    on.connecting();
    on.closed(close(1006));
    expect(tracker.state).toBe('lost');
    on.connecting();
    on.connected();
    expect(seen).toEqual(['idle', 'connecting', 'lost', 'resumed']);
    vi.advanceTimersByTime(10_000);
    expect(tracker.state).toBe('live');
  });

  it('stops telling a listener once it unsubscribes', () => {
    const tracker = new LiveTracker();
    const l = vi.fn();
    const stop = tracker.subscribe(l);
    stop();
    wsEvents(tracker).connecting();
    expect(l).toHaveBeenCalledTimes(1); // only the state at subscription
  });
});

describe('endless subscriptions', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  // A stand-in for graphql-ws's subscribe: records each subscription's sink and whether it was stopped.
  function server() {
    const subs: { sink: { next(v: number): void; error(e: unknown): void; complete(): void }; stopped: boolean }[] = [];
    const subscribe = (sink: (typeof subs)[number]['sink']) => {
      const sub = { sink, stopped: false };
      subs.push(sub);
      return () => {
        sub.stopped = true;
      };
    };
    return { subs, subscribe };
  }
  const page = () => ({ next: vi.fn(), error: vi.fn(), complete: vi.fn() });

  it('says lost when the server ends the subscription (a graceful shutdown), and subscribes again', () => {
    const tracker = new LiveTracker();
    const on = wsEvents(tracker);
    const { subs, subscribe } = server();
    const sink = page();
    endless(subscribe, sink, tracker);
    on.connecting();
    on.connected();
    subs[0].sink.next(1);
    expect(sink.next).toHaveBeenCalledWith(1);

    subs[0].sink.complete(); // the server completes it while shutting down
    on.closed(close(1000)); // graphql-ws then closes the empty socket normally
    expect(tracker.state).toBe('lost');
    expect(sink.complete).not.toHaveBeenCalled(); // the page keeps listening
    vi.advanceTimersByTime(1000);
    expect(subs).toHaveLength(2); // subscribed again
    on.connecting();
    on.closed(close(1006)); // the server is still away: graphql-ws retries the socket
    expect(tracker.state).toBe('lost');
    on.connecting();
    on.connected();
    expect(tracker.state).toBe('resumed');
    subs[1].sink.next(2);
    expect(sink.next).toHaveBeenLastCalledWith(2);
  });

  it('waits longer each time the server ends it at once, and starts over after a result', () => {
    const tracker = new LiveTracker();
    const { subs, subscribe } = server();
    endless(subscribe, page(), tracker);
    subs[0].sink.complete();
    vi.advanceTimersByTime(1000);
    subs[1].sink.complete();
    vi.advanceTimersByTime(1999);
    expect(subs).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(subs).toHaveLength(3);
    subs[2].sink.next(1);
    subs[2].sink.complete();
    vi.advanceTimersByTime(1000);
    expect(subs).toHaveLength(4);
  });

  it('stops for good when the page stops it, and is then neither lost nor subscribed again', () => {
    const tracker = new LiveTracker();
    const on = wsEvents(tracker);
    const { subs, subscribe } = server();
    const stop = endless(subscribe, page(), tracker);
    on.connecting();
    on.connected();
    subs[0].sink.complete();
    expect(tracker.state).toBe('lost');
    stop(); // the person left the page while the server was away
    expect(tracker.state).toBe('idle');
    vi.advanceTimersByTime(60_000);
    expect(subs).toHaveLength(1);

    const stop2 = endless(subscribe, page(), tracker);
    stop2();
    expect(subs[1].stopped).toBe(true);
  });
});
