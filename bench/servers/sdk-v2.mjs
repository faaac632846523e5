/**
 * @module bench/servers/sdk-v2
 * The modern-era reference: the v2 SDK's documented HTTP setup, as in its "Serve over HTTP"
 * guide (typescript-sdk docs/serving/http.md, regions `createHandler` and `mountNode` of
 * examples/guides/serving/http.examples.ts): `createMcpHandler(factory, { legacy: 'stateless' })`
 * from `@modelcontextprotocol/server` (a fresh McpServer per request, 2025 clients served
 * statelessly, the default posture spelled out), wrapped once with `toNodeHandler` from
 * `@modelcontextprotocol/node` on plain `node:http`, behind the guide's
 * `localhostHostValidation()` / `localhostOriginValidation()` guards, bound to loopback.
 * Same `echo` tool (zod v4, as the guide). No authentication: the handler verifies no token
 * (the guide mounts a verifier in front only when one is wanted); the Bearer key the runner
 * sends is ignored, as the v1 Express reference ignores it.
 */

import { createServer } from 'node:http';
import { localhostHostValidation, localhostOriginValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { announceReady, serveRunnerProtocol } from '../lib/child.mjs';

/** The factory: one fresh instance per request, as the SDK documents. */
function echoServer() {
  const server = new McpServer({ name: 'sdk-v2-bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its input', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

const handler = createMcpHandler(() => echoServer(), { legacy: 'stateless' });
const nodeHandler = toNodeHandler(handler);
const validateHost = localhostHostValidation();
const validateOrigin = localhostOriginValidation();

const server = createServer((req, res) => {
  if (!validateHost(req, res) || !validateOrigin(req, res)) return;
  void nodeHandler(req, res);
});

server.listen(0, '127.0.0.1', () => {
  serveRunnerProtocol(async () => {
    await handler.close();
    await new Promise((resolve) => server.close(() => resolve()));
  });
  announceReady('sdk-v2-ref', server.address().port, { auth: 'none (documented setup)', responses: 'SDK default (JSON unless the tool streams)', era: 'modern requests (2026-07-28)' });
});
