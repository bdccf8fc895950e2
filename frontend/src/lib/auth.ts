/** Where to send the browser to sign in and come back to `returnTo` (a path on Portside). */
export function loginURL(returnTo: string = window.location.pathname + window.location.search): string {
  return `/auth/login?return_to=${encodeURIComponent(returnTo)}`;
}
