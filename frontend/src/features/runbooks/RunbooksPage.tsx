import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Input, Label, TextField } from 'react-aria-components';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge } from '../../components/Tag';
import { ago, entityPath, shortRef } from '../../lib/format';
import { runbookPath } from './paths';

const RunbooksQuery = graphql(`
  query Runbooks($filter: RunbookFilter, $after: String) {
    runbooks(filter: $filter, first: 50, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id title kind version linkedRefs updatedAt updatedBy }
    }
  }
`);

/** The runbooks kept in Portside, searched by the words of their title and text; the search lives in the URL. */
export function RunbooksPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const after = params.get('c');
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);
  const [{ data, error, fetching }] = useQuery({ query: RunbooksQuery, variables: { filter: q ? { text: q } : null, after } });
  const conn = data?.runbooks;

  function submit(e: FormEvent) {
    e.preventDefault();
    setParams(draft.trim() ? { q: draft.trim() } : {});
  }

  return (
    <>
      <h1>Runbooks</h1>
      <form className="card filters-form" onSubmit={submit} aria-label="Search runbooks" role="search">
        <TextField className="text-field" value={draft} onChange={setDraft} maxLength={200}>
          <Label>Words in the title or text</Label>
          <Input placeholder="e.g. payments" />
        </TextField>
        <div className="actions">
          <button type="submit" className="button button-primary">
            Search
          </button>
          {q && (
            <button type="button" className="button button-quiet" onClick={() => setParams({})}>
              Clear
            </button>
          )}
        </div>
      </form>
      {fetching && !data && <Loading label="Loading runbooks…" />}
      {error && <ErrorNotice error={error} title="Runbooks could not be loaded" />}
      {conn && (
        <>
          <p className="result-count" role="status">
            {conn.totalCount} {conn.totalCount === 1 ? 'runbook' : 'runbooks'}
          </p>
          {conn.nodes.length === 0 ? (
            <Empty>
              {q ? 'No runbook has these words in its title or text.' : 'No runbook is kept in Portside yet. Owners add them with the createRunbook mutation; catalog entries link theirs in metadata.links.'}
            </Empty>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">Runbooks, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Runbook</th>
                    <th scope="col">Kind</th>
                    <th scope="col">For</th>
                    <th scope="col">Version</th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {conn.nodes.map((r) => (
                    <tr key={r.id}>
                      <th scope="row">
                        <Link to={runbookPath(r.id)}>{r.title}</Link>
                      </th>
                      <td>
                        <Badge>{r.kind === 'LINK' ? 'Link' : 'Markdown'}</Badge>
                      </td>
                      <td>
                        {r.linkedRefs.map((ref, i) => (
                          <span key={ref}>
                            {i > 0 && ', '}
                            <Link to={entityPath(ref)}>{shortRef(ref)}</Link>
                          </span>
                        ))}
                      </td>
                      <td>{r.version}</td>
                      <td>
                        {ago(r.updatedAt)} <span className="muted">by {r.updatedBy}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            {after && (
              <button type="button" className="button" onClick={() => setParams(q ? { q } : {})}>
                First page
              </button>
            )}
            {conn.pageInfo.hasNextPage && conn.pageInfo.endCursor && (
              <button type="button" className="button" onClick={() => setParams({ ...(q ? { q } : {}), c: conn.pageInfo.endCursor! })}>
                Next page
              </button>
            )}
          </div>
        </>
      )}
    </>
  );
}
