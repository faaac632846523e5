/**
 * A deliberately careless MCP server for the audit to fail: the official SDK's
 * `StreamableHTTPServerTransport` and `McpServer` on a plain node:http server, written the
 * way many examples are: no authentication, no Origin check, `Access-Control-Allow-Origin: *`,
 * `X-Powered-By`, and (optionally) a stack trace in the answer to malformed JSON.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { greetServer } from '../helpers/mcp-servers.js';

export interface OpenServer {
  readonly url: string;
  readonly mcpUrl: string;
  /** Requests received so far (to keep the audit's load bounded and visible). */
  requests(): number;
  stop(): Promise<void>;
}

export interface OpenServerOptions {
  /** Answer malformed JSON with 500 and the parser's stack trace. */
  readonly leakStack?: boolean;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startOpenServer(options: OpenServerOptions = {}): Promise<OpenServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let requests = 0;

  async function handleMcp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const sessionId = request.headers['mcp-session-id'];
    let body: unknown;
    if (request.method === 'POST') {
      const text = await readBody(request);
      try {
        body = JSON.parse(text);
      } catch (error) {
        if (options.leakStack === true) json(response, 500, { error: (error as Error).stack });
        else json(response, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
        return;
      }
    }
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (transport === undefined && sessionId === undefined && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, created),
      });
      created.onclose = () => {
        if (created.sessionId !== undefined) transports.delete(created.sessionId);
      };
      await greetServer().connect(created);
      transport = created;
    }
    if (transport === undefined) {
      // As in the SDK's own example server: an unknown session is a 400, not a 404.
      json(response, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      return;
    }
    await transport.handleRequest(request, response, body);
  }

  const server: Server = createServer((request, response) => {
    requests++;
    response.setHeader('x-powered-by', 'Express');
    response.setHeader('access-control-allow-origin', '*');
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method === 'OPTIONS') {
      response.writeHead(204, { 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET,POST,DELETE' }).end();
    } else if (path === '/health' && request.method === 'GET') {
      json(response, 200, { status: 'ok' });
    } else if (path === '/mcp') {
      handleMcp(request, response).catch(() => {
        if (!response.headersSent) json(response, 500, { error: 'internal' });
      });
    } else {
      response.writeHead(404, { 'content-type': 'text/html' }).end(`Cannot ${request.method} ${path}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    mcpUrl: `${url}/mcp`,
    requests: () => requests,
    stop: async () => {
      for (const transport of transports.values()) await transport.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
