/**
 * @module http/hooks/request-log
 * One structured line per request (onResponse): method, path (never the query string, which
 * could hold a key someone pasted), MCP method and tool, status, duration, client IP, auth
 * outcome and key fingerprint. pino escapes control characters, so values cannot forge lines.
 *
 * Refused and malformed requests (those with a `failure`) are aggregated per client and
 * failure: the first of an interval gets its line, the rest are counted in one
 * `requests refused (aggregated)` line per client and failure when the interval ends (and at
 * shutdown), so a flood of 401s/403s/429s cannot drown the log. Accepted requests keep one
 * line each, and counters and metrics still count every request.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onResponseHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import { RefusalAggregator } from '../../observability/refusal-aggregator.js';
import type { ServerStats } from '../../observability/stats.js';
import { clientKey } from '../../security/client-ip.js';

const MAX_PATH = 256;

/** What the summary line of refused requests says about them (from the first one). */
export interface RefusedRequest {
  /** The client key: the IPv4 address, or the IPv6 /64 the requests were counted under. */
  readonly ip: string;
  readonly status: number;
}

/** Aggregates refused requests' log lines; see {@link createRefusedRequestLog}. */
export type RefusedRequestLog = RefusalAggregator<RefusedRequest>;

function pathOf(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

/**
 * The aggregation of refused requests' lines: summaries are written to `logger` at the end of
 * each interval and on `close()` (call it at shutdown).
 *
 * @example
 * const refusals = createRefusedRequestLog({ logger, intervalMs: 60_000 });
 * app.addHook('onResponse', createRequestLog({ stats, refusals }));
 * app.addHook('onClose', async () => refusals.close());
 */
export function createRefusedRequestLog(options: { logger: Logger; intervalMs: number; maxTracked?: number; now?: () => number }): RefusedRequestLog {
  const { logger } = options;
  return new RefusalAggregator<RefusedRequest>({
    intervalMs: options.intervalMs,
    maxTracked: options.maxTracked,
    now: options.now,
    onSummary: (summary) =>
      logger.info(
        {
          ip: summary.others ? '(others)' : summary.label.ip,
          failure: summary.kind,
          status: summary.kind === '*' ? undefined : summary.label.status,
          count: summary.count,
          from: new Date(summary.first).toISOString(),
          to: new Date(summary.last).toISOString(),
        },
        'requests refused (aggregated)',
      ),
  });
}

/**
 * True when the line of a refused request must be written (the first of its client and failure
 * in the interval, or aggregation is off); false when it was counted toward a summary line.
 */
export function logRefusal(refusals: RefusedRequestLog | undefined, ip: string, failure: string, status: number): boolean {
  if (refusals === undefined || !refusals.enabled) return true;
  const client = clientKey(ip);
  return refusals.note(failure, client, { ip: client, status });
}

export function createRequestLog(options: { stats: ServerStats; metrics?: Metrics | undefined; refusals?: RefusedRequestLog | undefined }): onResponseHookHandler {
  const { stats, metrics, refusals } = options;
  return function logRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    stats.request();
    const status = reply.statusCode;
    // The route pattern, never the raw URL: label values must stay a small, fixed set.
    metrics?.request(request.routeOptions.url ?? 'unmatched', request.method, status, reply.elapsedTime / 1000);
    const failure = request.failure;
    if (failure !== null && !logRefusal(refusals, request.ip, failure, status)) {
      done();
      return;
    }
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
      failure: failure ?? undefined,
    };
    if (status >= 500) request.log.error(line, 'request');
    else request.log.info(line, 'request');
    done();
  };
}
