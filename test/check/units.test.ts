/**
 * The audit's pure parts: option validation, JSON-RPC/SSE parsing, leak patterns, minimal
 * tool arguments, step folding, terminal sanitising and the small header predicates.
 */

import { describe, expect, it } from 'vitest';
import { hasBearerChallenge } from '../../src/operator/check/checks/auth.js';
import { transportStep } from '../../src/operator/check/checks/headers.js';
import { judge } from '../../src/operator/check/checks/modern.js';
import { describeEras } from '../../src/operator/check/eras.js';
import { modernRequest } from '../../src/operator/check/modern-request.js';
import type { ProbeResponse } from '../../src/operator/check/probe.js';
import { isValidRetryAfter } from '../../src/operator/check/checks/rate.js';
import { findLeaks } from '../../src/operator/check/leaks.js';
import { banHint, describeNetworkError, rateLimited } from '../../src/operator/check/net-errors.js';
import { CheckUsageError, DEFAULT_ORIGIN, parseCheckOptions } from '../../src/operator/check/options.js';
import { renderText, sanitizeForTerminal, useColor } from '../../src/operator/check/report.js';
import { parseMessages, rpcErrorCode } from '../../src/operator/check/rpc.js';
import { sseData } from '../../src/mcp/transport/sse-parse.js';
import { combine, step } from '../../src/operator/check/steps.js';
import { minimalArguments, sampleValue } from '../../src/operator/check/tool-arguments.js';
import { DEFAULT_CHECKS } from '../../src/operator/check/types.js';

