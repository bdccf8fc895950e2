import { describe, expect, it } from 'vitest';
import { act, render, screen } from '@testing-library/react';
import { LiveIndicator } from './LiveIndicator';
import { LiveTracker } from '../lib/live';
import { wsEvents } from '../lib/socket';

describe('LiveIndicator', () => {
  it('says in a status region that live updates are interrupted, then that they are back', () => {
    const tracker = new LiveTracker();
    const on = wsEvents(tracker);
    render(<LiveIndicator tracker={tracker} />);
    const status = screen.getByRole('status');
    expect(status.textContent).toBe('');
    act(() => {
      on.connecting();
      on.connected();
    });
    expect(status.textContent).toBe('Live');

    act(() => on.closed({ code: 1006, reason: '' }));
    expect(screen.getByRole('status').textContent).toBe('Live updates interrupted: reconnecting…');

    act(() => {
      on.connecting();
      on.connected();
    });
    expect(screen.getByRole('status').textContent).toBe('Live again: reconnected');
  });
});
