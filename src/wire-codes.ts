/**
 * @module wire-codes
 * The JSON-RPC error codes mcp-warden answers with, at the bottom layer (nothing here imports
 * anything), like the SDK's `ErrorCode` enum. Handlers never write `-32600` literals; they
 * name `RPC.INVALID_REQUEST`. Turning an error into an HTTP reply is `http/error-reply`.
 */

/** JSON-RPC error codes (JSON-RPC 2.0 §5.1; MCP uses -32000..-32099 for server errors). */
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Generic transport-level failure; the HTTP status carries the meaning. */
  SERVER_ERROR: -32000,
  /** Same code the official SDK uses for an unknown session. */
  SESSION_NOT_FOUND: -32001,
  /** MCP: a `resources/read` for a URI the server does not have. */
  RESOURCE_NOT_FOUND: -32002,
  /** MCP 2025-11-25: URL elicitation required (its message and data reach the client verbatim). */
  URL_ELICITATION_REQUIRED: -32042,
  /** MCP 2026-07-28: `HeaderMismatch` (a standard header disagrees with the body). */
  HEADER_MISMATCH: -32020,
  /** MCP 2026-07-28: `MissingRequiredClientCapability`. */
  MISSING_CLIENT_CAPABILITY: -32021,
  /** MCP 2026-07-28: `UnsupportedProtocolVersionError`, with `data.supported` and `data.requested`. */
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;

/** Generic public message for each standard code (used when sanitising outgoing errors). */
export const RPC_MESSAGES: Readonly<Record<number, string>> = {
  [RPC.PARSE_ERROR]: 'Parse error',
  [RPC.INVALID_REQUEST]: 'Invalid Request',
  [RPC.METHOD_NOT_FOUND]: 'Method not found',
  [RPC.INVALID_PARAMS]: 'Invalid params',
  [RPC.INTERNAL_ERROR]: 'Internal error',
  [RPC.RESOURCE_NOT_FOUND]: 'Resource not found',
};

/**
 * OAuth error codes mcp-warden's authorization server answers with (`--oauth-issuer`), with the
 * HTTP status each takes at the token, registration and revocation endpoints: RFC 6749 §4.1.2.1
 * and §5.2, RFC 7591 §3.2.2, RFC 7009 §2.2.1, RFC 8707 §2 (`invalid_target`).
 */
export const OAUTH_ERRORS = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  temporarily_unavailable: 503,
  server_error: 500,
} as const;

export type OAuthErrorCode = keyof typeof OAUTH_ERRORS;
