import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Badge, toneOf } from '../../components/Tag';
import { Empty, Loading } from '../../components/States';
import { ago } from '../../lib/format';

const LocationsQuery = graphql(`
  query Locations {
    locations(first: 100) {
      totalCount
      nodes {
        id
        type
        target
        ref
        path
        status
        message
        entityCount
        errorCount
        refreshedAt
        errors(first: 20) { source document line field message }
      }
    }
  }
`);

/** Registered catalog locations, their status and the errors of their last refresh, file by file. */
export function LocationsPage() {
  const [{ data, error, fetching }] = useQuery({ query: LocationsQuery });
  return (
    <>
      <h1>Locations</h1>
      {fetching && !data && <Loading />}
      {error && <ErrorNotice error={error} title="Locations could not be loaded" />}
      {data && data.locations.nodes.length === 0 && <Empty>No location is registered.</Empty>}
      {data?.locations.nodes.map((l) => (
        <section key={l.id} className="card spaced" aria-label={`Location ${l.target}`}>
          <h2>
            {l.type.toLowerCase()} <code>{l.target}</code>
          </h2>
          <p>
            <Badge tone={toneOf(l.status)}>{l.status}</Badge> {l.entityCount} entities, refreshed {ago(l.refreshedAt)}
            {l.message && <span> · {l.message}</span>}
          </p>
          {l.errorCount > 0 && (
            <>
              <h3>Errors ({l.errorCount})</h3>
              <ul className="plain-list">
                {l.errors.map((e, i) => (
                  <li key={i}>
                    <code>
                      {e.source}
                      {e.document != null ? `, document ${e.document}` : ''}
                      {e.line != null ? `, line ${e.line}` : ''}
                    </code>
                    {e.field && <> · <code>{e.field}</code></>}: {e.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      ))}
    </>
  );
}
