import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { Input, Label, TextField } from 'react-aria-components';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import type { TaskFieldsFragment, TaskPriority, TaskStatus, TaskTableFormat } from '../../gql/graphql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge } from '../../components/Tag';
import { problemOf, type Problem } from '../../lib/errors';
import { ago, entityPath, shortRef } from '../../lib/format';
import { label, PRIORITIES, priorityTone, RANK, STATUSES, statusTone, taskPath } from './fields';
import { useReread } from '../../lib/reread';

// The table shows a project's first this many tasks: the API allows 500 a page, but 200 rows
// already cost more than the default complexity limit (20,000) allows one query.
const PAGE = 100;

const ProjectQuery = graphql(`
  query ProjectPage($name: String!, $filter: ProjectTaskFilter, $first: Int!, $after: String) {
    project(name: $name) {
      id
      name
      title
      owner
      members
      viewerCanEdit
      createdBy
      createdAt
      tasks(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { ...TaskFields }
      }
    }
  }
`);

const MeetingsQuery = graphql(`
  query ProjectMeetings($name: String!) {
    project(name: $name) {
      id
      changesSinceLastMeeting { taskId title kind oldValue newValue }
      meetings(first: 20) {
        id
        heldAt
        notes
        createdBy
        changes { taskId title kind oldValue newValue }
      }
    }
  }
`);

const TaskChanged = graphql(`
  subscription ProjectTaskChanged($project: String) {
    taskChanged(project: $project) {
      project
      taskId
      deleted
      task { ...TaskFields }
    }
  }
`);

const ExportQuery = graphql(`
  query ExportTasks($project: String!, $format: TaskTableFormat) {
    exportTasks(project: $project, format: $format)
  }
`);

const Import = graphql(`
  mutation ImportTasks($input: ImportTasksInput!) {
    importTasks(input: $input) {
      created
      updated
      unchanged
      errors { row line column message }
      tasks { ...TaskFields }
    }
  }
`);

const CreateMeeting = graphql(`
  mutation CreateMeeting($input: CreateMeetingInput!) {
    createMeeting(input: $input) { meeting { id heldAt } }
  }
`);

type SortKey = 'board' | 'title' | 'priority' | 'assignee' | 'status';
const COLUMNS: [SortKey, string][] = [
  ['title', 'Task'],
  ['priority', 'Priority'],
  ['assignee', 'Assignee'],
  ['status', 'Status'],
];

function sortTasks(tasks: TaskFieldsFragment[], key: SortKey, desc: boolean): TaskFieldsFragment[] {
  if (key === 'board') return desc ? [...tasks].reverse() : tasks;
  const value = (t: TaskFieldsFragment): string | number =>
    key === 'priority' || key === 'status' ? RANK[t[key]] : key === 'assignee' ? (t.assignee ? shortRef(t.assignee) : '\uffff') : t.title.toLowerCase();
  const out = [...tasks].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    return va < vb ? -1 : va > vb ? 1 : 0;
  });
  return desc ? out.reverse() : out;
}

