import { useMemo } from 'react';
import { Provider } from 'urql';
import { RouterProvider } from 'react-router';
import { createClient } from '../lib/client';
import { router } from './router';

export function App() {
  const client = useMemo(() => createClient(), []);
  return (
    <Provider value={client}>
      <RouterProvider router={router} />
    </Provider>
  );
}
