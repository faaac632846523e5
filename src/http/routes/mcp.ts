/**
 * @module http/routes/mcp
 * `POST/GET/DELETE /mcp`: adapts Fastify requests to the transport's {@link McpHttpRequest}
 * and writes its answer: a JSON body, an empty status, a mapped error, or an SSE stream on
 * the raw response (hijacked, so Fastify does not buffer it).
 */

import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { authInfoOf, type Principal } from '../../security/identity.js';
import type { StreamableHttpHandler } from '../../mcp/transport/streamable-http.js';
import type { McpHttpResponse } from '../../mcp/transport/types.js';
import { replyError } from '../error-reply.js';
import { createModernPreflight } from '../hooks/modern-preflight.js';
import type { ToolLimits } from '../hooks/tool-limits.js';

const MAX_LOGGED_METHODS = 8;
const MAX_LOGGED_NAME = 64;

/** The MCP methods and tool of a POST body, for the log line (bounded, never the arguments). */
function describeBody(body: unknown): { method: string | null; tool: string | null } {
  const messages = Array.isArray(body) ? body.slice(0, MAX_LOGGED_METHODS) : [body];
  const methods: string[] = [];
  let tool: string | null = null;
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const method = (message as { method?: unknown }).method;
    if (typeof method !== 'string') continue;
    methods.push(method.slice(0, MAX_LOGGED_NAME));
    if (method === 'tools/call' && tool === null) {
      const name = (message as { params?: { name?: unknown } }).params?.name;
      if (typeof name === 'string') tool = name.slice(0, MAX_LOGGED_NAME);
    }
  }
  return { method: methods.length > 0 ? methods.join(',') : null, tool };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function write(request: FastifyRequest, reply: FastifyReply, response: McpHttpResponse): FastifyReply | undefined {
  switch (response.kind) {
    case 'body':
      reply.code(response.status).headers(response.headers);
      return response.body === undefined ? reply.send() : reply.send(response.body);
    case 'error':
      if (response.error.status >= 500) request.log.error({ reqId: request.id, err: response.error.cause, reason: response.error.reason }, 'mcp transport error');
      return replyError(request, reply, response.error.code, response.error.reason, response.error.headers, response.error.detail, response.error.rpc);
    case 'stream': {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(response.status, { ...(reply.getHeaders() as Record<string, string>), ...response.headers });
      raw.flushHeaders();
      response.attach(raw);
      return undefined;
    }
  }
}

export interface McpRouteOptions {
  readonly handler: StreamableHttpHandler;
  readonly guards: onRequestHookHandler[];
  /**
   * Per-tool rate limits (http/hooks/tool-limits): 2026-07-28 calls are counted from `Mcp-Name`
   * before the body is read, 2025-era calls from the parsed body.
   */
  readonly toolLimits?: ToolLimits | undefined;
  /** The path (default `/mcp`; a gateway upstream alone: `/mcp/<name>`). */
  readonly url?: string;
}

export function registerMcpRoutes(app: FastifyInstance, options: McpRouteOptions): void {
  const { handler } = options;
  app.route({
    // Every method reaches the transport, which answers 405 with Allow for the ones MCP has no use for.
    method: ['POST', 'GET', 'DELETE', 'PUT', 'PATCH', 'TRACE', 'OPTIONS'],
    url: options.url ?? '/mcp',
    config: { surface: 'mcp' },
    // After authentication: scope refusals decided from modern headers, before the body is read.
    onRequest: [...options.guards, createModernPreflight(handler, options.toolLimits)],
    preHandler: options.toolLimits === undefined ? [] : [options.toolLimits.legacy],
    handler(request, reply) {
      if (request.method === 'POST') {
        const described = describeBody(request.body);
        request.mcpMethod = described.method;
        request.mcpTool = described.tool;
      }
      const principal = request.principal as Principal;
      const result = handler.handle({
        method: request.method,
        sessionId: header(request, 'mcp-session-id'),
        protocolVersion: header(request, 'mcp-protocol-version'),
        accept: header(request, 'accept'),
        contentType: header(request, 'content-type'),
        lastEventId: header(request, 'last-event-id'),
        body: request.body,
        principal,
        clientIp: request.ip,
        authInfo: authInfoOf(principal),
        headers: request.headers,
        onClose: (listener) => {
          const raw = reply.raw;
          // 'close' also fires after a complete answer; only an early one is the client going away.
          raw.once('close', () => {
            if (!raw.writableFinished) listener();
          });
        },
      });
      if (result instanceof Promise) return result.then((response) => write(request, reply, response));
      return write(request, reply, result);
    },
  });
}
