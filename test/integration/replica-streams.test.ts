/**
 * A server-to-client message produced on one replica reaches the GET stream held by another,
 * through Redis pub/sub (two in-process replicas sharing one real Redis).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { TEST_SHARED_SECRET, startRedis, type TestRedis } from '../helpers/redis.js';
import { z } from 'zod';
import { openSse } from '../helpers/sse.js';
import { TEST_KEY, connectClient, openSession, startWarden, type RunningWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';

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
    a = await startWarden({ mcpServer: growingServer, options: { redisUrl: redis.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'streams:' } });
    b = await startWarden({ mcpServer: growingServer, options: { redisUrl: redis.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'streams:' } });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await redis.stop();
  });

  it('a list_changed notification raised on replica B arrives on the GET stream held by replica A', async () => {
    const { client, transport } = await connectClient(a, TEST_KEY);
    const notified = new Promise<string>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve('notified')));
    await sleep(200);
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

describe('resuming a stream on another replica', () => {
  it('replays a finished stream recorded on replica A from Redis when the client reconnects to replica B', async () => {
    const redis = await startRedis();
    const factory = () => {
      const server = new McpServer({ name: 'progress', version: '1.0.0' });
      server.registerTool('count', { description: 'progress', inputSchema: { n: z.number() } }, async ({ n }, extra) => {
        for (let index = 1; index <= n; index++) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: 'p', progress: index } });
        return { content: [{ type: 'text', text: `counted to ${n}` }] };
      });
      return server;
    };
    const a = await startWarden({ mcpServer: factory, options: { redisUrl: redis.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'resume:' } });
    const b = await startWarden({ mcpServer: factory, options: { redisUrl: redis.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'resume:' } });
    const session = await openSession(a);
    const headers = mcpHeaders(TEST_KEY, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
    const original = await openSse(a.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'count', arguments: { n: 3 }, _meta: { progressToken: 'p' } } }),
    });
    await original.ended();
    await sleep(100);
    const resumed = await openSse(b.mcpUrl, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': original.events[0]?.id as string } });
    await resumed.ended();
    expect(resumed.events.map((event) => event.id)).toEqual(original.events.slice(1).map((event) => event.id));
    expect(JSON.parse(resumed.events[resumed.events.length - 1]?.data ?? '{}')).toMatchObject({ id: 'c', result: { content: [{ text: 'counted to 3' }] } });
    await a.stop();
    await b.stop();
    await redis.stop();
  });
});
