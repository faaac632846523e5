/**
 * The gateway end to end, with real MCP servers from npm (server-everything, server-memory,
 * server-filesystem on a temporary folder), a local fixture server and a remote upstream that
 * records what it receives, behind one mcp-warden, driven by the official clients of both eras:
 * together on /mcp and alone on /mcp/<name>, scopes, the child's environment, secrets in the
 * audit trail and the response, relays, list changes, a child killed mid-call, a session's end,
 * and no token passthrough.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseGatewayConfig } from '../../src/gateway/config.js';
import { fixtureServer, legacyClient, modernClient, npmServer, rpcError, text } from '../helpers/gateway.js';
import { apiStatus, apiTools, initializeBody, MCP_ACCEPT, mcpHeaders, modernBody, modernHeaders, send } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { alive } from '../helpers/upstreams.js';
import { until } from '../helpers/wait.js';
import { useSharedWarden } from '../helpers/warden.js';

// Set before the server starts: a variable of the gateway's own environment that no child may see.
const CANARY = 'WARDEN_GATEWAY_CANARY';
const CANARY_VALUE = 'canary-7f3c9e1d2b';
process.env[CANARY] = CANARY_VALUE;

const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const UPSTREAM_SECRET = 'upstream-header-secret-4d2a';

const dir = mkdtempSync(join(tmpdir(), 'warden-gateway-'));
const files = join(dir, 'files');
const auditLog = join(dir, 'audit.jsonl');
const keysFile = tempKeysPath();
const scoped = addKey(keysFile, { name: 'scoped', tools: ['everything__toggle-*', 'readonly'] }).key;
const memoryWriter = addKey(keysFile, { name: 'memory-writer', tools: ['memory__create_entities'] }).key;

/** A remote MCP server (Streamable HTTP, JSON answers) recording the headers of every request. */
const recorded: IncomingHttpHeaders[] = [];
let recorder: HttpServer;

