import { loginURL } from '../lib/auth';

/** The front door for a browser that is not (or no longer) signed in. */
export function SignedOut({ expired }: { expired: boolean }) {
  return (
    <main className="signed-out" id="main">
      <div className="signed-out-card">
        <h1>Portside</h1>
        <p>{expired ? 'Your session has ended.' : 'You are not signed in.'}</p>
        <p>Sign in to find services, their owners and dependencies, and follow their deployments.</p>
        <a className="button button-primary" href={loginURL()}>
          Sign in
        </a>
      </div>
    </main>
  );
}
