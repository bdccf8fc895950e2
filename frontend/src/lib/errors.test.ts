import { describe, expect, it } from 'vitest';
import { CombinedError } from 'urql';
import { isUnauthenticated, problemOf } from './errors';

function response(status: number, requestId?: string): Response {
  return new Response('{}', { status, headers: requestId ? { 'X-Request-ID': requestId } : {} });
}

describe('problemOf', () => {
  it('shows the server\'s message, code and the request ID from the response', () => {
    const err = new CombinedError({
      graphQLErrors: [{ message: 'spec.owner: expected an entity reference', extensions: { code: 'INVALID', field: 'target' } }],
      response: response(200, 'abc-123'),
    });
    expect(problemOf(err)).toEqual({ message: 'spec.owner: expected an entity reference', code: 'INVALID', field: 'target', requestId: 'abc-123' });
  });

  it('finds the request ID in an internal error\'s message when the header is missing', () => {
    const err = new CombinedError({ graphQLErrors: [{ message: 'internal error (request r-9)', extensions: { code: 'INTERNAL' } }] });
    expect(problemOf(err).requestId).toBe('r-9');
  });

  it('recognises a signed-out caller by status or code', () => {
    expect(isUnauthenticated(new CombinedError({ graphQLErrors: [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }] }))).toBe(true);
    expect(isUnauthenticated(new CombinedError({ networkError: new Error('x'), response: response(401) }))).toBe(true);
    expect(isUnauthenticated(new CombinedError({ graphQLErrors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] }))).toBe(false);
  });
});