function startRecorder(): Promise<string> {
  recorder = createHttpServer((req, res) => {
    recorded.push(req.headers);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const message = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } };
      if (message.id === undefined) return void res.writeHead(202).end();
      const results: Record<string, unknown> = {
        initialize: { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'recorder', version: '1.0.0' } },
        'tools/list': { tools: [{ name: 'ping', inputSchema: { type: 'object' } }] },
        'tools/call': { content: [{ type: 'text', text: 'pong' }] },
      };
      const result = results[message.method];
      const answer = result === undefined ? { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } } : { jsonrpc: '2.0', id: message.id, result };
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'recorder-session' }).end(JSON.stringify(answer));
    });
  });
  return new Promise((resolve) => recorder.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(recorder.address() as AddressInfo).port}/mcp`)));
}

let recorderUrl = '';
beforeAll(async () => {
  mkdirSync(files);
  writeFileSync(join(files, 'hello.txt'), 'hello from the filesystem');
  recorderUrl = await startRecorder();
});
afterAll(async () => {
  delete process.env[CANARY];
  await new Promise((resolve) => recorder.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const warden = useSharedWarden(() => ({
  gateway: parseGatewayConfig(
    {
      gateway: {
        secrets: 'redact',
        maxChildrenPerKey: 48,
        maxChildren: 64,
        mcpServers: {
          everything: npmServer('server-everything', ['stdio']),
          memory: npmServer('server-memory', [], { env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } }),
          files: npmServer('server-filesystem', [files]),
          fixture: fixtureServer(),
          remote: { url: recorderUrl, headers: { 'X-Upstream-Key': '${RECORDER_KEY}' }, versionNegotiation: 'legacy' },
        },
      },
    },
    { RECORDER_KEY: UPSTREAM_SECRET },
  ),
  options: { keysFile, auditLog, auditArguments: 'full', rateLimit: 10_000 },
  logLevel: 'debug',
}));

const mcp = (path = '') => `${warden.mcpUrl}${path}`;

describe('authentication', () => {
  it('answers 401 without a key on /mcp and on /mcp/<name>, and serves afterwards', async () => {
    for (const url of [mcp(), mcp('/everything')]) {
      const response = await send(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: initializeBody() });
      expect(response.status).toBe(401);
      expect(response.json<{ error: { code: number } }>().error.code).toBe(-32000);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    }
    const { client } = await legacyClient(mcp(), warden.key);
    expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'after 401' } }))).toBe('Echo: after 401');
  });
});

describe('several upstreams together on /mcp', () => {
  it('merges the lists with prefixed names and routes calls (v1 client, 2025 session)', async () => {
    const { client } = await legacyClient(mcp(), warden.key);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of ['everything__echo', 'memory__read_graph', 'memory__create_entities', 'files__read_text_file', 'fixture__whoami', 'remote__ping']) expect(names).toContain(name);
    expect(names.every((name) => /^(everything|memory|files|fixture|remote)__/.test(name))).toBe(true);

    expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } }))).toBe('Echo: hi');
    await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'warden', entityType: 'gateway', observations: ['fronts servers'] }] } });
    expect(text(await client.callTool({ name: 'memory__read_graph', arguments: {} }))).toContain('warden');
    expect(text(await client.callTool({ name: 'files__read_text_file', arguments: { path: join(files, 'hello.txt') } }))).toBe('hello from the filesystem');
    expect(text(await client.callTool({ name: 'remote__ping', arguments: {} }))).toBe('pong');

    const status = (await apiStatus(warden, warden.key)).json<{ config: { gateway: { upstreams: Array<{ name: string }> } } }>();
    expect(status.config.gateway.upstreams.map((upstream) => upstream.name)).toEqual(['everything', 'memory', 'files', 'fixture', 'remote']);
    expect(JSON.stringify(status)).not.toContain(UPSTREAM_SECRET);
  });

  it('serves the v2 client pinned to 2026-07-28 the same upstreams', async () => {
    const client = await modernClient(mcp(), warden.key);
    expect(client.getProtocolEra()).toBe('modern');
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('everything__echo');
    expect(names).toContain('memory__read_graph');
    expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'modern' } }))).toBe('Echo: modern');
    expect(text(await client.callTool({ name: 'memory__read_graph', arguments: {} }))).toContain('"entities"');
  });

  it('serves prompts, resources and templates with prefixed names, URIs unchanged and routed', async () => {
    const { client } = await legacyClient(mcp(), warden.key);
    const prompts = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
    expect(prompts).toContain('everything__simple-prompt');
    const prompt = await client.getPrompt({ name: 'everything__simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);

    const resources = (await client.listResources()).resources;
    const everything = resources.find((resource) => resource.name.startsWith('everything__'));
    expect(everything?.uri).toMatch(/^demo:\/\//);
    const read = await client.readResource({ uri: everything?.uri as string });
    expect(read.contents[0]?.uri).toBe(everything?.uri);

    const templates = (await client.listResourceTemplates()).resourceTemplates;
    const dynamic = templates.find((template) => template.name.startsWith('everything__'));
    expect(dynamic?.uriTemplate).toMatch(/^demo:\/\/.*\{/);
    const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'everything__completable-prompt' }, argument: { name: 'department', value: 'Eng' } });
    expect(completion.completion.values).toEqual(['Engineering']);
    const unknown = await rpcError(client.readResource({ uri: 'nowhere://at-all' }));
    // Resource not found: the SDK answers it as invalid params on 2025-11-25.
    expect(unknown.code).toBe(-32602);
    expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'still' } }))).toBe('Echo: still');
  });
});

describe('each upstream alone on /mcp/<name>', () => {
  it('serves its own names, and a session opened on /mcp is unknown there', async () => {
    const { client } = await legacyClient(mcp('/memory'), warden.key);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('read_graph');
    expect(names.some((name) => name.includes('__'))).toBe(false);
    expect(text(await client.callTool({ name: 'read_graph', arguments: {} }))).toContain('"entities"');

    const modern = await modernClient(mcp('/everything'), warden.key);
    expect(text(await modern.callTool({ name: 'echo', arguments: { message: 'alone' } }))).toBe('Echo: alone');

    const { transport } = await legacyClient(mcp(), warden.key);
    const foreign = await send(mcp('/memory'), {
      method: 'POST',
      headers: mcpHeaders(warden.key, { 'mcp-session-id': transport.sessionId as string, 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(foreign.status).toBe(404);
    expect(foreign.json<{ error: { code: number } }>().error.code).toBe(-32001);
    expect(text(await client.callTool({ name: 'read_graph', arguments: {} }))).toContain('"entities"');
  });
});

describe('scopes across upstreams', () => {
  it('a key scoped to everything__toggle-* and readonly sees and calls only those tools, in both eras', async () => {
    const { client } = await legacyClient(mcp(), scoped);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    // By prefix (annotated readOnlyHint: false), and by readonly.
    expect(names).toContain('everything__toggle-simulated-logging');
    expect(names).toContain('everything__echo');
    expect(names).toContain('memory__read_graph');
    expect(names).toContain('files__read_text_file');
    expect(names).not.toContain('memory__create_entities');
    expect(names).not.toContain('files__write_file');
    expect(names).not.toContain('everything__gzip-file-as-resource');
    expect(text(await client.callTool({ name: 'memory__read_graph', arguments: {} }))).toContain('"entities"');
    expect(text(await client.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} }))).toMatch(/logging/i);

    const session = (await legacyClient(mcp(), scoped)).transport.sessionId as string;
    const refused = await send(mcp(), {
      method: 'POST',
      headers: mcpHeaders(scoped, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'memory__create_entities', arguments: { entities: [] } } }),
    });
    expect(refused.status).toBe(403);
    expect(refused.json<{ error: { code: number; message: string } }>().error).toEqual({ code: -32000, message: 'Forbidden: insufficient scope' });
    expect(refused.headers['www-authenticate']).toMatch(/insufficient_scope/);

    const modern = await send(mcp(), {
      method: 'POST',
      headers: modernHeaders(scoped, 'tools/call', 'files__write_file'),
      body: modernBody(4, 'tools/call', { name: 'files__write_file', arguments: { path: join(files, 'x'), content: 'no' } }),
    });
    expect(modern.status).toBe(403);
    const v2 = await modernClient(mcp(), scoped);
    const modernNames = (await v2.listTools()).tools.map((tool) => tool.name);
    expect(modernNames).toContain('everything__echo');
    expect(modernNames).not.toContain('memory__create_entities');
    expect(text(await v2.callTool({ name: 'everything__echo', arguments: { message: 'scoped' } }))).toBe('Echo: scoped');

    // The catalog (/api/tools) lists through the gateway and is reduced the same way.
    const catalog = (await apiTools(warden, scoped)).json<{ tools: Array<{ name: string }> }>().tools.map((tool) => tool.name);
    expect(catalog).toContain('everything__toggle-simulated-logging');
    expect(catalog).not.toContain('memory__create_entities');

    // Alone on /mcp/memory the tools are scoped by their /mcp names.
    const alone = await legacyClient(mcp('/memory'), scoped);
    const aloneNames = (await alone.client.listTools()).tools.map((tool) => tool.name);
    expect(aloneNames).toContain('read_graph');
    expect(aloneNames).not.toContain('create_entities');
    const writer = await legacyClient(mcp('/memory'), memoryWriter);
    expect((await writer.client.listTools()).tools.map((tool) => tool.name)).toEqual(['create_entities']);
    await writer.client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'alone', entityType: 'test', observations: [] }] } });
    const refusedAlone = await send(mcp('/memory'), {
      method: 'POST',
      headers: mcpHeaders(memoryWriter, { 'mcp-session-id': writer.transport.sessionId as string, 'mcp-protocol-version': '2025-11-25' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'read_graph', arguments: {} } }),
    });
    expect(refusedAlone.status).toBe(403);
  });
});

describe('the child environment', () => {
  it('never holds a variable of the gateway or its keys (server-everything get-env)', async () => {
    expect(process.env[CANARY]).toBe(CANARY_VALUE);
    const { client } = await legacyClient(mcp(), warden.key);
    const output = text(await client.callTool({ name: 'everything__get-env', arguments: {} }));
    const env = JSON.parse(output) as Record<string, string>;
    expect(env['PATH']).toBeDefined();
    expect(env[CANARY]).toBeUndefined();
    expect(output).not.toContain(CANARY_VALUE);
    expect(output).not.toContain(warden.key);
    expect(Object.keys(env).some((key) => key.startsWith('MCP_'))).toBe(false);
  });
});

describe('secrets', () => {
  it('redacts a secret of a result in the response (secrets: redact) and in the audit trail', async () => {
    const { client } = await legacyClient(mcp(), warden.key);
    const answer = text(await client.callTool({ name: 'everything__echo', arguments: { message: `key ${AWS_KEY}` } }));
    expect(answer).toBe('Echo: key [REDACTED:aws-access-key-id]');
    expect(await until(() => readFileSync(auditLog, 'utf8').includes('"event":"secret_detected"'), 3000)).toBe(true);
    await until(() => readFileSync(auditLog, 'utf8').includes('"in":"result"'), 3000);
    const trail = readFileSync(auditLog, 'utf8');
    expect(trail).not.toContain(AWS_KEY);
    const records = trail.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const detected = records.filter((record) => record['event'] === 'secret_detected' && record['upstream'] === 'everything');
    expect(detected.map((record) => record['in']).sort()).toEqual(['arguments', 'result']);
    expect(detected.find((record) => record['in'] === 'result')).toMatchObject({ action: 'redacted', findings: [{ kind: 'aws-access-key-id', path: '/content/0/text', where: 'value' }] });
    const call = records.find((record) => record['event'] === 'tool_call' && JSON.stringify(record['arguments']).includes('REDACTED'));
    expect(call?.['arguments']).toEqual({ message: 'key [REDACTED:aws-access-key-id]' });
    expect(JSON.stringify(call?.['result'])).toContain('[REDACTED:aws-access-key-id]');
    expect(warden.logText()).not.toContain(AWS_KEY);
  });
});

describe('server-to-client traffic', () => {
  it('relays an upstream sampling request to the 2025 session that called', async () => {
    const { client } = await legacyClient(mcp(), warden.key, { sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: 'hi from the client' } }));
    expect(text(await client.callTool({ name: 'fixture__ask-sampling', arguments: {} }))).toBe('sampled: hi from the client');
  });

  it('refuses it clearly where no client can answer (2026-07-28)', async () => {
    const client = await modernClient(mcp(), warden.key);
    // Nothing is announced upstream for a modern client: the upstream's SDK refuses to ask, its tool fails.
    const result = await client.callTool({ name: 'fixture__ask-sampling', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).not.toContain('sampled:');
    expect(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'up' } }))).toBe('Echo: up');
  });

  it('tells the session when an upstream tool list changes', async () => {
    const { client } = await legacyClient(mcp(), warden.key);
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    expect(text(await client.callTool({ name: 'fixture__add-tool', arguments: {} }))).toBe('added-1');
    expect(await until(() => changes > 0, 5000)).toBe(true);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('fixture__added-1');
    expect(text(await client.callTool({ name: 'fixture__added-1', arguments: {} }))).toBe('added 1');
  });
});

describe('list changes to 2026-07-28 clients', () => {
  it('reach a subscriptions/listen stream through the modern engine', async () => {
    const client = await modernClient(mcp(), warden.key);
    let changes = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void changes++);
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });
    const added = text(await client.callTool({ name: 'fixture__add-tool', arguments: {} }));
    expect(await until(() => changes > 0, 5000)).toBe(true);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(`fixture__${added}`);
    await subscription.close();
  });
});

describe('child processes', () => {
  it('answers a call whose child is killed with a clear error naming the upstream, and the next call works', async () => {
    const { client } = await legacyClient(mcp(), warden.key);
    const pid = Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })));
    expect(alive(pid)).toBe(true);
    const slow = rpcError(client.callTool({ name: 'fixture__slow', arguments: { ms: 20_000 } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid, 'SIGKILL');
    const error = await slow;
    expect(error.code).toBe(-32000);
    expect(error.message).toContain('Bad Gateway: upstream unavailable (upstream "fixture")');
    expect(error.message).not.toMatch(/at |\/|SIGKILL/);
    const next = Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })));
    expect(next).not.toBe(pid);
    expect(alive(next)).toBe(true);
  });

  it('ends a session\u2019s children when the session ends', async () => {
    const { client, transport } = await legacyClient(mcp(), warden.key);
    const pid = Number(text(await client.callTool({ name: 'fixture__whoami', arguments: {} })));
    expect(warden.server.gateway?.pids()).toContain(pid);
    await transport.terminateSession();
    expect(await until(() => !alive(pid), 5000)).toBe(true);
    expect(warden.server.gateway?.pids()).not.toContain(pid);
  });
});

describe('no token passthrough', () => {
  it('sends a remote upstream only the headers its config names, never our client\u2019s credential', async () => {
    recorded.length = 0;
    const { client } = await legacyClient(mcp(), warden.key);
    expect(text(await client.callTool({ name: 'remote__ping', arguments: {} }))).toBe('pong');
    expect(recorded.length).toBeGreaterThan(0);
    for (const headers of recorded) {
      expect(headers['x-upstream-key']).toBe(UPSTREAM_SECRET);
      expect(headers['authorization']).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(warden.key);
    }
  });
});
