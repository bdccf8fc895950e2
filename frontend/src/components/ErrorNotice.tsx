import type { CombinedError } from 'urql';
import { problemOf, type Problem } from '../lib/errors';

/** A failed request as the server explained it, with the request ID to quote to an operator. */
export function ErrorNotice({ error, problem, title = 'Something went wrong' }: { error?: CombinedError; problem?: Problem; title?: string }) {
  const p = problem ?? (error ? problemOf(error) : undefined);
  if (!p) return null;
  return (
    <div role="alert" className="notice notice-error">
      <strong>{title}</strong>
      <p className="notice-message">{p.message}</p>
      <p className="notice-meta">
        {p.code && <span>Code <code>{p.code}</code></span>}
        {p.field && <span> · field <code>{p.field}</code></span>}
        {p.requestId && <span> · request ID <code data-testid="request-id">{p.requestId}</code></span>}
      </p>
    </div>
  );
}
