import { Link } from 'react-router';
import { Empty } from '../../components/States';
import { entityPath, shortRef } from '../../lib/format';

interface Item {
  id: string;
  ref: string;
  kind: string;
  name: string;
  title?: string | null;
}

interface AboutEntity {
  ref: string;
  description?: string | null;
  tags: string[];
  links: { url: string; title?: string | null }[];
  type?: string | null;
  sysType?: string | null;
  domType?: string | null;
  lifecycle?: string;
  ownerRef?: string;
  systemRef?: string | null;
  domain?: { ref: string } | null;
  parent?: { ref: string } | null;
  profile?: { displayName?: string | null; email?: string | null } | null;
}

function RefLink({ ref_ }: { ref_: string }) {
  return <Link to={entityPath(ref_)}>{shortRef(ref_)}</Link>;
}

/** What an entity is, who owns it, and where to find out more. */
export function About({ entity: e }: { entity: AboutEntity }) {
  const type = e.type ?? e.sysType ?? e.domType;
  return (
    <section className="card" aria-labelledby="about">
      <h2 id="about">About</h2>
      <p>{e.description ?? <span className="muted">No description.</span>}</p>
      <dl className="facts">
        {e.profile?.displayName && (<><dt>Name</dt><dd>{e.profile.displayName}</dd></>)}
        {e.profile?.email && (<><dt>Email</dt><dd><a href={`mailto:${e.profile.email}`}>{e.profile.email}</a></dd></>)}
        {type && (<><dt>Type</dt><dd>{type}</dd></>)}
        {e.lifecycle && (<><dt>Lifecycle</dt><dd>{e.lifecycle}</dd></>)}
        {e.ownerRef && (<><dt>Owner</dt><dd><RefLink ref_={e.ownerRef} /></dd></>)}
        {e.systemRef && (<><dt>System</dt><dd><RefLink ref_={e.systemRef} /></dd></>)}
        {e.domain && (<><dt>Domain</dt><dd><RefLink ref_={e.domain.ref} /></dd></>)}
        {e.parent && (<><dt>Parent</dt><dd><RefLink ref_={e.parent.ref} /></dd></>)}
        <dt>Reference</dt>
        <dd><code>{e.ref}</code></dd>
        {e.tags.length > 0 && (<><dt>Tags</dt><dd>{e.tags.map((t) => <span key={t} className="tag">{t}</span>)}</dd></>)}
      </dl>
      {e.links.length > 0 && (
        <>
          <h3>Links</h3>
          <ul className="plain-list">
            {e.links.map((l) => (
              <li key={l.url}>
                <a href={l.url} rel="noreferrer noopener" target="_blank">
                  {l.title ?? l.url}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** Lists of related entities, each under its heading; empty lists say so. */
export function Relations({ groups }: { groups: [string, Item[]][] }) {
  return (
    <section className="card" aria-labelledby="relations">
      <h2 id="relations">Relations</h2>
      {groups.map(([title, items]) => (
        <div key={title}>
          <h3>{title}</h3>
          {items.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="plain-list">
              {items.map((i) => (
                <li key={i.id}>
                  <Link to={entityPath(i.ref)}>{i.title ?? i.name}</Link> <span className="muted">{i.kind}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      ))}
    </section>
  );
}

export function EntityList({ title, items }: { title: string; items: Item[] }) {
  return (
    <section className="card spaced" aria-label={title}>
      <h2>{title}</h2>
      {items.length === 0 ? (
        <Empty>Nothing yet.</Empty>
      ) : (
        <ul className="plain-list">
          {items.map((i) => (
            <li key={i.id}>
              <Link to={entityPath(i.ref)}>{i.title ?? i.name}</Link> <span className="muted">{i.kind}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
