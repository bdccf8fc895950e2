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
import { ago, entityPath, shortRef } from '../../lib/format';

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

// The newest rollouts of the components above (at most 50 of them: the home query's page).
const RecentRolloutsQuery = graphql(`
  query HomeRollouts($components: [String!]!) {
    rollouts(filter: { components: $components }, first: 10) {
      totalCount
      nodes { id instance appNamespace application environment revision result startedAt requestedBy initiatedBy }
    }
  }
`);

type Mine = { id: string; ref: string; name: string; title?: string | null; deployments?: { instance: string; appNamespace: string; application: string }[] };

/** The newest rollouts of my groups' components, each linked to its component. */
function RecentRollouts({ components }: { components: Mine[] }) {
  const refs = components.map((c) => c.ref);
  const [{ data, error, fetching }] = useQuery({ query: RecentRolloutsQuery, variables: { components: refs }, pause: refs.length === 0 });
  // A rollout names its Argo CD application; the component is the one deployed as it.
  const byApp = new Map<string, Mine>();
  for (const c of components) for (const d of c.deployments ?? []) byApp.set(`${d.instance}/${d.appNamespace}/${d.application}`, c);
  return (
    <section className="card" aria-labelledby="recent">
      <h2 id="recent">Your recent rollouts</h2>
      {error && <ErrorNotice error={error} title="Your rollouts could not be loaded" />}
      {refs.length === 0 ? (
        <Empty>Your groups own no components, so there is nothing of yours to roll out.</Empty>
      ) : fetching && !data ? (
        <Loading label="Loading your rollouts…" />
      ) : !data || data.rollouts.nodes.length === 0 ? (
        !error && <Empty>No rollout of your groups' components is recorded yet.</Empty>
      ) : (
        <ul className="plain-list">
          {data.rollouts.nodes.map((r) => {
            const c = byApp.get(`${r.instance}/${r.appNamespace}/${r.application}`);
            return (
              <li key={r.id}>
                <Badge tone={toneOf(r.result)}>{r.result}</Badge>{' '}
                {c ? <Link to={entityPath(c.ref)}>{c.title ?? c.name}</Link> : r.application} in {r.environment}{' '}
                <code>{r.revision?.slice(0, 10) ?? '—'}</code>{' '}
                <span className="muted">
                  {ago(r.startedAt)}
                  {r.requestedBy ? ` · by ${r.requestedBy}` : r.initiatedBy ? ` · by ${r.initiatedBy}` : ' · automated'}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

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
        <SearchField className="search-field" value={q} onChange={setQ} maxLength={200}>
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
        {owners.length > 0 && data && <RecentRollouts components={mine.map((c) => ({ ...c, deployments: c.__typename === 'Component' ? c.deployments : [] }))} />}
      </div>
    </>
  );
}
