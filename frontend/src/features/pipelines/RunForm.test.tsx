import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { RunForm, type TriggerInput } from './RunForm';
import type { Param } from './params';

const params: Param[] = [
  { name: 'environment', type: 'CHOICE', options: ['staging', 'production'], default: 'staging', required: false, description: 'Where to deploy' },
  { name: 'skipScan', type: 'BOOLEAN', options: [], default: 'false', required: false },
  { name: 'ticket', type: 'STRING', options: [], default: null, required: true, description: 'The change ticket' },
  { name: 'region', type: 'CHOICE', options: ['eu', 'us'], default: null, required: true },
  { name: 'note', type: 'STRING', options: [], default: 'nightly', required: false },
];

function setup(onSubmit = vi.fn(async (_: TriggerInput) => null as null | { message: string; field?: string; code?: string; requestId?: string })) {
  const user = userEvent.setup();
  const utils = render(<RunForm component="component:default/payments-api" pipeline="release" defaultRef="main" params={params} onSubmit={onSubmit} onCancel={() => {}} />);
  return { user, onSubmit, ...utils };
}

// Typing through user-event is slow on a busy machine: these tests get more than the default 5 s.
describe('the Run form', { timeout: 20000 }, () => {
  it('shows each parameter by its type, with defaults filled in and required ones marked', () => {
    setup();
    const env = screen.getByRole('combobox', { name: /environment/ }) as HTMLSelectElement;
    expect(env.value).toBe('staging');
    expect([...env.options].map((o) => o.value)).toEqual(['staging', 'production']);
    expect(env.getAttribute('aria-required')).toBe('false');
    const region = screen.getByRole('combobox', { name: /region/ }) as HTMLSelectElement;
    expect([...region.options].map((o) => o.value)).toEqual(['', 'eu', 'us']);
    expect(region.required).toBe(true);
    expect((screen.getByRole('checkbox', { name: 'skipScan' }) as HTMLInputElement).checked).toBe(false);
    const ticket = screen.getByRole('textbox', { name: /ticket/ }) as HTMLInputElement;
    expect(ticket.value).toBe('');
    expect(ticket.required || ticket.getAttribute('aria-required') === 'true').toBe(true);
    expect(screen.getByText('The change ticket')).toBeTruthy();
    expect((screen.getByRole('textbox', { name: /note/ }) as HTMLInputElement).value).toBe('nightly');
    expect(screen.getAllByText('(required)')).toHaveLength(2);
  });

  it('does not send a request while a required parameter is empty', async () => {
    const { user, onSubmit } = setup();
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getAllByText('Required')).toHaveLength(2);
  });

  it('sends the values by type, and the same idempotency key however often it is submitted', async () => {
    let resolveFirst: (v: null | { message: string; field: string; requestId: string; code: string }) => void = () => {};
    const onSubmit = vi
      .fn<(i: TriggerInput) => Promise<null | { message: string; field?: string; code?: string; requestId?: string }>>()
      .mockImplementationOnce(() => new Promise((r) => (resolveFirst = r)))
      .mockResolvedValue(null);
    const { user } = setup(onSubmit);
    await user.type(screen.getByRole('textbox', { name: /ticket/ }), 'CHG-42');
    await user.selectOptions(screen.getByRole('combobox', { name: /region/ }), 'eu');
    await user.selectOptions(screen.getByRole('combobox', { name: /environment/ }), 'production');
    await user.click(screen.getByRole('checkbox', { name: 'skipScan' }));

    // A double click: one request.
    const start = screen.getByRole('button', { name: 'Start run' });
    await user.dblClick(start);
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const first = onSubmit.mock.calls[0][0];
    expect(first).toMatchObject({
      component: 'component:default/payments-api',
      pipeline: 'release',
      ref: null,
      parameters: [
        { name: 'environment', value: 'production' },
        { name: 'skipScan', value: 'true' },
        { name: 'ticket', value: 'CHG-42' },
        { name: 'region', value: 'eu' },
        { name: 'note', value: 'nightly' },
      ],
    });
    expect(first.idempotencyKey).toMatch(/^web-/);

    // The server refuses: its message, field and request ID are shown, next to the field too.
    resolveFirst({ message: 'ticket must look like CHG-1234', field: 'parameters.ticket', requestId: 'req-7', code: 'INVALID' });
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(screen.getByTestId('request-id').textContent).toBe('req-7');
    expect(screen.getByText('parameters.ticket')).toBeTruthy();
    expect(screen.getAllByText('ticket must look like CHG-1234')).toHaveLength(2);

    // Submitting again from the same opening sends the same key.
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(2));
    expect(onSubmit.mock.calls[1][0].idempotencyKey).toBe(first.idempotencyKey);
  });

  it('has a new idempotency key for each opening', async () => {
    const a = setup();
    await a.user.type(screen.getByRole('textbox', { name: /ticket/ }), 'x');
    await a.user.selectOptions(screen.getByRole('combobox', { name: /region/ }), 'us');
    await a.user.click(screen.getByRole('button', { name: 'Start run' }));
    a.unmount();
    const b = setup();
    await b.user.type(screen.getByRole('textbox', { name: /ticket/ }), 'x');
    await b.user.selectOptions(screen.getByRole('combobox', { name: /region/ }), 'us');
    await b.user.click(screen.getByRole('button', { name: 'Start run' }));
    expect(a.onSubmit.mock.calls[0][0].idempotencyKey).not.toBe(b.onSubmit.mock.calls[0][0].idempotencyKey);
  });
});
