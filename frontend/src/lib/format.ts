/** An entity reference as Portside writes it: kind:namespace/name. */
export interface Ref {
  kind: string;
  namespace: string;
  name: string;
}

export function parseRef(ref: string): Ref {
  const [kind, rest] = ref.includes(':') ? ref.split(':', 2) : ['component', ref];
  const [namespace, name] = rest.includes('/') ? rest.split('/', 2) : ['default', rest];
  return { kind: kind.toLowerCase(), namespace, name };
}

/** The portal's path of an entity page. */
export function entityPath(ref: string): string {
  const r = parseRef(ref);
  return `/catalog/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.kind)}/${encodeURIComponent(r.name)}`;
}

/** A short ref: the name alone in the default namespace. */
export function shortRef(ref: string): string {
  const r = parseRef(ref);
  return r.namespace === 'default' ? r.name : `${r.namespace}/${r.name}`;
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return '—';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
