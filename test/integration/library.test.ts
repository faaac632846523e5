/**
 * The library API: `createServer` serving the caller's own SDK `McpServer`, through the
 * official client: streamed progress (SSE), server-to-client requests on the request's
 * stream, list-changed notifications on the GET stream, JSON-only clients, stateless mode,
 * and graceful stop with a request in flight.
 */

import { describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/server';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import { mcpHeaders, send, sseMessages } from '../helpers/http.js';
import { connectClient, openSession, useSharedWarden, useWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';


/** A custom server exercising streaming features. */
function customServer(): McpServer {
  const server = new McpServer({ name: 'custom', version: '2.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('count', { description: 'Counts to n, reporting progress', inputSchema: { n: z.number().int().min(1).max(20) } }, async ({ n }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let index = 1; index <= n; index++) {
      if (token !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: index, total: n } });
      }
      await sleep(5);
    }
    return { content: [{ type: 'text', text: `counted to ${n}` }] };
  });
  server.registerTool('ask_model', { description: 'Asks the client to sample', inputSchema: { question: z.string() } }, async ({ question }, ctx) => {
    const answer = await ctx.mcpReq.send({
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: { type: 'text', text: question } }], maxTokens: 10 },
    });
    return { content: [{ type: 'text', text: `model said: ${(answer.content as { text: string }).text}` }] };
  });
  server.registerTool('add_tool', { description: 'Registers one more tool' }, () => {
    server.registerTool(`extra_${Date.now()}`, { description: 'added later' }, () => ({ content: [{ type: 'text', text: 'hi' }] }));
    return { content: [{ type: 'text', text: 'added' }] };
  });
  server.registerTool('leaky', { description: 'Throws an error carrying a path' }, async () => {
    throw new Error("ENOENT: no such file or directory, open '/srv/secret/config/db.yaml'");
  });
  server.registerTool('slow', { description: 'Answers after a delay', inputSchema: { ms: z.number().int().max(5000) } }, async ({ ms }) => {
    await sleep(ms);
    return { content: [{ type: 'text', text: `slept ${ms}` }] };
  });
  return server;
}

