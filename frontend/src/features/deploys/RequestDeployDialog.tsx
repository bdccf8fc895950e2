import { useRef, useState, type FormEvent } from 'react';
import { Button, Dialog, DialogTrigger, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useMutation, type CombinedError } from 'urql';
import { useNavigate } from 'react-router';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { problemOf, type Problem } from '../../lib/errors';
import { shortRef } from '../../lib/format';
import { deployPath } from './fields';

const RequestDeploy = graphql(`
  mutation RequestDeploy($input: RequestDeployInput!) {
    requestDeploy(input: $input) { request { ...DeployRequestFields } }
  }
`);

// The server's bounds (deploys.MaxVersion, MaxReason): the fields stop at them.
const MAX_VERSION = 128;
const MAX_REASON = 500;

export interface RequestDeployDialogProps {
  component: string;
  environments: { name: string; requiresApproval: boolean }[];
}

/**
 * The Request deploy button and its dialog (loaded only for those who may request: the widgets
 * stay out of the page's bundle). On success it goes to the request's page.
 */
export default function RequestDeployDialog({ component, environments }: RequestDeployDialogProps) {
  return (
    <DialogTrigger>
      <Button className="button button-primary">Request deploy</Button>
      <ModalOverlay className="modal-overlay" isDismissable>
        <Modal className="modal">
          <Dialog className="dialog">
            {({ close }) => (
              <>
                <Heading slot="title">Request a deploy of {shortRef(component)}</Heading>
                <RequestForm component={component} environments={environments} onDone={close} />
              </>
            )}
          </Dialog>
        </Modal>
      </ModalOverlay>
    </DialogTrigger>
  );
}

function RequestForm({ component, environments, onDone }: RequestDeployDialogProps & { onDone: () => void }) {
  const [, request] = useMutation(RequestDeploy);
  const navigate = useNavigate();
  const [version, setVersion] = useState('');
  const [environment, setEnvironment] = useState(environments[0]?.name ?? '');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const env = environments.find((e) => e.name === environment);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (inFlight.current) return;
    setMissing(!version.trim());
    if (!version.trim()) return;
    inFlight.current = true;
    setBusy(true);
    setProblem(null);
    // Asking twice for the same version and environment returns the open request: a double
    // click makes one request.
    const res = await request({ input: { component, environment, version: version.trim(), reason: reason.trim() || null } });
    inFlight.current = false;
    setBusy(false);
    if (res.error) {
      setProblem(problemOf(res.error as CombinedError));
      return;
    }
    const n = res.data?.requestDeploy.request.number;
    onDone();
    if (n) navigate(deployPath(n));
  }

  const versionError = missing ? 'Say which version to deploy.' : problem?.field === 'version' ? problem.message : undefined;
  return (
    <form onSubmit={submit} noValidate aria-label={`Request a deploy of ${shortRef(component)}`}>
      <div className="text-field">
        <label htmlFor="deploy-version">
          Version <span className="required" aria-hidden="true">*</span>
        </label>
        <input
          id="deploy-version"
          className="mono"
          value={version}
          onChange={(e) => setVersion(e.target.value)}
          maxLength={MAX_VERSION}
          required
          aria-required="true"
          aria-invalid={versionError ? true : undefined}
          aria-describedby={versionError ? 'deploy-version-error deploy-version-help' : 'deploy-version-help'}
          placeholder="sha256:… or 1.4.2"
          autoComplete="off"
          spellCheck={false}
        />
        {versionError && (
          <span id="deploy-version-error" className="field-error">
            {versionError}
          </span>
        )}
        <span id="deploy-version-help" className="field-help">
          An image digest, or a tag (or commit) one of the component's last successful pipeline runs built.
        </span>
      </div>
      <div className="text-field">
        <label htmlFor="deploy-environment">Environment</label>
        <select id="deploy-environment" className="select" value={environment} onChange={(e) => setEnvironment(e.target.value)} aria-describedby="deploy-environment-help">
          {environments.map((e) => (
            <option key={e.name} value={e.name}>
              {e.name}
            </option>
          ))}
        </select>
        <span id="deploy-environment-help" className="field-help">
          {env?.requiresApproval
            ? `${environment} needs the approval of another owner or an admin.`
            : `${environment} needs no approval: Portside applies the request at once.`}
        </span>
      </div>
      <div className="text-field">
        <label htmlFor="deploy-reason">Reason</label>
        <textarea id="deploy-reason" className="textarea" rows={3} maxLength={MAX_REASON} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      {problem && <ErrorNotice problem={problem} title="Portside refused the request" />}
      <div className="dialog-actions">
        <button type="button" className="button button-quiet" onClick={onDone} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" aria-disabled={busy || undefined}>
          {busy ? 'Requesting…' : 'Request deploy'}
        </button>
      </div>
    </form>
  );
}
