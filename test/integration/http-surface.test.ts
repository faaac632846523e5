/**
 * The HTTP surface around the MCP endpoint: public pages, API endpoints, security headers,
 * CORS, and what reaches the log.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_ACCEPT, apiStatus, apiTools, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { connectClient, startWarden, useSharedWarden, useWarden, type RunningWarden } from '../helpers/warden.js';

const ALLOWED_ORIGIN = 'https://console.example.com';

describe('public and API endpoints', () => {
  let warden: RunningWarden;

  beforeAll(async () => {
    warden = await startWarden({ options: { corsOrigins: [ALLOWED_ORIGIN] } });
  });
  afterAll(async () => {
    await warden.stop();
  });

  it('GET /health is public and minimal', async () => {
    const response = await send(`${warden.url}/health`);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('GET /health answers orchestrator probes that use the pod IP as Host', async () => {
    const response = await send(`${warden.url}/health`, { headers: { host: '10.1.2.3:8443' } });
    expect(response.status).toBe(200);
  });

  it('GET / is a public HTML page with a strict CSP, connection help and the security posture, never a key', async () => {
    const response = await send(`${warden.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = response.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.text).toContain(`${warden.url}/mcp`);
    expect(response.text).toContain('Bearer &lt;YOUR_API_KEY&gt;');
    expect(response.text).toMatch(/100 requests per 60 s per client IP/);
    expect(response.text).toContain(ALLOWED_ORIGIN);
    expect(response.text).not.toContain(warden.key);
    expect(response.text).not.toMatch(/<script>|<[^>]+\son[a-z]+\s*=/i);
  });

  it('the page stylesheet is served from the server itself', async () => {
    const response = await send(`${warden.url}/assets/warden.css`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await send(`${warden.url}/assets/../../package.json`)).status).toBe(404);
    expect((await send(`${warden.url}/assets/nope.js`)).status).toBe(404);
  });

  it('GET /api/tools lists tools with their JSON Schemas', async () => {
    const response = await apiTools(warden, warden.key);
    expect(response.status).toBe(200);
    const body = response.json<{ count: number; tools: Array<{ name: string; inputSchema: { type: string } }> }>();
    expect(body.count).toBe(7);
    expect(body.tools.find((tool) => tool.name === 'hash_text')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { algorithm: { enum: ['sha256', 'sha384', 'sha512'] } },
    });
  });

  it('GET /api/status reports counters, memory and a configuration summary without secrets', async () => {
    await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders('bad-key-0123456789abcdef'), body: initializeBody() });
    const response = await apiStatus(warden, warden.key);
    expect(response.status).toBe(200);
    const status = response.json<Record<string, unknown>>();
    expect(status).toMatchObject({
      status: 'ok',
      monitoring: true,
      config: { auth: { scheme: 'bearer', apiKeys: 1 }, rateLimit: { limit: 100, windowSeconds: 60 }, cors: { origins: [ALLOWED_ORIGIN] } },
    });
    expect(status['authFailures']).toBeGreaterThanOrEqual(1);
    expect(status['requestsServed']).toBeGreaterThan(0);
    expect(status).toHaveProperty('rateLimited');
    expect(status).toHaveProperty('activeSessions');
    expect((status['memory'] as Record<string, number>)['rssBytes']).toBeGreaterThan(0);
    expect(response.text).not.toContain(warden.key);
  });

  it('counts calls per tool', async () => {
    const { client } = await connectClient(warden);
    await client.callTool({ name: 'echo', arguments: { text: 'a' } });
    await client.callTool({ name: 'echo', arguments: { text: 'b' } });
    await client.callTool({ name: 'calculate', arguments: { expression: '1/0' } });
    await client.close();
    const status = (await apiStatus(warden, warden.key)).json<{
      tools: Record<string, { calls: number; errors: number }>;
    }>();
    expect(status.tools['echo']).toMatchObject({ calls: 2, errors: 0 });
    expect(status.tools['calculate']).toMatchObject({ calls: 1, errors: 1 });
  });
});

describe('security headers', () => {
  const warden = useSharedWarden();

  it.each(['/health', '/', '/api/status', '/mcp', '/nope'])('%s carries nosniff, frame denial, referrer policy and no X-Powered-By', async (path) => {
    const response = await send(`${warden.url}${path}`);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['server']).toBeUndefined();
  });

  it('API answers are not cacheable', async () => {
    for (const path of ['/health', '/api/status', '/mcp']) {
      expect((await send(`${warden.url}${path}`)).headers['cache-control']).toBe('no-store');
    }
  });

  it('no HSTS over plain http; HSTS when the public URL is https', async () => {
    expect((await send(`${warden.url}/health`)).headers['strict-transport-security']).toBeUndefined();
    const tls = await useWarden({ options: { publicUrl: 'https://mcp.example.com' } });
    expect((await send(`${tls.url}/health`)).headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  });
});

describe('CORS', () => {
  const warden = useSharedWarden({ options: { corsOrigins: [ALLOWED_ORIGIN] } });

  function preflight(origin: string): ReturnType<typeof send> {
    return send(warden.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-session-id' },
    });
  }

  it('a preflight from an allowed origin → 204 allowing the MCP headers', async () => {
    const response = await preflight(ALLOWED_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    const allowed = String(response.headers['access-control-allow-headers']).toLowerCase();
    for (const header of ['authorization', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id']) expect(allowed).toContain(header);
    expect(String(response.headers['access-control-allow-methods'])).toContain('DELETE');
    expect(String(response.headers['vary'])).toMatch(/origin/i);
  });

  it('a preflight from a foreign origin → 403 with no Access-Control-Allow-Origin', async () => {
    const response = await preflight('https://evil.example');
    expect(response.status).toBe(403);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an allowed origin sees Mcp-Session-Id exposed on real requests', async () => {
    const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key, { origin: ALLOWED_ORIGIN }), body: initializeBody() });
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(String(response.headers['access-control-expose-headers'])).toContain('Mcp-Session-Id');
    expect(String(response.headers['vary'])).toMatch(/origin/i);
  });

  it('without configured origins there is no cross-origin access at all', async () => {
    const closed = await useWarden();
    const response = await send(closed.mcpUrl, { method: 'OPTIONS', headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' } });
    expect(response.status).toBe(403);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('request log', () => {
  it('writes one structured line per request with the key fingerprint, never the key or Authorization header', async () => {
    const warden = await useWarden();
    const { client } = await connectClient(warden);
    await client.callTool({ name: 'calculate', arguments: { expression: '2+2' } });
    await client.close();
    await send(`${warden.mcpUrl}?api_key=${warden.key}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: initializeBody() });
    await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders('wrong-key-0123456789abcdef'), body: initializeBody() });
    await warden.stop();

    const lines = warden.logs().filter((line) => line['msg'] === 'request');
    const call = lines.find((line) => line['tool'] === 'calculate');
    expect(call).toMatchObject({ method: 'POST', path: '/mcp', mcpMethod: 'tools/call', status: 200, ip: '127.0.0.1', auth: 'ok' });
    expect(call?.['keyId']).toMatch(/^key_[0-9a-f]{12}$/);
    expect(typeof call?.['durationMs']).toBe('number');
    expect(typeof call?.['reqId']).toBe('string');
    expect(typeof call?.['time']).toBe('number');
    expect(lines.find((line) => line['auth'] === 'missing')).toMatchObject({ status: 401, path: '/mcp', failure: 'auth_required:no_credentials' });
    expect(lines.find((line) => line['auth'] === 'invalid')).toMatchObject({ status: 401, failure: 'auth_invalid:unknown_key' });
    const text = warden.logText();
    expect(text).not.toContain(warden.key);
    expect(text).not.toContain('wrong-key-0123456789abcdef');
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});
