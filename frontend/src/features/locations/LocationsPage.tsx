import { useState } from 'react';
import { Button, Form, Input, Label, Radio, RadioGroup, TextField } from 'react-aria-components';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { LocationErrorRowFragment, LocationType } from '../../gql/graphql';
import { useViewer } from '../../app/viewer';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Badge, toneOf } from '../../components/Tag';
import { Empty, Loading } from '../../components/States';
import { problemOf, type Problem } from '../../lib/errors';
import { ago } from '../../lib/format';

export const LocationErrorRow = graphql(`
  fragment LocationErrorRow on LocationError {
    source
    document
    line
    field
    entityRef
    message
  }
`);

// At most 100 locations with the first 10 problems of each: with 50 per location the query
// weighed over the server's complexity limit (20,000) and the page showed only that refusal.
const LocationsQuery = graphql(`
  query Locations {
    locations(first: 100) {
      totalCount
      nodes {
        id
        type
        target
        ref
        path
        status
        message
        entityCount
        errorCount
        refreshedAt
        viewerCanRefresh
        errors(first: 10) { ...LocationErrorRow }
      }
    }
  }
`);

const Register = graphql(`
  mutation RegisterLocation($input: RegisterLocationInput!) {
    registerLocation(input: $input) {
      added
      updated
      location { id status entityCount errorCount }
      errors { ...LocationErrorRow }
    }
  }
`);
const RefreshLoc = graphql(`
  mutation RefreshLocationPage($id: ID!) {
    refreshLocation(id: $id) { unchanged added updated removed location { id status entityCount errorCount refreshedAt } }
  }
`);
const Unregister = graphql(`
  mutation UnregisterLocation($id: ID!) { unregisterLocation(id: $id) { id removedEntities } }
`);

/** A problem in a catalog file, named by file, document, line and field, as the server found it. */
function ErrorList({ errors }: { errors: LocationErrorRowFragment[] }) {
  return (
    <ul className="plain-list">
      {errors.map((e, i) => (
        <li key={i}>
          <code>
            {e.source}
            {e.document != null ? `, document ${e.document}` : ''}
            {e.line != null ? `, line ${e.line}` : ''}
          </code>
          {e.field && (
            <>
              {' '}· <code>{e.field}</code>
            </>
          )}
          : {e.message}
        </li>
      ))}
    </ul>
  );
}

