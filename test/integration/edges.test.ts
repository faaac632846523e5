/**
 * Edge cases of the refusal paths (issue 9 §E), over real HTTP and raw loopback sockets:
 * the failure table's overflow never bans an innocent client, malformed URLs and requests
 * Node's parser refuses are answered like every other refusal (IP rules, bans, rate limit,
 * our body and headers), duplicate Host, absolute-form targets and header-count overflow are
 * refused, and Retry-After is the real wait, never more than the window.
 */

import { describe, expect, it } from 'vitest';
import { apiTools, initializeBody, send } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw-socket.js';
import { openSession, stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';

const BEHIND_PROXY = { trustProxy: { kind: 'hops' as const, hops: 1 } };

function from(ip: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': ip, ...extra };
}

describe('brute-force guard: failure table overflow', () => {
  it('beyond --ban-max-clients nobody shares a failure count: an innocent typo is a 401, not a ban', async () => {
    const server = await useWarden({ options: { ...BEHIND_PROXY, banThreshold: 2, banSeconds: 60, banMaxClients: 5 } });
    const status = `${server.url}/api/status`;
    const wrong = { authorization: 'Bearer wrong-key-0123456789abcdef' };
    // Five clients fail once each: the failure table is full.
    for (let index = 1; index <= 5; index++) expect((await send(status, { headers: from(`10.0.0.${index}`, wrong) })).status).toBe(401);
    // A newcomer guesses three times: it is tracked (the oldest entry is forgotten) and banned.
    const attacker = '10.0.0.66';
    for (let index = 0; index < 3; index++) expect((await send(status, { headers: from(attacker, wrong) })).status).toBe(401);
    const banned = await send(status, { headers: from(attacker, { authorization: `Bearer ${server.key}` }) });
    expect(banned.status).toBe(403);
    expect(banned.json()).toEqual({ error: 'ip_banned', message: 'Forbidden: temporarily banned after repeated authentication failures' });
    // Another newcomer mistypes once: 401, and its next (right) request is served.
    const innocent = '10.0.0.77';
    expect((await send(status, { headers: from(innocent, wrong) })).status).toBe(401);
    const served = await send(status, { headers: from(innocent, { authorization: `Bearer ${server.key}` }) });
    expect(served.status).toBe(200);
    const body = served.json<{ security: { bans: Array<{ client: string }> } }>();
    expect(body.security.bans.map((ban) => ban.client)).toEqual([attacker]);
    expect(await stillServing(server)).toBe(true);
  });
});

describe('Retry-After', () => {
  it('a burst that fills a 60 s window is told 60 s, never more, on both headers', async () => {
    const server = await useWarden({ options: { rateLimit: 3, rateWindow: 60 } });
    const headers = { authorization: `Bearer ${server.key}` };
    for (let index = 0; index < 3; index++) expect((await send(`${server.url}/api/tools`, { headers })).status).toBe(200);
    const refused = await send(`${server.url}/api/tools`, { headers });
    expect(refused.status).toBe(429);
    expect(refused.json()).toEqual({ error: 'rate_limited', message: 'Too Many Requests: per-IP limit' });
    // The three admissions happened well within a second of the refusal.
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.headers['ratelimit-reset']).toBe('60');
    expect((await send(`${server.url}/health`)).status).toBe(200);
  });
});

