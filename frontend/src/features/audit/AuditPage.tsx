import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { Input, Label, TextField } from 'react-aria-components';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { useViewer } from '../../app/viewer';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Badge, toneOf } from '../../components/Tag';
import { Empty, Loading } from '../../components/States';
import { ago } from '../../lib/format';

const AuditQuery = graphql(`
  query Audit($filter: AuditFilter, $first: Int!) {
    auditRecords(filter: $filter, first: $first) {
      totalCount
      nodes { id at actor actorKind client action resource outcome code message requestId }
    }
  }
`);

const fields = ['actor', 'action', 'resource'] as const;

/** The audit log, newest first: everything for admins, one's own records for everyone else. */
export function AuditPage() {
  const me = useViewer();
  const [params, setParams] = useSearchParams();
  const [draft, setDraft] = useState(() => Object.fromEntries(fields.map((f) => [f, params.get(f) ?? ''])) as Record<(typeof fields)[number], string>);
  // Filters reach the URL (and the query) once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => {
      const next = new URLSearchParams();
      for (const f of fields) if (draft[f]) next.set(f, draft[f]);
      if (next.toString() !== params.toString()) setParams(next, { replace: true });
    }, 250);
    return () => clearTimeout(t);
  }, [draft, params, setParams]);
  const filter = Object.fromEntries(fields.filter((f) => params.get(f)).map((f) => [f, params.get(f)]));
  const [{ data, error, fetching }] = useQuery({ query: AuditQuery, variables: { filter, first: 100 } });
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">{me.admin ? 'Every change, sign-in and refusal, newest first.' : 'Your own records, newest first (admins see everyone’s).'}</p>
      <div className="filters">
        {fields.map((f) => (
          <TextField key={f} className="text-field" value={draft[f]} onChange={(v) => setDraft({ ...draft, [f]: v })}>
            <Label>{f[0].toUpperCase() + f.slice(1)}</Label>
            <Input placeholder={f === 'action' ? 'e.g. catalog.location.refresh' : ''} />
          </TextField>
        ))}
      </div>
      {fetching && !data && <Loading />}
      {error && <ErrorNotice error={error} title="The audit log could not be read" />}
      {data && data.auditRecords.nodes.length === 0 && <Empty>No record matches.</Empty>}
      {data && data.auditRecords.nodes.length > 0 && (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Audit records</caption>
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
              {data.auditRecords.nodes.map((r) => (
                <tr key={r.id}>
                  <td title={r.at}>{ago(r.at)}</td>
                  <td>
                    {r.actor} <span className="muted">({r.client})</span>
                  </td>
                  <td><code>{r.action}</code></td>
                  <td>{r.resource ?? '—'}</td>
                  <td>
                    <Badge tone={r.outcome === 'OK' ? 'good' : toneOf(r.outcome === 'DENIED' ? 'FAILED' : 'ERROR')}>{r.outcome}</Badge>
                    {r.message && <span className="muted"> {r.message}</span>}
                  </td>
                  <td><code>{r.requestId ?? '—'}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
