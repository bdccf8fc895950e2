import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { Input, Label, TextField } from 'react-aria-components';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { AuditOutcome } from '../../gql/graphql';
import { useViewer } from '../../app/viewer';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Badge, toneOf } from '../../components/Tag';
import { Empty, Loading } from '../../components/States';
import { ago } from '../../lib/format';

const AuditQuery = graphql(`
  query Audit($filter: AuditFilter, $first: Int!, $after: String) {
    auditRecords(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id at actor actorKind client action resource outcome code message requestId }
    }
  }
`);

/** Records a page shows. */
export const PAGE = 50;

const texts = ['actor', 'action', 'resource'] as const;
const OUTCOMES: AuditOutcome[] = ['OK', 'DENIED', 'FAILED'];
type Draft = Record<(typeof texts)[number] | 'outcome' | 'since' | 'until', string>;

/** An instant in the URL (ISO, UTC) as a datetime-local input shows it, in the browser's zone. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local input's value (the browser's zone) as the instant the URL and the API hold. */
function fromLocalInput(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function draftOf(params: URLSearchParams): Draft {
  return {
    actor: params.get('actor') ?? '',
    action: params.get('action') ?? '',
    resource: params.get('resource') ?? '',
    outcome: params.get('outcome') ?? '',
    since: toLocalInput(params.get('since') ?? ''),
    until: toLocalInput(params.get('until') ?? ''),
  };
}

/**
 * The audit log, for admins: every change, sign-in and refusal, newest first, filtered by actor,
 * action, resource, outcome and a time range. The filters and the page (the cursors of the pages
 * before it, c=…) are in the URL, so a link reproduces the view. Others are not offered the page
 * (the API answers them their own records only).
 */
export function AuditPage() {
  const me = useViewer();
  if (!me.admin) {
    return (
      <>
        <h1>Audit log</h1>
        <div role="alert" className="notice notice-error">
          <strong>The audit log is for admins</strong>
          <p className="notice-message">Ask an admin of Portside (the group portside-admins) for the records you need.</p>
        </div>
      </>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const [params, setParams] = useSearchParams();
  const [draft, setDraftState] = useState<Draft>(() => draftOf(params));
  // The draft as it stands after the last event, before React renders it: handlers read it
  // rather than the draft of the last render (Clear, then choosing an outcome before the clear had
  // rendered, filtered by the old text fields too).
  const latest = useRef(draft);
  const setDraft = (next: Draft | ((d: Draft) => Draft)) => {
    latest.current = typeof next === 'function' ? next(latest.current) : next;
    setDraftState(latest.current);
  };
  // The form follows the URL when it changes from outside (back, forward, a link), not when the
  // form itself set it: that change renders after the click, and following it then would wipe
  // what was typed meanwhile (Clear, then typing at once, lost the typing).
  const own = useRef<string | null>(null);
  useEffect(() => {
    if (params.toString() === own.current) return;
    own.current = null;
    setDraft(draftOf(params));
  }, [params.toString()]); // eslint-disable-line react-hooks/exhaustive-deps

  const filter: Record<string, string> = {};
  for (const k of [...texts, 'since', 'until'] as const) {
    const v = params.get(k);
    if (v) filter[k] = v;
  }
  const outcome = params.get('outcome');
  if (outcome && (OUTCOMES as string[]).includes(outcome)) filter.outcome = outcome;
  const cursors = params.getAll('c');
  const [{ data, error, fetching }] = useQuery({
    query: AuditQuery,
    variables: { filter, first: PAGE, after: cursors.at(-1) ?? null },
    requestPolicy: 'cache-and-network',
  });

  function apply(next: Draft) {
    const p = new URLSearchParams();
    for (const k of texts) if (next[k].trim()) p.set(k, next[k].trim());
    if (next.outcome) p.set('outcome', next.outcome);
    for (const k of ['since', 'until'] as const) {
      const iso = fromLocalInput(next[k]);
      if (iso) p.set(k, iso);
    }
    own.current = p.toString();
    setDraft(next);
    setParams(p); // another filter starts at the first page
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    // What the form shows now, read from the form itself: a state update from the last keystroke
    // may not have rendered yet when the submit comes.
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next = { ...latest.current };
    for (const k of Object.keys(next) as (keyof Draft)[]) next[k] = String(form.get(k) ?? '');
    apply(next);
  }
  function turn(next: string[]) {
    const p = new URLSearchParams(params);
    p.delete('c');
    for (const c of next) p.append('c', c);
    setParams(p);
  }

  const conn = data?.auditRecords;
  const filtered = Object.keys(filter).length > 0;
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">Every change, sign-in and refusal, newest first.</p>
      <form className="card filters-form" onSubmit={submit} aria-label="Filter audit records">
        <div className="filters">
          <TextField className="text-field" name="actor" value={draft.actor} onChange={(v) => setDraft((d) => ({ ...d, actor: v }))}>
            <Label>Actor</Label>
            <Input placeholder="e.g. bob" />
          </TextField>
          <TextField className="text-field" name="action" value={draft.action} onChange={(v) => setDraft((d) => ({ ...d, action: v }))}>
            <Label>Action</Label>
            <Input placeholder="e.g. catalog.location.refresh" />
          </TextField>
          <TextField className="text-field" name="resource" value={draft.resource} onChange={(v) => setDraft((d) => ({ ...d, resource: v }))}>
            <Label>Resource</Label>
            <Input placeholder="e.g. location 3" />
          </TextField>
          <div className="text-field">
            <label htmlFor="audit-outcome">Outcome</label>
            <select id="audit-outcome" name="outcome" className="select" value={draft.outcome} onChange={(e) => apply({ ...latest.current, outcome: e.target.value })}>
              <option value="">Any</option>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {o.toLowerCase()}
                </option>
              ))}
            </select>
          </div>
          <div className="text-field">
            <label htmlFor="audit-since">From</label>
            <input id="audit-since" name="since" type="datetime-local" value={draft.since} onChange={(e) => setDraft((d) => ({ ...d, since: e.target.value }))} />
          </div>
          <div className="text-field">
            <label htmlFor="audit-until">Until</label>
            <input id="audit-until" name="until" type="datetime-local" value={draft.until} onChange={(e) => setDraft((d) => ({ ...d, until: e.target.value }))} />
          </div>
        </div>
        <div className="actions">
          <button type="submit" className="button button-primary">
            Filter
          </button>
          <button type="button" className="button button-quiet" onClick={() => apply({ actor: '', action: '', resource: '', outcome: '', since: '', until: '' })}>
            Clear
          </button>
        </div>
      </form>
      {fetching && !data && <Loading label="Loading audit records…" />}
      {error && <ErrorNotice error={error} title="The audit log could not be read" />}
      {conn && (
        <p className="result-count" role="status">
          {conn.totalCount === 1 ? '1 record' : `${conn.totalCount} records`}
          {cursors.length > 0 || conn.pageInfo.hasNextPage ? `, page ${cursors.length + 1} (${PAGE} a page)` : ''}
        </p>
      )}
      {conn && conn.nodes.length === 0 && (
        <Empty>{filtered ? 'No record matches these filters: widen the time range or clear a filter.' : 'No record yet.'}</Empty>
      )}
      {conn && conn.nodes.length > 0 && (
        <div className="table-scroll">
          <table className="table" aria-label="Audit records">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Outcome</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
            <tbody>
              {conn.nodes.map((r) => (
                <tr key={r.id} data-outcome={r.outcome}>
                  <td>
                    <time dateTime={r.at} title={new Date(r.at).toLocaleString()}>
                      {ago(r.at)}
                    </time>
                  </td>
                  <td>
                    {r.actor} <span className="muted">({r.client})</span>
                  </td>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td>{r.resource ?? '—'}</td>
                  <td>
                    <Badge tone={r.outcome === 'OK' ? 'good' : toneOf(r.outcome === 'DENIED' ? 'FAILED' : 'ERROR')}>{r.outcome}</Badge>
                    {r.message && <span className="muted"> {r.message}</span>}
                  </td>
                  <td>
                    <code>{r.requestId ?? '—'}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {conn && (cursors.length > 0 || conn.pageInfo.hasNextPage) && (
        <nav className="pager" aria-label="Pages of audit records">
          <button type="button" className="button" disabled={cursors.length === 0} onClick={() => turn(cursors.slice(0, -1))}>
            Previous page
          </button>
          <button
            type="button"
            className="button"
            disabled={!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor}
            onClick={() => turn([...cursors, conn.pageInfo.endCursor!])}
          >
            Next page
          </button>
        </nav>
      )}
    </>
  );
}
