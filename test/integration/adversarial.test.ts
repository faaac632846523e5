/**
 * Every bad input the core issue names, sent over real HTTP: each asserts the exact status
 * and JSON-RPC code (or error body), and that the server still answers afterwards.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { OTHER_KEY, TEST_KEY, openSession, startWarden, stillServing, type RunningWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';

const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' });

function rpcError(response: RawResponse): { code: number; message: string } {
  const body = response.json<{ jsonrpc: string; error: { code: number; message: string }; id: unknown }>();
  expect(body.jsonrpc).toBe('2.0');
  return body.error;
}

describe('adversarial input on the MCP endpoint', () => {
  let warden: RunningWarden;
  let session: { sessionId: string; version: string };
  const sessionHeaders = (extra: Record<string, string> = {}): Record<string, string> =>
    mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version, ...extra });

  beforeAll(async () => {
    warden = await startWarden({ options: { apiKeys: [TEST_KEY, OTHER_KEY], rateLimit: 100_000, bodyLimit: 64 * 1024 } });
    session = await openSession(warden);
  });

  afterAll(async () => {
    await warden.stop();
  });

  afterEach(async () => {
    expect(await stillServing(warden)).toBe(true);
  });

  describe('authentication', () => {
    it('no Authorization header → 401 with WWW-Authenticate: Bearer', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: TOOLS_LIST });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="mcp-warden"');
      expect(rpcError(response)).toEqual({ code: -32000, message: expect.stringMatching(/^Unauthorized: /) });
    });

    it('a wrong key → 401 with error="invalid_token"', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders('wrong-key-0123456789abcdef'), body: TOOLS_LIST });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="mcp-warden", error="invalid_token"/);
    });

    it.each([
      ['basic credentials', 'Basic dXNlcjpwYXNz'],
      ['no token', 'Bearer'],
      ['blank token', 'Bearer    '],
      ['two tokens', `Bearer ${TEST_KEY} extra`],
      ['no space', `bearer${TEST_KEY}`],
      ['a 9000-character token', `Bearer ${'a'.repeat(9000)}`],
    ])('a malformed Authorization header (%s) → 401', async (_name, authorization) => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: { ...mcpHeaders(''), authorization }, body: TOOLS_LIST });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    });

    it('the scheme is case-insensitive (RFC 9110 §11.1)', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ authorization: `bEaReR ${warden.key}` }), body: TOOLS_LIST });
      expect(response.status).toBe(200);
    });

    it.each(['api_key', 'access_token', 'key', 'token'])('a key in the query string (?%s=) is never accepted → 401', async (name) => {
      const response = await send(`${warden.mcpUrl}?${name}=${encodeURIComponent(warden.key)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: MCP_ACCEPT },
        body: initializeBody(),
      });
      expect(response.status).toBe(401);
      expect(response.text).not.toContain(warden.key);
    });

    it('/api/tools and /api/status require the key', async () => {
      for (const path of ['/api/tools', '/api/status']) {
        const response = await send(`${warden.url}${path}`);
        expect(response.status).toBe(401);
        expect(response.json()).toEqual({ error: 'auth_required', message: expect.stringMatching(/^Unauthorized: /) });
        expect(response.headers['www-authenticate']).toBe('Bearer realm="mcp-warden"');
      }
    });

    it('a session is not authentication: its id without the key → 401', async () => {
      const headers = sessionHeaders();
      delete headers['authorization'];
      const response = await send(warden.mcpUrl, { method: 'POST', headers, body: TOOLS_LIST });
      expect(response.status).toBe(401);
    });

    it("another key presenting a session's id → 404, as if it did not exist", async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ authorization: `Bearer ${OTHER_KEY}` }), body: TOOLS_LIST });
      expect(response.status).toBe(404);
      expect(rpcError(response)).toEqual({ code: -32001, message: 'Session not found' });
    });
  });

  describe('sessions and protocol version', () => {
    it('an unknown session id → 404 -32001', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ 'mcp-session-id': '00000000-0000-4000-8000-000000000000' }), body: TOOLS_LIST });
      expect(response.status).toBe(404);
      expect(rpcError(response).code).toBe(-32001);
    });

    it('an ended session id → 404 for POST, GET and DELETE', async () => {
      const ended = await openSession(warden);
      const headers = mcpHeaders(warden.key, { 'mcp-session-id': ended.sessionId, 'mcp-protocol-version': ended.version });
      expect((await send(warden.mcpUrl, { method: 'DELETE', headers })).status).toBe(204);
      expect((await send(warden.mcpUrl, { method: 'POST', headers, body: TOOLS_LIST })).status).toBe(404);
      expect((await send(warden.mcpUrl, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } })).status).toBe(404);
      expect((await send(warden.mcpUrl, { method: 'DELETE', headers })).status).toBe(404);
    });

    it('a request without a session id (not initialize) → 400', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: TOOLS_LIST });
      expect(response.status).toBe(400);
      expect(rpcError(response)).toEqual({ code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' });
    });

    it.each([
      ['2099-01-01', '2099-01-01'],
      ['2024-11-05', '2024-11-05'],
      // Anything not shaped like a version is not echoed back.
      ['garbage<script>', '(not a version)'],
    ])('an unsupported MCP-Protocol-Version (%s) → 400 naming it and the supported versions', async (version, named) => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ 'mcp-protocol-version': version }), body: TOOLS_LIST });
      expect(response.status).toBe(400);
      expect(rpcError(response)).toEqual({
        code: -32000,
        message: `Bad Request: unsupported MCP-Protocol-Version ${named}; supported: 2025-11-25, 2025-06-18, 2025-03-26`,
      });
      expect(await stillServing(warden)).toBe(true);
    });

    it('a supported version other than the negotiated one is accepted (the conformance suite sends it) → 200', async () => {
      for (const version of ['2025-03-26', '2025-06-18']) {
        const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ 'mcp-protocol-version': version }), body: TOOLS_LIST });
        expect(response.status, version).toBe(200);
        expect(response.json<{ result: { tools: unknown[] } }>().result.tools.length).toBeGreaterThan(0);
      }
      // The session keeps its negotiated version: a batch on a 2025-11-25 session is still refused.
      const batch = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ 'mcp-protocol-version': '2025-03-26' }), body: `[${TOOLS_LIST},${TOOLS_LIST}]` });
      expect(batch.status).toBe(400);
      expect(rpcError(batch).code).toBe(-32600);
      expect(await stillServing(warden)).toBe(true);
    });

    it('initialize inside an existing session → 400 -32600', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: initializeBody() });
      expect(response.status).toBe(400);
      expect(rpcError(response).code).toBe(-32600);
    });

    it('a batch on 2025-11-25 and 2025-06-18 → 400 -32600', async () => {
      for (const version of ['2025-11-25', '2025-06-18']) {
        const batchSession = await openSession(warden, version);
        const response = await send(warden.mcpUrl, {
          method: 'POST',
          headers: mcpHeaders(warden.key, { 'mcp-session-id': batchSession.sessionId, 'mcp-protocol-version': version }),
          body: `[${TOOLS_LIST},${TOOLS_LIST}]`,
        });
        expect(response.status, version).toBe(400);
        expect(rpcError(response)).toEqual({ code: -32600, message: 'Invalid Request: batching is not supported in this protocol version' });
      }
    });

    it('a batch on 2025-03-26 is answered with an array, ids matched', async () => {
      const old = await openSession(warden, '2025-03-26');
      const response = await send(warden.mcpUrl, {
        method: 'POST',
        headers: mcpHeaders(warden.key, { 'mcp-session-id': old.sessionId, 'mcp-protocol-version': '2025-03-26' }),
        body: JSON.stringify([
          { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'calculate', arguments: { expression: '1+1' } } },
          { jsonrpc: '2.0', id: 'b', method: 'ping' },
          { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } },
        ]),
      });
      expect(response.status).toBe(200);
      const answers = response.json<Array<{ id: string }>>();
      expect(answers.map((answer) => answer.id).sort()).toEqual(['a', 'b']);
    });

    it('initialize inside a batch → 400 -32600', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: `[${initializeBody()}]` });
      expect(response.status).toBe(400);
      expect(rpcError(response).code).toBe(-32600);
    });

    it('a second GET stream on one session → 409', async () => {
      const streamSession = await openSession(warden);
      const headers = mcpHeaders(warden.key, { 'mcp-session-id': streamSession.sessionId, 'mcp-protocol-version': streamSession.version, accept: 'text/event-stream' });
      const first = send(warden.mcpUrl, { method: 'GET', headers, timeoutMs: 1500 }).catch((error: Error) => error);
      await sleep(200);
      const second = await send(warden.mcpUrl, { method: 'GET', headers });
      expect(second.status).toBe(409);
      await send(warden.mcpUrl, { method: 'DELETE', headers });
      await first;
    });

    it('GET without accepting text/event-stream → 406', async () => {
      const response = await send(warden.mcpUrl, { method: 'GET', headers: sessionHeaders({ accept: 'application/json' }) });
      expect(response.status).toBe(406);
      expect(rpcError(response).code).toBe(-32000);
    });

    it('POST accepting neither JSON nor SSE → 406', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ accept: 'text/html' }), body: TOOLS_LIST });
      expect(response.status).toBe(406);
    });

    it.each(['PUT', 'PATCH', 'TRACE', 'OPTIONS'])('%s /mcp → 405 with Allow', async (method) => {
      const response = await send(warden.mcpUrl, { method, headers: sessionHeaders(), body: method === 'TRACE' || method === 'OPTIONS' ? undefined : TOOLS_LIST });
      expect(response.status).toBe(405);
      expect(response.headers['allow']).toBe('GET, POST, DELETE');
    });
  });

  describe('body and JSON-RPC validation', () => {
    it('invalid JSON → 400 -32700', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: '{"jsonrpc": "2.0", "id": 1,' });
      expect(response.status).toBe(400);
      expect(rpcError(response)).toEqual({ code: -32700, message: 'Parse error' });
    });

    it('an empty body → 400 -32700', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: '' });
      expect(response.status).toBe(400);
      expect(rpcError(response).code).toBe(-32700);
    });

    it.each([
      ['a number', '42'],
      ['a string', '"hello"'],
      ['null', 'null'],
      ['no jsonrpc member', '{"id":1,"method":"ping"}'],
      ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":1,"method":"ping"}'],
      ['a numeric method', '{"jsonrpc":"2.0","id":1,"method":5}'],
      ['params as an array', '{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}'],
      ['a null id', '{"jsonrpc":"2.0","id":null,"method":"ping"}'],
      ['a fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}'],
      ['a huge id', '{"jsonrpc":"2.0","id":1e400,"method":"ping"}'],
      ['an empty batch', '[]'],
      ['result and error together', '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}'],
      ['an extra top-level member', '{"jsonrpc":"2.0","id":1,"method":"tools/list","x":1}'],
      ['a malformed _meta.progressToken', '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"progressToken":{}}}}'],
    ])('not a JSON-RPC message (%s) → 400 -32600', async (_name, body) => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
      expect(response.status).toBe(400);
      expect(rpcError(response)).toEqual({ code: -32600, message: 'Invalid Request' });
    });

    it('an unknown method → -32601 in a 200 JSON-RPC answer', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: '{"jsonrpc":"2.0","id":3,"method":"tools/explode","params":{}}' });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'Method not found' } });
    });

    it.each([
      ['tools/call without a name', '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"arguments":{}}}'],
      ['tools/call with arguments as a string', '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":"x"}}'],
      ['resources/read without a uri', '{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{}}'],
      ['prompts/get with a numeric name', '{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":5}}'],
      ['logging/setLevel with a bad level', '{"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"loud"}}'],
    ])('bad params (%s) → -32602 with a generic message', async (_name, body) => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32602, message: 'Invalid params' } });
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['xml', 'application/xml'],
    ])('a wrong content type (%s) → 415', async (_name, contentType) => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ 'content-type': contentType }), body: TOOLS_LIST });
      expect(response.status).toBe(415);
      expect(rpcError(response).code).toBe(-32000);
    });

    it('no content type at all → 415', async () => {
      const headers = sessionHeaders();
      delete headers['content-type'];
      const response = await send(warden.mcpUrl, { method: 'POST', headers, body: TOOLS_LIST });
      expect(response.status).toBe(415);
    });

    it('a body over the limit → 413', async () => {
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(70 * 1024) } } });
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: big });
      expect(response.status).toBe(413);
      expect(rpcError(response)).toEqual({ code: -32600, message: 'Request body too large' });
    });

    it('deeply nested JSON → 400 -32600 without crashing', async () => {
      const depth = 20_000;
      const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
      expect(response.status).toBe(400);
      expect(rpcError(response).code).toBe(-32600);
    });

    it('__proto__ keys → 400 -32600 and no prototype pollution', async () => {
      const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","__proto__":{"polluted":true}}}}';
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
      expect(response.status).toBe(400);
      expect(rpcError(response).code).toBe(-32600);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('constructor.prototype keys → 400 -32600', async () => {
      const body = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"constructor":{"prototype":{"polluted":true}}}}';
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
      expect(response.status).toBe(400);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('huge numbers in arguments are handled as tool errors', async () => {
      const body = '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"calculate","arguments":{"expression":"1e308 * 10"}}}';
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({ id: 9, result: { isError: true, content: [{ text: 'result is not a finite number' }] } });
      const huge = '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","arguments":{"text":1e999}}}';
      const second = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: huge });
      expect(second.json()).toMatchObject({ id: 10, result: { isError: true } });
    });

    it('notifications only → 202 with no body', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body: '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}}' });
      expect(response.status).toBe(202);
      expect(response.text).toBe('');
    });

    it('error bodies never carry stacks, paths or library messages', async () => {
      const bodies = [
        '{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{}}',
        '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hash_text","arguments":{"text":1}}}',
        '{bad json',
      ];
      for (const body of bodies) {
        const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders(), body });
        expect(response.text).not.toMatch(/at .+\(|\/work\/|node_modules|ZodError|invalid_type|Expected|SyntaxError|Unexpected token/);
      }
    });
  });

  describe('DNS-rebinding protection', () => {
    it('a foreign Origin → 403', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ origin: 'https://evil.example' }), body: TOOLS_LIST });
      expect(response.status).toBe(403);
      expect(rpcError(response)).toEqual({ code: -32000, message: 'Forbidden: origin not allowed' });
    });

    it('Origin: null → 403', async () => {
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ origin: 'null' }), body: TOOLS_LIST });
      expect(response.status).toBe(403);
    });

    it('a non-loopback Host while bound to loopback → 403', async () => {
      for (const host of ['evil.example', 'evil.example:8443', '10.0.0.5', 'localhost.evil.example']) {
        const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ host }), body: TOOLS_LIST });
        expect(response.status, host).toBe(403);
        expect(rpcError(response).message).toBe('Forbidden: host not allowed');
      }
    });

    it('loopback Host names pass', async () => {
      const port = new URL(warden.url).port;
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
        const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ host }), body: TOOLS_LIST });
        expect(response.status, host).toBe(200);
      }
    });

    it('a same-origin Origin (own Host) passes', async () => {
      const host = new URL(warden.url).host;
      const response = await send(warden.mcpUrl, { method: 'POST', headers: sessionHeaders({ origin: `http://${host}` }), body: TOOLS_LIST });
      expect(response.status).toBe(200);
    });
  });

  describe('malformed URLs', () => {
    it('a URL that does not decode → 400 with our body and security headers', async () => {
      const response = await send(`${warden.url}/%c0%c1`);
      expect(response.status).toBe(400);
      expect(response.json()).toEqual({ error: 'invalid_request', message: 'Invalid Request' });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.text).not.toContain('%c0');
    });
  });

  describe('routes', () => {
    it('unknown routes → 404 JSON', async () => {
      for (const path of ['/nope', '/mcp/extra', '/api', '/.env', '/api/../etc/passwd']) {
        const response = await send(`${warden.url}${path}`);
        expect(response.status, path).toBe(404);
        expect(response.json()).toEqual({ error: 'not_found', message: 'Not Found' });
        expect(response.headers['content-type']).toMatch(/^application\/json/);
      }
    });
  });
});
