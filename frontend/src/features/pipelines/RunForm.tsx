import { useRef, useState, type FormEvent } from 'react';
import { Input, Label, TextField } from 'react-aria-components';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { Problem } from '../../lib/errors';
import { ParameterForm } from './ParameterForm';
import { initialValues, missing, newIdempotencyKey, toInput, type Param } from './params';

export interface TriggerInput {
  component: string;
  pipeline: string;
  ref: string | null;
  parameters: { name: string; value: string }[];
  idempotencyKey: string;
}

interface Props {
  component: string;
  pipeline: string;
  defaultRef: string;
  params: Param[];
  /** Starts the run; a Problem keeps the form open with the server's refusal. */
  onSubmit: (input: TriggerInput) => Promise<Problem | null>;
  onCancel: () => void;
}

/**
 * The Run form. Its idempotency key is made once, when the form opens: submitting twice (a double
 * click, or again after a refusal) sends the same key, and the server starts one run.
 */
export function RunForm({ component, pipeline, defaultRef, params, onSubmit, onCancel }: Props) {
  const [key] = useState(newIdempotencyKey);
  const [values, setValues] = useState(() => initialValues(params));
  const [ref, setRef] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (inFlight.current) return;
    const m = missing(params, values);
    setErrors(m);
    if (Object.keys(m).length > 0) return;
    inFlight.current = true;
    setBusy(true);
    setProblem(null);
    const p = await onSubmit({ component, pipeline, ref: ref.trim() || null, parameters: toInput(params, values), idempotencyKey: key });
    inFlight.current = false;
    setBusy(false);
    if (p) {
      setProblem(p);
      const name = p.field?.startsWith('parameters.') ? p.field.slice('parameters.'.length) : undefined;
      if (name && params.some((x) => x.name === name)) setErrors({ [name]: p.message });
    }
  }

  return (
    <form onSubmit={submit} noValidate aria-label={`Run ${pipeline}`}>
      <TextField className="text-field" value={ref} onChange={setRef}>
        <Label>Branch, tag or commit</Label>
        <Input placeholder={`${defaultRef} (default)`} />
      </TextField>
      <ParameterForm params={params} values={values} errors={errors} onChange={(n, v) => setValues((s) => ({ ...s, [n]: v }))} />
      {problem && <ErrorNotice problem={problem} title="Portside refused to start the run" />}
      <div className="dialog-actions">
        <button type="button" className="button button-quiet" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" aria-disabled={busy || undefined}>
          {busy ? 'Starting…' : 'Start run'}
        </button>
      </div>
    </form>
  );
}
