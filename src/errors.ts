/**
 * @module errors
 * The one error type of mcp-warden and its stable codes.
 *
 * Every failure the server can answer with is a `WardenError` carrying a code from
 * {@link ERROR_CODES}. A code fixes the HTTP status, the JSON-RPC code used on `/mcp`
 * and the generic public message. The rich reason (`expired`, `unknown_key`, the
 * library message, the stack) stays on the error for the log and never reaches the wire.
 */

import { RPC } from './wire-codes.js';

/** Definition of one error code: what the client sees. */
export interface ErrorDefinition {
  readonly status: number;
  /** JSON-RPC error code used when the error is answered on the MCP endpoint. */
  readonly rpc: number;
  /** Short public message; never contains user input or internals. */
  readonly message: string;
}

/**
 * Every error code, its HTTP status, JSON-RPC code and public message.
 * Keys equal their `code` (a test asserts it), so codes can be grepped and never reused.
 */
export const ERROR_CODES = {
  WARDEN_ERR_CONFIG: { status: 500, rpc: RPC.INTERNAL_ERROR, message: 'Invalid configuration' },
  WARDEN_ERR_PARSE: { status: 400, rpc: RPC.PARSE_ERROR, message: 'Parse error' },
  WARDEN_ERR_INVALID_REQUEST: { status: 400, rpc: RPC.INVALID_REQUEST, message: 'Invalid Request' },
  WARDEN_ERR_BATCH_UNSUPPORTED: {
    status: 400,
    rpc: RPC.INVALID_REQUEST,
    message: 'Invalid Request: batching is not supported in this protocol version',
  },
  WARDEN_ERR_BATCH_TOO_LARGE: { status: 400, rpc: RPC.INVALID_REQUEST, message: 'Invalid Request: batch too large' },
  WARDEN_ERR_BODY_TOO_LARGE: { status: 413, rpc: RPC.INVALID_REQUEST, message: 'Request body too large' },
  WARDEN_ERR_HEADERS_TOO_LARGE: { status: 431, rpc: RPC.INVALID_REQUEST, message: 'Request header fields too large' },
  WARDEN_ERR_REQUEST_TIMEOUT: { status: 408, rpc: RPC.SERVER_ERROR, message: 'Request timeout' },
  WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    rpc: RPC.SERVER_ERROR,
    message: 'Unsupported Media Type: Content-Type must be application/json',
  },
  WARDEN_ERR_NOT_ACCEPTABLE: {
    status: 406,
    rpc: RPC.SERVER_ERROR,
    message: 'Not Acceptable: accept application/json or text/event-stream',
  },
  WARDEN_ERR_PROTOCOL_VERSION: { status: 400, rpc: RPC.SERVER_ERROR, message: 'Bad Request: unsupported MCP-Protocol-Version' },
  WARDEN_ERR_SESSION_REQUIRED: { status: 400, rpc: RPC.SERVER_ERROR, message: 'Bad Request: Mcp-Session-Id header is required' },
  WARDEN_ERR_SESSION_NOT_FOUND: { status: 404, rpc: RPC.SESSION_NOT_FOUND, message: 'Session not found' },
  WARDEN_ERR_ALREADY_INITIALIZED: {
    status: 400,
    rpc: RPC.INVALID_REQUEST,
    message: 'Invalid Request: session already initialized',
  },
  WARDEN_ERR_STREAM_CONFLICT: { status: 409, rpc: RPC.SERVER_ERROR, message: 'Conflict: a stream is already open for this session' },
  WARDEN_ERR_METHOD_NOT_ALLOWED: { status: 405, rpc: RPC.SERVER_ERROR, message: 'Method not allowed' },
  WARDEN_ERR_TOO_MANY_SESSIONS: { status: 503, rpc: RPC.SERVER_ERROR, message: 'Too many sessions; retry later' },
  // The 401 messages tell a newcomer what to send (clients show them); they name no key or reason.
  WARDEN_ERR_AUTH_REQUIRED: { status: 401, rpc: RPC.SERVER_ERROR, message: 'Unauthorized: this server requires a Bearer API key (header "Authorization: Bearer <key>"); see Troubleshooting in the mcp-warden README' },
  WARDEN_ERR_AUTH_INVALID: { status: 401, rpc: RPC.SERVER_ERROR, message: 'Unauthorized: the Bearer credential was not accepted (unknown, revoked or expired key, or invalid token); see Troubleshooting in the mcp-warden README' },
  WARDEN_ERR_ORIGIN_FORBIDDEN: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: origin not allowed' },
  WARDEN_ERR_HOST_FORBIDDEN: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: host not allowed' },
  WARDEN_ERR_RATE_LIMITED: { status: 429, rpc: RPC.SERVER_ERROR, message: 'Too Many Requests: per-IP limit' },
  WARDEN_ERR_KEY_RATE_LIMITED: { status: 429, rpc: RPC.SERVER_ERROR, message: 'Too Many Requests: per-key limit' },
  WARDEN_ERR_TOOL_RATE_LIMITED: { status: 429, rpc: RPC.SERVER_ERROR, message: 'Too Many Requests: per-tool limit' },
  WARDEN_ERR_INSUFFICIENT_SCOPE: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: insufficient scope' },
  WARDEN_ERR_IP_FORBIDDEN: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: address not allowed' },
  WARDEN_ERR_IP_BANNED: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: temporarily banned after repeated authentication failures' },
  WARDEN_ERR_NOT_FOUND: { status: 404, rpc: RPC.SERVER_ERROR, message: 'Not Found' },
  WARDEN_ERR_AUTH_UNAVAILABLE: { status: 503, rpc: RPC.SERVER_ERROR, message: 'Service Unavailable: token verification unavailable' },
  WARDEN_ERR_SHARED_STATE_UNAVAILABLE: { status: 503, rpc: RPC.SERVER_ERROR, message: 'Service Unavailable: shared state unreachable' },
  WARDEN_ERR_SHUTTING_DOWN: { status: 503, rpc: RPC.SERVER_ERROR, message: 'Server is shutting down' },
  WARDEN_ERR_INTERNAL: { status: 500, rpc: RPC.INTERNAL_ERROR, message: 'Internal error' },
  // MCP 2026-07-28 (modern era) refusals: the spec fixes their status and JSON-RPC code.
  WARDEN_ERR_HEADER_MISMATCH: { status: 400, rpc: RPC.HEADER_MISMATCH, message: 'Header mismatch' },
  WARDEN_ERR_UNSUPPORTED_VERSION: { status: 400, rpc: RPC.UNSUPPORTED_PROTOCOL_VERSION, message: 'Unsupported protocol version' },
  WARDEN_ERR_INVALID_ENVELOPE: { status: 400, rpc: RPC.INVALID_PARAMS, message: 'Invalid params' },
  WARDEN_ERR_METHOD_NOT_FOUND: { status: 404, rpc: RPC.METHOD_NOT_FOUND, message: 'Method not found' },
  // subscriptions/listen (2026-07-28): refused before the stream opens.
  WARDEN_ERR_INVALID_LISTEN_FILTER: { status: 400, rpc: RPC.INVALID_PARAMS, message: "Invalid params: 'notifications' is required and must be a valid subscription filter" },
  WARDEN_ERR_LISTEN_NEEDS_SSE: { status: 406, rpc: RPC.SERVER_ERROR, message: 'Not Acceptable: subscriptions/listen answers with text/event-stream' },
  WARDEN_ERR_TOO_MANY_LISTENS: { status: 429, rpc: RPC.SERVER_ERROR, message: 'Too Many Requests: subscription stream limit' },
  // Thrown inside the engine by the requestState check (mcp/request-state). The SDK answers it in-band
  // (HTTP 200) with its frozen -32602 "Invalid or expired requestState", data.reason "invalid_request_state".
  WARDEN_ERR_INVALID_REQUEST_STATE: { status: 400, rpc: RPC.INVALID_PARAMS, message: 'Invalid or expired requestState' },
  // Gateway (issue 13): an upstream MCP server could not serve a call. The wire message names
  // the upstream through `detail` (a config-validated name), never its stack or output.
  WARDEN_ERR_UPSTREAM_UNAVAILABLE: { status: 502, rpc: RPC.SERVER_ERROR, message: 'Bad Gateway: upstream unavailable' },
  WARDEN_ERR_UPSTREAM_TIMEOUT: { status: 504, rpc: RPC.SERVER_ERROR, message: 'Gateway Timeout: upstream did not answer in time' },
  WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE: { status: 502, rpc: RPC.SERVER_ERROR, message: 'Bad Gateway: upstream result too large' },
  WARDEN_ERR_UPSTREAM_BUSY: { status: 503, rpc: RPC.SERVER_ERROR, message: 'Service Unavailable: upstream busy' },
  WARDEN_ERR_UPSTREAM_CAPACITY: { status: 503, rpc: RPC.SERVER_ERROR, message: 'Service Unavailable: upstream capacity reached' },
  WARDEN_ERR_UPSTREAM_KEY_CAPACITY: { status: 429, rpc: RPC.SERVER_ERROR, message: 'Too Many Requests: per-key upstream connection limit' },
  // Gateway security: a tool whose definition changed since it was pinned (or a new tool while new
  // tools are held), and a result withheld because it carried a secret (`secrets: block`).
  WARDEN_ERR_UPSTREAM_TOOL_HELD: { status: 403, rpc: RPC.SERVER_ERROR, message: 'Forbidden: tool held until an operator pins its current definition' },
  WARDEN_ERR_UPSTREAM_SECRET_BLOCKED: { status: 502, rpc: RPC.SERVER_ERROR, message: 'Bad Gateway: the upstream result held a secret and was withheld' },
  // A 2026-07-28 retry whose (valid) requestState names an upstream request no longer waiting.
  WARDEN_ERR_UPSTREAM_INPUT_GONE: {
    status: 400,
    rpc: RPC.INVALID_PARAMS,
    message: 'Invalid params: the upstream request this input answers is no longer waiting (expired, answered or unknown); call the tool again',
  },
  // Start-up only (createServer): a library server built with SDK v1. Never answered on the wire.
  WARDEN_ERR_UNSUPPORTED_SDK: { status: 500, rpc: RPC.INTERNAL_ERROR, message: 'Unsupported MCP server: built with SDK v1' },
} as const satisfies Record<string, ErrorDefinition>;

