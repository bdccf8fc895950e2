import { describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { bob, calls, fakeClient, renderAt } from '../../test/render';
import type { Viewer } from '../../app/viewer';
import { AuditPage, PAGE } from './AuditPage';

const alice: Viewer = { username: 'alice', admin: true, groups: ['portside-admins'], user: { ref: 'user:default/alice' } };

const record = (n: number, over: Record<string, unknown> = {}) => ({
  __typename: 'AuditRecord',
  id: `r${n}`,
  at: '2026-12-04T08:00:00Z',
  actor: 'bob',
  actorKind: 'session',
  client: 'web',
  action: 'catalog.location.refresh',
  resource: 'location 1',
  outcome: 'OK',
  code: null,
  message: null,
  requestId: `req-${n}`,
  ...over,
});

const page = (nodes: unknown[], totalCount = nodes.length, endCursor: string | null = null) => ({
  auditRecords: { __typename: 'AuditRecordConnection', totalCount, pageInfo: { __typename: 'PageInfo', hasNextPage: !!endCursor, endCursor }, nodes },
});

function open(path: string, answer: (v: Record<string, unknown>) => unknown, viewer: Viewer = alice) {
  const fake = fakeClient({ Audit: answer });
  const router = renderAt(fake.client, viewer, path, '/audit', <AuditPage />);
  return { ...fake, router };
}

describe('the audit log page', () => {
  it('is for admins: anyone else is told so and nothing is asked', async () => {
    const { executeQuery } = open('/audit', () => page([record(1)]), bob);
    expect((await screen.findByRole('alert')).textContent).toContain('The audit log is for admins');
    expect(calls(executeQuery, 'Audit')).toEqual([]);
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('asks for what the URL names, so a link reproduces the view', async () => {
    const { executeQuery } = open(
      '/audit?actor=bob&action=catalog.location.refresh&resource=location+1&outcome=DENIED&since=2026-12-04T08:00:00.000Z&until=2026-12-04T09:00:00.000Z',
      () => page([record(1, { outcome: 'DENIED', message: 'not an owner' })]),
    );
    const table = await screen.findByRole('table', { name: 'Audit records' });
    expect(within(table).getAllByRole('row')).toHaveLength(2);
    expect(calls(executeQuery, 'Audit')[0]).toEqual({
      filter: { actor: 'bob', action: 'catalog.location.refresh', resource: 'location 1', outcome: 'DENIED', since: '2026-12-04T08:00:00.000Z', until: '2026-12-04T09:00:00.000Z' },
      first: PAGE,
      after: null,
    });
    expect((screen.getByRole('textbox', { name: 'Actor' }) as HTMLInputElement).value).toBe('bob');
    expect((screen.getByRole('combobox', { name: 'Outcome' }) as HTMLSelectElement).value).toBe('DENIED');
    // The time range shows in the browser's zone and goes back to the same instants.
    expect(new Date((screen.getByLabelText('From') as HTMLInputElement).value).toISOString()).toBe('2026-12-04T08:00:00.000Z');
    expect(new Date((screen.getByLabelText('Until') as HTMLInputElement).value).toISOString()).toBe('2026-12-04T09:00:00.000Z');
    expect(within(table).getByText('not an owner')).toBeTruthy();
  });

  it('puts the filters in the URL and asks for them', async () => {
    const { executeQuery, router } = open('/audit', () => page([record(1)]));
    await screen.findByRole('table', { name: 'Audit records' });
    await userEvent.type(screen.getByRole('textbox', { name: 'Actor' }), 'alice');
    await userEvent.type(screen.getByRole('textbox', { name: 'Resource' }), 'slack link');
    await userEvent.type(screen.getByLabelText('From'), '2026-12-04T08:30');
    await userEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(router.state.location.search).not.toBe(''));
    const url = new URLSearchParams(router.state.location.search);
    expect(url.get('actor')).toBe('alice');
    expect(url.get('resource')).toBe('slack link');
    expect(url.get('since')).toBe(new Date('2026-12-04T08:30').toISOString());
    await waitFor(() =>
      expect(calls(executeQuery, 'Audit').at(-1)).toEqual({ filter: { actor: 'alice', resource: 'slack link', since: new Date('2026-12-04T08:30').toISOString() }, first: PAGE, after: null }),
    );
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'FAILED');
    await waitFor(() => expect(new URLSearchParams(router.state.location.search).get('outcome')).toBe('FAILED'));
    await userEvent.click(screen.getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
  });

  it('says when nothing matches, and shows a refusal with its code', async () => {
    open('/audit?actor=nobody', () => page([]));
    expect((await screen.findByText(/No record matches these filters/)).textContent).toContain('widen the time range');
    expect(screen.queryByRole('table')).toBeNull();
  });

  it("shows the server's refusal", async () => {
    open('/audit?since=yesterday', () => ({
      error: new CombinedError({ graphQLErrors: [new GraphQLError('since: expected a time', { extensions: { code: 'INVALID', requestId: 'req-9' } })] }),
    }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The audit log could not be read');
    expect(alert.textContent).toContain('since: expected a time');
    expect(alert.textContent).toContain('INVALID');
  });

  it('pages along the cursor, kept in the URL', async () => {
    const { executeQuery, router } = open('/audit?action=auth.login', (v) =>
      v.after === 'cursor-1' ? page([record(51)], 51) : page(Array.from({ length: PAGE }, (_, i) => record(i)), 51, 'cursor-1'),
    );
    await screen.findByText(`51 records, page 1 (${PAGE} a page)`);
    const pager = screen.getByRole('navigation', { name: 'Pages of audit records' });
    expect((within(pager).getByRole('button', { name: 'Previous page' }) as HTMLButtonElement).disabled).toBe(true);
    await userEvent.click(within(pager).getByRole('button', { name: 'Next page' }));
    await screen.findByText(`51 records, page 2 (${PAGE} a page)`);
    const url = new URLSearchParams(router.state.location.search);
    expect(url.getAll('c')).toEqual(['cursor-1']);
    expect(url.get('action')).toBe('auth.login');
    expect(calls(executeQuery, 'Audit').at(-1)).toEqual({ filter: { action: 'auth.login' }, first: PAGE, after: 'cursor-1' });
    expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(2);
    await userEvent.click(within(screen.getByRole('navigation', { name: 'Pages of audit records' })).getByRole('button', { name: 'Previous page' }));
    await screen.findByText(`51 records, page 1 (${PAGE} a page)`);
    expect(new URLSearchParams(router.state.location.search).getAll('c')).toEqual([]);
  });
});
