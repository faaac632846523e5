/**
 * A server-to-client message produced on one replica reaches the GET stream held by another,
 * through Redis pub/sub (two in-process replicas sharing one real Redis).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { TEST_KEY, connectClient, startWarden, type RunningWarden } from '../helpers/warden.js';

function growingServer(): McpServer {
  const server = new McpServer({ name: 'growing', version: '1.0.0' });
  server.registerTool('add_tool', { description: 'Registers one more tool (sends tools/list_changed)' }, () => {
    server.registerTool(`extra_${Math.random().toString(36).slice(2)}`, { description: 'added' }, () => ({ content: [{ type: 'text', text: 'hi' }] }));
    return { content: [{ type: 'text', text: 'added' }] };
  });
  return server;
}

describe('GET stream across replicas', () => {
  let redis: TestRedis;
  let a: RunningWarden;
  let b: RunningWarden;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startWarden({ mcpServer: growingServer, options: { redisUrl: redis.url, redisPrefix: 'streams:' } });
    b = await startWarden({ mcpServer: growingServer, options: { redisUrl: redis.url, redisPrefix: 'streams:' } });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await redis.stop();
  });

  it('a list_changed notification raised on replica B arrives on the GET stream held by replica A', async () => {
    const { client, transport } = await connectClient(a, TEST_KEY);
    const notified = new Promise<string>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve('notified')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const call = await send(b.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(TEST_KEY, { 'mcp-session-id': transport.sessionId as string, 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'add_tool', arguments: {} } }),
    });
    expect(call.json()).toMatchObject({ id: 9, result: { content: [{ text: 'added' }] } });
    await expect(Promise.race([notified, new Promise((resolve) => setTimeout(() => resolve('timeout'), 3000))])).resolves.toBe('notified');
    await client.close();
  });
});
