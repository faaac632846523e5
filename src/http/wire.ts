/**
 * @module http/wire
 * The one mapping from internal errors to HTTP responses. On the MCP endpoint the body is a
 * JSON-RPC error; elsewhere `{"error": "<code>", "message": "<generic message>"}`. The rich
 * reason is recorded on the request for the log line and never sent.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type WardenErrorCode } from '../errors.js';
import { rpcErrorBody } from '../mcp/wire.js';
import { hasUnreadBody, lingerAfterResponse } from './connection-guard.js';

/** Which body shape errors take on a route. */
export type Surface = 'mcp' | 'api';

/** `WARDEN_ERR_AUTH_REQUIRED` → `auth_required`. */
export function publicCode(code: WardenErrorCode): string {
  return code.slice('WARDEN_ERR_'.length).toLowerCase();
}

const API_BODIES = new Map<WardenErrorCode, string>(
  (Object.keys(ERROR_CODES) as WardenErrorCode[]).map((code) => [code, JSON.stringify({ error: publicCode(code), message: ERROR_CODES[code].message })]),
);
const MCP_BODIES = new Map<WardenErrorCode, string>(
  (Object.keys(ERROR_CODES) as WardenErrorCode[]).map((code) => [code, rpcErrorBody(ERROR_CODES[code].rpc, ERROR_CODES[code].message)]),
);

/** The error body for a code on a surface (precomputed strings). */
export function errorBody(code: WardenErrorCode, surface: Surface): string {
  return (surface === 'mcp' ? MCP_BODIES : API_BODIES).get(code) as string;
}

/** An error body whose message carries a safe detail (see `WardenError.detail`). */
function detailedBody(code: WardenErrorCode, surface: Surface, detail: string): string {
  const message = `${ERROR_CODES[code].message} ${detail}`;
  return surface === 'mcp' ? rpcErrorBody(ERROR_CODES[code].rpc, message) : JSON.stringify({ error: publicCode(code), message });
}

/** The surface of the route handling `request`. */
export function surfaceOf(request: FastifyRequest): Surface {
  return request.routeOptions.config.surface === 'mcp' ? 'mcp' : 'api';
}

/**
 * Answers `request` with the error `code`. Builds no Error object, so refusing a flood of
 * requests (429, 401) stays cheap.
 */
export function replyError(
  request: FastifyRequest,
  reply: FastifyReply,
  code: WardenErrorCode,
  reason?: string,
  headers?: Readonly<Record<string, string>>,
  detail?: string,
): FastifyReply {
  request.failure = reason === undefined ? publicCode(code) : `${publicCode(code)}:${reason}`;
  if (headers !== undefined) reply.headers(headers);
  if (hasUnreadBody(request.raw)) {
    // The body will not be read: end the connection rather than wait for it (lingering, so the client sees the status).
    reply.header('connection', 'close');
    lingerAfterResponse(request.raw.socket);
  }
  const body = detail === undefined ? errorBody(code, surfaceOf(request)) : detailedBody(code, surfaceOf(request), detail);
  return reply.code(ERROR_CODES[code].status).type('application/json; charset=utf-8').send(body);
}
