import { live, useLiveState, type LiveState, type LiveTracker } from '../lib/live';

const labels: Record<LiveState, string> = {
  idle: '',
  connecting: 'Connecting…',
  live: 'Live',
  lost: 'Live updates interrupted: reconnecting…',
  resumed: 'Live again: reconnected',
};

/** The shell's word on live updates: live, interrupted (and being reopened), live again. */
export function LiveIndicator({ tracker = live }: { tracker?: LiveTracker }) {
  const state = useLiveState(tracker);
  // One status region, present from the start, so the changes of its text are announced.
  return (
    <span className={`live-indicator live-${state}`} role="status" aria-live="polite" data-live={state}>
      {state !== 'idle' && <span className="live-dot" aria-hidden="true" />}
      {labels[state]}
    </span>
  );
}
