/**
 * `subscriptions/listen` (MCP 2026-07-28) against the real server: the acknowledged subset
 * (capabilities and the caller's resource scope), changes from the modern engine (a tool
 * registered at run time), from `warden.notify` and from another replica, exactly once and only
 * to the streams that asked, the caps (429 before any stream), the graceful end when the
 * credential ends or the server stops, and the official v2 client's `listen()`.
 */

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it, onTestFinished } from 'vitest';
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { manualClock } from '../helpers/clock.js';
import { apiStatus, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { openSse, type SseConnection } from '../helpers/sse.js';
import { within } from '../helpers/wait.js';
import { stillServing, TEST_KEY, useSharedWarden, useWarden, type RunningWarden } from '../helpers/warden.js';

const MODERN = '2026-07-28';
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'listen-test', version: '1.0.0' },
};

type Filter = Record<string, unknown>;

function listenRequest(key: string, id: string | number, notifications: Filter | undefined, headers: Record<string, string> = {}): { method: string; headers: Record<string, string>; body: string } {
  const params = notifications === undefined ? { _meta: META } : { _meta: META, notifications };
  return {
    method: 'POST',
    headers: mcpHeaders(key, { 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen', ...headers }),
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params }),
  };
}

/** Opens a listen stream; dropped when the test ends, whatever happened. */
async function listen(warden: RunningWarden, key: string, id: string | number, notifications: Filter): Promise<SseConnection> {
  const stream = await openSse(warden.mcpUrl, listenRequest(key, id, notifications));
  onTestFinished(() => stream.close());
  return stream;
}

function messages(stream: SseConnection): Array<Record<string, unknown>> {
  return stream.events.map((event) => JSON.parse(event.data) as Record<string, unknown>);
}

/** The messages after the ack, as `method uri` lines (or `result` for the graceful end). */
function after(stream: SseConnection): string[] {
  return messages(stream)
    .slice(1)
    .map((message) => ('method' in message ? `${message['method'] as string}${(message['params'] as { uri?: string }).uri === undefined ? '' : ` ${(message['params'] as { uri: string }).uri}`}` : 'result'));
}

/**
 * A library server (SDK v2) with tools and subscribable resources, no prompts; every instance
 * the factory builds is kept, so a test can change them at run time.
 */
function libraryServer(instances: McpServer[]): () => McpServer {
  return () => {
    const server = new McpServer({ name: 'listen-lib', version: '1.0.0' }, { capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true } } });
    server.registerTool('first', { description: 'There from the start' }, () => ({ content: [{ type: 'text', text: 'first' }] }));
    server.registerResource('a', 'test://a', {}, async () => ({ contents: [{ uri: 'test://a', text: 'a' }] }));
    instances.push(server);
    return server;
  };
}

/** Registers a tool on every instance built so far (as an app whose tools change for everyone would). */
function addTool(instances: McpServer[], name: string): void {
  for (const server of instances) server.registerTool(name, { description: 'added at run time' }, () => ({ content: [{ type: 'text', text: name }] }));
}

function expectGracefulEnd(message: Record<string, unknown> | undefined, id: string | number): void {
  expect(message).toMatchObject({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: id } } });
  expect(message).not.toHaveProperty('method');
}

function expectRefusal(response: RawResponse, status: number, code: number, id: string | number): void {
  expect(response.status).toBe(status);
  expect(response.json()).toMatchObject({ jsonrpc: '2.0', id, error: { code } });
}

/** True when the library server still answers a modern `tools/call` of its `first` tool. */
async function libraryServing(warden: RunningWarden, key: string): Promise<boolean> {
  const response = await send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(key, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'first' }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 'alive', method: 'tools/call', params: { _meta: META, name: 'first', arguments: {} } }),
  });
  return response.status === 200 && response.text.includes('"first"');
}

async function listenCount(warden: RunningWarden): Promise<number> {
  return (await apiStatus(warden, TEST_KEY)).json<{ listenStreams: number }>().listenStreams;
}

