import { beforeAll, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ConfirmDialog } from './ConfirmDialog';

// The dialog's code is loaded lazily; load it once up front so each test waits only for React.
beforeAll(async () => {
  await import('./ConfirmDialogImpl');
});

const ready = () =>
  waitFor(() => expect((screen.getByRole('button', { name: 'Sync' }) as HTMLButtonElement).disabled).toBe(false), { timeout: 10000 });

describe('ConfirmDialog', () => {
  it('says what will happen and runs the action only when confirmed', async () => {
    const user = userEvent.setup();
    const action = vi.fn().mockResolvedValue(null);
    render(
      <ConfirmDialog label="Sync" title="Sync payments-api in production?" confirmLabel="Sync now" onConfirm={action}>
        <p>Argo CD applies the target revision.</p>
      </ConfirmDialog>,
    );
    // The dialog's code loads lazily: the button is usable once it has.
    await ready();
    await user.click(screen.getByRole('button', { name: 'Sync' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Sync payments-api in production?' });
    expect(dialog.textContent).toContain('Argo CD applies the target revision.');
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(action).not.toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());

    await user.click(screen.getByRole('button', { name: 'Sync' }));
    await user.click(screen.getByRole('button', { name: 'Sync now' }));
    expect(action).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
  });

  it('keeps the dialog open with the server\'s refusal and its request ID', async () => {
    const user = userEvent.setup();
    const action = vi.fn().mockResolvedValue({ message: 'carol may not sync this component', code: 'FORBIDDEN', requestId: 'req-42' });
    render(
      <ConfirmDialog label="Sync" title="Sync?" confirmLabel="Sync now" onConfirm={action}>
        <p>What will happen.</p>
      </ConfirmDialog>,
    );
    await ready();
    await user.click(screen.getByRole('button', { name: 'Sync' }));
    await user.click(screen.getByRole('button', { name: 'Sync now' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('carol may not sync this component');
    expect(alert.textContent).toContain('FORBIDDEN');
    expect(screen.getByTestId('request-id').textContent).toBe('req-42');
    expect(screen.getByRole('alertdialog')).toBeTruthy();
  });
});
