import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import { useViewer } from '../../app/viewer';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge, toneOf } from '../../components/Tag';
import { problemOf, type Problem } from '../../lib/errors';
import { ago, entityPath, shortRef } from '../../lib/format';
import { DiffView } from './DiffView';

const RunbookQuery = graphql(`
  query RunbookPage($id: ID!) {
    runbook(id: $id) {
      id
      title
      kind
      url
      markdown
      html
      version
      versions(first: 100) { version title author message createdAt }
      linkedRefs
      linkedEntities {
        __typename
        id
        ref
        title
        name
        ... on Component { viewerCanOperate }
      }
      linkStatus { state httpStatus message checkedAt }
      createdBy
      createdAt
      updatedBy
      updatedAt
    }
  }
`);

const DiffQuery = graphql(`
  query RunbookDiff($id: ID!, $from: Int!, $to: Int!) {
    runbook(id: $id) { id diff(from: $from, to: $to) }
  }
`);

const Update = graphql(`
  mutation UpdateRunbook($input: UpdateRunbookInput!) {
    updateRunbook(input: $input) { runbook { id title markdown html url version updatedAt updatedBy } }
  }
`);

/** One runbook, deep-linkable: its text rendered, its versions, a diff between two, and an editor for its owners. */
export function RunbookPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const viewer = useViewer();
  const [{ data, error, fetching }, reexecute] = useQuery({ query: RunbookQuery, variables: { id } });
  const [editing, setEditing] = useState(false);
  const rb = data?.runbook;

  if (fetching && !data) return <Loading label="Loading the runbook…" />;
  if (error && !rb) return <ErrorNotice error={error} title="This runbook could not be loaded" />;
  if (!rb) {
    return (
      <>
        <h1>Runbook</h1>
        <Empty>
          There is no runbook <code>{id}</code>. <Link to="/runbooks">All runbooks</Link>
        </Empty>
      </>
    );
  }
  // The owners of what a runbook is for edit it (and admins). The API has no viewerCanEdit: owning
  // a linked component (viewerCanOperate) is what the portal can see; the server decides anyway.
  const canEdit = viewer.admin || rb.linkedEntities.some((e) => e.__typename === 'Component' && e.viewerCanOperate);
  const latest = rb.version;
  const from = Number(params.get('from') ?? (latest > 1 ? latest - 1 : 0));
  const to = Number(params.get('to') ?? latest);
  const diffing = params.has('from') || params.has('to');

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/runbooks">Runbooks</Link> / {rb.title}
      </nav>
      <div className="entity-header">
        <h1>{rb.title}</h1>
        <span className="entity-kind">
          {rb.kind === 'LINK' ? 'link' : 'Markdown'} runbook, version {rb.version}
        </span>
      </div>
      <p className="muted">
        For{' '}
        {rb.linkedRefs.length === 0
          ? 'nothing yet'
          : rb.linkedRefs.map((ref, i) => (
              <span key={ref}>
                {i > 0 && ', '}
                <Link to={entityPath(ref)}>{shortRef(ref)}</Link>
              </span>
            ))}
        . Changed {ago(rb.updatedAt)} by {rb.updatedBy}.
      </p>
      {canEdit && !editing && (
        <div className="actions" role="group" aria-label="Actions on this runbook">
          <button type="button" className="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        </div>
      )}
      {editing && (
        <EditRunbook
          runbook={rb}
          onDone={(saved) => {
            setEditing(false);
            if (saved) reexecute({ requestPolicy: 'network-only' });
          }}
        />
      )}
      {rb.kind === 'LINK' ? (
        <section className="card spaced" aria-labelledby="runbook-doc">
          <h2 id="runbook-doc">Document</h2>
          <p>
            <a href={rb.url ?? undefined} target="_blank" rel="noreferrer">
              {rb.url}
            </a>{' '}
            {rb.linkStatus && <Badge tone={toneOf(rb.linkStatus.state === 'DEAD' ? 'FAILED' : rb.linkStatus.state)}>{rb.linkStatus.state.toLowerCase()}</Badge>}
          </p>
          {rb.linkStatus?.message && <p className="muted">{rb.linkStatus.message}</p>}
        </section>
      ) : (
        <section className="card spaced" aria-labelledby="runbook-text">
          <h2 id="runbook-text" className="visually-hidden">
            Text
          </h2>
          {/* Safe to insert: the server renders the Markdown with goldmark (raw HTML left out) and
              sanitizes the result with bluemonday (no script, event handlers, javascript: URLs,
              frames, forms or styles; runbooks/render.go), and the portal's CSP runs no inline
              script even if something slipped through. */}
          <div className="runbook-html" dangerouslySetInnerHTML={{ __html: rb.html ?? '' }} />
        </section>
      )}
      <section className="card spaced" aria-labelledby="runbook-versions">
        <h2 id="runbook-versions">Versions</h2>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Versions of this runbook, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">What changed</th>
                <th scope="col">Who</th>
                <th scope="col">When</th>
                <th scope="col">Diff</th>
              </tr>
            </thead>
            <tbody>
              {rb.versions.map((v) => (
                <tr key={v.version}>
                  <th scope="row">{v.version}</th>
                  <td>{v.message || <span className="muted">—</span>}</td>
                  <td>{v.author}</td>
                  <td>{ago(v.createdAt)}</td>
                  <td>
                    {v.version > 1 ? (
                      <Link to={`?from=${v.version - 1}&to=${v.version}`} aria-label={`Diff of version ${v.version} against ${v.version - 1}`}>
                        against {v.version - 1}
                      </Link>
                    ) : (
                      <span className="muted">first</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {latest > 1 && (
          <form
            className="diff-form spaced"
            aria-label="Compare versions"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              setParams({ from: String(f.get('from')), to: String(f.get('to')) });
            }}
          >
            <div className="text-field">
              <label htmlFor="diff-from">From version</label>
              <select id="diff-from" name="from" className="select" defaultValue={from} key={`f${from}`}>
                {rb.versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    {v.version}
                  </option>
                ))}
              </select>
            </div>
            <div className="text-field">
              <label htmlFor="diff-to">To version</label>
              <select id="diff-to" name="to" className="select" defaultValue={to} key={`t${to}`}>
                {rb.versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    {v.version}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" className="button">
              Compare
            </button>
          </form>
        )}
        {diffing && <Diff id={rb.id} from={from} to={to} />}
      </section>
    </>
  );
}

