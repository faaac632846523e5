/**
 * MCP 2026-07-28 ("modern" era) on /mcp, beside the 2025 sessions: the official v2 client pinned
 * to 2026-07-28 (and in `auto` mode) lists and calls every built-in tool; every MUST of the
 * modern Streamable HTTP transport answered with the spec's status and JSON-RPC code, followed
 * by a check that the server still answers; Mcp-Param-* headers of a library tool; a closed
 * response stream cancels the tool.
 */

import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ALL_SUPPORTED_PROTOCOL_VERSIONS } from '../../src/mcp/protocol-versions.js';
import { modernBody, modernHeaders, send, sseMessages, type RawResponse } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { rawExchange } from '../helpers/raw-socket.js';
import { until } from '../helpers/wait.js';
import { startWarden, stillServing, useSharedWarden, type RunningWarden } from '../helpers/warden.js';

type TextContent = { type: 'text'; text: string };
type RpcError = { code: number; message: string; data?: unknown };

function text(result: object): string {
  return ((result as { content?: TextContent[] }).content ?? [])[0]?.text ?? '';
}

function rpc(response: RawResponse): { id?: unknown; result?: Record<string, unknown>; error?: RpcError } {
  return response.json();
}

function modernClient(warden: RunningWarden, key: string | undefined, mode: 'pin' | 'auto'): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), {
    requestInit: key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'modern-test', version: '1.0.0' }, { versionNegotiation: { mode: mode === 'pin' ? { pin: '2026-07-28' } : 'auto' } });
  return { client, transport };
}

/** A modern tools/call of `echo`, as a check that the server still answers. */
async function modernStillServing(warden: RunningWarden): Promise<boolean> {
  const response = await send(warden.mcpUrl, {
    method: 'POST',
    headers: modernHeaders(warden.key, 'tools/call', 'echo'),
    body: modernBody(99, 'tools/call', { name: 'echo', arguments: { text: 'still here' } }),
  });
  return response.status === 200 && rpc(response).result?.['resultType'] === 'complete' && response.text.includes('still here');
}

const BUILTIN_CALLS: Record<string, Record<string, unknown>> = {
  calculate: { expression: '2 * (3 + 4)' },
  system_info: {},
  server_status: {},
  echo: { text: 'hello modern' },
  current_time: { timezone: 'Europe/Paris' },
  hash_text: { text: 'abc', algorithm: 'sha256', encoding: 'hex' },
};

