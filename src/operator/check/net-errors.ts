/**
 * @module operator/check/net-errors
 * Turns network failures into one short, human sentence ("connection refused", "timed out
 * after 5000 ms"), so an unreachable target gives a clear message and never a stack trace.
 */

/** A request that produced no HTTP answer. `message` is ready to print. */
export class ProbeError extends Error {
  /** A stable tag: refused, not_found, timeout, reset, tls, unreachable, protocol, other. */
  readonly kind: string;
  readonly url: string;

  constructor(kind: string, url: string, detail: string, options?: { cause?: unknown }) {
    // A timeout means the server was reached but did not answer; everything else, that it was not.
    super(kind === 'timeout' ? `${url}: ${detail}` : `cannot reach ${url}: ${detail}`, options);
    this.name = 'ProbeError';
    this.kind = kind;
    this.url = url;
  }
}

const TLS_CODES = /^(?:CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_|ERR_SSL_|EPROTO$)/;

/** The `code` of an error or of its cause chain (fetch wraps socket errors in `cause`). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Describes a socket-level failure as `[kind, text]`. */
export function describeNetworkError(error: unknown): [string, string] {
  const code = errorCode(error);
  switch (code) {
    case 'ECONNREFUSED':
      return ['refused', 'connection refused'];
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return ['not_found', 'host not found'];
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return ['reset', 'connection reset by the server'];
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return ['unreachable', 'host unreachable'];
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return ['timeout', 'connection timed out'];
    default:
      break;
  }
  if (code !== undefined && TLS_CODES.test(code)) return ['tls', `TLS error (${code})`];
  if (code !== undefined && code.startsWith('HPE_')) return ['protocol', `invalid HTTP response (${code})`];
  return ['other', code ?? 'request failed'];
}

/** Wraps any error from a request to `url` as a {@link ProbeError}. */
export function toProbeError(error: unknown, url: string): ProbeError {
  if (error instanceof ProbeError) return error;
  const [kind, detail] = describeNetworkError(error);
  return new ProbeError(kind, url, detail, { cause: error });
}

/** `http://host:port/path` without query or credentials, for messages. */
export function displayUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * A hint when a refusal looks like a ban rather than a verdict on this request: 403 with
 * `Retry-After` is how brute-force guards (ours included) answer a client they have blocked.
 */
export function banHint(status: number, retryAfter: string | undefined): string {
  if (status !== 403 || retryAfter === undefined) return '';
  return ` (this client looks banned, Retry-After: ${retryAfter.trim().slice(0, 20)}; repeated authentication failures can cause that)`;
}

/** The reason for a 429 answer, with its Retry-After when given. */
export function rateLimited(retryAfter: string | undefined): string {
  const wait = retryAfter === undefined ? '' : `, Retry-After: ${retryAfter.trim().slice(0, 20)}`;
  return `rate limited (429${wait}); try again later`;
}
