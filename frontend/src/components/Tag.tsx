/** A small label; `tone` colours statuses (health, sync) consistently across pages. */
export function Badge({ children, tone = 'neutral' }: { children: string; tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info' }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function toneOf(status: string | null | undefined): 'neutral' | 'good' | 'warn' | 'bad' | 'info' {
  switch (status) {
    case 'HEALTHY':
    case 'SYNCED':
    case 'SUCCEEDED':
    case 'OK':
      return 'good';
    case 'PROGRESSING':
    case 'RUNNING':
    case 'PENDING':
      return 'info';
    case 'OUT_OF_SYNC':
    case 'SUSPENDED':
    case 'INVALID':
    case 'ABORTED':
      return 'warn';
    case 'DEGRADED':
    case 'FAILED':
    case 'ERROR':
    case 'MISSING':
      return 'bad';
    default:
      return 'neutral';
  }
}
