/**
 * @module security/oauth/redirect-uris
 * Which redirect URIs a client may register, and when a requested one matches a registered one.
 * Matching is exact string comparison (OAuth 2.1 §2.3.1, RFC 9700 §4.1.3), with the one
 * exception RFC 8252 §7.3 makes for native clients: on a loopback IP literal (and `localhost`,
 * which MCP clients use) the port may differ, since the client picks a free one at run time.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const MAX_URI_LENGTH = 2000;

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/**
 * Why a redirect URI may not be registered, or undefined when it may: absolute, no fragment
 * (RFC 6749 §3.1.2), https; plain http only on loopback (RFC 8252 §7.3); or a private-use
 * scheme in reverse-domain form (RFC 8252 §7.1, `com.example.app:/callback`).
 *
 * @example
 * redirectUriProblem('http://127.0.0.1/callback'); // undefined
 * redirectUriProblem('http://example.com/cb');     // 'plain http is allowed only on loopback'
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_URI_LENGTH) return 'too long';
  const url = parse(uri);
  if (url === undefined) return 'not an absolute URI';
  if (url.hash !== '' || uri.includes('#')) return 'has a fragment';
  if (url.username !== '' || url.password !== '') return 'has user information';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? undefined : 'plain http is allowed only on loopback';
  const scheme = url.protocol.slice(0, -1);
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) return undefined;
  return 'unsupported scheme (https, http on loopback, or a reverse-domain private-use scheme)';
}

// http://<loopback host>[:port]<rest>, taken apart without normalising anything (the comparison stays exact).
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?][^#]*)?$/;

/** True when `requested` is one of `registered`, exactly, or differs only in the port of a loopback http URI. */
export function redirectUriMatches(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const wanted = LOOPBACK_HTTP.exec(requested);
  if (wanted === null) return false;
  return registered.some((candidate) => {
    const held = LOOPBACK_HTTP.exec(candidate);
    return held !== null && held[1] === wanted[1] && (held[3] ?? '') === (wanted[3] ?? '');
  });
}
