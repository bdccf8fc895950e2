import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { Provider, type Client } from 'urql';
import { fromValue, never } from 'wonka';
import { ViewerContext, type Viewer } from '../../app/viewer';
import { LocationsPage } from './LocationsPage';

const location = (id: string, target: string, viewerCanRefresh: boolean) => ({
  __typename: 'Location', id, type: 'URL', target, ref: null, path: null, status: 'OK', message: null, entityCount: 3, errorCount: 0,
  refreshedAt: new Date().toISOString(), viewerCanRefresh, errors: [],
});

function setup(admin: boolean) {
  const data = { locations: { __typename: 'LocationConnection', totalCount: 2, nodes: [location('l1', 'https://a.example/mine.yaml', true), location('l2', 'https://b.example/theirs.yaml', admin)] } };
  const client = { executeQuery: vi.fn(() => fromValue({ data })), executeMutation: vi.fn(), executeSubscription: vi.fn(() => never) } as unknown as Client;
  const viewer: Viewer = { username: admin ? 'alice' : 'bob', admin, groups: [], user: null };
  render(
    <Provider value={client}>
      <ViewerContext value={{ viewer, ready: Promise.resolve(viewer) }}>
        <MemoryRouter>
          <LocationsPage />
        </MemoryRouter>
      </ViewerContext>
    </Provider>,
  );
}

const section = (target: string) => screen.getByRole('region', { name: `Location ${target}` });

describe('the Locations page offers what the server allows', () => {
  it('an owner: Refresh on the locations providing what they own, no register or unregister', async () => {
    setup(false);
    await screen.findByRole('region', { name: 'Location https://a.example/mine.yaml' });
    // The confirmation dialog's widgets load lazily: wait for the enabled button.
    expect(await within(section('https://a.example/mine.yaml')).findByRole('button', { name: 'Refresh' })).toBeTruthy();
    expect(within(section('https://b.example/theirs.yaml')).queryByRole('button')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Unregister' })).toBeNull();
    expect(screen.queryByRole('heading', { name: 'Register a location' })).toBeNull();
    expect(screen.getByText(/Admins register and unregister locations/)).toBeTruthy();
  });

  it('an admin: register, and refresh and unregister on every location', async () => {
    setup(true);
    expect(await screen.findByRole('heading', { name: 'Register a location' })).toBeTruthy();
    for (const t of ['https://a.example/mine.yaml', 'https://b.example/theirs.yaml']) {
      expect(await within(section(t)).findByRole('button', { name: 'Refresh' })).toBeTruthy();
      expect(within(section(t)).getByRole('button', { name: 'Unregister' })).toBeTruthy();
    }
  });
});
