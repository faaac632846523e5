/**
 * @module bench/servers/sdk-v2
 * The modern-era reference: the v2 SDK's documented HTTP setup, as in its "Serve over HTTP"
 * guide (typescript-sdk docs/serving/http.md, regions `createHandler` and `mountNode` of
 * examples/guides/serving/http.examples.ts): `createMcpHandler(factory, { legacy: 'stateless' })`
 * from `@modelcontextprotocol/server` (a fresh McpServer per request, 2025 clients served
 * statelessly, the default posture spelled out), wrapped once with `toNodeHandler` from
 * `@modelcontextprotocol/node` on plain `node:http`, behind the guide's
 * `localhostHostValidation()` / `localhostOriginValidation()` guards, bound to loopback.
 * Same `echo` tool (zod v4, as the guide; bench/lib/v2-echo.mjs). No authentication: the handler verifies no token
 * (the guide mounts a verifier in front only when one is wanted); the Bearer key the runner
 * sends is ignored, as the v1 Express reference ignores it.
 */

import { createServer } from 'node:http';
import { localhostHostValidation, localhostOriginValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { announceReady, serveRunnerProtocol } from '../lib/child.mjs';
// The factory: a fresh McpServer with `echo` (zod v4) per request, as the guide's `createHandler`.
import { echoServer } from '../lib/v2-echo.mjs';

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
