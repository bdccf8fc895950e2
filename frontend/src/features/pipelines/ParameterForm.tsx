import { Checkbox, FieldError, Input, Label, Text, TextField } from 'react-aria-components';
import type { Param, Values } from './params';

interface Props {
  params: Param[];
  values: Values;
  onChange: (name: string, value: string) => void;
  /** Per parameter: what is wrong with it (a required one left empty, or the server's word). */
  errors: Record<string, string>;
}

function Required() {
  return (
    <span className="required" aria-hidden="true">
      {' '}
      (required)
    </span>
  );
}

/** A pipeline's declared parameters as form fields: text, checkbox or a select of the allowed values. */
export function ParameterForm({ params, values, onChange, errors }: Props) {
  if (params.length === 0) return <p className="muted">This pipeline takes no parameters.</p>;
  return (
    <div className="param-form">
      {params.map((p) => {
        const id = `param-${p.name}`;
        const err = errors[p.name];
        const desc = p.description ? <Text slot="description" className="muted field-help">{p.description}</Text> : null;
        if (p.type === 'BOOLEAN') {
          return (
            <div key={p.name} className="text-field">
              <Checkbox
                className="checkbox"
                isSelected={values[p.name] === 'true'}
                onChange={(on) => onChange(p.name, on ? 'true' : 'false')}
                aria-describedby={p.description ? `${id}-desc` : undefined}
              >
                <span className="checkbox-box" aria-hidden="true" />
                {p.name}
              </Checkbox>
              {p.description && (
                <span id={`${id}-desc`} className="muted field-help">
                  {p.description}
                </span>
              )}
              {err && <span className="field-error">{err}</span>}
            </div>
          );
        }
        if (p.type === 'CHOICE') {
          return (
            <div key={p.name} className="text-field">
              <label htmlFor={id}>
                {p.name}
                {p.required && <Required />}
              </label>
              <select
                id={id}
                className="select"
                value={values[p.name] ?? ''}
                required={p.required}
                aria-required={p.required}
                aria-invalid={err ? true : undefined}
                aria-describedby={[p.description ? `${id}-desc` : '', err ? `${id}-err` : ''].join(' ').trim() || undefined}
                onChange={(e) => onChange(p.name, e.target.value)}
              >
                {p.default == null && <option value="">{p.required ? 'Choose…' : '(none)'}</option>}
                {p.options.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
              {p.description && (
                <span id={`${id}-desc`} className="muted field-help">
                  {p.description}
                </span>
              )}
              {err && (
                <span id={`${id}-err`} className="field-error">
                  {err}
                </span>
              )}
            </div>
          );
        }
        return (
          <TextField
            key={p.name}
            className="text-field"
            value={values[p.name] ?? ''}
            onChange={(v) => onChange(p.name, v)}
            isRequired={p.required}
            isInvalid={!!err}
            validationBehavior="aria"
          >
            <Label>
              {p.name}
              {p.required && <Required />}
            </Label>
            <Input />
            {desc}
            <FieldError className="field-error">{err}</FieldError>
          </TextField>
        );
      })}
    </div>
  );
}
