/**
 * OAuth 2.1 resource-server mode: the tests run their own authorization server's JWKS on
 * loopback and sign their own tokens. Valid tokens are accepted; wrong audience, wrong issuer,
 * expired, `alg: none`, HMAC-with-the-public-key and unknown-key tokens are refused with the
 * resource_metadata challenge; scopes map to tools; the protected resource metadata is served.
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { createHmac } from 'node:crypto';
import { apiStatus, apiTools, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { connectClient, startWarden, useWarden, type RunningWarden } from '../helpers/warden.js';
import { manualClock } from '../helpers/clock.js';
import { openSse, type SseConnection } from '../helpers/sse.js';
import { sleep } from '../helpers/wait.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://mcp.example.test';

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

describe('OAuth resource-server mode', () => {
  let jwksServer: Server;
  let jwksUrl: string;
  const published: JWK[] = [];
  let jwksFetches = 0;
  let rsa: Keys;
  let ec: Keys;
  let warden: RunningWarden;

  async function publish(keys: Keys, kid: string, alg: string): Promise<void> {
    published.push({ ...(await exportJWK(keys.publicKey)), kid, alg, use: 'sig' });
  }

  function sign(keys: Keys, kid: string, claims: Record<string, unknown>, options: { alg?: string; audience?: string; issuer?: string; expiresIn?: string | number } = {}): Promise<string> {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: options.alg ?? 'RS256', kid })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('user-123')
      .setIssuedAt();
    jwt.setExpirationTime(options.expiresIn ?? '5m');
    return jwt.sign(keys.privateKey);
  }

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    await publish(rsa, 'rsa-1', 'RS256');
    jwksServer = createHttpServer((request, response) => {
      jwksFetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    warden = await startWarden({
      options: { jwtJwksUrl: jwksUrl, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, publicUrl: AUDIENCE },
    });
  });

  afterAll(async () => {
    await warden.stop();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  /** An authenticated request any token may make (`/api/status` needs the operator scope). */
  async function statusWith(token: string): ReturnType<typeof send> {
    return apiTools(warden, token);
  }

  function expectChallenge(response: Awaited<ReturnType<typeof send>>, error?: string): void {
    expect(response.status).toBe(401);
    const header = String(response.headers['www-authenticate']);
    expect(header).toContain(`resource_metadata="${AUDIENCE}/.well-known/oauth-protected-resource"`);
    if (error !== undefined) expect(header).toContain(`error="${error}"`);
  }

  it('accepts a valid token and serves the MCP endpoint with it', async () => {
    const token = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' });
    expect((await statusWith(token)).status).toBe(200);
    const { client } = await connectClient(warden, token);
    const result = await client.callTool({ name: 'calculate', arguments: { expression: '6*7' } });
    expect(result.content).toEqual([{ type: 'text', text: '42' }]);
    await client.close();
  });

  it('a missing token → 401 pointing at the protected resource metadata', async () => {
    const response = await send(`${warden.url}/api/status`);
    expectChallenge(response);
    expect(response.headers['www-authenticate']).not.toContain('error=');
  });

  it.each([
    ['the wrong audience', { audience: 'https://other.example.test' }, 'jwt_bad_audience'],
    ['the wrong issuer', { issuer: 'https://evil.example.test' }, 'jwt_bad_issuer'],
    ['an expired token', { expiresIn: Math.floor(Date.now() / 1000) - 120 }, 'jwt_expired'],
  ])('%s → 401 invalid_token', async (_name, options, reason) => {
    const token = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' }, options);
    expectChallenge(await statusWith(token), 'invalid_token');
    expect(warden.logs().some((line) => line['failure'] === `auth_invalid:${reason}`)).toBe(true);
  });

  it('alg: none → 401', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', exp: now + 300, scope: 'mcp:tools' })).toString('base64url');
    expectChallenge(await statusWith(`${header}.${payload}.`), 'invalid_token');
  });

  it('HS256 signed with the public key as the HMAC secret → 401', async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', exp: now + 300, scope: 'mcp:tools' })).toString('base64url');
    const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
    expectChallenge(await statusWith(`${header}.${payload}.${signature}`), 'invalid_token');
    expect(warden.logs().some((line) => line['failure'] === 'auth_invalid:jwt_bad_algorithm')).toBe(true);
  });

  it('a token signed by an unknown key → 401; once the key is published it is fetched and accepted', async () => {
    const token = await sign(ec, 'ec-1', { scope: 'mcp:tools' }, { alg: 'ES256' });
    const before = jwksFetches;
    expectChallenge(await statusWith(token), 'invalid_token');
    expect(warden.logs().some((line) => line['failure'] === 'auth_invalid:jwt_unknown_key')).toBe(true);

    await publish(ec, 'ec-1', 'ES256');
    // The JWKS is refetched for an unknown kid once the cooldown (30 s) has passed; a fresh
    // server (fresh cache) fetches the new set at once.
    const fresh = await useWarden({ options: { jwtJwksUrl: jwksUrl, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, publicUrl: AUDIENCE } });
    expect((await apiTools(fresh, token)).status).toBe(200);
    await fresh.stop();
    expect(jwksFetches).toBeGreaterThan(before);
  });

  it('a valid token lacking the tool scope → 403 insufficient_scope naming the scope', async () => {
    const token = await sign(rsa, 'rsa-1', { scope: 'mcp:tools:echo profile' });
    const init = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
    expect(init.status).toBe(200);
    const headers = mcpHeaders(token, { 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-11-25' });
    const list = await send(warden.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(list.json<{ result: { tools: Array<{ name: string }> } }>().result.tools.map((tool) => tool.name)).toEqual(['echo']);
    const denied = await send(warden.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'calculate', arguments: { expression: '1' } } }),
    });
    expect(denied.status).toBe(403);
    const challenge = String(denied.headers['www-authenticate']);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp:tools:calculate"');
    expect(challenge).toContain('resource_metadata=');
    const allowed = await send(warden.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'ok' } } }),
    });
    expect(allowed.json()).toMatchObject({ id: 4, result: { content: [{ text: 'ok' }] } });
  });

  it('a session is bound to the token subject, not to the token', async () => {
    const first = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' });
    const init = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(first), body: initializeBody() });
    const sessionId = init.headers['mcp-session-id'] as string;
    const renewed = await sign(rsa, 'rsa-1', { scope: 'mcp:tools', jti: 'renewed' });
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' });
    const same = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(renewed, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }), body: ping });
    expect(same.status).toBe(200);
    const other = new SignJWT({ scope: 'mcp:tools' }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('someone-else').setExpirationTime('5m');
    const stranger = await other.sign(rsa.privateKey);
    const foreign = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(stranger, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }), body: ping });
    expect(foreign.status).toBe(404);
  });

  it('API keys keep working next to JWTs', async () => {
    expect((await statusWith(warden.key)).status).toBe(200);
  });

  it('serves the protected resource metadata (RFC 9728) at both paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const response = await send(`${warden.url}${path}`);
      expect(response.status).toBe(200);
      const metadata = response.json<Record<string, unknown>>();
      expect(metadata).toMatchObject({ resource: AUDIENCE, authorization_servers: [ISSUER], bearer_methods_supported: ['header'] });
      expect(metadata['scopes_supported']).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:tools:calculate', 'mcp:tools:echo']));
    }
  });

  it('never passes the token on: tools see only the subject', async () => {
    const token = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' });
    await statusWith(token);
    expect(warden.logText()).not.toContain(token);
    expect(warden.logText()).not.toContain(token.split('.')[2] as string);
  });

  it('a token reaching its exp (plus the 30 s leeway) ends its session and GET stream within a second, by the clock; then 401', async () => {
    const clock = manualClock();
    const timed = await useWarden({ clock: clock.now, options: { jwtJwksUrl: jwksUrl, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, publicUrl: AUDIENCE } });
    let stream: SseConnection | undefined;
    try {
      const exp = Math.floor(clock.now() / 1000) + 60;
      const token = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' }, { expiresIn: exp });
      const init = await send(timed.mcpUrl, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
      expect(init.status).toBe(200);
      const headers = mcpHeaders(token, { 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-11-25' });
      const ping = (): ReturnType<typeof send> => send(timed.mcpUrl, { method: 'POST', headers, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
      expect((await ping()).status).toBe(200);
      stream = await openSse(timed.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } });
      expect(stream.status).toBe(200);
      // Inside the leeway the token is still accepted and the stream stays.
      clock.advance((exp + 29) * 1000 - clock.now());
      await expect(stream.ended(700)).rejects.toThrow(/did not end/);
      expect((await ping()).status).toBe(200);
      clock.advance(1_000);
      await stream.ended(1000);
      const refused = await ping();
      expectChallenge(refused, 'invalid_token');
      expect((await send(`${timed.url}/health`)).status).toBe(200);
    } finally {
      stream?.close();
      await timed.stop();
    }
  });

  it('a client that refreshes its token keeps its session past the old token’s exp', async () => {
    const clock = manualClock();
    const timed = await useWarden({ clock: clock.now, options: { jwtJwksUrl: jwksUrl, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, publicUrl: AUDIENCE } });
    try {
      const start = Math.floor(clock.now() / 1000);
      const first = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' }, { expiresIn: start + 60 });
      const init = await send(timed.mcpUrl, { method: 'POST', headers: mcpHeaders(first), body: initializeBody() });
      const sessionId = init.headers['mcp-session-id'] as string;
      const ping = (token: string): ReturnType<typeof send> =>
        send(timed.mcpUrl, { method: 'POST', headers: mcpHeaders(token, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }), body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
      clock.advance(50_000);
      const refreshed = await sign(rsa, 'rsa-1', { scope: 'mcp:tools' }, { expiresIn: start + 600 });
      expect((await ping(refreshed)).status).toBe(200);
      clock.advance(60_000);
      // Past the first token's exp and leeway, and after a sweep: the session lives on.
      await sleep(700);
      expect((await ping(refreshed)).status).toBe(200);
      expectChallenge(await ping(first), 'invalid_token');
    } finally {
      await timed.stop();
    }
  });
});

describe('OAuth configuration', () => {
  it('refuses HMAC algorithms and plain-http JWKS on a non-loopback host', async () => {
    await expect(
      startWarden({ options: { jwtJwksUrl: 'http://auth.example.test/jwks', jwtIssuer: ISSUER, publicUrl: AUDIENCE } }),
    ).rejects.toThrow(/https URL/);
    await expect(
      startWarden({ options: { jwtJwksUrl: 'https://auth.example.test/jwks', jwtIssuer: ISSUER, publicUrl: AUDIENCE, jwtAlgorithms: ['HS256' as 'RS256'] } }),
    ).rejects.toThrow(/HMAC algorithms are refused/);
    await expect(startWarden({ options: { jwtJwksUrl: 'https://auth.example.test/jwks', publicUrl: AUDIENCE } })).rejects.toThrow(/needs --jwt-issuer/);
  });
});

describe('an unreachable JWKS', () => {
  it('answers 503 with Retry-After and never bans the client for it', async () => {
    const { createServer: createNetServer } = await import('node:net');
    // A port that refuses connections: the JWKS cannot be fetched.
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const warden = await useWarden({
      options: { jwtJwksUrl: `http://127.0.0.1:${port}/jwks.json`, jwtIssuer: ISSUER, publicUrl: AUDIENCE, banThreshold: 2 },
    });
    const keys = await generateKeyPair('ES256');
    const token = await new SignJWT({ scope: 'mcp:tools' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('s').setExpirationTime('5m').sign(keys.privateKey);
    for (let index = 0; index < 4; index++) {
      const response = await apiStatus(warden, token);
      expect(response.status).toBe(503);
      expect(response.json()).toEqual({ error: 'auth_unavailable', message: 'Service Unavailable: token verification unavailable' });
      expect(response.headers['retry-after']).toBe('5');
    }
    // Not banned: the API key still works from the same address.
    expect((await apiStatus(warden, warden.key)).status).toBe(200);
  });
});