function usageProblems(raw: Parameters<typeof parseCheckOptions>[0]): readonly string[] {
  try {
    parseCheckOptions(raw);
  } catch (error) {
    if (error instanceof CheckUsageError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseCheckOptions', () => {
  it('defaults: /health on the same origin, every test but rate, a foreign .invalid origin', () => {
    const options = parseCheckOptions({ url: 'https://mcp.example.com:9443/v1/mcp?tenant=a#frag' });
    expect(options.healthUrl.href).toBe('https://mcp.example.com:9443/health');
    expect(options.url.hash).toBe('');
    expect(options.tests).toEqual(DEFAULT_CHECKS);
    expect(options.tests).not.toContain('rate');
    expect(options).toMatchObject({ origin: DEFAULT_ORIGIN, timeoutMs: 5000, maxRequests: 150, callTools: false, apiKey: undefined });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('--test: comma lists, case, duplicates and "all" (which includes rate)', () => {
    expect(parseCheckOptions({ url: 'http://127.0.0.1/mcp', test: ['Rate,auth', 'auth', ' health '] }).tests).toEqual(['health', 'auth', 'rate']);
    expect(parseCheckOptions({ url: 'http://127.0.0.1/mcp', test: 'all' }).tests).toContain('rate');
  });

  it('--health-url: a bare path is taken on the endpoint origin; a full URL as given', () => {
    expect(parseCheckOptions({ url: 'http://127.0.0.1:8443/mcp', healthUrl: '/healthz' }).healthUrl.href).toBe('http://127.0.0.1:8443/healthz');
    expect(parseCheckOptions({ url: 'http://127.0.0.1:8443/mcp', healthUrl: 'http://127.0.0.1:9000/live' }).healthUrl.href).toBe('http://127.0.0.1:9000/live');
  });

  it('refuses credentials in the URL, an origin equal to the target, a key that cannot be a header', () => {
    expect(usageProblems({ url: 'http://user:secret@127.0.0.1/mcp' })).toEqual(['--url must not contain credentials; pass the key with --api-key']);
    expect(usageProblems({ url: 'http://127.0.0.1:8443/mcp', origin: 'http://127.0.0.1:8443' })).toEqual([
      '--origin must be foreign to the target; it names the origin the server must refuse',
    ]);
    expect(usageProblems({ url: 'http://127.0.0.1/mcp', apiKey: 'has space' })).toEqual([
      '--api-key must be visible ASCII without spaces (it is sent in an Authorization header)',
    ]);
    expect(usageProblems({})).toEqual(['--url is required (the MCP endpoint, e.g. http://127.0.0.1:8443/mcp)']);
    expect(usageProblems({ url: 'not a url' })).toEqual(['--url must be an absolute http:// or https:// URL, got "not a url"']);
    expect(usageProblems({ url: 'http://127.0.0.1/mcp', origin: 'https://evil.example/path' })).toHaveLength(1);
  });
});

describe('JSON-RPC and SSE parsing', () => {
  it('reads SSE events with CRLF, "data:" without a space and multi-line data', () => {
    expect(sseData('event: message\r\ndata: {"a":1}\r\n\r\ndata:{"b":\ndata: 2}\n\nid: 3\ndata: {"partial"')).toEqual(['{"a":1}', '{"b":\n2}']);
  });

  it('parses JSON bodies, arrays and streams; garbage yields nothing', () => {
    expect(parseMessages('application/json; charset=utf-8', '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}')).toHaveLength(1);
    expect(parseMessages('application/json', '[{"id":1,"result":{}},{"id":2,"result":{}}]')).toHaveLength(2);
    expect(parseMessages('text/event-stream', 'data: {"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}')).toEqual([
      { jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-06-18' } },
    ]);
    expect(parseMessages('text/html', '<h1>oops</h1>')).toEqual([]);
    expect(rpcErrorCode(parseMessages('application/json', '{"error":{"code":-32700}}'))).toBe(-32700);
  });
});

describe('findLeaks', () => {
  it('finds V8 stacks inside JSON strings, file paths, tracebacks and echoed input', () => {
    const v8 = JSON.stringify({ error: 'SyntaxError: Unexpected token\n    at JSON.parse (<anonymous>)\n    at handler (/srv/app/dist/index.js:12:7)' });
    expect(findLeaks(v8).map((leak) => [leak.kind, leak.severity])).toEqual(
      expect.arrayContaining([
        ['stack trace', 'FAIL'],
        ['file path', 'FAIL'],
        ['exception message', 'WARN'],
      ]),
    );
    expect(findLeaks('Traceback (most recent call last):\n  File "app.py"')[0]).toMatchObject({ kind: 'stack trace', severity: 'FAIL' });
    expect(findLeaks('{"message":"cannot open C:\\\\inetpub\\\\wwwroot\\\\app\\\\web.config"}')[0]).toMatchObject({ kind: 'file path' });
    expect(findLeaks('Cannot GET /mcp-warden-check-mwc123', 'mwc123')).toEqual([{ kind: 'echoed input', severity: 'WARN', excerpt: 'mwc123' }]);
  });

  it('finds nothing in generic error bodies', () => {
    for (const body of [
      '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}',
      '{"error":"not_found","message":"Not Found"}',
      '{"error":"unsupported_media_type","message":"Unsupported Media Type: Content-Type must be application/json"}',
    ]) {
      expect(findLeaks(body, 'mwcabcdef')).toEqual([]);
    }
  });
});

describe('minimalArguments', () => {
  it('fills required properties only, with the simplest valid value', () => {
    const schema = {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 20 },
        count: { type: 'integer', minimum: 3 },
        ratio: { type: 'number', exclusiveMinimum: 0 },
        flag: { type: 'boolean' },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        nested: { type: 'object', properties: { id: { type: 'string', maxLength: 4 } }, required: ['id'] },
        either: { anyOf: [{ type: 'null' }, { type: 'number', maximum: -5 }] },
        optional: { type: 'string' },
      },
      required: ['text', 'count', 'ratio', 'flag', 'mode', 'tags', 'nested', 'either'],
    };
    expect(minimalArguments(schema)).toEqual({
      text: 'mcp-warden-checkxxxx',
      count: 3,
      ratio: 0.5,
      flag: false,
      mode: 'fast',
      tags: ['mcp-warden-check'],
      nested: { id: 'mcp-' },
      either: -5,
    });
    expect(minimalArguments({ type: 'object' })).toEqual({});
    expect(minimalArguments(undefined)).toEqual({});
  });

  it('gives up on schemas it cannot satisfy, and never writes through __proto__', () => {
    expect(minimalArguments({ type: 'object', properties: { blob: { not: {} } }, required: ['blob'] })).toBeUndefined();
    const args = minimalArguments({ type: 'object', properties: { ['__proto__']: { type: 'string' } }, required: ['__proto__'] });
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect(Object.keys(args ?? {})).toEqual(['__proto__']);
    expect(sampleValue({ type: ['null', 'integer'] })).toBe(1);
  });
});

describe('steps, report and predicates', () => {
  it('combine: the worst status decides; a pass names what it could not test', () => {
    expect(combine([step('a', 'PASS', 'a ok'), step('b', 'WARN', 'b meh'), step('c', 'SKIP', 'c n/a')], 'REF')).toMatchObject({ status: 'WARN', reason: 'b meh' });
    expect(combine([step('a', 'PASS', 'a ok'), step('c', 'SKIP', 'c n/a')], 'REF')).toMatchObject({ status: 'PASS', reason: 'a ok; not tested: c n/a' });
    expect(combine([step('a', 'FAIL', 'a bad'), step('b', 'FAIL', 'b bad'), step('c', 'PASS', 'c ok')], 'REF')).toMatchObject({ status: 'FAIL', reason: 'a bad; b bad' });
    expect(combine([step('c', 'SKIP', 'c n/a')], 'REF')).toMatchObject({ status: 'SKIP', reason: 'c n/a' });
  });

  it('text output strips control characters a hostile server could send', () => {
    expect(sanitizeForTerminal('ok\u001b[2J\u202eevil\nline')).toBe('ok?[2J?evil?line');
    const text = renderText(
      {
        tool: 'mcp-warden',
        target: 'http://127.0.0.1:1/mcp',
        healthUrl: 'http://127.0.0.1:1/health',
        time: new Date(0).toISOString(),
        durationMs: 10,
        results: [{ test: 'headers', status: 'WARN', reason: 'Server: x\u001b]0;pwned\u0007 reveals a version', reference: 'R' }],
        summary: { total: 1, pass: 0, fail: 0, warn: 1, skip: 0, failed: [] },
      },
      { color: false },
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text).toContain('WARN  headers   Server: x?]0;pwned? reveals a version  [R]');
  });

  it('colour only on a TTY without NO_COLOR', () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(false, {})).toBe(false);
    expect(useColor(undefined, {})).toBe(false);
  });

  it('Bearer challenges, Retry-After values, transport warnings, network errors', () => {
    expect(hasBearerChallenge('Bearer realm="mcp-warden"')).toBe(true);
    expect(hasBearerChallenge('Basic realm="x", Bearer error="invalid_token"')).toBe(true);
    expect(hasBearerChallenge('Basic realm="x"')).toBe(false);
    expect(hasBearerChallenge(undefined)).toBe(false);
    expect(isValidRetryAfter('60')).toBe(true);
    expect(isValidRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT')).toBe(true);
    expect(isValidRetryAfter('soon')).toBe(false);
    expect(isValidRetryAfter('-1')).toBe(false);
    expect(transportStep(new URL('http://mcp.example.com/mcp')).status).toBe('WARN');
    expect(transportStep(new URL('http://10.0.0.5:8443/mcp')).observed).toContain('plain http:// to 10.0.0.5, which is not loopback');
    expect(transportStep(new URL('http://[::1]:8443/mcp')).status).toBe('PASS');
    expect(transportStep(new URL('https://mcp.example.com/mcp')).status).toBe('PASS');
    expect(describeNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toEqual(['refused', 'connection refused']);
    expect(describeNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('y'), { code: 'ENOTFOUND' }) }))).toEqual(['not_found', 'host not found']);
    expect(describeNetworkError(Object.assign(new Error('z'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toEqual(['tls', 'TLS error (DEPTH_ZERO_SELF_SIGNED_CERT)']);
  });

  it('explains bans (403 with Retry-After) and rate limits', () => {
    expect(banHint(403, '300')).toBe(' (this client looks banned, Retry-After: 300; repeated authentication failures can cause that)');
    expect(banHint(403, undefined)).toBe('');
    expect(banHint(401, '300')).toBe('');
    expect(rateLimited('60')).toBe('rate limited (429, Retry-After: 60); try again later');
    expect(rateLimited(undefined)).toBe('rate limited (429); try again later');
  });
});

/** An answer as the prober returns it, for the pure verdict functions. */
function answer(status: number, body: unknown, headers: Record<string, string> = {}): ProbeResponse {
  const text = JSON.stringify(body);
  const lower = Object.fromEntries(Object.entries({ 'content-type': 'application/json', ...headers }).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    url: 'http://127.0.0.1:1/mcp',
    method: 'POST',
    status,
    headers: lower,
    body: text,
    durationMs: 1,
    header: (name) => lower[name.toLowerCase()],
    messages: () => parseMessages(lower['content-type'], text),
  };
}

describe('modern audit verdicts and the eras line', () => {
  const mismatch = { status: 400, code: -32020 };
  const rpcError = (code: number): unknown => ({ jsonrpc: '2.0', id: 1, error: { code, message: 'x' } });

  it('judge: the expected status and code pass; 2xx without the code fails; other refusals warn; 429 skips', () => {
    expect(judge('n', 'probe', answer(400, rpcError(-32020)), mismatch)).toEqual({ name: 'n', status: 'PASS', observed: 'probe → 400 -32020', expected: '400 -32020', got: '400 -32020' });
    expect(judge('n', 'probe', answer(200, { jsonrpc: '2.0', id: 1, result: {} }), mismatch)).toMatchObject({ status: 'FAIL', observed: 'probe → 200: accepted, expected 400 -32020', got: '200' });
    // A 2xx with another error still means the body was acted on (e.g. an unknown tool looked up).
    expect(judge('n', 'probe', answer(200, rpcError(-32602)), mismatch)).toMatchObject({ status: 'FAIL', got: '200 -32602' });
    // The right code with the wrong status, or the wrong code on a refusal: refused, but not as the spec says.
    expect(judge('n', 'probe', answer(200, rpcError(-32020)), mismatch)).toMatchObject({ status: 'WARN', observed: 'probe → 200 -32020, expected 400 -32020' });
    expect(judge('n', 'probe', answer(400, rpcError(-32600)), mismatch)).toMatchObject({ status: 'WARN', observed: 'probe → 400 -32600, expected 400 -32020' });
    expect(judge('n', 'probe', answer(400, 'not json-rpc'), mismatch)).toMatchObject({ status: 'WARN', got: '400' });
    expect(judge('n', 'probe', answer(429, {}, { 'Retry-After': '7' }), mismatch)).toMatchObject({ status: 'SKIP', observed: 'probe: rate limited (429, Retry-After: 7); try again later' });
    // No JSON-RPC code required (Origin): 403 passes, 2xx fails, a ban is named.
    expect(judge('o', 'origin', answer(403, {}), { status: 403 })).toMatchObject({ status: 'PASS' });
    expect(judge('o', 'origin', answer(200, {}), { status: 403 })).toMatchObject({ status: 'FAIL' });
    expect(judge('o', 'origin', answer(401, {}), { status: 403 }).observed).toBe('origin → 401, expected 403');
  });

  it('describeEras: the spoken eras first, then what is known of the others; a repeated refusal is said once', () => {
    const modern = { state: 'spoken', version: '2026-07-28', observed: 'server/discover → 200' } as const;
    const legacy = { state: 'spoken', version: '2025-11-25', observed: 'initialize → 200' } as const;
    expect(describeEras({ eras: ['2026-07-28', '2025-11-25'], modern, legacy })).toBe('2026-07-28, 2025-11-25');
    expect(describeEras({ eras: ['2025-11-25'], modern: { ...modern, state: 'not spoken', observed: 'server/discover → 400 -32000' }, legacy })).toBe(
      '2025-11-25; 2026-07-28 not spoken: server/discover → 400 -32000',
    );
    const refused = 'server/discover: the server requires authentication (401); pass --api-key';
    expect(describeEras({ eras: [], modern: { ...modern, state: 'unknown', observed: refused }, legacy: { state: 'unknown', observed: `not probed: ${refused}` } })).toBe(`unknown (${refused})`);
  });

  it('text output strips control characters from the versions a server reports', () => {
    const text = renderText(
      {
        tool: 'mcp-warden',
        target: 'http://127.0.0.1:1/mcp',
        healthUrl: 'http://127.0.0.1:1/health',
        time: new Date(0).toISOString(),
        durationMs: 10,
        eras: ['2025\u001b[2J-11-25'],
        eraProbe: {
          modern: { state: 'not spoken', version: '2026-07-28', observed: 'server/discover → 400' },
          legacy: { state: 'spoken', version: '2025\u001b[2J-11-25', observed: 'initialize → 200' },
        },
        results: [],
        summary: { total: 0, pass: 0, fail: 0, warn: 0, skip: 0, failed: [] },
      },
      { color: false },
    );
    expect(text).toContain('Eras: 2025?[2J-11-25; 2026-07-28 not spoken: server/discover → 400\n');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it('modernRequest mirrors method, name and version into the headers unless told otherwise', () => {
    const call = modernRequest(3, 'tools/call', { name: 'echo', arguments: {} }, { key: 'k' });
    expect(call.headers).toMatchObject({ authorization: 'Bearer k', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect(JSON.parse(call.body)).toMatchObject({
      id: 3,
      method: 'tools/call',
      params: { name: 'echo', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
    });
    const bent = modernRequest(4, 'resources/read', { uri: 'a:b' }, { key: undefined, mcpMethod: null, headerVersion: '2025-11-25', mcpName: 'a:c' });
    expect(bent.headers['mcp-method']).toBeUndefined();
    expect(bent.headers).toMatchObject({ 'mcp-protocol-version': '2025-11-25', 'mcp-name': 'a:c' });
    expect(bent.headers['authorization']).toBeUndefined();
    expect(JSON.parse(bent.body)).toMatchObject({ params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } });
  });
});
