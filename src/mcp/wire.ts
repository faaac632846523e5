/**
 * @module mcp/wire
 * JSON-RPC 2.0 wire constants and the one function that renders an error body.
 * Handlers never write `-32600` literals; they name `RPC.INVALID_REQUEST`.
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
} as const;

export type RpcCode = (typeof RPC)[keyof typeof RPC];

/** Generic public message for each standard code (used when sanitising outgoing errors). */
export const RPC_MESSAGES: Readonly<Record<number, string>> = {
  [RPC.PARSE_ERROR]: 'Parse error',
  [RPC.INVALID_REQUEST]: 'Invalid Request',
  [RPC.METHOD_NOT_FOUND]: 'Method not found',
  [RPC.INVALID_PARAMS]: 'Invalid params',
  [RPC.INTERNAL_ERROR]: 'Internal error',
};

/** Renders a JSON-RPC error object as the body of an HTTP response (id null: RFC JSON-RPC §5). */
export function rpcErrorBody(code: number, message: string, id: string | number | null = null): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id });
}