function Diff({ id, from, to }: { id: string; from: number; to: number }) {
  const [{ data, error, fetching }] = useQuery({ query: DiffQuery, variables: { id, from, to } });
  return (
    <div className="spaced" aria-labelledby="runbook-diff">
      <h3 id="runbook-diff">
        Version {from} → {to}
      </h3>
      {fetching && !data && <Loading label="Comparing…" />}
      {error && <ErrorNotice error={error} title="The versions could not be compared" />}
      {data?.runbook && (data.runbook.diff ? <DiffView diff={data.runbook.diff} /> : <p className="muted">The two versions are the same.</p>)}
    </div>
  );
}

function EditRunbook({
  runbook,
  onDone,
}: {
  runbook: { id: string; title: string; kind: string; markdown?: string | null; url?: string | null; version: number };
  onDone: (saved: boolean) => void;
}) {
  const [title, setTitle] = useState(runbook.title);
  const [text, setText] = useState(runbook.kind === 'LINK' ? (runbook.url ?? '') : (runbook.markdown ?? ''));
  const [message, setMessage] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [res, update] = useMutation(Update);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const r = await update({
      input: {
        id: runbook.id,
        baseVersion: runbook.version,
        title: title !== runbook.title ? title : null,
        ...(runbook.kind === 'LINK' ? { url: text } : { markdown: text }),
        message,
      },
    });
    if (r.error) setProblem(problemOf(r.error as CombinedError));
    else onDone(true);
  }

  return (
    <form className="card spaced" onSubmit={submit} aria-labelledby="runbook-edit">
      <h2 id="runbook-edit">Edit: a new version {runbook.version + 1}</h2>
      <div className="text-field">
        <label htmlFor="runbook-title">Title</label>
        <input id="runbook-title" className="input" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="text-field">
        <label htmlFor="runbook-body">{runbook.kind === 'LINK' ? 'Document URL' : 'Markdown'}</label>
        {runbook.kind === 'LINK' ? (
          <input id="runbook-body" className="input" type="url" value={text} maxLength={2048} onChange={(e) => setText(e.target.value)} />
        ) : (
          <textarea id="runbook-body" className="textarea mono" rows={16} maxLength={256 * 1024} value={text} onChange={(e) => setText(e.target.value)} />
        )}
      </div>
      <div className="text-field">
        <label htmlFor="runbook-message">What this version changes</label>
        <input id="runbook-message" className="input" value={message} maxLength={1000} onChange={(e) => setMessage(e.target.value)} />
      </div>
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={res.fetching}>
          {res.fetching ? 'Saving…' : 'Save new version'}
        </button>
        <button type="button" className="button button-quiet" onClick={() => onDone(false)} disabled={res.fetching}>
          Cancel
        </button>
      </div>
      {problem && <ErrorNotice problem={problem} title={problem.code === 'CONFLICT' ? 'Someone saved a newer version meanwhile' : 'The edit was refused'} />}
    </form>
  );
}
