/**
 * @module gateway/product
 * The MCP server the gateway hands mcp-warden's transport for each product the factory is
 * asked for (a 2025 session, the stateless 2025 engine, the 2026-07-28 engine, the tool
 * catalog): an SDK v2 low-level `Server` whose handlers are the gateway's {@link Operations}
 * over one {@link View}. Low-level rather than `McpServer`: the tools, prompts and resources are
 * not registered here, they are whatever the upstreams list at the time of each request.
 *
 * It advertises tools, prompts and resources with `listChanged` (an upstream's list changes are
 * relayed) and completions; an upstream without one of them simply contributes nothing. Given
 * the request-state codec, it is bound to it (`requestState.bind`, `ServerOptions.requestState`),
 * so a 2026-07-28 retry's state is verified before a handler runs (`gateway/input-rounds`).
 */

import { Server, type ServerContext } from '@modelcontextprotocol/server';
import type { RequestStateTools } from '../mcp/request-state-hook.js';
import type { SessionContext } from '../mcp/sessions.js';
import { VERSION } from '../version.js';
import type { View } from './names.js';
import type { Caller, Operations } from './operations.js';

/** What a product needs from the gateway around each request. */
export interface ProductHost {
  /** Records a request in flight: its caller, and `done` once answered. */
  enter(context: SessionContext, ctx: ServerContext, product: Server): { readonly caller: Caller; done(): void };
}

/**
 * A new server for `context`, serving `view` through `operations`.
 *
 * @example
 * const server = buildProduct(new View(['everything'], '__', true), operations, host, { sessionId, principal, era: 'legacy' });
 */
export function buildProduct(view: View, operations: Operations, host: ProductHost, context: SessionContext, requestState?: RequestStateTools): Server {
  const server = new Server(
    { name: 'mcp-warden-gateway', version: VERSION, title: view.prefixed ? 'mcp-warden gateway' : `mcp-warden gateway: ${view.upstreams[0] as string}` },
    {
      capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true }, completions: {} },
      instructions: view.prefixed
        ? `A gateway to several MCP servers; each name starts with its server's name and "${view.separator}".`
        : undefined,
      ...(requestState === undefined ? {} : { requestState: { verify: requestState.verify } }),
    },
  );
  requestState?.bind(server);
  const serve = async <T>(ctx: ServerContext, work: (caller: Caller) => Promise<T>): Promise<T> => {
    const { caller, done } = host.enter(context, ctx, server);
    try {
      return await work(caller);
    } finally {
      done();
    }
  };
  server.setRequestHandler('tools/list', (_request, ctx) => serve(ctx, (caller) => operations.listTools(view, caller)));
  server.setRequestHandler('tools/call', (request, ctx) => serve(ctx, (caller) => operations.callTool(view, caller, request.params)));
  server.setRequestHandler('prompts/list', (_request, ctx) => serve(ctx, (caller) => operations.listPrompts(view, caller)));
  server.setRequestHandler('prompts/get', (request, ctx) => serve(ctx, (caller) => operations.getPrompt(view, caller, request.params)));
  server.setRequestHandler('resources/list', (_request, ctx) => serve(ctx, (caller) => operations.listResources(view, caller)));
  server.setRequestHandler('resources/templates/list', (_request, ctx) => serve(ctx, (caller) => operations.listResourceTemplates(view, caller)));
  server.setRequestHandler('resources/read', (request, ctx) => serve(ctx, (caller) => operations.readResource(view, caller, request.params.uri)));
  server.setRequestHandler('completion/complete', (request, ctx) => serve(ctx, (caller) => operations.complete(view, caller, request.params)));
  return server;
}