/** A project's status-meeting table: filters and order in the URL, live as tasks change. */
export function ProjectPage() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const status = params.getAll('status') as TaskStatus[];
  const priority = params.getAll('priority') as TaskPriority[];
  const assignee = params.get('assignee') ?? '';
  const sort = (params.get('sort') as SortKey) || 'board';
  const desc = params.get('dir') === 'desc';
  const [draft, setDraft] = useState(assignee);
  useEffect(() => setDraft(assignee), [assignee]);

  const filter = { status: status.length ? status : null, priority: priority.length ? priority : null, assignee: assignee || null };
  // A board of more than PAGE tasks is read a page at a time along the connection's cursor; the
  // cursors of the pages before this one are in the URL (c=…), so Previous page and a deep link work.
  const cursors = params.getAll('c');
  const variables = { name, filter, first: PAGE, after: cursors.at(-1) ?? null };
  const [{ data, error, fetching }] = useQuery({ query: ProjectQuery, variables });
  const reread = useReread(ProjectQuery, variables);
  const [live] = useSubscription({ query: TaskChanged, variables: { project: name } });
  const project = data?.project;
  // The server's rule (the one that checks every change), not a guess from the viewer's groups.
  const canEdit = !!project?.viewerCanEdit;

  // A known task updates in place in the cache; a new or deleted one changes the list: read it again.
  const ev = live.data?.taskChanged;
  const listed = !ev || !project || (!ev.deleted && project.tasks.nodes.some((t) => t.id === ev.taskId));
  useEffect(() => {
    if (!listed) reread();
  }, [listed, ev, reread]);

  const rows = useMemo(() => sortTasks(project?.tasks.nodes ?? [], sort, desc), [project, sort, desc]);

  function set(mut: (p: URLSearchParams) => void) {
    const p = new URLSearchParams(params);
    mut(p);
    setParams(p, { replace: true });
  }
  function toggle(key: 'status' | 'priority', v: string) {
    set((p) => {
      p.delete('c'); // another filter starts at the first page
      const all = p.getAll(key);
      p.delete(key);
      for (const x of all.includes(v) ? all.filter((a) => a !== v) : [...all, v]) p.append(key, x);
    });
  }
  function sortBy(k: SortKey) {
    set((p) => {
      const nextDesc = sort === k && !desc;
      if (k === 'board') p.delete('sort');
      else p.set('sort', k);
      if (nextDesc) p.set('dir', 'desc');
      else p.delete('dir');
    });
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    set((p) => {
      p.delete('c');
      if (draft.trim()) p.set('assignee', draft.trim());
      else p.delete('assignee');
    });
  }
  function turn(next: string[]) {
    set((p) => {
      p.delete('c');
      for (const c of next) p.append('c', c);
    });
  }

  if (fetching && !data) return <Loading label="Loading the project…" />;
  if (error && !project) return <ErrorNotice error={error} title="This project could not be loaded" />;
  if (!project) {
    return (
      <>
        <h1>Project {name}</h1>
        <Empty>
          There is no project <code>{name}</code>. <Link to="/projects">All projects</Link>
        </Empty>
      </>
    );
  }
  const filtered = status.length > 0 || priority.length > 0 || !!assignee;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/projects">Projects</Link> / {project.name}
      </nav>
      <div className="entity-header">
        <h1>{project.title || project.name}</h1>
        <span className="entity-kind">
          owned by <Link to={entityPath(project.owner)}>{shortRef(project.owner)}</Link>
          {project.members.length > 0 && (
            <>
              {' '}
              with {project.members.map((m, i) => (
                <span key={m}>
                  {i > 0 && ', '}
                  <Link to={entityPath(m)}>{shortRef(m)}</Link>
                </span>
              ))}
            </>
          )}
        </span>
      </div>
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      <form className="card filters-form" onSubmit={submit} aria-label="Filter tasks">
        <div className="filters">
          <fieldset className="checks">
            <legend>Status</legend>
            {STATUSES.map((s) => (
              <label key={s} className="check">
                <input type="checkbox" checked={status.includes(s)} onChange={() => toggle('status', s)} /> {label(s)}
              </label>
            ))}
          </fieldset>
          <fieldset className="checks">
            <legend>Priority</legend>
            {PRIORITIES.map((p) => (
              <label key={p} className="check">
                <input type="checkbox" checked={priority.includes(p)} onChange={() => toggle('priority', p)} /> {label(p)}
              </label>
            ))}
          </fieldset>
          <TextField className="text-field" value={draft} onChange={setDraft}>
            <Label>Assignee</Label>
            <Input placeholder="name, title or e-mail" />
          </TextField>
        </div>
        <div className="actions">
          <button type="submit" className="button button-primary">
            Filter
          </button>
          {filtered && (
            <button type="button" className="button button-quiet" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
              Clear
            </button>
          )}
        </div>
      </form>
      {error && <ErrorNotice error={error} title="The tasks could not be loaded" />}
      <p className="result-count" role="status">
        {project.tasks.totalCount} {project.tasks.totalCount === 1 ? 'task' : 'tasks'}
        {project.tasks.totalCount > PAGE ? `, page ${cursors.length + 1} (${PAGE} a page)` : ''}
      </p>
      {rows.length === 0 ? (
        <Empty>{filtered ? 'No task matches these filters.' : 'This project has no task yet. Import a status-meeting table below to start one.'}</Empty>
      ) : (
        <div className="table-scroll">
          <table className="table task-table">
            <caption className="visually-hidden">Tasks of {project.title || project.name}</caption>
            <thead>
              <tr>
                {COLUMNS.map(([k, text]) => (
                  <th key={k} scope="col" aria-sort={sort === k ? (desc ? 'descending' : 'ascending') : undefined}>
                    <button type="button" className="sort-button" onClick={() => sortBy(k)}>
                      {text}
                      <span aria-hidden="true">{sort === k ? (desc ? ' ▼' : ' ▲') : ''}</span>
                    </button>
                  </th>
                ))}
                <th scope="col">Comments / Issues</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-status={t.status}>
                  <th scope="row">
                    <Link to={taskPath(t.id)}>{t.title}</Link>
                    {t.due && <span className="muted"> · due {t.due}</span>}
                  </th>
                  <td>
                    <Badge tone={priorityTone(t.priority)}>{label(t.priority)}</Badge>
                  </td>
                  <td>{t.assignee ? <Link to={entityPath(t.assignee)}>{shortRef(t.assignee)}</Link> : <span className="muted">nobody</span>}</td>
                  <td>
                    <Badge tone={statusTone(t.status)}>{label(t.status)}</Badge>
                  </td>
                  <td>{t.comment || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(cursors.length > 0 || project.tasks.pageInfo.hasNextPage) && (
        <nav className="pager" aria-label="Pages of tasks">
          <button type="button" className="button" disabled={cursors.length === 0} onClick={() => turn(cursors.slice(0, -1))}>
            Previous page
          </button>
          <button
            type="button"
            className="button"
            disabled={!project.tasks.pageInfo.hasNextPage || !project.tasks.pageInfo.endCursor}
            onClick={() => turn([...cursors, project.tasks.pageInfo.endCursor!])}
          >
            Next page
          </button>
        </nav>
      )}
            {sort !== 'board' && (
        <p>
          <button type="button" className="link-button" onClick={() => sortBy('board')}>
            Back to board order
          </button>
        </p>
      )}
      <Meetings name={project.name} canEdit={canEdit} changed={ev} />
      <TableExchange name={project.name} canEdit={canEdit} onImported={reread} />
    </>
  );
}

