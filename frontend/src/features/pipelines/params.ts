import type { PipelineParameterType } from '../../gql/graphql';

export interface Param {
  name: string;
  type: PipelineParameterType;
  description?: string | null;
  options: string[];
  default?: string | null;
  required: boolean;
}

export type Values = Record<string, string>;

/** The form's first values: each declared default, false for a BOOLEAN without one, else empty. */
export function initialValues(params: Param[]): Values {
  const v: Values = {};
  for (const p of params) {
    if (p.default != null) v[p.name] = p.default;
    else if (p.type === 'BOOLEAN') v[p.name] = 'false';
    else v[p.name] = '';
  }
  return v;
}

/** Required parameters left empty, by name, with what to say. */
export function missing(params: Param[], values: Values): Record<string, string> {
  const errs: Record<string, string> = {};
  for (const p of params) {
    if (p.required && (values[p.name] ?? '') === '') errs[p.name] = 'Required';
  }
  return errs;
}

/** What the mutation sends: every value given (an empty optional one is left to its default). */
export function toInput(params: Param[], values: Values): { name: string; value: string }[] {
  return params.filter((p) => (values[p.name] ?? '') !== '').map((p) => ({ name: p.name, value: values[p.name] }));
}

/** A key that makes the server start one run however many times the same request arrives. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return `web-${crypto.randomUUID()}`;
  return `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
