/**
 * @module http/routes/api
 * `GET /api/tools` (the tool catalog with schemas: all of it for an operator, else only the
 * tools the caller may call) and `GET /api/status` (counters, memory, sessions, listen streams, bans, recent
 * security events and a configuration summary without secrets; operator credentials only).
 */

import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { ToolCatalog } from '../../mcp/catalog.js';
import type { ServerStats } from '../../observability/stats.js';
import { VERSION } from '../../version.js';

export interface ApiRouteOptions {
  /** Authentication and the credential's limits. */
  readonly guards: onRequestHookHandler[];
  /** `guards`, then the operator role. */
  readonly operatorGuards: onRequestHookHandler[];
  readonly catalog: ToolCatalog;
  readonly stats: ServerStats;
  readonly configSummary: () => Readonly<Record<string, unknown>>;
  /** Live security state: key counts, bans, recent events, audit chain head. */
  readonly securityStatus: () => Readonly<Record<string, unknown>>;
}

export function registerApiRoutes(app: FastifyInstance, options: ApiRouteOptions): void {
  const { catalog, stats } = options;

  app.get('/api/tools', { onRequest: options.guards }, async (request) => {
    const tools = await catalog.visibleTo(request.principal);
    return {
      count: tools.length,
      tools: tools.map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: tool.annotations,
      })),
    };
  });

  app.get('/api/status', { onRequest: options.operatorGuards }, async () => {
    const snapshot = stats.snapshot();
    return {
      status: 'ok',
      version: VERSION,
      ...snapshot,
      listenStreams: stats.listenStreams(),
      forbidden: stats.forbidden,
      scopeDenials: stats.scopeDenials,
      tools: stats.toolSummary(),
      security: options.securityStatus(),
      config: options.configSummary(),
    };
  });
}
