/**
 * CORS for browser-based OAuth clients (issue 14): the public, credential-free OAuth endpoints
 * answer any origin without credentials, preflights included; the consent page stays
 * navigation-only (no CORS, foreign Origin refused); `/mcp` keeps `--cors-origin`, and a listed
 * origin can send `Authorization` and the 2026-07-28 headers and read `WWW-Authenticate` and
 * `Mcp-Session-Id`. Exact headers are asserted on raw HTTP.
 */

import { describe, expect, it } from 'vitest';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { authorizeUrl, pkce, postForm, REDIRECT_URI, registerClient, useOAuthWarden } from '../helpers/oauth.js';
import { stillServing } from '../helpers/warden.js';

const PAGE = 'http://127.0.0.2:5173';
const ALLOWED = 'https://app.example.com';

function preflight(url: string, method: string, headers: string | undefined, origin = PAGE): Promise<RawResponse> {
  return send(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) } });
}

function expectPublicPreflight(response: RawResponse): void {
  expect(response.status).toBe(204);
  expect(response.headers['access-control-allow-origin']).toBe('*');
  expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  expect(response.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
  expect(response.headers['access-control-allow-headers']).toBe('Content-Type, Accept, MCP-Protocol-Version');
  expect(response.headers['access-control-max-age']).toBe('600');
}

function expectPublicAnswer(response: RawResponse): void {
  expect(response.headers['access-control-allow-origin']).toBe('*');
  expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  expect(response.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Retry-After, Cache-Control');
}

describe('CORS on the public OAuth endpoints', () => {
  it('any origin: preflights allow the methods and headers the calls need, without credentials', async () => {
    const warden = await useOAuthWarden();
    const paths: Array<[string, string, string | undefined]> = [
      ['/.well-known/oauth-protected-resource/mcp', 'GET', 'mcp-protocol-version'],
      ['/.well-known/oauth-protected-resource', 'GET', 'mcp-protocol-version'],
      ['/.well-known/oauth-authorization-server', 'GET', 'mcp-protocol-version'],
      ['/oauth/jwks', 'GET', undefined],
      ['/oauth/register', 'POST', 'content-type'],
      ['/oauth/token', 'POST', 'content-type'],
      ['/oauth/revoke', 'POST', 'content-type'],
    ];
    for (const [path, method, headers] of paths) {
      const response = await preflight(`${warden.issuer}${path}`, method, headers);
      expectPublicPreflight(response);
    }
    // Another origin altogether gets the same answer: nothing is reflected.
    expectPublicPreflight(await preflight(`${warden.issuer}/oauth/token`, 'POST', 'content-type', 'https://anything.example'));
    // A preflight that is not one (no request method) is refused as before.
    const broken = await send(`${warden.issuer}/oauth/token`, { method: 'OPTIONS', headers: { origin: PAGE } });
    expect(broken.status).toBe(400);
    expect(await stillServing(warden)).toBe(true);
  });

  it('discovery, registration, token exchange and revocation from another origin carry Access-Control-Allow-Origin: *', async () => {
    const warden = await useOAuthWarden();
    const origin = { origin: PAGE };
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/oauth/jwks']) {
      const response = await send(`${warden.issuer}${path}`, { headers: { ...origin, 'mcp-protocol-version': '2025-11-25' } });
      expect(response.status, path).toBe(200);
      expectPublicAnswer(response);
    }
    const registered = await send(`${warden.issuer}/oauth/register`, {
      method: 'POST',
      headers: { ...origin, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Browser client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    });
    expect(registered.status).toBe(201);
    expectPublicAnswer(registered);
    // An error answer is readable too (the client shows the RFC error, not a CORS failure).
    const refused = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'authorization_code', client_id: 'mcpw_unknown', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier, resource: `${warden.issuer}/mcp` }, origin);
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ error: 'invalid_client' });
    expectPublicAnswer(refused);
    const revoked = await postForm(`${warden.issuer}/oauth/revoke`, { token: 'mcpwr_unknown' }, origin);
    expect(revoked.status).toBe(200);
    expectPublicAnswer(revoked);
    expect(await stillServing(warden)).toBe(true);
  });

  it('the consent page stays navigation-only: no CORS, a foreign Origin refused on its post; /mcp and /api keep --cors-origin', async () => {
    const warden = await useOAuthWarden({ options: { corsOrigins: [ALLOWED] } });
    const clientId = await registerClient(warden.issuer);
    const url = authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: pkce().challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp` });
    const page = await send(url, { headers: { origin: PAGE } });
    expect(page.status).toBe(403);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    const navigation = await send(url);
    expect(navigation.status).toBe(200);
    expect(navigation.headers['access-control-allow-origin']).toBeUndefined();
    const post = await postForm(`${warden.issuer}/oauth/authorize`, { transaction: 'x', csrf: 'y', action: 'approve' }, { origin: PAGE });
    expect(post.status).toBe(403);
    expect(post.json()).toMatchObject({ error: 'origin_forbidden' });
    const consentPreflight = await preflight(`${warden.issuer}/oauth/authorize`, 'POST', 'content-type');
    expect(consentPreflight.status).toBe(403);
    expect(consentPreflight.headers['access-control-allow-origin']).toBeUndefined();
    // Even a listed origin gets no CORS answer from the consent page: the origins are for /mcp.
    const listed = await send(url, { headers: { origin: ALLOWED } });
    expect(listed.status).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBeUndefined();
    // Nor through a percent-encoded spelling of the path, which the router decodes (red team).
    for (const spelling of ['/oauth/%61uthorize', '/oauth/%63allback']) {
      const encoded = await send(`${warden.issuer}${spelling}${new URL(url).search}`, { headers: { origin: ALLOWED } });
      // The consent page itself (the callback is only routed in upstream mode).
      if (spelling === '/oauth/%61uthorize') expect(encoded.status).toBe(200);
      expect(encoded.headers['access-control-allow-origin'], spelling).toBeUndefined();
      const encodedPreflight = await send(`${warden.issuer}${spelling}`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
      expect(encodedPreflight.headers['access-control-allow-origin'], spelling).toBeUndefined();
    }
    // /mcp and /api: the foreign page origin is refused, as before.
    const mcp = await preflight(warden.mcpUrl, 'POST', 'authorization, content-type');
    expect(mcp.status).toBe(403);
    expect(mcp.headers['access-control-allow-origin']).toBeUndefined();
    const api = await send(`${warden.issuer}/api/tools`, { headers: { origin: PAGE, authorization: `Bearer ${warden.key}` } });
    expect(api.status).toBe(403);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('CORS on /mcp for a listed origin', () => {
  it('a preflight allows Authorization and the 2026-07-28 headers (Mcp-Param-* by pattern); the 401 exposes WWW-Authenticate; initialize exposes Mcp-Session-Id', async () => {
    const warden = await useOAuthWarden({ options: { corsOrigins: [ALLOWED] } });
    const allowed = await preflight(warden.mcpUrl, 'POST', 'authorization, content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-param-region', ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(allowed.headers['access-control-allow-methods']).toBe('GET, POST, DELETE, OPTIONS');
    expect(allowed.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, mcp-param-region');
    const plain = await preflight(warden.mcpUrl, 'POST', 'authorization, x-other', ALLOWED);
    expect(plain.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name');

    const unauthorized = await send(warden.mcpUrl, { method: 'POST', headers: { ...mcpHeaders(''), origin: ALLOWED }, body: initializeBody() });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(unauthorized.headers['www-authenticate']).toContain(`resource_metadata="${warden.issuer}/.well-known/oauth-protected-resource"`);
    const exposed = String(unauthorized.headers['access-control-expose-headers']);
    expect(exposed).toBe('Mcp-Session-Id, WWW-Authenticate, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy');
    const initialized = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key, { origin: ALLOWED }), body: initializeBody() });
    expect(initialized.status).toBe(200);
    expect(initialized.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(initialized.headers['mcp-session-id']).toBeDefined();
    expect(String(initialized.headers['access-control-expose-headers'])).toContain('Mcp-Session-Id');
    expect(await stillServing(warden)).toBe(true);
  });
});
