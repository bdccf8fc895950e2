import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';
import { Badge } from '../../components/Tag';
import { runbookPath } from './paths';

const ComponentRunbooks = graphql(`
  query ComponentRunbooks($ref: String!) {
    entity(ref: $ref) {
      __typename
      id
      ... on Component {
        runbooks { id title kind version }
        runbookLinks { ...CatalogLinkFields }
        dashboards { ...CatalogLinkFields }
        grafana { dashboardSelector alertLabelSelector }
      }
    }
  }
`);

export const CatalogLinkFields = graphql(`
  fragment CatalogLinkFields on CatalogLink {
    kind
    title
    url
    template
    source
    missing
    status { state httpStatus message }
  }
`);

type CatalogLink = {
  title: string;
  url: string;
  template: string;
  source: string;
  missing: string[];
  status: { state: string; httpStatus?: number | null; message?: string | null };
};

function LinkList({ links, label }: { links: CatalogLink[]; label: string }) {
  return (
    <ul className="plain-list" aria-label={label}>
      {links.map((l) => (
        <li key={`${l.source} ${l.url}`}>
          <a href={l.url} target="_blank" rel="noreferrer">
            {l.title || l.url}
          </a>{' '}
          {l.status.state === 'DEAD' && <Badge tone="bad">{`dead link${l.status.httpStatus ? ` (${l.status.httpStatus})` : ''}`}</Badge>}
          <span className="muted"> · from {l.source}</span>
          {l.missing.length > 0 && <span className="muted"> · no value for {l.missing.join(', ')}</span>}
        </li>
      ))}
    </ul>
  );
}

/** A component's runbooks (kept in Portside and declared in its catalog entry) and its dashboards, templated for it. */
export function RunbooksSection({ componentRef }: { componentRef: string }) {
  const [{ data, error, fetching }] = useQuery({ query: ComponentRunbooks, variables: { ref: componentRef } });
  const c = data?.entity?.__typename === 'Component' ? data.entity : undefined;
  const none = c && c.runbooks.length === 0 && c.runbookLinks.length === 0;
  return (
    <section className="card spaced" aria-labelledby="runbooks">
      <div className="section-header">
        <h2 id="runbooks">Runbooks and dashboards</h2>
        <Link to="/runbooks">All runbooks</Link>
      </div>
      {fetching && !data && <Loading label="Loading runbooks…" />}
      {error && <ErrorNotice error={error} title="Runbooks and dashboards could not be loaded" />}
      {c && (
        <div className="grid-2">
          <div>
            <h3 id="runbooks-list">Runbooks</h3>
            {none && <p className="muted">No runbook yet: link one in Portside or in the entry's metadata.links (type runbook).</p>}
            {c.runbooks.length > 0 && (
              <ul className="plain-list" aria-label="Runbooks kept in Portside">
                {c.runbooks.map((r) => (
                  <li key={r.id}>
                    <Link to={runbookPath(r.id)}>{r.title}</Link>{' '}
                    <span className="muted">
                      · {r.kind === 'LINK' ? 'link' : 'Markdown'}, version {r.version}
                    </span>
                  </li>
                ))}
              </ul>
            )}
            {c.runbookLinks.length > 0 && <LinkList links={c.runbookLinks} label="Runbooks the catalog entry declares" />}
          </div>
          <div>
            <h3 id="dashboards-list">Dashboards</h3>
            {c.dashboards.length === 0 ? (
              <p className="muted">No dashboard declared (metadata.links of type dashboard, or the portside.dev/dashboards annotation).</p>
            ) : (
              <LinkList links={c.dashboards} label="Dashboards" />
            )}
            {c.grafana && (c.grafana.dashboardSelector || c.grafana.alertLabelSelector) && (
              <dl className="facts spaced">
                {c.grafana.dashboardSelector && (
                  <>
                    <dt>Grafana dashboards</dt>
                    <dd>
                      <code>{c.grafana.dashboardSelector}</code>
                    </dd>
                  </>
                )}
                {c.grafana.alertLabelSelector && (
                  <>
                    <dt>Grafana alerts</dt>
                    <dd>
                      <code>{c.grafana.alertLabelSelector}</code>
                    </dd>
                  </>
                )}
              </dl>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
