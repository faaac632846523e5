/**
 * @module bench/servers/fastmcp
 * FastMCP with its `httpStream` transport and an `authenticate` function checking the Bearer
 * key, same `echo` tool (zod). FastMCP's defaults otherwise (SSE-framed answers to POST, its
 * keep-alive ping), as its README shows `start({ transportType: 'httpStream' })`.
 */

import { createServer as createNetServer } from 'node:net';
import { FastMCP } from 'fastmcp';
import { z } from 'zod';
import { announceReady, benchKey, serveRunnerProtocol } from '../lib/child.mjs';

/** FastMCP does not report the port it bound, so pick a free one first (loopback, tiny race). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const expected = `Bearer ${benchKey()}`;
const quiet = { debug() {}, error: console.error, info() {}, log() {}, warn() {} };

const server = new FastMCP({
  name: 'fastmcp-bench',
  version: '1.0.0',
  logger: quiet,
  authenticate: async (request) => {
    if (request.headers.authorization !== expected) {
      throw new Response(null, { status: 401, statusText: 'Unauthorized' });
    }
    return { id: 'bench' };
  },
});

server.addTool({
  name: 'echo',
  description: 'Returns its input',
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => text,
});

const port = await freePort();
await server.start({ transportType: 'httpStream', httpStream: { port, host: '127.0.0.1' } });
serveRunnerProtocol(() => server.stop());
announceReady('fastmcp', port, { auth: 'authenticate() Bearer check', responses: 'FastMCP default (SSE-framed)' });