export type WardenErrorCode = keyof typeof ERROR_CODES;

/**
 * An mcp-warden failure with a stable code.
 *
 * @example
 * throw new WardenError('WARDEN_ERR_AUTH_INVALID', { reason: 'unknown_key' });
 */
export class WardenError extends Error {
  readonly code: WardenErrorCode;
  readonly status: number;
  /** Internal, tagged reason for logs (`unknown_key`, `bad_json`...). Never sent to clients. */
  readonly reason: string | undefined;
  /** Extra response headers the wire mapping must add (`Retry-After`, `WWW-Authenticate`...). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /**
   * Text the wire appends to the public message, built by our code from known-safe values
   * (e.g. which protocol versions are supported); never raw user input.
   */
  readonly detail: string | undefined;
  /**
   * What the JSON-RPC error on `/mcp` carries besides code and message: `data` built by our
   * code from known-safe values (e.g. `{supported, requested}` of -32022), and the request id
   * when it could be read from the body (modern-era refusals echo it, as the spec's examples do).
   */
  readonly rpc: { readonly data?: unknown; readonly id?: string | number | null; readonly message?: string } | undefined;

  constructor(
    code: WardenErrorCode,
    options: {
      reason?: string;
      cause?: unknown;
      headers?: Record<string, string>;
      message?: string;
      detail?: string;
      rpc?: { data?: unknown; id?: string | number | null; message?: string };
    } = {},
  ) {
    super(options.message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WardenError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.reason = options.reason;
    this.headers = options.headers;
    this.detail = options.detail;
    this.rpc = options.rpc;
  }

  /** The public message (the definition's, whatever `message` the error was built with). */
  get publicMessage(): string {
    return ERROR_CODES[this.code].message;
  }
}

/** The gateway codes an engine answers in-band, naming the upstream (see {@link upstreamWireError}). */
export const UPSTREAM_WIRE_CODES: ReadonlySet<WardenErrorCode> = new Set<WardenErrorCode>([
  'WARDEN_ERR_UPSTREAM_UNAVAILABLE',
  'WARDEN_ERR_UPSTREAM_TIMEOUT',
  'WARDEN_ERR_UPSTREAM_RESULT_TOO_LARGE',
  'WARDEN_ERR_UPSTREAM_BUSY',
  'WARDEN_ERR_UPSTREAM_CAPACITY',
  'WARDEN_ERR_UPSTREAM_KEY_CAPACITY',
  'WARDEN_ERR_UPSTREAM_TOOL_HELD',
  'WARDEN_ERR_UPSTREAM_SECRET_BLOCKED',
  'WARDEN_ERR_UPSTREAM_INPUT_GONE',
]);

/** Upstream names as the gateway config allows them (so one may appear in a wire message). */
const WIRE_UPSTREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The JSON-RPC error a gateway handler answers for one of {@link UPSTREAM_WIRE_CODES}: the
 * code's public message naming the upstream, `data: { warden, upstream }`. Built from
 * constants and a config-validated name only; the response policy rebuilds it the same way, so
 * nothing else a handler (or an upstream) put in such an error reaches a client. Undefined for
 * any other code or name.
 *
 * @example
 * upstreamWireError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', 'everything');
 * // { code: -32000, message: 'Bad Gateway: upstream unavailable (upstream "everything")', data: { warden: 'WARDEN_ERR_UPSTREAM_UNAVAILABLE', upstream: 'everything' } }
 */
export function upstreamWireError(code: unknown, upstream: unknown): { code: number; message: string; data: { warden: WardenErrorCode; upstream: string } } | undefined {
  if (typeof code !== 'string' || !UPSTREAM_WIRE_CODES.has(code as WardenErrorCode)) return undefined;
  if (typeof upstream !== 'string' || !WIRE_UPSTREAM_NAME.test(upstream)) return undefined;
  const definition = ERROR_CODES[code as WardenErrorCode];
  return { code: definition.rpc, message: `${definition.message} (upstream "${upstream}")`, data: { warden: code as WardenErrorCode, upstream } };
}

/** True when `value` is a WardenError. */
export function isWardenError(value: unknown): value is WardenError {
  return value instanceof WardenError;
}
