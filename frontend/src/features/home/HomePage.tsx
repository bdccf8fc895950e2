import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Button, Form, Input, Label, SearchField } from 'react-aria-components';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { useViewer } from '../../app/viewer';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Badge, toneOf } from '../../components/Tag';
import { Empty, Loading } from '../../components/States';
import { entityPath, shortRef } from '../../lib/format';

const HomeQuery = graphql(`
  query Home($owners: [String!]!) {
    entities(filter: { owners: $owners, includeDescendantGroups: true, kinds: ["Component"] }, orderBy: { field: NAME }, first: 50) {
      totalCount
      nodes {
        __typename
        id
        ref
        name
        title
        description
        ... on Component {
          type
          lifecycle
          ownerRef
          deployments { instance appNamespace application environment syncStatus health stale }
        }
      }
    }
  }
`);

export function HomePage() {
  const me = useViewer();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const owners = [...me.groups, ...(me.user ? [me.user.ref] : [])];
  const [{ data, error, fetching }] = useQuery({ query: HomeQuery, variables: { owners }, pause: owners.length === 0 });
  const mine = data?.entities.nodes ?? [];
  const troubled = mine.flatMap((c) =>
    c.__typename === 'Component'
      ? c.deployments.filter((d) => d.health !== 'HEALTHY' || d.syncStatus !== 'SYNCED' || d.stale).map((d) => ({ c, d }))
      : [],
  );
  return (
    <>
      <h1>Welcome, {me.displayName ?? me.username}</h1>
      <Form
        className="home-search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/catalog?q=${encodeURIComponent(q)}`);
        }}
      >
        <SearchField className="search-field" value={q} onChange={setQ}>
          <Label>Search the catalog</Label>
          <Input placeholder="Services, APIs, teams…" />
          <Button aria-label="Clear search">✕</Button>
        </SearchField>
      </Form>
      {error && <ErrorNotice error={error} title="Your components could not be loaded" />}
      <div className="grid-2">
        <section className="card" aria-labelledby="attention">
          <h2 id="attention">Needs attention</h2>
          {fetching && !data ? (
            <Loading />
          ) : troubled.length === 0 ? (
            <Empty>Nothing of yours is degraded or out of sync.</Empty>
          ) : (
            <ul className="plain-list">
              {troubled.map(({ c, d }) => (
                <li key={`${c.id}/${d.instance}/${d.application}`}>
                  <Link to={entityPath(c.ref)}>{c.title ?? c.name}</Link> in {d.environment}{' '}
                  <Badge tone={toneOf(d.health)}>{d.health}</Badge> <Badge tone={toneOf(d.syncStatus)}>{d.syncStatus.replace('_', ' ')}</Badge>
                  {d.stale && <Badge tone="warn">STALE</Badge>}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="mine">
          <h2 id="mine">Your groups' components {data ? `(${data.entities.totalCount})` : ''}</h2>
          <p className="muted">
            Owned by {owners.length ? owners.map(shortRef).join(', ') : 'none of your groups'} and the groups below them.
          </p>
          {owners.length === 0 ? (
            <Empty>You are in no group the catalog knows, so you own nothing yet.</Empty>
          ) : fetching && !data ? (
            <Loading />
          ) : mine.length === 0 ? (
            <Empty>Your groups own no components.</Empty>
          ) : (
            <ul className="plain-list">
              {mine.map((c) => (
                <li key={c.id}>
                  <Link to={entityPath(c.ref)}>{c.title ?? c.name}</Link>{' '}
                  {c.__typename === 'Component' && <span className="muted">{c.type} · {c.lifecycle}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}
