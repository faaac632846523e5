/**
 * @module operator/check/rpc
 * Reading JSON-RPC off the wire for the audit: a Streamable HTTP server may answer a POST
 * with `application/json` or with a `text/event-stream` whose `data:` events carry the
 * messages (MCP Transports §Sending Messages to the Server). Both are parsed here, leniently:
 * a target that answers garbage yields no messages, never an exception.
 */

import { sseData } from '../../mcp/transport/sse-parse.js';

/** The protocol version the audit's raw initialize asks for (the newest it knows). */
export const CHECK_PROTOCOL_VERSION = '2025-11-25';

/** What a POST to an MCP endpoint must accept (MCP Transports §Sending Messages to the Server). */
export const MCP_ACCEPT = 'application/json, text/event-stream';

/** The JSON-RPC parse error code (JSON-RPC 2.0 §5.1). */
export const PARSE_ERROR = -32700;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON-RPC messages in a response body of the given content type. */
export function parseMessages(contentType: string | undefined, body: string): Record<string, unknown>[] {
  const type = (contentType ?? '').toLowerCase();
  const values: unknown[] = [];
  if (type.includes('text/event-stream')) {
    // A stream may have been cut after its last complete event; a final blank line closes it.
    for (const data of sseData(`${body}\n\n`)) values.push(parseJson(data));
  } else {
    values.push(parseJson(body));
  }
  return values.flatMap((value) => (Array.isArray(value) ? value : [value])).filter(isObject);
}

/** True for a JSON-RPC response (a result or an error for some id). */
export function isRpcResponse(message: Record<string, unknown>): boolean {
  return 'id' in message && ('result' in message || 'error' in message);
}

/** The first JSON-RPC error object among `messages` that has a numeric code, if any. */
export function rpcError(messages: readonly Record<string, unknown>[]): Record<string, unknown> & { code: number } | undefined {
  for (const message of messages) {
    const error = message['error'];
    if (isObject(error) && typeof error['code'] === 'number') return error as Record<string, unknown> & { code: number };
  }
  return undefined;
}

/** The error code of the first JSON-RPC error among `messages`, if any. */
export function rpcErrorCode(messages: readonly Record<string, unknown>[]): number | undefined {
  return rpcError(messages)?.code;
}

/** The `result` of the first successful JSON-RPC response among `messages`. */
export function rpcResult(messages: readonly Record<string, unknown>[]): Record<string, unknown> | undefined {
  for (const message of messages) {
    const result = message['result'];
    if (isObject(result)) return result;
  }
  return undefined;
}

/** A JSON-RPC request body. */
export function rpcRequest(id: number, method: string, params?: Record<string, unknown>): string {
  return JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
}

/** The initialize request the audit sends (MCP Lifecycle §Initialization). */
export function initializeRequest(id = 1): string {
  return rpcRequest(id, 'initialize', {
    protocolVersion: CHECK_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'mcp-warden-check', version: '1.0.0' },
  });
}
