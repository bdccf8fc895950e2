import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { NavLink, Outlet, useHref, useLocation, useNavigate } from 'react-router';
import { RouterProvider } from 'react-aria-components';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { isUnauthenticated } from '../lib/errors';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/States';
import { LiveIndicator } from '../components/LiveIndicator';
import { SignedOut } from './SignedOut';
import { ViewerContext, type Viewer } from './viewer';

// The menu's widgets are a large part of the component library: they load after the page.
const UserMenu = lazy(() => import('./UserMenu').then((m) => ({ default: m.UserMenu })));

export const ShellQuery = graphql(`
  query Shell {
    me {
      username
      displayName
      email
      admin
      groups
      user {
        id
        ref
      }
    }
  }
`);

export function Layout() {
  const navigate = useNavigate();
  const location = useLocation();
  const [{ data, error, fetching }] = useQuery({ query: ShellQuery, requestPolicy: 'cache-first' });
  const main = useRef<HTMLElement>(null);

  // Move focus to the page on navigation, so keyboard and screen reader users start there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [location.pathname]);

  // The page renders (and starts its own queries) while the shell asks who is signed in; pages
  // that need the viewer wait for this promise (useViewer).
  const [viewer] = useState(() => {
    let resolve!: (v: Viewer) => void;
    const ready = new Promise<Viewer>((r) => (resolve = r));
    return { ready, resolve };
  });
  const pending = fetching && !data;
  const me = data?.me;
  useEffect(() => {
    if (me) viewer.resolve(me);
  }, [me, viewer]);

  if (isUnauthenticated(error)) return <SignedOut expired={location.pathname !== '/'} />;
  return (
    <RouterProvider navigate={navigate} useHref={useHref}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <NavLink to="/" className="brand">
          <span aria-hidden="true" className="brand-mark">
            P
          </span>
          <span className="brand-name">Portside</span>
        </NavLink>
        <nav aria-label="Main" className="shell-nav">
          <NavLink to="/" end>
            Home
          </NavLink>
          <NavLink to="/catalog">Catalog</NavLink>
          <NavLink to="/pipelines">Pipelines</NavLink>
          <NavLink to="/deploys">Deploys</NavLink>
          <NavLink to="/projects">Projects</NavLink>
          <NavLink to="/runbooks">Runbooks</NavLink>
          <NavLink to="/locations">Locations</NavLink>
          {/* The audit log is for admins: others are not offered it. */}
          {me?.admin && <NavLink to="/audit">Audit</NavLink>}
          <a href="/graphiql">GraphiQL</a>
        </nav>
        <LiveIndicator />
        {me && (
          <Suspense fallback={<span className="user-button">{me.displayName ?? me.username}</span>}>
            <UserMenu username={me.username} displayName={me.displayName ?? me.username} admin={me.admin} userRef={me.user?.ref} />
          </Suspense>
        )}
      </header>
      <main className="page" id="main" ref={main} tabIndex={-1}>
        {error && !me ? <ErrorNotice error={error} title="Portside could not tell who you are" /> : null}
        {(me || pending) && (
          <ViewerContext.Provider value={{ viewer: me ?? null, ready: viewer.ready }}>
            <Suspense fallback={<Loading label="Loading Portside…" />}>
              <Outlet />
            </Suspense>
          </ViewerContext.Provider>
        )}
      </main>
    </RouterProvider>
  );
}
