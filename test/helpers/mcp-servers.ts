/**
 * The MCP servers tests run behind the warden (or, for `greetServer`, behind the official v1 SDK
 * transport on a careless node:http server): small `McpServer`s built with the official SDK v2
 * (`@modelcontextprotocol/server`), each with the one behaviour a test needs. Pass the factory as
 * `mcpServer` to `startWarden` or `useWarden` (every session gets its own instance).
 */

import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { RequestStateCodec } from '../../src/mcp/request-state.js';
import { createRequestStateTools } from '../../src/mcp/request-state-hook.js';
import { SessionCapabilities } from '../../src/mcp/session-capabilities.js';
import type { BuiltinContext } from '../../src/mcp/tools/context.js';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { sleep } from './wait.js';

/** A context for `createBuiltinServer` outside a warden: empty status, a fixed test secret. */
export function builtinContext(): BuiltinContext {
  const codec = new RequestStateCodec({ secret: new SharedSecret({ current: 'test-request-state-secret-0123456789abcdef' }), ttlSeconds: 600 });
  return { status: () => ({}) as never, configSummary: () => ({}), requestState: createRequestStateTools(codec), capabilities: new SessionCapabilities({ max: 100 }) };
}

export interface CountOptions {
  /** Pause after each progress notification (a stream a client can drop mid-way). */
  readonly delayMs?: number;
  /** Send `total: n` with each progress notification. */
  readonly reportTotal?: boolean;
}

/**
 * Adds `count {n}`: sends `notifications/progress` (token `p`) for 1..n, then answers
 * `counted to n`. With `delayMs`, n is at most 20 (bounded streams).
 */
export function addCountTool(server: McpServer, options: CountOptions = {}): McpServer {
  const { delayMs, reportTotal = false } = options;
  const n = delayMs === undefined ? z.number() : z.number().int().max(20);
  server.registerTool('count', { description: 'Counts to n, reporting progress', inputSchema: { n } }, async ({ n: count }, ctx) => {
    for (let index = 1; index <= count; index++) {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: 'p', progress: index, ...(reportTotal ? { total: count } : {}) } });
      if (delayMs !== undefined) await sleep(delayMs);
    }
    return { content: [{ type: 'text', text: `counted to ${count}` }] };
  });
  return server;
}

/** Adds `add_tool`: registers one more tool, so the engine announces `tools/list_changed` on the GET stream. */
export function addListChangingTool(server: McpServer): McpServer {
  let added = 0;
  server.registerTool('add_tool', { description: 'Registers one more tool (sends tools/list_changed)' }, () => {
    server.registerTool(`extra_${++added}`, { description: 'added later' }, () => ({ content: [{ type: 'text', text: 'hi' }] }));
    return { content: [{ type: 'text', text: 'added' }] };
  });
  return server;
}

/** `count` only, at once (no delay). */
export function progressServer(): McpServer {
  return addCountTool(new McpServer({ name: 'progress', version: '1.0.0' }));
}

/** `add_tool` only. */
export function listChangingServer(): McpServer {
  return addListChangingTool(new McpServer({ name: 'changing', version: '1.0.0' }));
}

/** `count` (slow: 60 ms per step, with totals) and `add_tool`: for resumable streams. */
export function streamingServer(): McpServer {
  return addListChangingTool(addCountTool(new McpServer({ name: 'streaming', version: '1.0.0' }), { delayMs: 60, reportTotal: true }));
}

/** `whoami`: returns the `ctx.http.authInfo` the handler was given (JSON, or `null`). */
export function whoamiServer(): McpServer {
  const server = new McpServer({ name: 'whoami', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Returns ctx.http.authInfo' }, (ctx) => ({
    content: [{ type: 'text', text: JSON.stringify(ctx.http?.authInfo ?? null) }],
  }));
  return server;
}

/**
 * Server-to-client requests: `ask_unrelated` elicits outside the request (then logs privately
 * to its session); `ask_related` elicits on the request's own stream. Each answers what happened.
 */
export function chattyServer(): McpServer {
  const server = new McpServer({ name: 'chatty', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('ask_unrelated', { description: 'Elicits outside the request, then logs' }, async (ctx) => {
    let outcome: string;
    try {
      const answer = await server.server.elicitInput({ message: `secret question for ${ctx.http?.authInfo?.clientId ?? '?'}`, requestedSchema: { type: 'object', properties: {} } });
      outcome = `answered ${JSON.stringify(answer)}`;
    } catch (error) {
      outcome = `refused: ${(error as Error).message}`;
    }
    await server.sendLoggingMessage({ level: 'info', data: `private log for ${ctx.http?.authInfo?.clientId ?? '?'}` }, ctx.sessionId);
    return { content: [{ type: 'text', text: outcome }] };
  });
  server.registerTool('ask_related', { description: 'Elicits on the request stream' }, async (ctx) => {
    try {
      const answer = await ctx.mcpReq.send({ method: 'elicitation/create', params: { message: 'q', requestedSchema: { type: 'object', properties: {} } } });
      return { content: [{ type: 'text', text: `answered ${JSON.stringify(answer)}` }] };
    } catch (error) {
      return { content: [{ type: 'text', text: `refused: ${(error as Error).message}` }] };
    }
  });
  return server;
}

/** `greet {name}`: the one tool of the careless example server the `check` audit must fail (SDK v1, served by its own v1 transport). */
export function greetServer(): V1McpServer {
  const server = new V1McpServer({ name: 'open-example', version: '0.0.1' });
  server.registerTool('greet', { description: 'Greets someone', inputSchema: { name: z.string() } }, ({ name }) => ({
    content: [{ type: 'text', text: `hello ${name}` }],
  }));
  return server;
}
