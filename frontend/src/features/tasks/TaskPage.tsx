import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import type { TaskPriority, TaskStatus } from '../../gql/graphql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { Badge } from '../../components/Tag';
import { problemOf, type Problem } from '../../lib/errors';
import { ago, entityPath, shortRef } from '../../lib/format';
import { label, linkTarget, PRIORITIES, priorityTone, projectPath, STATUSES, statusTone } from './fields';
import { useReread } from '../../lib/reread';

const TaskQuery = graphql(`
  query TaskPage($id: ID!, $first: Int!) {
    task(id: $id) {
      ...TaskFields
      viewerCanEdit
      createdBy
      createdAt
      comments(first: $first) { id author body createdAt }
      history(first: $first) { actor at field oldValue newValue }
    }
  }
`);

// The thread and the history show this many each (the API gives up to 1000, at a cost the
// complexity limit counts per item).
const LIST = 300;

const TaskProject = graphql(`
  query TaskProject($name: String!) {
    project(name: $name) { id name title owner members }
  }
`);

const TaskChanged = graphql(`
  subscription TaskPageChanged($project: String) {
    taskChanged(project: $project) { project taskId deleted task { ...TaskFields } }
  }
`);

const Update = graphql(`
  mutation UpdateTask($input: UpdateTaskInput!) {
    updateTask(input: $input) { task { ...TaskFields } }
  }
`);

const AddComment = graphql(`
  mutation AddTaskComment($input: AddTaskCommentInput!) {
    addTaskComment(input: $input) { comment { id author body createdAt } task { id } }
  }
`);

