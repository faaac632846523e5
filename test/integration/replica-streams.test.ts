/**
 * A server-to-client message produced on one replica reaches the GET stream held by another,
 * through Redis pub/sub (two in-process replicas sharing one real Redis).
 */

import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { countStream, openSse } from '../helpers/sse.js';
import { connectClient, TEST_KEY, useSharedWarden, useWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';
import { listChangingServer, progressServer } from '../helpers/mcp-servers.js';

describe('GET stream across replicas', () => {
  const redis = useRedis();
  const replica = () => ({ mcpServer: listChangingServer, options: { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'streams:' } });
  const a = useSharedWarden(replica);
  const b = useSharedWarden(replica);

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
  const redis = useRedis();
  it('replays a finished stream recorded on replica A from Redis when the client reconnects to replica B', async () => {
    const a = await useWarden({ mcpServer: progressServer, options: { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'resume:' } });
    const b = await useWarden({ mcpServer: progressServer, options: { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'resume:' } });
    const { stream: original, headers } = await countStream(a, { n: 3, id: 'c', key: TEST_KEY });
    await original.ended();
    await sleep(100);
    const resumed = await openSse(b.mcpUrl, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': original.events[0]?.id as string } });
    await resumed.ended();
    expect(resumed.events.map((event) => event.id)).toEqual(original.events.slice(1).map((event) => event.id));
    expect(JSON.parse(resumed.events[resumed.events.length - 1]?.data ?? '{}')).toMatchObject({ id: 'c', result: { content: [{ text: 'counted to 3' }] } });
  });
});