describe('official v2 client pinned to 2026-07-28', () => {
  let warden: RunningWarden;

  beforeAll(async () => {
    warden = await startWarden();
  });
  afterAll(async () => {
    await warden.stop();
  });

  it('speaks the modern era without a session, lists every built-in tool and calls each one', async () => {
    const { client, transport } = modernClient(warden, warden.key, 'pin');
    try {
      await client.connect(transport);
      expect(client.getProtocolEra()).toBe('modern');
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(transport.sessionId).toBeUndefined();
      expect(client.getServerVersion()?.name).toBe('mcp-warden');
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name).sort();
      expect(names).toEqual(Object.keys(BUILTIN_CALLS).sort());
      const results = new Map<string, object>();
      for (const name of names) {
        const result = await client.callTool({ name, arguments: BUILTIN_CALLS[name] ?? {} });
        expect((result as { isError?: boolean }).isError, name).toBeFalsy();
        results.set(name, result);
      }
      expect(text(results.get('calculate') ?? {})).toBe('14');
      expect(text(results.get('echo') ?? {})).toBe('hello modern');
      expect(text(results.get('hash_text') ?? {})).toBe(createHash('sha256').update('abc').digest('hex'));
      expect(JSON.parse(text(results.get('current_time') ?? {}))).toMatchObject({ timezone: 'Europe/Paris' });
      expect(JSON.parse(text(results.get('server_status') ?? {}))).toHaveProperty('uptimeSeconds');
    } finally {
      await client.close();
    }
  });

  it('in auto mode the v2 client also picks the modern era', async () => {
    const { client, transport } = modernClient(warden, warden.key, 'auto');
    try {
      await client.connect(transport);
      expect(client.getProtocolEra()).toBe('modern');
      expect(text(await client.callTool({ name: 'calculate', arguments: { expression: '6*7' } }))).toBe('42');
    } finally {
      await client.close();
    }
  });

  it('is refused with 401 without a key (a modern client does not fall back), and the server still serves', async () => {
    const { client, transport } = modernClient(warden, undefined, 'pin');
    const failure = await client.connect(transport).then(
      () => undefined,
      (error: unknown) => error,
    );
    await client.close();
    expect(failure).toBeInstanceOf(SdkHttpError);
    expect((failure as SdkHttpError).status).toBe(401);
    expect(await modernStillServing(warden)).toBe(true);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('2026-07-28 transport MUSTs, raw HTTP', () => {
  let warden: RunningWarden;
  let limitedKey: string;

  beforeAll(async () => {
    const keysFile = tempKeysPath();
    limitedKey = addKey(keysFile, { name: 'echo-only', tools: ['echo'] }).key;
    warden = await startWarden({ options: { keysFile } });
  });
  afterAll(async () => {
    await warden.stop();
  });

  function post(headers: Record<string, string>, body: string): Promise<RawResponse> {
    return send(warden.mcpUrl, { method: 'POST', headers, body });
  }

  async function expectRefusal(response: RawResponse, status: number, code: number): Promise<RpcError> {
    expect(response.status, response.text).toBe(status);
    const error = rpc(response).error as RpcError;
    expect(error.code, response.text).toBe(code);
    expect(await modernStillServing(warden)).toBe(true);
    return error;
  }

  it('server/discover answers the modern versions, capabilities, serverInfo and cache hints', async () => {
    const response = await post(modernHeaders(warden.key, 'server/discover'), modernBody(1, 'server/discover'));
    expect(response.status).toBe(200);
    const result = rpc(response).result as Record<string, unknown>;
    expect(result).toMatchObject({ resultType: 'complete', supportedVersions: ['2026-07-28'], cacheScope: 'private' });
    expect(typeof result['ttlMs']).toBe('number');
    expect(result['capabilities']).toHaveProperty('tools');
    expect((result['_meta'] as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']?.name).toBe('mcp-warden');
  });

  it('every result carries resultType; a list answered to a credential is never cacheScope public', async () => {
    const response = await post(modernHeaders(warden.key, 'tools/list'), modernBody(2, 'tools/list'));
    expect(response.status).toBe(200);
    expect(rpc(response).result).toMatchObject({ resultType: 'complete', cacheScope: 'private' });
    expect(response.headers['mcp-session-id']).toBeUndefined();
  });

  it('a request is answered as JSON, or as SSE when the client accepts only SSE', async () => {
    const response = await post(modernHeaders(warden.key, 'tools/call', 'echo', { accept: 'text/event-stream' }), modernBody(3, 'tools/call', { name: 'echo', arguments: { text: 'sse' } }));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(sseMessages(response.text)).toEqual([expect.objectContaining({ id: 3, result: expect.objectContaining({ resultType: 'complete' }) })]);
  });

  it('an Mcp-Session-Id on a modern request is ignored, never echoed', async () => {
    const response = await post(modernHeaders(warden.key, 'tools/list', undefined, { 'mcp-session-id': 'a-stolen-or-stale-id' }), modernBody(4, 'tools/list'));
    expect(response.status).toBe(200);
    expect(response.headers['mcp-session-id']).toBeUndefined();
  });

  it('missing Mcp-Method → 400/-32020 with the request id', async () => {
    const headers = modernHeaders(warden.key, 'tools/list');
    delete headers['mcp-method'];
    const response = await post(headers, modernBody(5, 'tools/list'));
    await expectRefusal(response, 400, -32020);
    expect(rpc(response).id).toBe(5);
  });

  it('missing MCP-Protocol-Version (the body claims 2026-07-28) → 400/-32020', async () => {
    const headers = modernHeaders(warden.key, 'tools/list');
    delete headers['mcp-protocol-version'];
    await expectRefusal(await post(headers, modernBody(6, 'tools/list')), 400, -32020);
  });

  it('Mcp-Method disagreeing with the body → 400/-32020', async () => {
    await expectRefusal(await post(modernHeaders(warden.key, 'tools/list'), modernBody(7, 'prompts/list')), 400, -32020);
  });

  it('MCP-Protocol-Version disagreeing with _meta → 400/-32020', async () => {
    await expectRefusal(await post(modernHeaders(warden.key, 'tools/list', undefined, { 'mcp-protocol-version': '2025-11-25' }), modernBody(8, 'tools/list')), 400, -32020);
  });

  it('tools/call without Mcp-Name → 400/-32020', async () => {
    await expectRefusal(await post(modernHeaders(warden.key, 'tools/call'), modernBody(9, 'tools/call', { name: 'echo', arguments: { text: 'x' } })), 400, -32020);
  });

  it('Mcp-Name naming another tool → 400/-32020, and neither name is echoed', async () => {
    const response = await post(modernHeaders(warden.key, 'tools/call', 'calculate<script>'), modernBody(10, 'tools/call', { name: 'echo', arguments: { text: 'x' } }));
    const error = await expectRefusal(response, 400, -32020);
    expect(error.message).toBe('Header mismatch: Mcp-Name does not match params.name');
    expect(response.text).not.toContain('<script>');
  });

  it('Mcp-Name in the Base64 sentinel form is decoded before comparing → 200', async () => {
    const sentinel = `=?base64?${Buffer.from('echo', 'utf8').toString('base64')}?=`;
    const response = await post(modernHeaders(warden.key, 'tools/call', sentinel), modernBody(11, 'tools/call', { name: 'echo', arguments: { text: 'b64' } }));
    expect(response.status).toBe(200);
    expect(text(rpc(response).result ?? {})).toBe('b64');
  });

  it.each([
    ['not canonical Base64', '=?base64?ZWNobw?='],
    ['invalid characters', '=?base64?ZW*obw==?='],
    ['not UTF-8', `=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`],
  ])('an Mcp-Name sentinel with %s → 400/-32020', async (_what, value) => {
    await expectRefusal(await post(modernHeaders(warden.key, 'tools/call', value), modernBody(12, 'tools/call', { name: 'echo', arguments: { text: 'x' } })), 400, -32020);
  });

  it('resources/read checks Mcp-Name against params.uri → 400/-32020', async () => {
    await expectRefusal(await post(modernHeaders(warden.key, 'resources/read', 'warden://tools/echo'), modernBody(13, 'resources/read', { uri: 'warden://tools/calculate' })), 400, -32020);
  });

  it('an unsupported version → 400/-32022 listing every supported version (both eras)', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 14,
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '1900-01-01', 'io.modelcontextprotocol/clientCapabilities': {} } },
    });
    const error = await expectRefusal(await post(modernHeaders(warden.key, 'tools/list', undefined, { 'mcp-protocol-version': '1900-01-01' }), body), 400, -32022);
    expect(error.data).toEqual({ supported: [...ALL_SUPPORTED_PROTOCOL_VERSIONS], requested: '1900-01-01' });
    expect(ALL_SUPPORTED_PROTOCOL_VERSIONS).toContain('2026-07-28');
  });

  it('an envelope without clientCapabilities → 400/-32602', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 15, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } });
    await expectRefusal(await post(modernHeaders(warden.key, 'tools/list'), body), 400, -32602);
  });

  it.each(['foo/bar', 'logging/setLevel', 'initialize'])('%s on the modern era → 404/-32601', async (method) => {
    const params = method === 'logging/setLevel' ? { level: 'debug' } : method === 'initialize' ? { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 'x', version: '1' } } : {};
    const response = await post(modernHeaders(warden.key, method), modernBody(16, method, params));
    await expectRefusal(response, 404, -32601);
    expect(rpc(response).id).toBe(16);
  });

  it('a batch holding a modern request → 400/-32600', async () => {
    const body = `[${modernBody(17, 'tools/list')}]`;
    await expectRefusal(await post(modernHeaders(warden.key, 'tools/list'), body), 400, -32600);
  });

  it('a modern notification → 202 without a body', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } });
    const response = await post(modernHeaders(warden.key, 'notifications/roots/list_changed'), body);
    expect(response.status).toBe(202);
    expect(response.text).toBe('');
    expect(await modernStillServing(warden)).toBe(true);
  });

  it('no key → 401 with the Bearer challenge', async () => {
    const response = await post(modernHeaders(undefined, 'tools/list'), modernBody(18, 'tools/list'));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(await modernStillServing(warden)).toBe(true);
  });

  it('a foreign Origin → 403', async () => {
    const response = await post(modernHeaders(warden.key, 'tools/list', undefined, { origin: 'https://evil.example' }), modernBody(19, 'tools/list'));
    expect(response.status).toBe(403);
    expect(await modernStillServing(warden)).toBe(true);
  });

  it('a tool outside the credential\u2019s scope → 403 before the engine; its tools/list shows only what it may use', async () => {
    const refused = await post(modernHeaders(limitedKey, 'tools/call', 'calculate'), modernBody(20, 'tools/call', { name: 'calculate', arguments: { expression: '1+1' } }));
    expect(refused.status).toBe(403);
    // Refused from the headers, before the body was read: no id to echo.
    expect(rpc(refused).id).toBeNull();
    // Without a name header (completion of an operator-only prompt) the body decides, and its id is echoed.
    const completion = await post(
      modernHeaders(limitedKey, 'completion/complete'),
      modernBody(24, 'completion/complete', { ref: { type: 'ref/prompt', name: 'security_review' }, argument: { name: 'focus', value: 'a' } }),
    );
    expect(completion.status).toBe(403);
    expect(rpc(completion).id).toBe(24);
    const list = await post(modernHeaders(limitedKey, 'tools/list'), modernBody(21, 'tools/list'));
    expect(rpc(list).result).toMatchObject({ cacheScope: 'private', tools: [expect.objectContaining({ name: 'echo' })] });
    expect((rpc(list).result?.['tools'] as unknown[]).length).toBe(1);
    const allowed = await post(modernHeaders(limitedKey, 'tools/call', 'echo'), modernBody(22, 'tools/call', { name: 'echo', arguments: { text: 'ok' } }));
    expect(allowed.status).toBe(200);
    expect(await modernStillServing(warden)).toBe(true);
  });

  it('an out-of-scope Mcp-Name is refused 403 from the headers alone, before the body is sent', async () => {
    const head = (name: string): string =>
      [
        'POST /mcp HTTP/1.1',
        `Host: ${new URL(warden.url).host}`,
        `Authorization: Bearer ${limitedKey}`,
        'Content-Type: application/json',
        `Accept: ${'application/json, text/event-stream'}`,
        'MCP-Protocol-Version: 2026-07-28',
        'Mcp-Method: tools/call',
        `Mcp-Name: ${name}`,
        'Content-Length: 100000',
        '',
        '',
      ].join('\r\n');
    // The body never comes: only a refusal made from the headers can answer.
    const refused = await rawExchange(warden.url, head('calculate'), { firstResponse: true, timeoutMs: 2000 });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: -32000, message: 'Forbidden: insufficient scope' } });
    // An allowed name waits for its body (no answer within the time limit).
    const waiting = await rawExchange(warden.url, head('echo'), { firstResponse: true, timeoutMs: 400 });
    expect(waiting.status).toBe(0);
    // The sentinel form of the name is decoded before the scope check.
    const encoded = await rawExchange(warden.url, head(`=?base64?${Buffer.from('calculate').toString('base64')}?=`), { firstResponse: true, timeoutMs: 2000 });
    expect(encoded.status).toBe(403);
    expect(await modernStillServing(warden)).toBe(true);
  });

  it('a header mismatch is counted as a denial (metric reason header_mismatch)', async () => {
    await post(modernHeaders(warden.key, 'tools/call', 'other'), modernBody(23, 'tools/call', { name: 'echo', arguments: { text: 'x' } }));
    const metrics = await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${warden.key}` } });
    expect(metrics.text).toMatch(/mcp_warden_denied_total\{reason="header_mismatch"\} [1-9]/);
  });

  it('/api/status and the web page show both eras; modern requests are counted', async () => {
    const status = (await send(`${warden.url}/api/status`, { headers: { authorization: `Bearer ${warden.key}` } })).json<{ modernRequests: number; config: { eras: unknown; protocolVersions: string[] } }>();
    expect(status.modernRequests).toBeGreaterThan(0);
    expect(status.config.eras).toEqual({ modern: ['2026-07-28'], legacy: ['2025-11-25', '2025-06-18', '2025-03-26'] });
    expect(status.config.protocolVersions).toEqual([...ALL_SUPPORTED_PROTOCOL_VERSIONS]);
    const page = await send(`${warden.url}/`);
    expect(page.text).toContain('MCP 2026-07-28 per request, without a session, and 2025-11-25, 2025-06-18, 2025-03-26 over <code>initialize</code>');
    expect(page.text).toContain('id="stat-modern"');
  });

  it('2025-era sessions keep working beside modern requests', async () => {
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('Mcp-Param-* headers of a tool declaring x-mcp-header', () => {
  const warden = useSharedWarden({
      mcpServer: () => {
        // A server that marks its tool list shareable by caches: mcp-warden must not let it be shared between credentials.
        const server = new McpServer({ name: 'param-headers', version: '1.0.0' }, { cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } } });
        server.registerTool(
          'route',
          {
            description: 'Routes by region and priority',
            inputSchema: z.object({
              region: z.string().meta({ 'x-mcp-header': 'Region' }),
              priority: z.number().int().optional().meta({ 'x-mcp-header': 'Priority' }),
              note: z.string().optional(),
            }),
          },
          (args) => ({ content: [{ type: 'text', text: `${args.region}/${args.priority ?? '-'}` }] }),
        );
        return server;
      },
  });

  function call(headers: Record<string, string>, args: Record<string, unknown>): Promise<RawResponse> {
    return send(warden.mcpUrl, { method: 'POST', headers: modernHeaders(warden.key, 'tools/call', 'route', headers), body: modernBody(1, 'tools/call', { name: 'route', arguments: args }) });
  }

  it('the tool advertises its x-mcp-header declarations; a public cache hint becomes private for a credential', async () => {
    const response = await send(warden.mcpUrl, { method: 'POST', headers: modernHeaders(warden.key, 'tools/list'), body: modernBody(1, 'tools/list') });
    expect(response.text).toContain('"x-mcp-header":"Region"');
    expect(rpc(response).result).toMatchObject({ ttlMs: 60_000, cacheScope: 'private' });
  });

  it('matching headers → 200 (integers compared numerically, the sentinel decoded)', async () => {
    expect(text(rpc(await call({ 'mcp-param-region': 'eu-west', 'mcp-param-priority': '7' }, { region: 'eu-west', priority: 7 })).result ?? {})).toBe('eu-west/7');
    expect((await call({ 'mcp-param-region': 'eu-west', 'mcp-param-priority': '7.0' }, { region: 'eu-west', priority: 7 })).status).toBe(200);
    const zurich = `=?base64?${Buffer.from('Zürich', 'utf8').toString('base64')}?=`;
    expect(text(rpc(await call({ 'mcp-param-region': zurich }, { region: 'Zürich' })).result ?? {})).toBe('Zürich/-');
  });

  it('an argument that is absent or null needs no header', async () => {
    expect((await call({ 'mcp-param-region': 'eu' }, { region: 'eu' })).status).toBe(200);
    expect((await call({ 'mcp-param-region': 'eu', 'mcp-param-priority': '3' }, { region: 'eu' })).status).toBe(200);
  });

  it.each([
    ['missing', {}, { region: 'eu-west' }],
    ['different', { 'mcp-param-region': 'us-east' }, { region: 'eu-west' }],
    ['different integer', { 'mcp-param-region': 'eu', 'mcp-param-priority': '8' }, { region: 'eu', priority: 7 }],
    ['bad sentinel', { 'mcp-param-region': '=?base64?@@@?=' }, { region: 'eu' }],
  ])('a %s Mcp-Param header → 400/-32020 naming the header only', async (_what, headers, args) => {
    const response = await call(headers as Record<string, string>, args);
    expect(response.status).toBe(400);
    const error = rpc(response).error as RpcError;
    expect(error.code).toBe(-32020);
    expect(error.message).toMatch(/^Header mismatch: Mcp-Param-(Region|Priority) /);
    expect(response.text).not.toContain('us-east');
    expect((await call({ 'mcp-param-region': 'ok' }, { region: 'ok' })).status).toBe(200);
  });
});

describe('closing the response stream cancels the request', () => {
  let aborted = false;
  let started = false;
  const warden = useSharedWarden({
      mcpServer: () => {
        const server = new McpServer({ name: 'slow', version: '1.0.0' });
        server.registerTool('slow', { description: 'Waits until cancelled', inputSchema: z.object({}) }, async (_args, ctx) => {
          started = true;
          await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: 'p1', progress: 1, total: 10 } });
          await new Promise<void>((resolve) => {
            if (ctx.mcpReq.signal.aborted) resolve();
            ctx.mcpReq.signal.addEventListener('abort', () => resolve(), { once: true });
            setTimeout(resolve, 10_000).unref();
          });
          aborted = ctx.mcpReq.signal.aborted;
          return { content: [{ type: 'text', text: 'finished' }] };
        });
        server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, (args) => ({ content: [{ type: 'text', text: args.text }] }));
        return server;
      },
  });

  it('the handler sees its signal abort when the client goes away mid-stream', async () => {
    const target = new URL(warden.mcpUrl);
    const firstEvent = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: modernHeaders(warden.key, 'tools/call', 'slow'), agent: false },
        (res) => {
          res.once('data', (chunk: Buffer) => {
            resolve(chunk.toString('utf8'));
            req.destroy();
          });
        },
      );
      req.on('error', (error) => (started ? undefined : reject(error)));
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: { progressToken: 'p1', 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }));
    });
    expect(firstEvent).toContain('notifications/progress');
    await until(() => aborted, 3000);
    expect(aborted).toBe(true);
    const after = await send(warden.mcpUrl, { method: 'POST', headers: modernHeaders(warden.key, 'tools/call', 'echo'), body: modernBody(2, 'tools/call', { name: 'echo', arguments: { text: 'next' } }) });
    expect(text(rpc(after).result ?? {})).toBe('next');
  });
});
