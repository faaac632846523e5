/**
 * What a remote upstream is sent and trusts: the configured static headers and the token of its
 * own OAuth client credentials (fetched once, cached, refreshed; never anything of our clients),
 * and TLS verified unless the test-only `allowInsecureTls`, which is logged loudly.
 */

import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientCredentialsTokens, upstreamFetch } from '../../src/gateway/remote.js';
import { Upstream } from '../../src/gateway/upstream.js';
import { WardenError } from '../../src/errors.js';
import { manualTimers } from '../helpers/timers.js';
import { memoryLogger, remoteUpstream } from '../helpers/upstreams.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback HTTP server that records every request and answers with `answer`. */
async function recorder(answer: (seen: Seen) => { status: number; body: string }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      seen.push(entry);
      const { status, body: out } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(out);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const tokenAnswer = () => {
  let issued = 0;
  return () => ({ status: 200, body: JSON.stringify({ access_token: `tok-${++issued}`, token_type: 'Bearer', expires_in: 3600 }) });
};

describe('ClientCredentialsTokens', () => {
  it('fetches once with HTTP Basic and the grant, caches until shortly before expiry, and drops the token on 401', async () => {
    const tokens = await recorder(tokenAnswer());
    const timers = manualTimers();
    const http = upstreamFetch({ name: 'api', allowInsecureTls: false, spawnTimeoutMs: 5000, callTimeoutMs: 5000, maxResultBytes: 65_536 });
    const source = new ClientCredentialsTokens('api', { tokenUrl: `${tokens.url}/token`, clientId: 'client id', clientSecret: 's3cret:x', scope: 'read write' }, http.fetch, timers);
    try {
      expect(await Promise.all([source.token(), source.token()])).toEqual(['tok-1', 'tok-1']);
      expect(tokens.seen).toHaveLength(1);
      const request = tokens.seen[0] as Seen;
      expect(request.method).toBe('POST');
      expect(request.headers['authorization']).toBe(`Basic ${Buffer.from('client%20id:s3cret%3Ax').toString('base64')}`);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({ grant_type: 'client_credentials', scope: 'read write' });
      timers.advance(3600_000 - 30_000 - 1);
      expect(await source.token()).toBe('tok-1');
      timers.advance(1);
      expect(await source.token()).toBe('tok-2');
      await source.onUnauthorized();
      expect(await source.token()).toBe('tok-3');
      expect(tokens.seen).toHaveLength(3);
    } finally {
      await http.close();
    }
  });

  it('a refusing token endpoint gives an error naming the upstream and status, not the body', async () => {
    const tokens = await recorder(() => ({ status: 400, body: JSON.stringify({ error: 'invalid_client', error_description: 'secret-ish detail' }) }));
    const http = upstreamFetch({ name: 'api', allowInsecureTls: false, spawnTimeoutMs: 5000, callTimeoutMs: 5000, maxResultBytes: 65_536 });
    const source = new ClientCredentialsTokens('api', { tokenUrl: `${tokens.url}/token`, clientId: 'c', clientSecret: 's', scope: undefined }, http.fetch);
    try {
      await expect(source.token()).rejects.toThrow(/^upstream "api": the token endpoint answered HTTP 400$/);
    } finally {
      await http.close();
    }
  });
});

describe('remote upstream requests', () => {
  it('carry the configured headers and the OAuth token, nothing else of ours', async () => {
    const tokens = await recorder(tokenAnswer());
    const upstream = await recorder(() => ({ status: 500, body: '{}' }));
    const env = { UPSTREAM_KEY: 'static-key-1', CLIENT_SECRET: 'oauth-secret' };
    const config = remoteUpstream(
      'api',
      `${upstream.url}/mcp`,
      { headers: { 'X-Upstream-Key': '${UPSTREAM_KEY}' }, oauth: { tokenUrl: `${tokens.url}/token`, clientId: 'gateway', clientSecret: '${CLIENT_SECRET}' }, versionNegotiation: 'legacy' },
      env,
    );
    const { logger } = memoryLogger();
    const error = await new Upstream(config, { logger, parentEnv: { MCP_API_KEYS: 'ours' } }).connect().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WardenError);
    expect((error as WardenError).code).toBe('WARDEN_ERR_UPSTREAM_UNAVAILABLE');
    const first = upstream.seen[0] as Seen;
    expect(first.method).toBe('POST');
    expect(first.headers['authorization']).toBe('Bearer tok-1');
    expect(first.headers['x-upstream-key']).toBe('static-key-1');
    expect(JSON.stringify(first.headers)).not.toContain('ours');
    expect(JSON.parse(first.body)).toMatchObject({ method: 'initialize' });
  });
});

describe('response size cap', () => {
  it('a JSON answer over maxResultBytes becomes a JSON-RPC error for the request id; without an id the fetch fails', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'x'.repeat(40_000) }] } });
    const upstream = await recorder((seen) => ({ status: 200, body: seen.url === '/small' ? '{"jsonrpc":"2.0","id":1,"result":{}}' : big }));
    const http = upstreamFetch({ name: 'api', allowInsecureTls: false, spawnTimeoutMs: 5000, callTimeoutMs: 5000, maxResultBytes: 16_384 });
    try {
      const answer = await http.fetch(`${upstream.url}/mcp`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'x' } }) });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: -32000, message: 'Result too large', data: { warden: 'result_too_large' } } });
      await expect(http.fetch(`${upstream.url}/mcp`)).rejects.toThrow('upstream "api": a response exceeds maxResultBytes (16384)');
      const small = await http.fetch(`${upstream.url}/small`, { method: 'POST', body: '{}' });
      expect(await small.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    } finally {
      await http.close();
    }
  });
});

describe('TLS', () => {
  async function httpsServer(): Promise<string> {
    const server = createHttpsServer(
      { key: readFileSync(new URL('fixtures/test-only-self-signed.key', import.meta.url)), cert: readFileSync(new URL('fixtures/test-only-self-signed.crt', import.meta.url)) },
      (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it('verifies certificates: a self-signed upstream is refused unless allowInsecureTls', async () => {
    const url = await httpsServer();
    const verified = upstreamFetch({ name: 'tls', allowInsecureTls: false, spawnTimeoutMs: 5000, callTimeoutMs: 5000, maxResultBytes: 65_536 });
    const insecure = upstreamFetch({ name: 'tls', allowInsecureTls: true, spawnTimeoutMs: 5000, callTimeoutMs: 5000, maxResultBytes: 65_536 });
    try {
      const refused = await verified.fetch(url).catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(TypeError);
      expect(((refused as TypeError).cause as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      const accepted = await insecure.fetch(url);
      expect(accepted.status).toBe(200);
      expect(await accepted.json()).toEqual({ ok: true });
    } finally {
      await Promise.all([verified.close(), insecure.close()]);
    }
  });

  it('allowInsecureTls is logged as a warning at every connect', async () => {
    const url = await httpsServer();
    const { logger, lines } = memoryLogger();
    await new Upstream(remoteUpstream('tls', `${url}mcp`, { allowInsecureTls: true, versionNegotiation: 'legacy' }), { logger, parentEnv: {} })
      .connect()
      .catch(() => undefined);
    expect(lines.find((line) => line['level'] === 40 && String(line['msg']).startsWith('TLS CERTIFICATE VERIFICATION IS OFF'))).toMatchObject({ upstream: 'tls' });
  });
});