describe('subscriptions/listen on one server', () => {
  const instances: McpServer[] = [];
  const path = tempKeysPath('warden-listen-');
  const reader = addKey(path, { name: 'reader' });
  const warden = useSharedWarden({ mcpServer: libraryServer(instances), operatorOnly: { resourcePrefixes: ['test://admin/'] }, options: { keysFile: path } });

  it('acknowledges first, with the subscription id and only the subset the engine advertises and the scope allows', async () => {
    const stream = await listen(warden, reader.key, 'L-1', {
      toolsListChanged: true,
      promptsListChanged: true,
      resourcesListChanged: false,
      resourceSubscriptions: ['test://a', 'test://a', 'test://admin/secret'],
      someFutureField: true,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    const [ack] = await stream.waitFor(1);
    expect(JSON.parse(ack?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      // No prompts on this server; the operator-only URI is out of this key's scope; duplicates kept once.
      params: { _meta: { [SUBSCRIPTION_ID]: 'L-1' }, notifications: { toolsListChanged: true, resourceSubscriptions: ['test://a'] } },
    });
    // A numeric id is the subscription id as it is.
    const numbered = await listen(warden, reader.key, 7, { toolsListChanged: true });
    expect(JSON.parse((await numbered.waitFor(1))[0]?.data ?? '')).toMatchObject({ params: { _meta: { [SUBSCRIPTION_ID]: 7 } } });
    numbered.close();
    stream.close();
  });

  it('an operator key keeps the operator-only URI; a refused URI is never announced to the key that may not read it', async () => {
    const reading = await listen(warden, reader.key, 'scoped', { resourceSubscriptions: ['test://admin/secret', 'test://a'] });
    const operating = await listen(warden, TEST_KEY, 'operator', { resourceSubscriptions: ['test://admin/secret', 'test://a'] });
    expect(JSON.parse((await reading.waitFor(1))[0]?.data ?? '')).toMatchObject({ params: { notifications: { resourceSubscriptions: ['test://a'] } } });
    expect(JSON.parse((await operating.waitFor(1))[0]?.data ?? '')).toMatchObject({ params: { notifications: { resourceSubscriptions: ['test://admin/secret', 'test://a'] } } });
    warden.server.notify.resourceUpdated('test://admin/secret');
    warden.server.notify.resourceUpdated('test://a');
    await reading.waitFor(2);
    await operating.waitFor(3);
    expect(after(reading)).toEqual(['notifications/resources/updated test://a']);
    expect(after(operating)).toEqual(['notifications/resources/updated test://admin/secret', 'notifications/resources/updated test://a']);
    reading.close();
    operating.close();
  });

  it('a tool registered at run time on the library server reaches the streams that asked for tool changes, with the subscription id', async () => {
    const tools = await listen(warden, reader.key, 'tools', { toolsListChanged: true });
    const resources = await listen(warden, reader.key, 'resources', { resourceSubscriptions: ['test://a'] });
    await tools.waitFor(1);
    await resources.waitFor(1);
    addTool(instances, 'late_tool');
    const [, changed] = await tools.waitFor(2);
    expect(JSON.parse(changed?.data ?? '')).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { [SUBSCRIPTION_ID]: 'tools' } } });
    // The resource stream did not ask for tool changes: its next message is the next resource update.
    warden.server.notify.resourceUpdated('test://a');
    await resources.waitFor(2);
    expect(after(resources)).toEqual(['notifications/resources/updated test://a']);
    expect(JSON.parse(resources.events[1]?.data ?? '')).toEqual({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { _meta: { [SUBSCRIPTION_ID]: 'resources' }, uri: 'test://a' } });
    tools.close();
    resources.close();
  });

  it('warden.notify reaches the streams that asked; a resource update only the streams subscribed to that URI', async () => {
    const onA = await listen(warden, reader.key, 'on-a', { resourceSubscriptions: ['test://a'], resourcesListChanged: true });
    const onB = await listen(warden, reader.key, 'on-b', { resourceSubscriptions: ['test://b'] });
    await onA.waitFor(1);
    await onB.waitFor(1);
    warden.server.notify.resourceUpdated('test://b');
    warden.server.notify.resourcesListChanged();
    warden.server.notify.resourceUpdated('test://a');
    await onA.waitFor(3);
    await onB.waitFor(2);
    expect(after(onA)).toEqual(['notifications/resources/list_changed', 'notifications/resources/updated test://a']);
    expect(after(onB)).toEqual(['notifications/resources/updated test://b']);
    expect(() => warden.server.notify.resourceUpdated('')).toThrow(TypeError);
    onA.close();
    onB.close();
  });

  it('a filter with nothing honoured is acknowledged and ended at once with the graceful result', async () => {
    const stream = await listen(warden, reader.key, 'nothing', { promptsListChanged: true, resourceSubscriptions: ['test://admin/x'] });
    await stream.ended();
    const [ack, end] = messages(stream);
    expect(ack).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: {} } });
    expectGracefulEnd(end, 'nothing');
    expect(messages(stream)).toHaveLength(2);
  });

  it('refuses a client that does not accept SSE (406) and a bad filter (400/-32602), and still serves', async () => {
    expectRefusal(await send(warden.mcpUrl, listenRequest(reader.key, 'json', { toolsListChanged: true }, { accept: 'application/json' })), 406, -32000, 'json');
    expectRefusal(await send(warden.mcpUrl, listenRequest(reader.key, 'none', undefined)), 400, -32602, 'none');
    expectRefusal(await send(warden.mcpUrl, listenRequest(reader.key, 'typed', { toolsListChanged: 'yes' })), 400, -32602, 'typed');
    const many = Array.from({ length: 257 }, (_, index) => `test://r${index}`);
    expectRefusal(await send(warden.mcpUrl, listenRequest(reader.key, 'many', { resourceSubscriptions: many })), 400, -32602, 'many');
    // Header checks come first: a listen without Mcp-Method is a header mismatch.
    const noMethod = listenRequest(reader.key, 'hdr', { toolsListChanged: true });
    delete noMethod.headers['mcp-method'];
    expectRefusal(await send(warden.mcpUrl, noMethod), 400, -32020, 'hdr');
    expect(await libraryServing(warden, reader.key)).toBe(true);
  });

  it('a stream the client closes is forgotten (listenStreams in /api/status)', async () => {
    await within(2000, async () => (await listenCount(warden)) === 0);
    const stream = await listen(warden, reader.key, 'counted', { toolsListChanged: true });
    await stream.waitFor(1);
    expect(await listenCount(warden)).toBe(1);
    stream.close();
    await within(2000, async () => (await listenCount(warden)) === 0);
  });
});

