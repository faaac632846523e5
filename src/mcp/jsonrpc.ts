/**
 * @module mcp/jsonrpc
 * Checks of incoming JSON-RPC 2.0 messages: a quick structural pass (garbage is refused without
 * touching a schema), then the SDK's own message guards. The second step matters: the protocol
 * engine silently drops a message its guards reject (extra members, a malformed `_meta`), and
 * a request it drops is never answered. Refusing exactly those here keeps every request
 * answered.
 */

import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type RequestId,
} from '@modelcontextprotocol/server';

export type MessageKind = 'request' | 'notification' | 'response';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON-RPC id as MCP allows it: a string or an integer, never null (MCP basic §messages). */
export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));
}

/**
 * Classifies one message, or returns undefined when it is not a valid JSON-RPC 2.0 message
 * as MCP uses them (params, when present, must be an object).
 */
export function classifyMessage(value: unknown): MessageKind | undefined {
  const kind = shapeOf(value);
  switch (kind) {
    case 'request':
      return isJSONRPCRequest(value) ? kind : undefined;
    case 'notification':
      return isJSONRPCNotification(value) ? kind : undefined;
    case 'response':
      return isJSONRPCResultResponse(value) || isJSONRPCErrorResponse(value) ? kind : undefined;
    default:
      return undefined;
  }
}

/** The structural pass: what the message claims to be, or undefined when it is not JSON-RPC at all. */
function shapeOf(value: unknown): MessageKind | undefined {
  if (!isPlainObject(value) || value['jsonrpc'] !== '2.0') return undefined;
  const method = value['method'];
  if (method !== undefined) {
    if (typeof method !== 'string' || method.length === 0 || method.length > 256) return undefined;
    const params = value['params'];
    if (params !== undefined && !isPlainObject(params)) return undefined;
    if (!('id' in value)) return 'notification';
    return isRequestId(value['id']) ? 'request' : undefined;
  }
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return undefined;
  if (hasResult) return isRequestId(value['id']) && isPlainObject(value['result']) ? 'response' : undefined;
  const error = value['error'];
  if (!isPlainObject(error) || !Number.isSafeInteger(error['code']) || typeof error['message'] !== 'string') return undefined;
  return isRequestId(value['id']) || value['id'] === null ? 'response' : undefined;
}
