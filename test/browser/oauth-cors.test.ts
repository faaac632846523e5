/**
 * A browser-based OAuth client on another origin, in real Chromium (playwright-core, Debian's
 * `chromium`): a page served from http://127.0.0.2:<port>, an origin NOT listed with
 * `--cors-origin`, runs with `fetch` what the MCP Inspector does in direct mode against
 * mcp-warden on http://127.0.0.1:<port>: protected resource and authorization server metadata
 * (with `MCP-Protocol-Version`, so preflighted), dynamic registration (JSON, preflighted), then,
 * after the user approved on the consent page (a top-level navigation), the token exchange.
 * `/mcp` refuses that page (it keeps `--cors-origin`); a page on a listed origin
 * (http://127.0.0.3:<port>) reads the 401's `WWW-Authenticate` and, with the token, the
 * `Mcp-Session-Id` of its `initialize`. Chromium enforces CORS: a missing or wrong header makes
 * `fetch` throw, and the test fails.
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

const INITIALIZE = `JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'page', version: '1' } } })`;

/** Discovery and registration, as a browser OAuth client runs them (returns what it learnt); and whether /mcp let this page in. */
const DISCOVER_AND_REGISTER = `async ({ origin, redirectUri }) => {
  let mcp;
  try {
    mcp = String((await fetch(origin + '/mcp', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: ${INITIALIZE} })).status);
  } catch (error) {
    mcp = error.name;
  }
  // RFC 9728 §3.1: the resource's path appended to the well-known path.
  const prm = await (await fetch(origin + '/.well-known/oauth-protected-resource/mcp', { headers: { 'mcp-protocol-version': '2025-11-25' } })).json();
  const issuer = prm.authorization_servers[0];
  const as = await (await fetch(issuer + '/.well-known/oauth-authorization-server', { headers: { 'mcp-protocol-version': '2025-11-25' } })).json();
  const registered = await fetch(as.registration_endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Browser page client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }) });
  const client = await registered.json();
  return { mcp, resource: prm.resource, tokenEndpoint: as.token_endpoint, registrationStatus: registered.status, clientId: client.client_id };
}`;

/** The token exchange, from the page. */
const REDEEM = `async ({ tokenEndpoint, code, verifier, clientId, redirectUri, resource }) => {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: redirectUri, resource });
  const response = await fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const tokens = await response.json();
  return { status: response.status, scope: tokens.scope, accessToken: tokens.access_token };
}`;

/** /mcp without and with the token, from a listed origin: the 401's challenge and the session id are readable. */
const CONNECT = `async ({ mcpUrl, accessToken }) => {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const challenge = await fetch(mcpUrl, { method: 'POST', headers, body: ${INITIALIZE} });
  const initialized = await fetch(mcpUrl, { method: 'POST', headers: { ...headers, authorization: 'Bearer ' + accessToken }, body: ${INITIALIZE} });
  return { challengeStatus: challenge.status, wwwAuthenticate: challenge.headers.get('www-authenticate'), status: initialized.status, sessionId: initialized.headers.get('mcp-session-id') };
}`;

describe.skipIf(!existsSync(CHROMIUM))('a browser OAuth client on another origin, in Chromium', () => {
  let browser: Browser;
  let page: { server: Server; origin: string };
  let listedPage: { server: Server; origin: string };
  let callback: { server: Server; origin: string };

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    // The client's web page (its own origin) and its loopback redirect target.
    const html: Parameters<typeof createServer>[1] = (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>client</title>');
    page = await listen('127.0.0.2', html);
    listedPage = await listen('127.0.0.3', html);
    callback = await listen('127.0.0.1', (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('signed in'));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => page?.server.close(resolve));
    await new Promise((resolve) => listedPage?.server.close(resolve));
    await new Promise((resolve) => callback?.server.close(resolve));
  });

  it('discovers, registers, signs in and exchanges the code with fetch from an unlisted origin; /mcp answers only a listed one', async () => {
    const warden = await useOAuthWarden({ options: { corsOrigins: [listedPage.origin] } });
    const redirectUri = `${callback.origin}/callback`;
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${page.origin}/`);
      const found = await tab.evaluate(`(${DISCOVER_AND_REGISTER})(${JSON.stringify({ origin: warden.issuer, redirectUri })})`) as Record<string, unknown>;
      // /mcp keeps --cors-origin: the unlisted page cannot even read its refusal.
      expect(found).toMatchObject({ mcp: 'TypeError', resource: `${warden.issuer}/mcp`, tokenEndpoint: `${warden.issuer}/oauth/token`, registrationStatus: 201 });
      expect(String(found['clientId'])).toMatch(/^mcpw_/);

      // The user's part: the consent page, by navigation (no CORS there).
      const { verifier, challenge } = pkce();
      await tab.goto(authorizeUrl(warden.issuer, { response_type: 'code', client_id: String(found['clientId']), redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp`, state: 's' }));
      await tab.fill('#api_key', warden.key);
      await Promise.all([tab.waitForURL(`${redirectUri}?**`), tab.click('button[value="approve"]')]);
      const code = new URL(tab.url()).searchParams.get('code');
      expect(code).toMatch(/^mcpwc_/);

      await tab.goto(`${page.origin}/`);
      const redeemed = await tab.evaluate(`(${REDEEM})(${JSON.stringify({ tokenEndpoint: found['tokenEndpoint'], code, verifier, clientId: found['clientId'], redirectUri, resource: found['resource'] })})`) as Record<string, unknown>;
      expect(redeemed).toMatchObject({ status: 200, scope: 'mcp:tools mcp:operator' });

      await tab.goto(`${listedPage.origin}/`);
      const connected = await tab.evaluate(`(${CONNECT})(${JSON.stringify({ mcpUrl: warden.mcpUrl, accessToken: redeemed['accessToken'] })})`) as Record<string, unknown>;
      expect(connected).toMatchObject({ challengeStatus: 401, status: 200 });
      expect(connected['wwwAuthenticate']).toContain(`resource_metadata="${warden.issuer}/.well-known/oauth-protected-resource"`);
      expect(String(connected['sessionId'])).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await context.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });
});
