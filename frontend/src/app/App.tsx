import { Provider } from 'urql';
import { RouterProvider } from 'react-router';
import { portalClient } from './portalClient';
import { router } from './router';

export function App() {
  return (
    <Provider value={portalClient}>
      <RouterProvider router={router} />
    </Provider>
  );
}