/** One task, deep-linkable: its fields, links, comment thread and every change (who, when, old → new). */
export function TaskPage() {
  const { id = '' } = useParams();
  const [{ data, error, fetching }] = useQuery({ query: TaskQuery, variables: { id, first: LIST } });
  const reread = useReread(TaskQuery, { id, first: LIST });
  const task = data?.task;
  const [proj] = useQuery({ query: TaskProject, variables: { name: task?.project ?? '' }, pause: !task });
  const project = proj.data?.project;
  // The server's rule (the one that checks every change), not a guess from the viewer's groups.
  const canEdit = !!task?.viewerCanEdit;
  const [live] = useSubscription({ query: TaskChanged, variables: { project: task?.project ?? null }, pause: !task });
  // Someone else's change: the thread and history grow, so read them again.
  const ev = live.data?.taskChanged;
  useEffect(() => {
    if (ev && ev.taskId === id) reread();
  }, [ev, id, reread]);

  if (fetching && !data) return <Loading label="Loading the task…" />;
  if (error && !task) return <ErrorNotice error={error} title="This task could not be loaded" />;
  if (!task) {
    return (
      <>
        <h1>Task</h1>
        <Empty>
          There is no task <code>{id}</code>. <Link to="/projects">All projects</Link>
        </Empty>
      </>
    );
  }
  const deleted = ev?.taskId === id && ev.deleted;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/projects">Projects</Link> / <Link to={projectPath(task.project)}>{project?.title || task.project}</Link> / task
      </nav>
      <div className="entity-header">
        <h1>{task.title}</h1>
        <span role="status" aria-live="polite" aria-atomic="true" className="run-status">
          <span className="visually-hidden">Status: </span>
          <Badge tone={statusTone(task.status)}>{label(task.status)}</Badge>
        </span>
      </div>
      {deleted && <p className="notice notice-error">This task has just been deleted.</p>}
      {live.error && <ErrorNotice error={live.error} title="Live updates stopped" />}
      <div className="grid-2 spaced">
        <section className="card" aria-labelledby="task-about">
          <h2 id="task-about">About this task</h2>
          <dl className="facts">
            <dt>Priority</dt>
            <dd>
              <Badge tone={priorityTone(task.priority)}>{label(task.priority)}</Badge>
            </dd>
            <dt>Assignee</dt>
            <dd>{task.assignee ? <Link to={entityPath(task.assignee)}>{shortRef(task.assignee)}</Link> : <span className="muted">nobody</span>}</dd>
            <dt>Comments / Issues</dt>
            <dd>{task.comment || <span className="muted">—</span>}</dd>
            <dt>Due</dt>
            <dd>{task.due ?? <span className="muted">—</span>}</dd>
            <dt>Labels</dt>
            <dd>{task.labels.length ? task.labels.map((l) => <span key={l} className="tag">{l}</span>) : <span className="muted">—</span>}</dd>
            <dt>Created</dt>
            <dd>
              {ago(task.createdAt)} by {task.createdBy}
            </dd>
            <dt>Last changed</dt>
            <dd>
              {ago(task.updatedAt)} by {task.updatedBy}
            </dd>
          </dl>
          <h3 id="task-links">Links</h3>
          {task.links.length === 0 ? (
            <p className="muted">Not linked to anything.</p>
          ) : (
            <ul className="plain-list" aria-labelledby="task-links">
              {task.links.map((l) => {
                const t = linkTarget(l.kind, l.target);
                return (
                  <li key={`${l.kind} ${l.target}`}>
                    {t.to == null ? (
                      t.text
                    ) : t.external ? (
                      <a href={t.to} target="_blank" rel="noreferrer">
                        {t.text}
                      </a>
                    ) : (
                      <Link to={t.to}>{t.text}</Link>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </section>
        {canEdit && !deleted ? (
          <EditTask key={task.version} task={task} onSaved={reread} />
        ) : (
          <section className="card" aria-labelledby="task-who">
            <h2 id="task-who">Changing this task</h2>
            <p className="muted">
              The project's members, the members of {project ? <Link to={entityPath(project.owner)}>{shortRef(project.owner)}</Link> : 'its owning group'} and admins change its tasks.
            </p>
          </section>
        )}
      </div>
      <Thread taskId={task.id} comments={task.comments} canEdit={canEdit && !deleted} onAdded={reread} />
      <section className="card spaced" aria-labelledby="task-history">
        <h2 id="task-history">History</h2>
        {task.history.length === LIST && <p className="muted">The first {LIST} changes.</p>}
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Every change of this task, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Field</th>
                <th scope="col">Old</th>
                <th scope="col">New</th>
              </tr>
            </thead>
            <tbody>
              {task.history.map((h, i) => (
                <tr key={i}>
                  <td>
                    <time dateTime={h.at} title={new Date(h.at).toLocaleString()}>
                      {ago(h.at)}
                    </time>
                  </td>
                  <td>{h.actor}</td>
                  <td>{h.field}</td>
                  <td>{h.oldValue || <span className="muted">—</span>}</td>
                  <td>{h.newValue || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

interface Editable {
  id: string;
  version: number;
  priority: TaskPriority;
  status: TaskStatus;
  assignee?: string | null;
  comment: string;
}

/** The fields a status meeting changes, against the version shown (a CONFLICT says to read it again). */
function EditTask({ task, onSaved }: { task: Editable; onSaved: () => void }) {
  const [status, setStatus] = useState(task.status);
  const [priority, setPriority] = useState(task.priority);
  const [assignee, setAssignee] = useState(task.assignee ? shortRef(task.assignee) : '');
  const [comment, setComment] = useState(task.comment);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const [res, update] = useMutation(Update);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    setSaved(false);
    const before = task.assignee ? shortRef(task.assignee) : '';
    const input = {
      id: task.id,
      version: task.version,
      ...(status !== task.status ? { status } : {}),
      ...(priority !== task.priority ? { priority } : {}),
      ...(assignee.trim() !== before ? { assignee: assignee.trim() } : {}),
      ...(comment !== task.comment ? { comment } : {}),
    };
    const r = await update({ input });
    if (r.error) setProblem(problemOf(r.error as CombinedError));
    else {
      setSaved(true);
      onSaved(); // the history has a new line
    }
  }

  return (
    <section className="card" aria-labelledby="task-edit">
      <h2 id="task-edit">Change</h2>
      <form onSubmit={submit} aria-labelledby="task-edit">
        <div className="text-field">
          <label htmlFor="task-status">Status</label>
          <select id="task-status" className="select" value={status} onChange={(e) => setStatus(e.target.value as TaskStatus)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="text-field">
          <label htmlFor="task-priority">Priority</label>
          <select id="task-priority" className="select" value={priority} onChange={(e) => setPriority(e.target.value as TaskPriority)}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {label(p)}
              </option>
            ))}
          </select>
        </div>
        <div className="text-field">
          <label htmlFor="task-assignee">Assignee (a catalog user: name, title or e-mail; empty for nobody)</label>
          <input id="task-assignee" className="input" value={assignee} maxLength={300} onChange={(e) => setAssignee(e.target.value)} />
        </div>
        <div className="text-field">
          <label htmlFor="task-comment">Comments / Issues</label>
          <input id="task-comment" className="input" value={comment} maxLength={1000} onChange={(e) => setComment(e.target.value)} />
        </div>
        <button type="submit" className="button button-primary" disabled={res.fetching}>
          {res.fetching ? 'Saving…' : 'Save changes'}
        </button>
        {saved && !res.fetching && (
          <span role="status" className="muted">
            {' '}
            Saved.
          </span>
        )}
        {problem && <ErrorNotice problem={problem} title={problem.code === 'CONFLICT' ? 'Someone changed this task meanwhile' : 'The change was refused'} />}
      </form>
    </section>
  );
}

function Thread({
  taskId,
  comments,
  canEdit,
  onAdded,
}: {
  taskId: string;
  comments: { id: string; author: string; body: string; createdAt: string }[];
  canEdit: boolean;
  onAdded: () => void;
}) {
  const [body, setBody] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [res, add] = useMutation(AddComment);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const r = await add({ input: { id: taskId, body } });
    if (r.error) setProblem(problemOf(r.error as CombinedError));
    else {
      setBody('');
      onAdded();
    }
  }

  return (
    <section className="card spaced" aria-labelledby="task-thread">
      <h2 id="task-thread">Comments</h2>
      {comments.length === LIST && <p className="muted">The first {LIST} comments.</p>}
      {comments.length === 0 ? (
        <p className="muted">No comment yet.</p>
      ) : (
        <ol className="plain-list thread" aria-labelledby="task-thread">
          {comments.map((c) => (
            <li key={c.id}>
              <p className="thread-meta">
                <strong>{c.author}</strong>{' '}
                <time className="muted" dateTime={c.createdAt} title={new Date(c.createdAt).toLocaleString()}>
                  {ago(c.createdAt)}
                </time>
              </p>
              <p className="pre-line">{c.body}</p>
            </li>
          ))}
        </ol>
      )}
      {canEdit && (
        <form onSubmit={submit} aria-label="Add a comment" className="spaced">
          <div className="text-field">
            <label htmlFor="task-new-comment">Add a comment</label>
            <textarea id="task-new-comment" className="textarea" rows={3} maxLength={4000} value={body} onChange={(e) => setBody(e.target.value)} />
          </div>
          <button type="submit" className="button" disabled={res.fetching || !body.trim()}>
            {res.fetching ? 'Adding…' : 'Add comment'}
          </button>
          {problem && <ErrorNotice problem={problem} title="The comment was refused" />}
        </form>
      )}
    </section>
  );
}
