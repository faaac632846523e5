/**
 * @module http/hooks/modern-preflight
 * Security from headers, before the body (MCP 2026-07-28 "Standard request headers": they exist
 * so intermediaries can route, authorize and rate-limit without parsing the body). For a POST
 * that names a modern version and an `Mcp-Method`, the tool, prompt or resource in `Mcp-Name`
 * is checked against the caller's scopes here, after authentication and before the body is
 * read: an out-of-scope call is refused 403 without the server reading, parsing or dispatching
 * its body. Refusing on a header the body has not yet confirmed only ever refuses more; the
 * transport then checks every header against the body (400/-32020) and the policy checks the
 * body again, so a lying header cannot widen access.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { isModernProtocolVersion } from '../../mcp/protocol-versions.js';
import { decodeSentinel } from '../../mcp/transport/modern-headers.js';
import type { StreamableHttpHandler } from '../../mcp/transport/streamable-http.js';
import { ANONYMOUS } from '../../security/identity.js';
import { replyError } from '../error-reply.js';
import type { ToolLimits } from './tool-limits.js';

/** Longest `Mcp-Name` considered (tool names are ≤ 128; URIs get more room). */
const MAX_NAME = 2048;

/** The header value, when it is a single string. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function createModernPreflight(handler: StreamableHttpHandler, toolLimits?: ToolLimits): onRequestHookHandler {
  return function modernPreflight(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (request.method !== 'POST' || !isModernProtocolVersion(single(request.headers['mcp-protocol-version']))) {
      done();
      return;
    }
    const method = single(request.headers['mcp-method']);
    const rawName = single(request.headers['mcp-name']);
    if (method === undefined || rawName === undefined || rawName.length > MAX_NAME) {
      done();
      return;
    }
    const name = decodeSentinel(rawName.trim());
    if (name === undefined) {
      done();
      return;
    }
    const refusal = handler.headerDenial(request.principal ?? ANONYMOUS, request.ip, method, name);
    if (refusal !== undefined) {
      replyError(request, reply, 'WARDEN_ERR_INSUFFICIENT_SCOPE', refusal.reason, refusal.headers);
      return;
    }
    // Counted from the header, before the body: a flood of calls to a limited tool is refused
    // without reading one body (the transport then checks the header against the body).
    if (toolLimits !== undefined && method === 'tools/call') {
      toolLimits.consume(request, reply, name, done);
      return;
    }
    done();
  };
}
