/**
 * A browser-based OAuth client on another origin, in real Chromium (playwright-core, Debian's
 * `chromium`): a page served from http://127.0.0.2:<port> runs, with `fetch`, what the MCP
 * Inspector does in direct mode against mcp-warden on http://127.0.0.1:<port>: the 401's
 * `WWW-Authenticate` (read through CORS), protected resource and authorization server metadata
 * (with `MCP-Protocol-Version`, so preflighted), dynamic registration (JSON, preflighted), then,
 * after the user approved on the consent page (a top-level navigation), the token exchange and
 * an MCP `initialize` with the token, reading `Mcp-Session-Id`. Chromium enforces CORS: a
 * missing or wrong header makes `fetch` throw, and the test fails.
 *
 * Browser-side code is passed to `page.evaluate` as strings: the project compiles without the DOM lib.
 */

import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { authorizeUrl, pkce } from '../helpers/oauth.js';
import { useOAuthWarden } from '../helpers/oauth.js';
import { stillServing } from '../helpers/warden.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** Listens on `host` with `handler`; resolves with the server and its origin. */
async function listen(host: string, handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, origin: `http://${host}:${(server.address() as AddressInfo).port}` };
}

/** Discovery and registration, as a browser OAuth client runs them (returns what it learnt). */
const DISCOVER_AND_REGISTER = `async ({ mcpUrl, redirectUri }) => {
  const challenge = await fetch(mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'page', version: '1' } } }) });
  const wwwAuthenticate = challenge.headers.get('www-authenticate');
  const prmUrl = /resource_metadata="([^"]+)"/.exec(wwwAuthenticate ?? '')[1];
  const prm = await (await fetch(prmUrl + '/mcp', { headers: { 'mcp-protocol-version': '2025-11-25' } })).json();
  const issuer = prm.authorization_servers[0];
  const as = await (await fetch(issuer + '/.well-known/oauth-authorization-server', { headers: { 'mcp-protocol-version': '2025-11-25' } })).json();
  const registered = await fetch(as.registration_endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Browser page client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }) });
  const client = await registered.json();
  return { status: challenge.status, wwwAuthenticate, resource: prm.resource, tokenEndpoint: as.token_endpoint, registrationStatus: registered.status, clientId: client.client_id };
}`;

/** The token exchange and a first MCP request with the token, from the page. */
const REDEEM_AND_CONNECT = `async ({ tokenEndpoint, mcpUrl, code, verifier, clientId, redirectUri, resource }) => {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: redirectUri, resource });
  const tokenResponse = await fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const tokens = await tokenResponse.json();
  const initialized = await fetch(mcpUrl, { method: 'POST', headers: { authorization: 'Bearer ' + tokens.access_token, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'page', version: '1' } } }) });
  return { tokenStatus: tokenResponse.status, scope: tokens.scope, status: initialized.status, sessionId: initialized.headers.get('mcp-session-id') };
}`;

describe.skipIf(!existsSync(CHROMIUM))('a browser OAuth client on another origin, in Chromium', () => {
  let browser: Browser;
  let page: { server: Server; origin: string };
  let callback: { server: Server; origin: string };

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    // The client's web page (its own origin) and its loopback redirect target.
    page = await listen('127.0.0.2', (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>client</title>'));
    callback = await listen('127.0.0.1', (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('signed in'));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => page?.server.close(resolve));
    await new Promise((resolve) => callback?.server.close(resolve));
  });

  it('discovers, registers, signs in and exchanges the code with fetch across origins; then calls /mcp with the token', async () => {
    const warden = await useOAuthWarden({ options: { corsOrigins: [page.origin] } });
    const redirectUri = `${callback.origin}/callback`;
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${page.origin}/`);
      const found = await tab.evaluate(`(${DISCOVER_AND_REGISTER})(${JSON.stringify({ mcpUrl: warden.mcpUrl, redirectUri })})`) as Record<string, unknown>;
      expect(found).toMatchObject({ status: 401, resource: `${warden.issuer}/mcp`, tokenEndpoint: `${warden.issuer}/oauth/token`, registrationStatus: 201 });
      expect(found['wwwAuthenticate']).toContain('resource_metadata=');
      expect(String(found['clientId'])).toMatch(/^mcpw_/);

      // The user's part: the consent page, by navigation (no CORS there).
      const { verifier, challenge } = pkce();
      await tab.goto(authorizeUrl(warden.issuer, { response_type: 'code', client_id: String(found['clientId']), redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp`, state: 's' }));
      await tab.fill('#api_key', warden.key);
      await Promise.all([tab.waitForURL(`${redirectUri}?**`), tab.click('button[value="approve"]')]);
      const code = new URL(tab.url()).searchParams.get('code');
      expect(code).toMatch(/^mcpwc_/);

      await tab.goto(`${page.origin}/`);
      const connected = await tab.evaluate(
        `(${REDEEM_AND_CONNECT})(${JSON.stringify({ tokenEndpoint: found['tokenEndpoint'], mcpUrl: warden.mcpUrl, code, verifier, clientId: found['clientId'], redirectUri, resource: found['resource'] })})`,
      ) as Record<string, unknown>;
      expect(connected).toMatchObject({ tokenStatus: 200, scope: 'mcp:tools mcp:operator', status: 200 });
      expect(String(connected['sessionId'])).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await context.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });
});