describe('caps', () => {
  it('over the per-key cap, then over the total cap: 429 with Retry-After before any stream; a closed stream frees its slot', async () => {
    const path = tempKeysPath('warden-listen-caps-');
    const one = addKey(path, { name: 'one' });
    const two = addKey(path, { name: 'two' });
    const warden = await useWarden({ options: { keysFile: path, maxListenStreams: 3, maxListenPerKey: 2 } });
    const first = await listen(warden, one.key, 1, { toolsListChanged: true });
    await listen(warden, one.key, 2, { toolsListChanged: true });
    const refused = await send(warden.mcpUrl, listenRequest(one.key, 3, { toolsListChanged: true }));
    expectRefusal(refused, 429, -32000, 3);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    await listen(warden, two.key, 4, { toolsListChanged: true });
    // Three open: the total cap refuses the other key too, which has only one.
    expectRefusal(await send(warden.mcpUrl, listenRequest(two.key, 5, { toolsListChanged: true })), 429, -32000, 5);
    expect(await stillServing(warden)).toBe(true);
    first.close();
    await within(2000, async () => (await listenCount(warden)) === 2);
    const again = await listen(warden, one.key, 6, { toolsListChanged: true });
    expect(again.status).toBe(200);
    await again.waitFor(1);
  });

  it('defaults to the session caps', async () => {
    const warden = await useWarden({ options: { maxSessions: 7, maxSessionsPerKey: 3 } });
    expect(warden.server.config.sessions.maxListen).toBe(7);
    expect(warden.server.config.sessions.maxListenPerKey).toBe(3);
    const summary = (await apiStatus(warden, warden.key)).json<{ config: { sessions: Record<string, unknown> } }>().config.sessions;
    expect(summary).toMatchObject({ maxListenStreams: 7, maxListenPerKey: 3, capsArePer: 'replica' });
  });
});

