/**
 * The official SDK v2 reference setup as its README shows it: `createMcpHandler(factory)` from
 * `@modelcontextprotocol/server` wrapped with `toNodeHandler` from `@modelcontextprotocol/node`
 * on a plain node:http server (loopback, ephemeral port). With `legacy: 'stateless'` (the SDK's
 * default) it speaks 2026-07-28 and serves 2025 clients per request; with `legacy: 'reject'` it
 * speaks only 2026-07-28. As documented it checks no Origin and no key, so the audit must fail
 * those. Two variants for the audit's other verdicts:
 * - `checkOrigin`: the SDK's own Origin helper in front (`validateOriginHeader` with
 *   `localhostAllowedOrigins()`), as its docs advise for local servers → 403;
 * - `trustBody`: a careless proxy in front that rewrites `Mcp-Method`, `Mcp-Name` and
 *   `MCP-Protocol-Version` from the body, i.e. a server that acts on the body whatever the
 *   headers say (the confusion §Server Validation exists to prevent).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, localhostAllowedOrigins, McpServer, validateOriginHeader } from '@modelcontextprotocol/server';
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

export interface SdkV2ServerOptions {
  readonly legacy?: 'stateless' | 'reject';
  readonly checkOrigin?: boolean;
  readonly trustBody?: boolean;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The headers a body-trusting proxy would forward: whatever the body says. */
function headersFromBody(request: IncomingMessage, body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const { method, params } = body as { method?: unknown; params?: Record<string, unknown> };
  if (typeof method === 'string') request.headers['mcp-method'] = method;
  const name = params?.['name'] ?? params?.['uri'];
  if (typeof name === 'string') request.headers['mcp-name'] = name;
  const version = (params?.['_meta'] as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/protocolVersion'];
  if (typeof version === 'string') request.headers['mcp-protocol-version'] = version;
}

async function handleMcp(serve: ReturnType<typeof toNodeHandler>, options: SdkV2ServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (options.checkOrigin === true && !validateOriginHeader(request.headers.origin, localhostAllowedOrigins()).ok) {
    response.writeHead(403, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32000,"message":"Forbidden: Origin not allowed"}}');
    return;
  }
  if (options.trustBody === true && request.method === 'POST') {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request)) as unknown;
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}');
      return;
    }
    headersFromBody(request, body);
    await serve(request, response, body);
    return;
  }
  await serve(request, response);
}

export async function startSdkV2Server(options: SdkV2ServerOptions = {}): Promise<SdkV2Server> {
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
    handleMcp(serve, options, request, response).catch(() => {
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
