/**
 * @module http/hooks/request-log
 * One structured line per request (onResponse): method, path (never the query string, which
 * could hold a key someone pasted), MCP method and tool, status, duration, client IP, auth
 * outcome and key fingerprint. pino escapes control characters, so values cannot forge lines.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import type { ServerStats } from '../../observability/stats.js';

const MAX_PATH = 256;

function pathOf(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

export function createRequestLog(options: { stats: ServerStats; metrics?: Metrics | undefined }) {
  const { stats, metrics } = options;
  return function logRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    stats.request();
    const status = reply.statusCode;
    // The route pattern, never the raw URL: label values must stay a small, fixed set.
    metrics?.request(request.routeOptions.url ?? 'unmatched', request.method, status, reply.elapsedTime / 1000);
    const line = {
      reqId: request.id,
      method: request.method,
      path: pathOf(request.url),
      mcpMethod: request.mcpMethod ?? undefined,
      tool: request.mcpTool ?? undefined,
      status,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      ip: request.ip,
      auth: request.authOutcome,
      keyId: request.principal?.id,
      failure: request.failure ?? undefined,
    };
    if (status >= 500) request.log.error(line, 'request');
    else request.log.info(line, 'request');
    done();
  };
}
