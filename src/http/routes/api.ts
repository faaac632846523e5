/**
 * @module http/routes/api
 * `GET /api/tools` (the tool catalog with schemas) and `GET /api/status` (counters, memory,
 * configuration summary without secrets). Both require the API key.
 */

import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { ToolCatalog } from '../../mcp/catalog.js';
import type { ServerStats } from '../../observability/stats.js';
import { VERSION } from '../../version.js';

export interface ApiRouteOptions {
  readonly authenticate: onRequestHookHandler;
  readonly catalog: ToolCatalog;
  readonly stats: ServerStats;
  readonly configSummary: () => Readonly<Record<string, unknown>>;
}

export function registerApiRoutes(app: FastifyInstance, options: ApiRouteOptions): void {
  const { catalog, stats } = options;

  app.get('/api/tools', { onRequest: options.authenticate }, async () => {
    const tools = await catalog.list();
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

  app.get('/api/status', { onRequest: options.authenticate }, async () => {
    const snapshot = stats.snapshot();
    return {
      status: 'ok',
      version: VERSION,
      ...snapshot,
      forbidden: stats.forbidden,
      tools: stats.toolSummary(),
      config: options.configSummary(),
    };
  });
}
