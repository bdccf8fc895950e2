import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';
import { duration } from '../../lib/format';
import { DoraChart, type WeekCount } from './DoraChart';

// The 30-day figures and eight weekly windows of the same DORA field, as aliases: the schema has
// no time series, and eight small windows are cheaper than a new one.
const DoraQuery = graphql(`
  query EntityDora($ref: String!, $b0: Time!, $b1: Time!, $b2: Time!, $b3: Time!, $b4: Time!, $b5: Time!, $b6: Time!, $b7: Time!, $b8: Time!) {
    entity(ref: $ref) {
      __typename
      id
      ... on Component {
        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }
        w0: dora(since: $b0, until: $b1) { since deployments }
        w1: dora(since: $b1, until: $b2) { since deployments }
        w2: dora(since: $b2, until: $b3) { since deployments }
        w3: dora(since: $b3, until: $b4) { since deployments }
        w4: dora(since: $b4, until: $b5) { since deployments }
        w5: dora(since: $b5, until: $b6) { since deployments }
        w6: dora(since: $b6, until: $b7) { since deployments }
        w7: dora(since: $b7, until: $b8) { since deployments }
      }
      ... on Group {
        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }
        w0: dora(since: $b0, until: $b1) { since deployments }
        w1: dora(since: $b1, until: $b2) { since deployments }
        w2: dora(since: $b2, until: $b3) { since deployments }
        w3: dora(since: $b3, until: $b4) { since deployments }
        w4: dora(since: $b4, until: $b5) { since deployments }
        w5: dora(since: $b5, until: $b6) { since deployments }
        w6: dora(since: $b6, until: $b7) { since deployments }
        w7: dora(since: $b7, until: $b8) { since deployments }
      }
    }
  }
`);

const WEEK = 7 * 24 * 3600 * 1000;

type Bounds = { b0: string; b1: string; b2: string; b3: string; b4: string; b5: string; b6: string; b7: string; b8: string };

/** The nine boundaries of the last eight weeks up to now (to the minute, so a re-render asks the same). */
export function weekBoundaries(now: number): Bounds {
  const end = Math.floor(now / 60000) * 60000;
  return Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`b${i}`, new Date(end - (8 - i) * WEEK).toISOString()])) as Bounds;
}

/** A component's or group's DORA figures over the last 30 days and its deployments per week. */
export function DoraSection({ entityRef, title = 'DORA, last 30 days' }: { entityRef: string; title?: string }) {
  const [bounds] = useState(() => weekBoundaries(Date.now()));
  const [{ data, error, fetching }] = useQuery({
    query: DoraQuery,
    variables: { ref: entityRef, ...bounds },
  });
  const e = data?.entity?.__typename === 'Component' || data?.entity?.__typename === 'Group' ? data.entity : undefined;
  const weeks: WeekCount[] = e ? [e.w0, e.w1, e.w2, e.w3, e.w4, e.w5, e.w6, e.w7].map((w) => ({ since: w.since, deployments: w.deployments })) : [];
  return (
    <section className="card" aria-labelledby="dora">
      <h2 id="dora">{title}</h2>
      {fetching && !data && <Loading label="Loading DORA figures…" />}
      {error && <ErrorNotice error={error} title="DORA figures could not be loaded" />}
      {e && (
        <>
          <div className="dora">
            <div><strong>{e.dora.deploymentsPerDay.toFixed(2)}</strong>deploys per day ({e.dora.deployments})</div>
            <div><strong>{duration(e.dora.leadTimeSeconds)}</strong>lead time</div>
            <div><strong>{e.dora.changeFailureRate == null ? '—' : `${Math.round(e.dora.changeFailureRate * 100)} %`}</strong>change failure rate</div>
            <div><strong>{duration(e.dora.timeToRestoreSeconds)}</strong>time to restore</div>
          </div>
          <h3>Deployments per week</h3>
          <DoraChart weeks={weeks} />
        </>
      )}
    </section>
  );
}
