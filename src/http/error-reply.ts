/**
 * @module http/error-reply
 * Turns any error into an HTTP reply: {@link toWardenError} maps what Fastify or a handler
 * threw to a `WardenError` code, {@link replyError} answers a request with a code. On the MCP
 * endpoint the body is a JSON-RPC error; elsewhere `{"error": "<code>", "message": "<generic
 * message>"}`. The rich reason is recorded on the request for the log line and never sent.
 * Requests refused before routing use the same bodies (`http/framework-errors` through
 * {@link replyError}, `http/client-error` through {@link errorBody} on the raw socket).
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isWardenError, WardenError, type WardenErrorCode } from '../errors.js';
import { hasUnreadBody, lingerAfterResponse } from './connection-guard.js';

/** Which body shape errors take on a route. */
export type Surface = 'mcp' | 'api';

/** Renders a JSON-RPC error object as the body of an HTTP response (id null: RFC JSON-RPC §5). */
function rpcErrorBody(code: number, message: string, id: string | number | null = null, data?: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', error: data === undefined ? { code, message } : { code, message, data }, id });
}

/** What a JSON-RPC error body may carry besides the code's fixed message (see `WardenError.rpc`). */
export interface RpcExtras {
  readonly data?: unknown;
  readonly id?: string | number | null;
  /** A fixed, more precise message written by our code (never client text). */
  readonly message?: string;
}

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
  rpc?: RpcExtras,
): FastifyReply {
  request.failure = reason === undefined ? publicCode(code) : `${publicCode(code)}:${reason}`;
  if (headers !== undefined) reply.headers(headers);
  if (hasUnreadBody(request.raw)) {
    // The body will not be read: end the connection rather than wait for it (lingering, so the client sees the status).
    reply.header('connection', 'close');
    lingerAfterResponse(request.raw.socket);
  }
  const surface = surfaceOf(request);
  const body =
    rpc !== undefined && surface === 'mcp'
      ? rpcErrorBody(ERROR_CODES[code].rpc, rpc.message ?? ERROR_CODES[code].message, rpc.id ?? null, rpc.data)
      : detail === undefined
        ? errorBody(code, surface)
        : detailedBody(code, surface, detail);
  return reply.code(ERROR_CODES[code].status).type('application/json; charset=utf-8').send(body);
}

/** Fastify's content-type parser errors and the code each is answered with. */
const FASTIFY_CODES: Readonly<Record<string, WardenErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'WARDEN_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'WARDEN_ERR_PARSE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'WARDEN_ERR_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE',
};

/** Maps anything thrown during a request to a WardenError (unknown → internal). */
export function toWardenError(error: unknown): WardenError {
  if (isWardenError(error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && FASTIFY_CODES[code] !== undefined) {
    return new WardenError(FASTIFY_CODES[code] as WardenErrorCode, { reason: code.toLowerCase(), cause: error });
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 404) return new WardenError('WARDEN_ERR_NOT_FOUND', { cause: error });
    if (status === 413) return new WardenError('WARDEN_ERR_BODY_TOO_LARGE', { cause: error });
    if (status === 415) return new WardenError('WARDEN_ERR_UNSUPPORTED_MEDIA_TYPE', { cause: error });
    return new WardenError('WARDEN_ERR_INVALID_REQUEST', { reason: typeof code === 'string' ? code.toLowerCase() : 'client_error', cause: error });
  }
  return new WardenError('WARDEN_ERR_INTERNAL', { reason: 'unhandled', cause: error });
}
