/**
 * The user's browser for OAuth tests: Debian's Chromium (`/usr/bin/chromium`), headless, driven
 * by playwright-core, and the steps a user takes in it: mcp-warden's key sign-in consent page
 * (type the key, Approve or Deny) and an OpenID Connect provider's login and consent pages
 * (oidc-provider's development interactions), followed by mcp-warden's own approval page. Each step ends when the browser has been sent to
 * the MCP client's loopback redirect URI, which the client itself serves (or, for a client that
 * only hands over the authorization URL, {@link useCallbackListener}).
 *
 * Browser-side expressions are strings: the project compiles without the DOM lib.
 */

import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** A headless Chromium for one test, closed when the test finishes (passed or failed). */
export async function useChromium(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 20_000 });
  onTestFinished(() => browser.close());
  return browser;
}

/** A fresh page in its own context (no cookies shared with other steps), closed with the browser. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

/** True when `url` is the client's redirect URI (any query). */
function arrivedAt(redirectUri: string): (url: URL) => boolean {
  return (url) => `${url.origin}${url.pathname}` === redirectUri;
}

/**
 * On mcp-warden's consent page at `authorizationUrl`: types `key` and presses Approve (or Deny);
 * resolves with the URL the browser was sent to, once it is the client's `redirectUri`, and the
 * text the page showed (client name, redirect host, scopes).
 */
export async function consentWithKey(page: Page, authorizationUrl: string, key: string, redirectUri: string, action: 'approve' | 'deny' = 'approve'): Promise<{ readonly callback: URL; readonly response: Response | null; readonly shown: string }> {
  const opened = await page.goto(authorizationUrl);
  if (opened?.status() !== 200) throw new Error(`consent page: ${opened?.status()}`);
  const shown = (await page.locator('main').textContent()) ?? '';
  await page.fill('#api_key', key);
  const [response] = await Promise.all([page.waitForNavigation({ url: arrivedAt(redirectUri) }), page.click(`button[value="${action}"]`)]);
  return { callback: new URL(page.url()), response, shown };
}

/**
 * Types `key` on the consent page at `authorizationUrl` and presses Approve, expecting the page
 * to refuse it (the key is unknown or revoked): returns the status and the alert's text.
 */
export async function refusedKey(page: Page, authorizationUrl: string, key: string): Promise<{ readonly status: number | undefined; readonly alert: string | null }> {
  const opened = await page.goto(authorizationUrl);
  if (opened?.status() !== 200) throw new Error(`consent page: ${opened?.status()}`);
  await page.fill('#api_key', key);
  const [refused] = await Promise.all([page.waitForNavigation(), page.click('button[value="approve"]')]);
  return { status: refused?.status(), alert: await page.locator('[role="alert"]').textContent() };
}

/**
 * From `authorizationUrl` (mcp-warden, which sends the browser on to the provider): signs in as
 * `login` on the provider's login page and approves on its consent page, then presses Approve
 * (or Deny) on mcp-warden's own approval page; `onApproval` sees that page first (what it shows,
 * how it renders). Resolves once the browser is back at the client's `redirectUri`.
 */
export async function signInAtProvider(
  page: Page,
  authorizationUrl: string,
  login: string,
  redirectUri: string,
  options: { readonly action?: 'approve' | 'deny'; readonly onApproval?: (page: Page) => Promise<void> } = {},
): Promise<{ readonly callback: URL; readonly visited: readonly string[]; readonly approvalShown: string }> {
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  const done = page.waitForURL(arrivedAt(redirectUri), { waitUntil: 'commit' });
  await page.goto(authorizationUrl);
  let approvalShown = '';
  // Up to two provider pages (login, then consent: the provider may skip consent it already has), then ours.
  for (let step = 0; step < 3 && !arrivedAt(redirectUri)(new URL(page.url())); step += 1) {
    await page.waitForLoadState('domcontentloaded');
    if ((await page.title()) === 'Allow access to mcp-warden?') {
      approvalShown = (await page.locator('main').textContent()) ?? '';
      await options.onApproval?.(page);
      await Promise.all([page.waitForURL(arrivedAt(redirectUri), { waitUntil: 'commit' }), page.click(`button[value="${options.action ?? 'approve'}"]`)]);
      break;
    }
    const prompt = await page.locator('input[name="prompt"]').first().getAttribute('value', { timeout: 5000 });
    if (prompt === 'login') {
      await page.fill('input[name="login"]', login);
      await page.fill('input[name="password"]', 'any');
    }
    await Promise.all([page.waitForNavigation({ waitUntil: 'commit' }), page.click('button[type="submit"]')]);
  }
  await done;
  return { callback: new URL(page.url()), visited, approvalShown };
}

/**
 * A native client's loopback redirect listener for one test, for a client that leaves it to its
 * host (the SDK's `OAuthClientProvider`): answers a plain page and records each request. Its
 * `redirectUri` is `http://127.0.0.1:<port>/callback`; it closes when the test finishes.
 */
export async function useCallbackListener(): Promise<{ readonly redirectUri: string; readonly received: readonly URL[] }> {
  const received: URL[] = [];
  const server = createServer((request, response) => {
    received.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
    response.writeHead(200, { 'content-type': 'text/plain' }).end('signed in; you may close this window');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, received };
}