/** `/metrics` in Prometheus text, read with the key (loopback 127.0.0.1). */
async function metricsText(server: RunningWarden): Promise<string> {
  return (await send(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.key}` } })).text;
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cache-control': 'no-store' };

describe('malformed URLs meet the IP rules, bans and rate limit first', () => {
  it('a denied address gets 403 for GET /%zz, not 400', async () => {
    const server = await useWarden({ options: { ...BEHIND_PROXY, denyIps: ['203.0.113.0/24'] } });
    const denied = await send(`${server.url}/%zz`, { headers: from('203.0.113.7') });
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ error: 'ip_forbidden', message: 'Forbidden: address not allowed' });
    expect(denied.headers).toMatchObject(SECURITY_HEADERS);
    const other = await send(`${server.url}/%zz`, { headers: from('198.51.100.1') });
    expect(other.status).toBe(400);
    expect(other.json()).toEqual({ error: 'invalid_request', message: 'Invalid Request' });
    expect(await stillServing(server)).toBe(true);
  });

  it('a banned client gets 403 for GET /%zz', async () => {
    const server = await useWarden({ options: { ...BEHIND_PROXY, banThreshold: 1, banSeconds: 60 } });
    const wrong = { authorization: 'Bearer wrong-key-0123456789abcdef' };
    for (let index = 0; index < 2; index++) await send(`${server.url}/api/tools`, { headers: from('198.51.100.66', wrong) });
    const banned = await send(`${server.url}/%zz`, { headers: from('198.51.100.66') });
    expect(banned.status).toBe(403);
    expect(banned.json()).toEqual({ error: 'ip_banned', message: 'Forbidden: temporarily banned after repeated authentication failures' });
    expect(Number(banned.headers['retry-after'])).toBeGreaterThan(50);
    expect(await stillServing(server)).toBe(true);
  });

  it('malformed URLs count toward the rate limit: 400 within it, 429 beyond, logged and counted like any request', async () => {
    // 6 per window: enough for the checks from 127.0.0.1 at the end (metrics, stillServing).
    const server = await useWarden({ options: { ...BEHIND_PROXY, rateLimit: 6, rateWindow: 60 } });
    const client = from('198.51.100.9');
    for (let index = 0; index < 6; index++) {
      const response = await send(`${server.url}/%zz`, { headers: client });
      expect(response.status).toBe(400);
      expect(response.headers['ratelimit-remaining']).toBe(String(5 - index));
    }
    const limited = await send(`${server.url}/%zz`, { headers: client });
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({ error: 'rate_limited', message: 'Too Many Requests: per-IP limit' });
    expect(limited.headers['retry-after']).toBe('60');
    // The quota is spent for every route.
    expect((await apiTools(server, server.key, from('198.51.100.9'))).status).toBe(429);
    const lines = server.logs().filter((line) => line['msg'] === 'request' && line['path'] === '/%zz');
    // The request log aggregates repeated refusals: the first line per failure; the metric counts all.
    expect(lines.map((line) => line['status'])).toEqual([400, 429]);
    expect(lines[0]).toMatchObject({ ip: '198.51.100.9', failure: 'invalid_request:fst_err_bad_url' });
    expect(await metricsText(server)).toMatch(/mcp_warden_http_requests_total\{route="unmatched",method="GET",status="400"\} 6/);
    expect(await stillServing(server)).toBe(true);
  });
});

describe("requests Node's parser refuses", () => {
  const framing = {
    'Content-Length with Transfer-Encoding': 'POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'duplicate Content-Length': 'POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'invalid header character': 'GET /api/tools HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\u0001b\r\n\r\n',
    'not HTTP at all': 'HELLO THERE\r\n\r\n',
  };

  for (const [name, request] of Object.entries(framing)) {
    it(`${name} → 400 with our body, security headers and Connection: close`, async () => {
      const server = await useWarden();
      const response = await rawExchange(server.url, request);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ error: 'invalid_request', message: 'Invalid Request' });
      expect(response.headers).toMatchObject({ ...SECURITY_HEADERS, connection: 'close', 'content-type': 'application/json; charset=utf-8' });
      expect(response.closed).toBe(true);
      expect(await stillServing(server)).toBe(true);
    });
  }

  it('oversized headers → 431 with our body', async () => {
    const server = await useWarden();
    const response = await rawExchange(server.url, `GET /api/tools HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(response.status).toBe(431);
    expect(JSON.parse(response.body)).toEqual({ error: 'headers_too_large', message: 'Request header fields too large' });
    expect(response.headers).toMatchObject(SECURITY_HEADERS);
    expect(await stillServing(server)).toBe(true);
  });

  it('each counts toward the peer address\'s rate limit (429 beyond it, for every route), with one log line per interval and a metric for each', async () => {
    const server = await useWarden({ options: { rateLimit: 6, rateWindow: 60 } });
    const bad = 'POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n';
    const statuses: number[] = [];
    for (let index = 0; index < 8; index++) statuses.push((await rawExchange(server.url, bad, { localAddress: '127.0.0.2' })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 429, 429]);
    const limited = await rawExchange(server.url, bad, { localAddress: '127.0.0.2' });
    expect(JSON.parse(limited.body)).toEqual({ error: 'rate_limited', message: 'Too Many Requests: per-IP limit' });
    expect(limited.headers['retry-after']).toBe('60');
    // The same peer's well-formed request is limited too; another address is not.
    const wellFormed = await rawExchange(server.url, `GET /api/tools HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${server.key}\r\nConnection: close\r\n\r\n`, { localAddress: '127.0.0.2' });
    expect(wellFormed.status).toBe(429);
    const lines = server.logs().filter((line) => line['msg'] === 'request refused by the HTTP parser');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 400, ip: '127.0.0.2', failure: 'invalid_request:hpe_unexpected_content_length', count: 1 });
    expect(await metricsText(server)).toMatch(/mcp_warden_http_requests_total\{route="unparsed",method="unknown",status="400"\} 6/);
    expect(await stillServing(server)).toBe(true);
  });

  it('a denied peer gets 403', async () => {
    const server = await useWarden({ options: { denyIps: ['127.0.0.3'] } });
    const response = await rawExchange(server.url, 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\u0001b\r\n\r\n', { localAddress: '127.0.0.3' });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ error: 'ip_forbidden', message: 'Forbidden: address not allowed' });
    expect(await stillServing(server)).toBe(true);
  });

  it('a timed-out request gets 408 with our body, and a socket is answered at most once', async () => {
    const server = await useWarden();
    const accepted = new Promise<import('node:net').Socket>((resolve) => server.server.app.server.once('connection', resolve));
    const exchange = rawExchange(server.url, 'POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n', { timeoutMs: 3000 });
    const socket = await accepted;
    const timeout = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    server.server.app.server.emit('clientError', timeout, socket);
    server.server.app.server.emit('clientError', Object.assign(new Error('again'), { code: 'HPE_INVALID_METHOD' }), socket);
    const response = await exchange;
    expect(response.status).toBe(408);
    expect(JSON.parse(response.body)).toEqual({ error: 'request_timeout', message: 'Request timeout' });
    expect(response.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(response.closed).toBe(true);
    expect(await stillServing(server)).toBe(true);
  });
  it('a socket whose response is already under way (an SSE stream) is closed, never written into', async () => {
    const server = await useWarden();
    const session = await openSession(server);
    const accepted = new Promise<import('node:net').Socket>((resolve) => server.server.app.server.once('connection', resolve));
    const stream = rawExchange(
      server.url,
      `GET /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${server.key}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${session.sessionId}\r\nMCP-Protocol-Version: ${session.version}\r\n\r\n`,
      { timeoutMs: 3000 },
    );
    const socket = await accepted;
    // Wait until the stream's head is out, then make the parser fail on this connection.
    for (let attempt = 0; attempt < 100 && (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent !== true; attempt++) {
      await sleep(10);
    }
    server.server.app.server.emit('clientError', Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), socket);
    const response = await stream;
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(response.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(response.text).not.toContain('invalid_request');
    expect(response.closed).toBe(true);
    expect(await stillServing(server)).toBe(true);
  });
});

describe('CONNECT (Node hands it to the `connect` event, not to Fastify)', () => {
  const tunnel = (host: string): string => `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;

  it('→ 405 with our body, Allow, security headers and Connection: close, logged and counted', async () => {
    const server = await useWarden();
    const response = await rawExchange(server.url, tunnel('127.0.0.1:22'));
    expect(response.status).toBe(405);
    expect(JSON.parse(response.body)).toEqual({ error: 'method_not_allowed', message: 'Method not allowed' });
    expect(response.headers).toMatchObject({ ...SECURITY_HEADERS, allow: 'GET, HEAD, POST, DELETE, OPTIONS', connection: 'close', 'content-type': 'application/json; charset=utf-8' });
    expect(response.closed).toBe(true);
    const lines = server.logs().filter((line) => line['msg'] === 'request refused by the HTTP parser');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 405, ip: '127.0.0.1', failure: 'method_not_allowed:connect', count: 1 });
    expect(await metricsText(server)).toMatch(/mcp_warden_http_requests_total\{route="unmatched",method="CONNECT",status="405"\} 1/);
    expect(await stillServing(server)).toBe(true);
  });

  it('counts toward the peer address\'s rate limit (429 beyond it)', async () => {
    const server = await useWarden({ options: { rateLimit: 3, rateWindow: 60 } });
    const statuses: number[] = [];
    for (let index = 0; index < 5; index++) statuses.push((await rawExchange(server.url, tunnel('example.com:443'), { localAddress: '127.0.0.2' })).status);
    expect(statuses).toEqual([405, 405, 405, 429, 429]);
    const limited = await rawExchange(server.url, tunnel('example.com:443'), { localAddress: '127.0.0.2' });
    expect(JSON.parse(limited.body)).toEqual({ error: 'rate_limited', message: 'Too Many Requests: per-IP limit' });
    expect(limited.headers['retry-after']).toBe('60');
    // The same peer's well-formed request is limited too; another address is not.
    const wellFormed = await rawExchange(server.url, `GET /api/tools HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${server.key}\r\nConnection: close\r\n\r\n`, { localAddress: '127.0.0.2' });
    expect(wellFormed.status).toBe(429);
    expect(await stillServing(server)).toBe(true);
  });

  it('a denied peer gets 403', async () => {
    const server = await useWarden({ options: { denyIps: ['127.0.0.3'] } });
    const response = await rawExchange(server.url, tunnel('127.0.0.1:6379'), { localAddress: '127.0.0.3' });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ error: 'ip_forbidden', message: 'Forbidden: address not allowed' });
    expect(await stillServing(server)).toBe(true);
  });
});

describe('Host and header integrity (raw sockets)', () => {
  function get(path: string, lines: string[]): string {
    return `GET ${path} HTTP/1.1\r\n${lines.map((line) => `${line}\r\n`).join('')}Connection: close\r\n\r\n`;
  }

  it('two Host headers → 400 (RFC 9112 §3.2), on the API and as JSON-RPC -32600 on /mcp', async () => {
    const server = await useWarden();
    const auth = `Authorization: Bearer ${server.key}`;
    const api = await rawExchange(server.url, get('/api/tools', ['Host: localhost', 'Host: evil.example', auth]));
    expect(api.status).toBe(400);
    expect(JSON.parse(api.body)).toEqual({ error: 'invalid_request', message: 'Invalid Request' });
    const body = initializeBody();
    const mcp = await rawExchange(
      server.url,
      `POST /mcp HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n${auth}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(mcp.status).toBe(400);
    expect(JSON.parse(mcp.body)).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
    expect((await rawExchange(server.url, get('/api/tools', ['Host: localhost', auth]))).status).toBe(200);
    expect(await stillServing(server)).toBe(true);
  });

  it('a Host that is not `host[:port]` → 400 (RFC 9112 §3.2), even when a loopback name can be read out of it', async () => {
    const server = await useWarden();
    const auth = `Authorization: Bearer ${server.key}`;
    const port = new URL(server.url).port;
    for (const host of ['[::1]evil.example', `localhost:x@evil.example`, `evil.example@localhost:${port}`, `localhost:${port}:80`, `localhost:${port}/x`, 'localhost evil.example']) {
      const api = await rawExchange(server.url, get('/api/tools', [`Host: ${host}`, auth]));
      expect(api.status, host).toBe(400);
      expect(JSON.parse(api.body), host).toEqual({ error: 'invalid_request', message: 'Invalid Request' });
    }
    const body = initializeBody();
    const mcp = await rawExchange(
      server.url,
      `POST /mcp HTTP/1.1\r\nHost: [::1]evil.example\r\n${auth}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(mcp.status).toBe(400);
    expect(JSON.parse(mcp.body)).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
    // Well-formed loopback names still pass.
    for (const host of ['localhost', `localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`]) {
      expect((await rawExchange(server.url, get('/api/tools', [`Host: ${host}`, auth]))).status, host).toBe(200);
    }
    expect(await stillServing(server)).toBe(true);
  });

  it('an absolute-form target is checked by its authority (RFC 9112 §3.2.2), not by Host', async () => {
    const server = await useWarden();
    const auth = `Authorization: Bearer ${server.key}`;
    const port = new URL(server.url).port;
    const evil = await rawExchange(server.url, get('http://evil.example/api/tools', [`Host: localhost:${port}`, auth]));
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toEqual({ error: 'host_forbidden', message: 'Forbidden: host not allowed' });
    const ours = await rawExchange(server.url, get(`http://localhost:${port}/api/tools`, [`Host: localhost:${port}`, auth]));
    expect(ours.status).toBe(200);
    const notHttp = await rawExchange(server.url, get('ftp://localhost/api/tools', [`Host: localhost:${port}`, auth]));
    expect(notHttp.status).toBe(400);
    expect(JSON.parse(notHttp.body)).toEqual({ error: 'invalid_request', message: 'Invalid Request' });
    expect(await stillServing(server)).toBe(true);
  });

  it('an Origin after ~1,000 other headers is not dropped: the request gets 431', async () => {
    const server = await useWarden();
    const auth = `Authorization: Bearer ${server.key}`;
    const filler = (count: number): string[] => Array.from({ length: count }, (_, index) => `X-F${index}: 1`);
    const capped = await rawExchange(server.url, get('/api/tools', ['Host: localhost', auth, ...filler(1_100), 'Origin: http://evil.example']));
    expect(capped.status).toBe(431);
    expect(JSON.parse(capped.body)).toEqual({ error: 'headers_too_large', message: 'Request header fields too large' });
    // Just under the cap, the Origin is read and refused as usual.
    const under = await rawExchange(server.url, get('/api/tools', ['Host: localhost', auth, ...filler(990), 'Origin: http://evil.example']));
    expect(under.status).toBe(403);
    expect(JSON.parse(under.body)).toEqual({ error: 'origin_forbidden', message: 'Forbidden: origin not allowed' });
    expect(await stillServing(server)).toBe(true);
  });
});
