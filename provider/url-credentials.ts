/**
 * What makes a URL a credential, in one place for the provider (redaction, plain state) and the SDK (marking a
 * URL input secret before it reaches the state). Depends on nothing, so the SDK may load it in the program.
 */

/** Query parameters whose values are credentials (pre-signed URLs, access tokens). */
export const SECRET_QUERY_KEY = /(token|sig|signature|secret|passw|pwd|key|auth|credential|session)/i;

/** True when `u` carries credentials: userinfo (`user:pass@`) or a token-like query parameter (`?sig=…`). */
export function urlHasCredentials(u: URL): boolean {
  return (
    u.username !== "" || u.password !== "" || [...u.searchParams.keys()].some((k) => SECRET_QUERY_KEY.test(k))
  );
}