describe('library API with a custom McpServer', () => {
  const warden = useSharedWarden({ mcpServer: () => customServer() });

  it('serves the caller\u2019s tools with the same security', async () => {
    const { client } = await connectClient(warden);
    expect(client.getServerVersion()).toMatchObject({ name: 'custom', version: '2.0.0' });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['count', 'ask_model', 'add_tool', 'leaky', 'slow']);
    await client.close();
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders('wrong-key-0123456789abcdef'), body: '{}' })).status).toBe(401);
  });

  it('a tool that throws gives the client a generic tool error; the reason goes to the log', async () => {
    const { client } = await connectClient(warden);
    const result = await client.callTool({ name: 'leaky', arguments: {} });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: 'text', text: 'The tool failed; the server logged the reason' }]);
    expect(JSON.stringify(result)).not.toContain('/srv/secret');
    expect(warden.logs().some((line) => line['msg'] === 'a tool handler threw; the client got a generic tool error' && String(line['detail']).includes('/srv/secret'))).toBe(true);
    // The SDK's own errors still read as before.
    expect((await client.callTool({ name: 'count', arguments: { n: 'x' } })).content).toEqual([{ type: 'text', text: 'Invalid arguments for tool count; see its inputSchema' }]);
    await client.close();
  });

  it('streams progress notifications over SSE, then the result', async () => {
    const { client } = await connectClient(warden);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'count', arguments: { n: 5 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(result.content).toEqual([{ type: 'text', text: 'counted to 5' }]);
    await client.close();
  });

  it('answers a plain request with JSON and a streaming one with SSE', async () => {
    const session = await openSession(warden);
    const headers = mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
    const plain = await send(warden.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(plain.headers['content-type']).toMatch(/^application\/json/);
    const streamed = await send(warden.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'count', arguments: { n: 3 }, _meta: { progressToken: 'p' } } }),
    });
    expect(streamed.headers['content-type']).toBe('text/event-stream');
    expect(streamed.headers['mcp-session-id']).toBe(session.sessionId);
    expect(streamed.headers['x-content-type-options']).toBe('nosniff');
    const messages = sseMessages(streamed.text) as Array<Record<string, unknown>>;
    expect(messages.map((message) => message['method'] ?? 'response')).toEqual(['notifications/progress', 'notifications/progress', 'notifications/progress', 'response']);
    expect(messages[3]).toMatchObject({ id: 2, result: { content: [{ text: 'counted to 3' }] } });
  });

  it('a client that accepts only JSON gets the result without the progress', async () => {
    const session = await openSession(warden);
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version, accept: 'application/json' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 'j', method: 'tools/call', params: { name: 'count', arguments: { n: 2 }, _meta: { progressToken: 1 } } }),
    });
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ id: 'j', result: { content: [{ text: 'counted to 2' }] } });
  });

  it('a client that accepts only SSE gets even a plain answer as a stream', async () => {
    const session = await openSession(warden);
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version, accept: 'text/event-stream' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 's', method: 'ping' }),
    });
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(sseMessages(response.text)).toEqual([{ jsonrpc: '2.0', id: 's', result: {} }]);
  });

  it('carries a server-to-client request (sampling) on the request\u2019s stream and takes the client\u2019s answer', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${warden.key}` } } });
    const client = new Client({ name: 'sampler', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: `echo of ${(request.params.messages[0]?.content as { text: string }).text}` },
    }));
    await client.connect(transport);
    const result = await client.callTool({ name: 'ask_model', arguments: { question: 'hello' } });
    expect(result.content).toEqual([{ type: 'text', text: 'model said: echo of hello' }]);
    await client.close();
  });

  it('delivers notifications unrelated to a request on the GET stream', async () => {
    const { client } = await connectClient(warden);
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await sleep(100); // the SDK client opens its GET stream after initialization
    await client.callTool({ name: 'add_tool', arguments: {} });
    await expect(Promise.race([changed.then(() => 'notified'), sleep(3000).then(() => 'timeout')])).resolves.toBe('notified');
    await client.close();
  });

  it('cancellation ends the request without an answer from the tool', async () => {
    const session = await openSession(warden);
    const headers = mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
    const call = send(warden.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'slow', arguments: { ms: 3000 } } }),
    });
    await sleep(100);
    const cancel = await send(warden.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1', reason: 'user' } }),
    });
    expect(cancel.status).toBe(202);
    const started = Date.now();
    const response = await call;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.json()).toEqual({ jsonrpc: '2.0', id: 'c1', error: { code: -32000, message: 'Request cancelled' } });
  });
});

describe('stateless mode', () => {
  const warden = useSharedWarden({ options: { stateless: true } });

  it('serves the SDK client without sessions', async () => {
    const { client, transport } = await connectClient(warden);
    expect(transport.sessionId).toBeUndefined();
    const result = await client.callTool({ name: 'calculate', arguments: { expression: '3*3' } });
    expect(result.content).toEqual([{ type: 'text', text: '9' }]);
    await client.close();
  });

  it('answers a tools/call with no prior initialize', async () => {
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
    });
    expect(response.json()).toMatchObject({ id: 1, result: { content: [{ text: 'x' }] } });
    expect(response.headers['mcp-session-id']).toBeUndefined();
  });

  it('GET and DELETE → 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await send(warden.mcpUrl, { method, headers: mcpHeaders(warden.key, { accept: 'text/event-stream' }) });
      expect(response.status, method).toBe(405);
      expect(response.headers['allow']).toBe('POST');
    }
  });

  it('still rejects an unsupported MCP-Protocol-Version → 400 and batches on 2025-06-18+ → 400', async () => {
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2030-01-01' }), body: ping })).status).toBe(400);
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-06-18' }), body: `[${ping}]` })).status).toBe(400);
    const batch = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key, { 'mcp-protocol-version': '2025-03-26' }), body: `[${ping}]` });
    expect(batch.json()).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });
});

describe('graceful stop', () => {
  it('lets an in-flight request finish, ends idle GET streams, then refuses connections', async () => {
    const warden = await useWarden({ mcpServer: () => customServer(), options: { shutdownTimeout: 5 } });
    const session = await openSession(warden);
    const headers = mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
    const listener = send(warden.mcpUrl, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
    const inFlight = send(warden.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 400 } } }),
    });
    await sleep(100);
    const stopped = warden.stop();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ id: 1, result: { content: [{ text: 'slept 400' }] } });
    expect((await listener).status).toBe(200);
    await stopped;
    await expect(send(`${warden.url}/health`)).rejects.toThrow();
    expect(warden.logs().some((line) => line['msg'] === 'mcp-warden stopped')).toBe(true);
  });
});
