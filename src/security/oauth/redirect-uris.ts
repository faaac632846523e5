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
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) return 'plain http is allowed only on loopback';
    // The URL parser refuses ports past 65535 but takes port 0, which nothing can listen on.
    return url.port === '0' ? 'the port must be 1 to 65535' : undefined;
  }
  const scheme = url.protocol.slice(0, -1);
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) return undefined;
  return 'unsupported scheme (https, http on loopback, or a reverse-domain private-use scheme)';
}

// http://<loopback host>[:port]<rest>, taken apart without normalising anything (the comparison stays exact).
// The port, when given, is 1 to 65535 (no leading zero): anything else is no URI a browser can follow.
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([1-9]\d{0,4}))?([/?][^#]*)?$/;

function loopbackParts(uri: string): RegExpExecArray | null {
  const parts = LOOPBACK_HTTP.exec(uri);
  return parts !== null && (parts[2] === undefined || Number(parts[2]) <= 65_535) ? parts : null;
}

/** True when `requested` is one of `registered`, exactly, or differs only in the port of a loopback http URI. */
export function redirectUriMatches(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const wanted = loopbackParts(requested);
  if (wanted === null) return false;
  return registered.some((candidate) => {
    const held = loopbackParts(candidate);
    return held !== null && held[1] === wanted[1] && (held[3] ?? '') === (wanted[3] ?? '');
  });
}
