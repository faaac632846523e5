/**
 * @module bench/servers/sdk-express
 * The reference: the official SDK's documented stateful Streamable HTTP setup on Express
 * (createMcpExpressApp + StreamableHTTPServerTransport with a session id generator and a
 * transports map, JSON responses), as in the SDK's jsonResponseStreamableHttp example, minus
 * its per-request console.log. Same `echo` tool, registered with zod. No authentication (the
 * documented setup has none); the SDK's localhost Host-header validation is on.
 */

import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { announceReady, serveRunnerProtocol } from '../lib/child.mjs';

function getServer() {
  const server = new McpServer({ name: 'sdk-express-bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its input', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

const app = createMcpExpressApp();
/** @type {Record<string, StreamableHTTPServerTransport>} */
const transports = {};

app.post('/mcp', async (req, res) => {
  try {
    const sessionId = req.headers['mcp-session-id'];
    let transport;
    if (typeof sessionId === 'string' && transports[sessionId] !== undefined) {
      transport = transports[sessionId];
    } else if (sessionId === undefined && isInitializeRequest(req.body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => {
          transports[id] = transport;
        },
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) delete transports[transport.sessionId];
      };
      await getServer().connect(transport);
    } else {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      return;
    }
    await transport.handleRequest(req, res, req.body);
  } catch {
    if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  serveRunnerProtocol(() => new Promise((resolve) => server.close(() => resolve())));
  announceReady('sdk-express', server.address().port, { auth: 'none (documented setup)', responses: 'JSON (enableJsonResponse)' });
});
