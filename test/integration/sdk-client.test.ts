/**
 * The official SDK client against the real server: lists and calls every built-in tool,
 * reads resources, gets prompts, completes arguments, sets the log level, negotiates each
 * protocol version, and ends its session.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createHash } from 'node:crypto';
import { connectClient, startWarden, useSharedWarden, type RunningWarden } from '../helpers/warden.js';
import { initializeBody, mcpHeaders, send } from '../helpers/http.js';

type TextContent = { type: 'text'; text: string };

function text(result: object): string {
  const content = (result as { content?: TextContent[] }).content ?? [];
  return content[0]?.text ?? '';
}

describe('official SDK client', () => {
  let warden: RunningWarden;
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  beforeAll(async () => {
    warden = await startWarden();
    ({ client, transport } = await connectClient(warden));
  });

  afterAll(async () => {
    await client.close();
    await warden.stop();
  });

  it('negotiates the latest protocol version and gets a session id', () => {
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.getServerVersion()?.name).toBe('mcp-warden');
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {}, prompts: {}, logging: {}, completions: {} });
  });

  it('lists the seven built-in tools, each with a description and an input schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['calculate', 'confirm_action', 'current_time', 'echo', 'hash_text', 'server_status', 'system_info']);
    for (const tool of tools) {
      expect(tool.description?.length).toBeGreaterThan(10);
      expect(tool.inputSchema.type).toBe('object');
    }
    const calculate = tools.find((tool) => tool.name === 'calculate');
    expect(calculate?.inputSchema.properties).toHaveProperty('expression');
    expect(calculate?.inputSchema.required).toEqual(['expression']);
  });

  it('calculate evaluates with precedence, functions and constants', async () => {
    const result = await client.callTool({ name: 'calculate', arguments: { expression: '2 * (3 + 4) ^ 2 - sqrt(16) + max(1, 5) % 3' } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('96');
    expect(result.structuredContent).toEqual({ result: 96 });
  });

  it('calculate reports bad input as a tool error, not a crash', async () => {
    const cases: Array<[string, RegExp]> = [
      ['1 +', /unexpected end/],
      ['foo(2)', /unknown identifier/],
      ['1/0', /not a finite number/],
      ['('.repeat(101) + '1' + ')'.repeat(101), /nested more than 100/],
      ['1+'.repeat(600) + '1', /longer than 1000/],
      ['2; process.exit(1)', /unexpected character/],
    ];
    for (const [expression, message] of cases) {
      const result = await client.callTool({ name: 'calculate', arguments: { expression } });
      expect(result.isError, expression).toBe(true);
      expect(text(result)).toMatch(message);
      expect(text(result)).not.toContain('process');
    }
  });

  it('system_info reports the platform without identifying the host', async () => {
    const result = await client.callTool({ name: 'system_info', arguments: {} });
    const info = result.structuredContent as Record<string, unknown>;
    expect(info).toMatchObject({ platform: process.platform, arch: process.arch, nodeVersion: process.version });
    expect(info['cpuCount']).toBeGreaterThan(0);
    expect(info['totalMemoryBytes']).toBeGreaterThan(0);
    const raw = text(result);
    const { hostname, userInfo } = await import('node:os');
    expect(raw).not.toContain(hostname());
    expect(raw).not.toContain(userInfo().username);
    expect(raw).not.toContain(process.cwd());
    expect(raw).not.toMatch(/"[^"]*(PATH|HOME|env)[^"]*"\s*:/i);
  });

  it('server_status reports counters and sessions', async () => {
    const result = await client.callTool({ name: 'server_status', arguments: {} });
    expect(result.structuredContent).toMatchObject({ activeSessions: 1, monitoring: true });
    const status = result.structuredContent as Record<string, number>;
    expect(status['requestsServed']).toBeGreaterThan(0);
    expect(status).toHaveProperty('authFailures');
    expect(status).toHaveProperty('rateLimited');
    expect(status).toHaveProperty('uptimeSeconds');
  });

  it('echo, current_time and hash_text work and validate', async () => {
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'héllo <b>' } }))).toBe('héllo <b>');

    const time = await client.callTool({ name: 'current_time', arguments: { timezone: 'Asia/Kolkata' } });
    expect((time.structuredContent as { iso: string }).iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30$/);
    const utc = await client.callTool({ name: 'current_time', arguments: {} });
    expect((utc.structuredContent as { iso: string }).iso).toMatch(/\+00:00$/);
    const badZone = await client.callTool({ name: 'current_time', arguments: { timezone: 'Mars/Olympus_Mons' } });
    expect(badZone.isError).toBe(true);
    expect(text(badZone)).toMatch(/unknown time zone/);
    expect(text(badZone)).not.toContain('Mars');

    const hash = await client.callTool({ name: 'hash_text', arguments: { text: 'abc', algorithm: 'sha512', encoding: 'base64' } });
    expect(text(hash)).toBe(createHash('sha512').update('abc').digest('base64'));
    expect(text(await client.callTool({ name: 'hash_text', arguments: { text: 'abc' } }))).toBe(createHash('sha256').update('abc').digest('hex'));
    const badAlgorithm = await client.callTool({ name: 'hash_text', arguments: { text: 'abc', algorithm: 'md5' } });
    expect(badAlgorithm.isError).toBe(true);
    expect(text(badAlgorithm)).toBe('Invalid arguments for tool hash_text; see its inputSchema');
  });

  it('an unknown tool is an invalid-params error (SDK v2, MCP 2025-11-25) that does not echo the name', async () => {
    const refusal = await client.callTool({ name: 'rm_rf_<script>', arguments: {} }).then(
      () => undefined,
      (error: unknown) => error as { code?: unknown; message?: unknown },
    );
    expect(refusal?.code).toBe(-32602);
    expect(String(refusal?.message)).toBe('MCP error -32602: Invalid params');
  });

  it('reads the redacted status resource and the tool guide template', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toContain('warden://server/status');
    const status = await client.readResource({ uri: 'warden://server/status' });
    const body = (status.contents[0] as { text: string }).text;
    expect(JSON.parse(body)).toMatchObject({ config: { auth: { scheme: 'bearer', apiKeys: 1 } } });
    expect(body).not.toContain(warden.key);

    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates[0]?.uriTemplate).toBe('warden://tools/{name}');
    const guide = await client.readResource({ uri: 'warden://tools/calculate' });
    expect((guide.contents[0] as { text: string }).text).toMatch(/^calculate: /);
  });

  it('gets the security_review prompt and completes its argument', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(['security_review']);
    const prompt = await client.getPrompt({ name: 'security_review', arguments: { focus: 'cors' } });
    expect((prompt.messages[0]?.content as TextContent).text).toContain('focusing on cors');

    const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'security_review' }, argument: { name: 'focus', value: 'a' } });
    expect(completion.completion.values).toEqual(['all', 'authentication']);
    const template = await client.complete({ ref: { type: 'ref/resource', uri: 'warden://tools/{name}' }, argument: { name: 'name', value: 'c' } });
    expect(template.completion.values).toEqual(['calculate', 'current_time', 'confirm_action']);
  });

  it('accepts logging/setLevel', async () => {
    await expect(client.setLoggingLevel('warning')).resolves.toEqual({});
  });

  it('terminates its session with DELETE; the id then gets 404', async () => {
    const { client: second, transport: secondTransport } = await connectClient(warden);
    const sessionId = secondTransport.sessionId as string;
    await secondTransport.terminateSession();
    const after = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-session-id': sessionId }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    expect(after.json()).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    await second.close();
  });
});

describe('protocol version negotiation', () => {
  const warden = useSharedWarden();

  it.each(['2025-11-25', '2025-06-18', '2025-03-26'])('serves %s when the client asks for it', async (version) => {
    const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: initializeBody(1, version) });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: version } });
  });

  it.each(['2024-11-05', '1999-01-01'])('answers %s with the latest version it serves', async (version) => {
    const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: initializeBody(1, version) });
    expect(response.json()).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
  });
});