const KIND_LABEL: Record<string, string> = {
  NEW: 'New',
  CLOSED: 'Closed',
  STATUS: 'Status',
  PRIORITY: 'Priority',
  ASSIGNEE: 'Assignee',
  BLOCKER: 'Blocker',
  REMOVED: 'Removed',
};

// Statuses and priorities come as enum values (IN_PROGRESS); the rest (assignees, blockers) as written.
const show = (v: string) => (!v ? '—' : /^[A-Z_]+$/.test(v) ? label(v) : v);

type Change = { taskId: string; title: string; kind: string; oldValue: string; newValue: string };

/** Changes between two snapshots of the table, one line each. */
export function ChangeList({ changes, labelledBy }: { changes: Change[]; labelledBy: string }) {
  if (changes.length === 0) return <p className="muted">Nothing changed.</p>;
  return (
    <ul className="plain-list change-list" aria-labelledby={labelledBy}>
      {changes.map((c, i) => (
        <li key={`${c.taskId}-${c.kind}-${i}`}>
          <Badge tone={c.kind === 'CLOSED' ? 'good' : c.kind === 'BLOCKER' && c.newValue ? 'bad' : 'neutral'}>{KIND_LABEL[c.kind] ?? c.kind}</Badge>{' '}
          {c.kind === 'REMOVED' ? <span>{c.title}</span> : <Link to={taskPath(c.taskId)}>{c.title}</Link>}
          {(c.oldValue || c.newValue) && c.kind !== 'NEW' && (
            <span className="muted">
              {' '}
              {show(c.oldValue)} → {show(c.newValue)}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

function Meetings({ name, canEdit, changed }: { name: string; canEdit: boolean; changed: unknown }) {
  const [{ data, error, fetching }] = useQuery({ query: MeetingsQuery, variables: { name } });
  const reread = useReread(MeetingsQuery, { name });
  // A task changed: what changed since the last meeting has too.
  useEffect(() => {
    if (changed) reread();
  }, [changed, reread]);
  const [rec, createMeeting] = useMutation(CreateMeeting);
  const [notes, setNotes] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const p = data?.project;

  async function record(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const r = await createMeeting({ input: { project: name, notes } });
    if (r.error) setProblem(problemOf(r.error as CombinedError));
    else {
      setNotes('');
      reread();
    }
  }

  return (
    <section className="card spaced" aria-labelledby="meetings">
      <h2 id="meetings">Meetings</h2>
      {fetching && !data && <Loading label="Loading meetings…" />}
      {error && <ErrorNotice error={error} title="The meetings could not be loaded" />}
      {p && (
        <>
          <h3 id="since-last">Changed since the last meeting</h3>
          <ChangeList changes={p.changesSinceLastMeeting} labelledBy="since-last" />
          {canEdit && (
            <form className="spaced" onSubmit={record} aria-label="Record a meeting">
              <div className="text-field">
                <label htmlFor="meeting-notes">Agenda notes for a meeting held now</label>
                <textarea id="meeting-notes" className="textarea" rows={2} maxLength={10000} value={notes} onChange={(e) => setNotes(e.target.value)} />
              </div>
              <button type="submit" className="button" disabled={rec.fetching}>
                {rec.fetching ? 'Recording…' : 'Record meeting'}
              </button>
              {problem && <ErrorNotice problem={problem} title="The meeting was not recorded" />}
            </form>
          )}
          <h3 id="meeting-list">Earlier meetings</h3>
          {p.meetings.length === 0 ? (
            <p className="muted">No meeting yet: every task is new until the first.</p>
          ) : (
            <ul className="plain-list" aria-labelledby="meeting-list">
              {p.meetings.map((m) => (
                <li key={m.id} className="meeting">
                  <details>
                    <summary id={`meeting-${m.id}`}>
                      {new Date(m.heldAt).toLocaleString()} <span className="muted">({ago(m.heldAt)}, recorded by {m.createdBy}, {m.changes.length} changes)</span>
                    </summary>
                    {m.notes && <p className="pre-line">{m.notes}</p>}
                    <ChangeList changes={m.changes} labelledBy={`meeting-${m.id}`} />
                  </details>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

/** Export of the table (Markdown or CSV), and for those who may change the project, import. */
function TableExchange({ name, canEdit, onImported }: { name: string; canEdit: boolean; onImported: () => void }) {
  const [format, setFormat] = useState<TaskTableFormat | null>(null);
  const [exp] = useQuery({ query: ExportQuery, variables: { project: name, format }, pause: !format, requestPolicy: 'network-only' });
  const [imp, importTasks] = useMutation(Import);
  const [text, setText] = useState('');
  const [importFormat, setImportFormat] = useState<TaskTableFormat>('MARKDOWN');
  const [problem, setProblem] = useState<Problem | null>(null);
  const result = imp.data?.importTasks;
  const exported = format && exp.data?.exportTasks;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const r = await importTasks({ input: { project: name, format: importFormat, text } });
    if (r.error) setProblem(problemOf(r.error as CombinedError));
    else if (r.data?.importTasks.errors.length === 0) onImported();
  }

  return (
    <section className="card spaced" aria-labelledby="table-exchange">
      <h2 id="table-exchange">{canEdit ? 'Import and export' : 'Export'}</h2>
      <div className="actions" role="group" aria-label="Export the table">
        <button type="button" className="button" onClick={() => setFormat('MARKDOWN')}>
          Export as Markdown
        </button>
        <button type="button" className="button" onClick={() => setFormat('CSV')}>
          Export as CSV
        </button>
      </div>
      {format && exp.fetching && <Loading label="Exporting…" />}
      {format && exp.error && <ErrorNotice error={exp.error} title="The table could not be exported" />}
      {exported != null && (
        <div className="spaced">
          <div className="text-field">
            <label htmlFor="export-text">The table as {format === 'CSV' ? 'CSV' : 'Markdown'}</label>
            <textarea id="export-text" className="textarea mono" rows={8} readOnly value={exported} />
          </div>
          <a
            className="button"
            download={`${name}.${format === 'CSV' ? 'csv' : 'md'}`}
            href={`data:${format === 'CSV' ? 'text/csv' : 'text/markdown'};charset=utf-8,${encodeURIComponent(exported)}`}
          >
            Download {format === 'CSV' ? `${name}.csv` : `${name}.md`}
          </a>
        </div>
      )}
      {canEdit && (
        <form className="spaced" onSubmit={submit} aria-label="Import a table">
          <div className="text-field">
            <label htmlFor="import-format">Format</label>
            <select id="import-format" className="select" value={importFormat} onChange={(e) => setImportFormat(e.target.value as TaskTableFormat)}>
              <option value="MARKDOWN">Markdown</option>
              <option value="CSV">CSV</option>
            </select>
          </div>
          <div className="text-field">
            <label htmlFor="import-text">Table to import (columns Task, Priority, Assignee, Status, Comments / Issues)</label>
            <textarea id="import-text" className="textarea mono" rows={6} maxLength={1 << 20} value={text} onChange={(e) => setText(e.target.value)} />
          </div>
          <p className="muted field-help">A row whose task the project has updates it; any other row adds a task. With any problem, nothing is imported.</p>
          <button type="submit" className="button button-primary" disabled={imp.fetching || !text.trim()}>
            {imp.fetching ? 'Importing…' : 'Import'}
          </button>
          {problem && <ErrorNotice problem={problem} title="The table was not imported" />}
          {result && result.errors.length > 0 && (
            <div role="alert" className="notice notice-error">
              <strong>Nothing was imported: {result.errors.length === 1 ? 'one problem' : `${result.errors.length} problems`}</strong>
              <ul className="import-errors">
                {result.errors.map((e, i) => (
                  <li key={i}>
                    Row {e.row}
                    {e.line != null ? ` (line ${e.line})` : ''}
                    {e.column ? `, column ${e.column}` : ''}: {e.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {result && result.errors.length === 0 && (
            <p role="status" className="notice">
              Imported: {result.created} created, {result.updated} updated, {result.unchanged} unchanged.
            </p>
          )}
        </form>
      )}
    </section>
  );
}
