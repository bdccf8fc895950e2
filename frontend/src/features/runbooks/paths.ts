/** The portal's path of a runbook page. */
export function runbookPath(id: string): string {
  return `/runbooks/${encodeURIComponent(id)}`;
}