describe('a stream ends gracefully when its credential ends or the server stops', () => {
  it('keys revoke (keys file) ends the key\u2019s stream within a second with the graceful result; other keys\u2019 streams go on', async () => {
    const path = tempKeysPath('warden-listen-revoke-');
    const victim = addKey(path, { name: 'victim' });
    const bystander = addKey(path, { name: 'bystander' });
    const warden = await useWarden({ options: { keysFile: path } });
    const stream = await listen(warden, victim.key, 'v', { toolsListChanged: true });
    const other = await listen(warden, bystander.key, 'b', { toolsListChanged: true });
    await stream.waitFor(1);
    await other.waitFor(1);
    const revokedAt = Date.now();
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === victim.record.id) as KeyFileRecord).disabled = true;
    });
    await stream.ended(1500);
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    expect(messages(stream)).toHaveLength(2);
    expectGracefulEnd(messages(stream)[1], 'v');
    await expect(other.ended(300)).rejects.toThrow(/did not end/);
    expect((await send(warden.mcpUrl, listenRequest(victim.key, 'again', { toolsListChanged: true }))).status).toBe(401);
    warden.server.notify.toolsListChanged();
    await other.waitFor(2);
    expect(after(other)).toEqual(['notifications/tools/list_changed']);
    expect(await stillServing(warden)).toBe(true);
  });

  it('a key reaching its expiry on the clock ends its stream at the next check, not before', async () => {
    const clock = manualClock();
    const path = tempKeysPath('warden-listen-expiry-');
    const shortLived = addKey(path, { name: 'short', expiresAt: clock.now() + 60_000 });
    const warden = await useWarden({ clock: clock.now, options: { keysFile: path } });
    const stream = await listen(warden, shortLived.key, 9, { toolsListChanged: true });
    await stream.waitFor(1);
    clock.advance(59_000);
    await expect(stream.ended(700)).rejects.toThrow(/did not end/);
    clock.advance(1_000);
    await stream.ended(1000);
    expectGracefulEnd(messages(stream)[1], 9);
    expect(await stillServing(warden)).toBe(true);
  });

  it('shutdown ends every stream with the graceful result', async () => {
    const warden = await useWarden();
    const stream = await listen(warden, warden.key, 'bye', { toolsListChanged: true });
    await stream.waitFor(1);
    const stopping = warden.stop();
    await stream.ended(3000);
    await stopping;
    expectGracefulEnd(messages(stream)[1], 'bye');
  });
});

describe('across replicas (Redis)', () => {
  const redis = useRedis();
  const instancesA: McpServer[] = [];
  const replica = (instances: McpServer[]) => () => ({ mcpServer: libraryServer(instances), options: { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'listen:' } });
  const a = useSharedWarden(replica(instancesA));
  const b = useSharedWarden(replica([]));

  it('a change on replica A reaches a listen stream on replica B exactly once, and A\u2019s own stream once', async () => {
    const onB = await listen(b, TEST_KEY, 'on-b', { toolsListChanged: true, resourceSubscriptions: ['test://a', 'test://end'] });
    const onA = await listen(a, TEST_KEY, 'on-a', { toolsListChanged: true, resourceSubscriptions: ['test://a', 'test://end'] });
    await onB.waitFor(1);
    await onA.waitFor(1);
    // The modern engine of A announces a tool registered at run time; warden.notify on A a resource.
    addTool(instancesA, 'replicated_tool');
    a.server.notify.resourceUpdated('test://a');
    // A's last change: once it arrived, anything echoed of the earlier ones would have come before it.
    a.server.notify.resourceUpdated('test://end');
    await onB.waitFor(4);
    await onA.waitFor(4);
    // B's own change, the other way round: a round trip after which a loop would show.
    b.server.notify.resourceUpdated('test://end');
    await onA.waitFor(5);
    await onB.waitFor(5);
    const expected = ['notifications/tools/list_changed', 'notifications/resources/updated test://a', 'notifications/resources/updated test://end', 'notifications/resources/updated test://end'];
    expect(after(onB)).toEqual(expected);
    expect(after(onA)).toEqual(expected);
    for (const message of messages(onB).slice(1)) expect(message).toMatchObject({ params: { _meta: { [SUBSCRIPTION_ID]: 'on-b' } } });
    onA.close();
    onB.close();
  });
});

describe('the official v2 client pinned to 2026-07-28', () => {
  it('listen() gets the honoured filter and the changes through its notification handlers; close() frees the stream; the server\u2019s stop is a graceful close', async () => {
    const instances: McpServer[] = [];
    const warden = await useWarden({ mcpServer: libraryServer(instances) });
    const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${warden.key}` } } });
    const client = new Client({ name: 'listen-v2', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe('modern');
    const changes: string[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', () => void changes.push('tools'));
    client.setNotificationHandler('notifications/resources/updated', (notification) => void changes.push(`updated ${notification.params.uri}`));
    const subscription = await client.listen({ toolsListChanged: true, promptsListChanged: true, resourceSubscriptions: ['test://a'] });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true, resourceSubscriptions: ['test://a'] });
    addTool(instances, 'seen_by_v2');
    warden.server.notify.resourceUpdated('test://a');
    await within(2000, () => changes.length === 2);
    expect(changes).toEqual(['tools', 'updated test://a']);
    // A second subscription the client closes itself: the server forgets its stream.
    const second = await client.listen({ resourcesListChanged: true });
    expect(await listenCount(warden)).toBe(2);
    await second.close();
    await expect(second.closed).resolves.toBe('local');
    await within(2000, async () => (await listenCount(warden)) === 1);
    await warden.stop();
    await expect(subscription.closed).resolves.toBe('graceful');
    await client.close();
  });
});
