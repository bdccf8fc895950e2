import type { CombinedError } from 'urql';

/** What the portal shows of a failed request: the server's words, its code and request ID. */
export interface Problem {
  message: string;
  code?: string;
  requestId?: string;
  field?: string;
}

const requestIdInMessage = /\(request ([A-Za-z0-9._-]+)\)/;

export function problemOf(err: CombinedError): Problem {
  const requestId = err.response?.headers?.get?.('X-Request-ID') ?? undefined;
  const gql = err.graphQLErrors[0];
  if (gql) {
    const ext = (gql.extensions ?? {}) as { code?: string; field?: string };
    return {
      message: gql.message,
      code: ext.code,
      field: ext.field,
      requestId: requestId ?? gql.message.match(requestIdInMessage)?.[1],
    };
  }
  return {
    message: err.networkError ? `Portside cannot be reached: ${err.networkError.message}` : err.message,
    code: err.response?.status ? `HTTP ${err.response.status}` : undefined,
    requestId,
  };
}

export function isUnauthenticated(err: CombinedError | undefined): boolean {
  if (!err) return false;
  return err.response?.status === 401 || err.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
}
