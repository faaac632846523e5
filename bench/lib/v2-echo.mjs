/**
 * @module bench/lib/v2-echo
 * The bench's `echo` tool on a fresh v2 `McpServer` (zod v4 input schema, as the v2 SDK's
 * guides write it): the factory of the sdk-v2-ref server and of the engine micro-benchmark.
 */

import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

/** A fresh instance with `echo` registered; the SDK's handler calls it once per request. */
export function echoServer() {
  const server = new McpServer({ name: 'sdk-v2-bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its input', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}
