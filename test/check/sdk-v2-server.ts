/**
 * The official SDK v2 reference setup as its README shows it: `createMcpHandler(factory)` from
 * `@modelcontextprotocol/server` wrapped with `toNodeHandler` from `@modelcontextprotocol/node`
 * on a plain node:http server (loopback, ephemeral port). With `legacy: 'stateless'` (the SDK's
 * default) it speaks 2026-07-28 and serves 2025 clients per request; with `legacy: 'reject'` it
 * speaks only 2026-07-28. It checks no Origin and no key, so the audit must fail those.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

export interface SdkV2Server {
  readonly url: string;
  readonly mcpUrl: string;
  /** Requests received so far (to keep the audit's load bounded and visible). */
  requests(): number;
  stop(): Promise<void>;
}

/** `greet {name}`, the same tool as the careless v1 example server. */
function greetV2(): McpServer {
  const server = new McpServer({ name: 'sdk-v2-reference', version: '0.0.1' });
  server.registerTool('greet', { description: 'Greets someone', inputSchema: { name: z.string() } }, ({ name }) => ({
    content: [{ type: 'text', text: `hello ${name}` }],
  }));
  return server;
}

export async function startSdkV2Server(options: { legacy?: 'stateless' | 'reject' } = {}): Promise<SdkV2Server> {
  const handler = createMcpHandler(greetV2, { legacy: options.legacy ?? 'stateless' });
  const serve = toNodeHandler(handler);
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests++;
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/health' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path !== '/mcp') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    serve(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    mcpUrl: `${url}/mcp`,
    requests: () => requests,
    stop: async () => {
      await handler.close?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