/** Registered catalog locations, their status and the errors of their last refresh, file by file. */
export function LocationsPage() {
  const me = useViewer();
  const [{ data, error, fetching }, reexecute] = useQuery({ query: LocationsQuery });
  const [, refresh] = useMutation(RefreshLoc);
  const [, unregister] = useMutation(Unregister);
  const run = async (p: Promise<{ error?: Parameters<typeof problemOf>[0] }>): Promise<Problem | null> => {
    const res = await p;
    if (res.error) return problemOf(res.error);
    reexecute({ requestPolicy: 'network-only' });
    return null;
  };
  return (
    <>
      <h1>Locations</h1>
      {me.admin ? (
        <RegisterForm onDone={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : (
        <p className="muted">
          Admins register and unregister locations. You may refresh the ones that provide something your groups own.
        </p>
      )}
      {fetching && !data && <Loading />}
      {error && <ErrorNotice error={error} title="Locations could not be loaded" />}
      {data && data.locations.nodes.length === 0 && <Empty>No location is registered.</Empty>}
      {data?.locations.nodes.map((l) => (
        <section key={l.id} className="card spaced" aria-label={`Location ${l.target}`}>
          <h2>
            {l.type.toLowerCase()} <code>{l.target}</code>
            {l.ref && <span className="muted"> @ {l.ref}</span>}
            {l.path && <span className="muted"> : {l.path}</span>}
          </h2>
          <p>
            <Badge tone={toneOf(l.status)}>{l.status}</Badge> {l.entityCount} entities, refreshed {ago(l.refreshedAt)}
            {l.message && <span> · {l.message}</span>}
          </p>
          {l.errorCount > 0 && (
            <>
              <h3>
                Errors ({l.errorCount}
                {l.errorCount > l.errors.length ? `, first ${l.errors.length} shown` : ''})
              </h3>
              <ErrorList errors={l.errors} />
            </>
          )}
          {/* Offered as the server decides: refresh for admins and the owners of what the
              location provides (viewerCanRefresh), unregister for admins only. */}
          {(l.viewerCanRefresh || me.admin) && (
            <div className="actions" role="group" aria-label={`Actions on ${l.target}`}>
              {l.viewerCanRefresh && (
                <ConfirmDialog label="Refresh" title={`Refresh ${l.target}?`} confirmLabel="Refresh now" onConfirm={() => run(refresh({ id: l.id }))}>
                  <p>Portside reads the location again and applies what changed; entities whose new documents are invalid keep their last good version.</p>
                </ConfirmDialog>
              )}
              {me.admin && (
                <ConfirmDialog label="Unregister" danger title={`Unregister ${l.target}?`} confirmLabel="Unregister" onConfirm={() => run(unregister({ id: l.id }))}>
                  <p>The location and the {l.entityCount} entities it provides are removed from the catalog.</p>
                </ConfirmDialog>
              )}
            </div>
          )}
        </section>
      ))}
    </>
  );
}

function RegisterForm({ onDone }: { onDone: () => void }) {
  const [type, setType] = useState<LocationType>('URL');
  const [target, setTarget] = useState('');
  const [ref, setRef] = useState('');
  const [path, setPath] = useState('');
  const [{ fetching }, register] = useMutation(Register);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<{ added: number; errors: LocationErrorRowFragment[] } | null>(null);
  return (
    <section className="card" aria-labelledby="register">
      <h2 id="register">Register a location</h2>
      <Form
        onSubmit={async (e) => {
          e.preventDefault();
          setProblem(null);
          setResult(null);
          const input = { type, target, ...(type === 'GIT' && ref ? { ref } : {}), ...(type === 'GIT' && path ? { path } : {}) };
          const res = await register({ input });
          if (res.error) setProblem(problemOf(res.error));
          else if (res.data) {
            setResult({ added: res.data.registerLocation.added, errors: res.data.registerLocation.errors });
            onDone();
          }
        }}
      >
        <RadioGroup className="radio-group" value={type} onChange={(v) => setType(v as LocationType)} orientation="horizontal">
          <Label>Type</Label>
          <Radio value="URL" className="radio">URL of a catalog file</Radio>
          <Radio value="GIT" className="radio">Git repository</Radio>
        </RadioGroup>
        <TextField className="text-field" value={target} onChange={setTarget} isRequired>
          <Label>{type === 'GIT' ? 'Repository URL' : 'File URL'}</Label>
          <Input placeholder={type === 'GIT' ? 'https://git.example.com/acme/services.git' : 'https://example.com/catalog-info.yaml'} />
        </TextField>
        {type === 'GIT' && (
          <>
            <TextField className="text-field" value={ref} onChange={setRef}>
              <Label>Branch, tag or commit (default: the remote's default branch)</Label>
              <Input />
            </TextField>
            <TextField className="text-field" value={path} onChange={setPath}>
              <Label>Path or glob (default: catalog-info.yaml)</Label>
              <Input />
            </TextField>
          </>
        )}
        <Button type="submit" className="button button-primary" isDisabled={fetching || !target}>
          {fetching ? 'Registering…' : 'Register'}
        </Button>
      </Form>
      {problem && <ErrorNotice problem={problem} title="Portside refused the location" />}
      {result && (
        <div role="status" className="spaced">
          <p>
            Registered: {result.added} entities added{result.errors.length ? `, ${result.errors.length} problems found:` : '.'}
          </p>
          {result.errors.length > 0 && <ErrorList errors={result.errors} />}
        </div>
      )}
    </section>
  );
}
