import { createClient } from '../lib/client';

// The portal's one GraphQL client. A module, not state of <App>: the router's loaders (router.tsx)
// start the shell's and a page's queries through it before anything renders.
export const portalClient = createClient();
