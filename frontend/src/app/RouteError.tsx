import { isRouteErrorResponse, useRouteError } from 'react-router';

/** A page that failed to load or render (a chunk from an older build, a bug): say so plainly. */
export function RouteError() {
  const err = useRouteError();
  const message = isRouteErrorResponse(err) ? `${err.status} ${err.statusText}` : err instanceof Error ? err.message : String(err);
  return (
    <main className="page" id="main">
      <div role="alert" className="notice notice-error">
        <strong>This page could not be shown</strong>
        <p className="notice-message">{message}</p>
        <p>
          <a href={window.location.pathname}>Reload the page</a> (a new version of Portside may have been deployed).
        </p>
      </div>
    </main>
  );
}
