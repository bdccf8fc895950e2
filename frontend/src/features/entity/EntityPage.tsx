import { useParams } from 'react-router';
import { useQuery } from 'urql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { About, EntityList, Relations } from './sections';
import { DeploymentsPanel } from './DeploymentsPanel';
import { DependencyGraph } from './DependencyGraph';
import { DoraSection } from './DoraSection';
import { Definition } from './Definition';
import { EntityPageQuery, entityRef, RELATIONS } from './query';
import { shortRef } from '../../lib/format';
import { PipelinesSection } from '../pipelines';
import { RunbooksSection } from '../runbooks';
import { DeployRequestsSection } from '../deploys';

export function EntityPage() {
  const { namespace = 'default', kind = '', name = '' } = useParams();
  const ref = entityRef({ namespace, kind, name });
  const [{ data, error, fetching }] = useQuery({ query: EntityPageQuery, variables: { ref } });
  if (fetching && !data) return <Loading />;
  if (error && !data?.entity) return <ErrorNotice error={error} title="This entity could not be loaded" />;
  const e = data?.entity;
  if (!e) {
    return (
      <>
        <h1>{name}</h1>
        <Empty>
          There is no {kind} <code>{ref}</code> in the catalog. It may have been renamed or removed from its location.
        </Empty>
      </>
    );
  }
  return (
    <>
      <div className="entity-header">
        <h1>{e.title ?? e.name}</h1>
        <span className="entity-kind">
          {e.kind}
          {e.namespace !== 'default' ? ` · ${e.namespace}` : ''}
        </span>
      </div>
      {error && <ErrorNotice error={error} title="Part of this page could not be loaded" />}
      <div className="grid-2">
        <About entity={e} />
        {e.__typename === 'Component' && (
          <Relations
            groups={[
              ['Depends on', e.dependsOn],
              ['Dependents', e.dependents],
              ['APIs provided', e.providesApis],
              ['APIs consumed', e.consumesApis],
              ['Subcomponents', e.subcomponents],
            ]}
          />
        )}
        {e.__typename === 'API' && (
          <Relations
            groups={[
              ['Provided by', e.providers],
              ['Consumed by', e.consumers],
            ]}
          />
        )}
        {e.__typename === 'Resource' && (
          <Relations
            groups={[
              ['Depends on', e.dependsOn],
              ['Dependents', e.dependents],
            ]}
          />
        )}
        {e.__typename === 'System' && (
          <Relations
            groups={[
              ['Components', e.components],
              ['APIs', e.apis],
              ['Resources', e.resources],
            ]}
          />
        )}
        {e.__typename === 'Domain' && (
          <Relations
            groups={[
              ['Systems', e.systems],
              ['Subdomains', e.subdomains],
            ]}
          />
        )}
        {e.__typename === 'Group' && (
          <Relations
            groups={[
              ['Members', e.members],
              ['Child groups', e.children],
            ]}
          />
        )}
        {e.__typename === 'User' && <Relations groups={[['Member of', e.memberOf]]} />}
      </div>
      {e.__typename === 'Component' && (
        <section className="card spaced" aria-labelledby="graph">
          <h2 id="graph">Dependency graph</h2>
          <DependencyGraph
            name={e.title ?? e.name}
            groups={[
              { label: 'Depends on', kind: 'dependsOn', items: e.dependsOn, fetchLimit: RELATIONS },
              { label: 'APIs provided', kind: 'provides', items: e.providesApis, fetchLimit: RELATIONS },
              { label: 'APIs consumed', kind: 'consumes', items: e.consumesApis, fetchLimit: RELATIONS },
              { label: 'Dependents', kind: 'dependent', items: e.dependents, fetchLimit: RELATIONS },
              { label: 'System', kind: 'system', items: e.systemRef ? [{ ref: e.systemRef, name: shortRef(e.systemRef) }] : [] },
            ]}
          />
        </section>
      )}
      {e.__typename === 'Component' && <PipelinesSection componentRef={e.ref} />}
      {e.__typename === 'Component' && <DeployRequestsSection componentRef={e.ref} />}
      {e.__typename === 'Component' && <DeploymentsPanel componentRef={e.ref} />}
      {e.__typename === 'Component' && <RunbooksSection componentRef={e.ref} />}
      {e.__typename === 'API' && (
        <section className="card" aria-labelledby="definition">
          <h2 id="definition">Definition{e.type ? ` (${e.type})` : ''}</h2>
          <Definition type={e.type} definition={e.definition} />
        </section>
      )}
      {e.__typename === 'Group' && <EntityList title={`Owned (${e.owned.totalCount})`} items={e.owned.nodes} />}
      {e.__typename === 'Group' && (
        <div className="spaced">
          <DoraSection entityRef={e.ref} title="DORA of what the group owns, last 30 days" />
        </div>
      )}
      {e.__typename === 'User' && <EntityList title={`Owned (${e.userOwned.totalCount})`} items={e.userOwned.nodes} />}
    </>
  );
}
