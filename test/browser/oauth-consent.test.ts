/**
 * The key sign-in consent page in a real browser: headless Chromium (Debian's `chromium`,
 * driven by playwright-core) opens the authorization URL of mcp-warden as its own
 * authorization server, the page renders under its CSP with no violation and fits a 375 px
 * phone screen, a wrong key is refused on the page, the right key is typed in and Approve
 * sends the browser to the client's loopback callback with a code (the CSP's `form-action`
 * allows that redirect), and the code redeems for a token /mcp accepts. Then the approval page
 * that follows an upstream OpenID Connect sign-in (a real provider on loopback), at the same
 * width and under its CSP, naming the client and the user; Approve sends the code.
 *
 * Browser-side expressions are passed to `page.evaluate` as strings: the project compiles
 * without the DOM lib.
 */

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { authorizeUrl, pkce, postForm, registerClient, useOAuthWarden } from '../helpers/oauth.js';
import { stillServing, useWarden } from '../helpers/warden.js';
import { signInAtProvider } from '../helpers/chromium.js';
import { IDP_CLIENT_ID, IDP_CLIENT_SECRET, useIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/port.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
  });
`;

describe.skipIf(!existsSync(CHROMIUM))('OAuth consent page in Chromium', () => {
  let browser: Browser;
  let callbackServer: Server;
  let callbackUrl: string;
  const callbacks: URL[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    // The native client's loopback listener: records the redirect, answers a plain page.
    callbackServer = createServer((request, response) => {
      callbacks.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
      response.writeHead(200, { 'content-type': 'text/plain' }).end('signed in; you may close this window');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
  });

  it('renders under its CSP on a phone-width screen, refuses a wrong key, and approves with the right one', async () => {
    const warden = await useOAuthWarden();
    const clientId = await registerClient(warden.issuer, [callbackUrl], 'Browser <b>Client</b>');
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(warden.issuer, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: callbackUrl,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: `${warden.issuer}/mcp`,
      state: 'browser-state',
      scope: 'mcp:tools',
    });
    const context = await browser.newContext({ viewport: { width: 375, height: 700 }, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.addInitScript(RECORD_CSP_VIOLATIONS);
      expect((await page.goto(url))?.status()).toBe(200);
      // The client's name is shown as text, never as markup.
      expect(await page.locator('main p strong').first().textContent()).toBe('Browser <b>Client</b>');
      expect(await page.locator('main').textContent()).toContain(new URL(callbackUrl).host);
      expect(await page.locator('main li code').allTextContents()).toEqual(['mcp:tools']);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);

      await page.fill('#api_key', 'wrong-key-0123456789abcdefghijklmnopqrstu');
      const [refused] = await Promise.all([page.waitForNavigation(), page.click('button[value="approve"]')]);
      expect(refused?.status()).toBe(401);
      expect(await page.locator('[role="alert"]').textContent()).toBe('That API key was not accepted.');

      await page.fill('#api_key', warden.key);
      await Promise.all([page.waitForURL((target) => target.href.startsWith(callbackUrl)), page.click('button[value="approve"]')]);
      expect(await page.evaluate('window.__cspViolations')).toEqual([]);
      expect(problems).toEqual([]);
      const callback = callbacks.filter((received) => received.pathname === '/callback').at(-1) as URL;
      expect(callback.searchParams.get('state')).toBe('browser-state');
      expect(callback.searchParams.get('iss')).toBe(warden.issuer);
      const code = callback.searchParams.get('code') as string;
      const token = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: callbackUrl, client_id: clientId, code_verifier: verifier, resource: `${warden.issuer}/mcp` });
      expect(token.status).toBe(200);
      const accessToken = token.json<{ access_token: string }>().access_token;
      expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(accessToken), body: initializeBody() })).status).toBe(200);
      // The key typed into the page is not kept by the browser.
      const cookies = await context.cookies();
      expect(JSON.stringify(cookies)).not.toContain(warden.key);
    } finally {
      await context.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });

  it('after an upstream sign-in, our approval page renders under its CSP at 375 px, names client and user, and Approve sends the code', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const idp = await useIdp(issuer, { alice: { email: 'alice@example.com', email_verified: true, groups: ['mcp-users'] } });
    const rules = join(mkdtempSync(join(tmpdir(), 'mcpw-oidc-page-')), 'rules.json');
    writeFileSync(rules, JSON.stringify([{ group: 'mcp-users', scopes: ['mcp:tools:echo'] }]));
    const warden = await useWarden({
      options: { port, oauthIssuer: issuer, oauthUpstreamIssuer: idp.issuer, oauthUpstreamClientId: IDP_CLIENT_ID, oauthUpstreamClientSecret: IDP_CLIENT_SECRET, oauthUpstreamRules: rules, oauthUpstreamScopes: ['openid', 'email', 'groups'] },
    });
    const clientId = await registerClient(issuer, [callbackUrl], 'Phone <i>Client</i>');
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: callbackUrl, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'upstream-state' });
    const context = await browser.newContext({ viewport: { width: 375, height: 700 }, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.addInitScript(RECORD_CSP_VIOLATIONS);
      let width = Number.NaN;
      let name: string | null = null;
      const { callback, approvalShown } = await signInAtProvider(page, url, 'alice', callbackUrl, {
        onApproval: async (approval) => {
          width = (await approval.evaluate('document.documentElement.scrollWidth')) as number;
          name = await approval.locator('main p strong bdi').nth(1).textContent();
          expect(await approval.evaluate('window.__cspViolations')).toEqual([]);
        },
      });
      expect(width).toBeLessThanOrEqual(375);
      expect(name).toBe('Phone <i>Client</i>');
      expect(approvalShown).toContain('alice@example.com');
      expect(approvalShown).toContain(clientId);
      expect(approvalShown).toContain(new URL(callbackUrl).host);
      expect(approvalShown).toContain('mcp:tools:echo');
      expect(approvalShown).toContain('this computer (localhost)');
      expect(problems).toEqual([]);
      expect(callback.searchParams.get('state')).toBe('upstream-state');
      const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code') as string, redirect_uri: callbackUrl, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
      expect(token.status).toBe(200);
      expect(token.json<{ scope: string }>().scope).toBe('mcp:tools:echo');
    } finally {
      await context.close();
    }
    expect(await stillServing(warden)).toBe(true);
  }, 40_000);
});
