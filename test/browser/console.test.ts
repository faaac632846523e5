/**
 * The operator console on `GET /`, in a real browser: headless Chromium from Debian's
 * `chromium` package driven by playwright-core, against a real server on a loopback port.
 * Checks that the page runs under its strict CSP, that a wrong key shows an error and no
 * figures, that a right key shows live figures that follow real traffic, where the key is
 * (and is not) kept, the 375 px phone layout, hostile server strings, 429 back-off, and that a
 * key that is not an operator key is told so and shown no figures.
 *
 * Browser-side expressions are passed to `page.evaluate` as strings: the project compiles
 * without the DOM lib, and these are one-liners.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { apiStatus } from '../helpers/http.js';
import { connectClient, startWarden, useWarden, type RunningWarden } from '../helpers/warden.js';
import { addKey } from '../helpers/keys.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const WRONG_KEY = 'wrong-key-0123456789abcdefghijklmnopqrstu';
/** The console's default polling interval (src/http/page.ts CONSOLE_REFRESH_MS), plus slack. */
const ONE_REFRESH_MS = 3000 + 2500;

/** Collects what must never happen on the page: CSP violations and uncaught errors. */
interface PageWatch {
  readonly problems: string[];
  readonly requests: Array<{ url: string; authorization: string | undefined }>;
}

/** Records CSP violations through the DOM event as well as the console, before any page script runs. */
const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
  });
`;

async function openConsole(context: BrowserContext, url: string): Promise<{ page: Page; watch: PageWatch }> {
  const page = await context.newPage();
  const watch: PageWatch = { problems: [], requests: [] };
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (execute|apply|load|connect)/i.test(message.text())) watch.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watch.problems.push(`pageerror: ${error.message}`));
  page.on('request', (request) => watch.requests.push({ url: request.url(), authorization: request.headers()['authorization'] }));
  await page.addInitScript(RECORD_CSP_VIOLATIONS);
  const response = await page.goto(`${url}/`);
  expect(response?.status()).toBe(200);
  await page.locator('#console-login').waitFor({ state: 'visible', timeout: 5000 });
  return { page, watch };
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

async function figure(page: Page, id: string): Promise<number> {
  return Number((await text(page, `#stat-${id}`)).replace(/,/g, ''));
}

async function enterKey(page: Page, key: string): Promise<void> {
  await page.locator('#console-key').fill(key);
  await page.locator('#console-connect').click();
}

async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__cspViolations')) as string[];
}

describe('operator console in headless Chromium', () => {
  let warden: RunningWarden;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)`);
    // Headroom over the default 100/min: this file's own requests share 127.0.0.1 with the page.
    warden = await startWarden({ options: { rateLimit: 600 } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await warden?.stop();
  });

  it('rejects a wrong key, shows live figures for the right one, follows traffic, fits a phone, and forgets the key', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const { page, watch } = await openConsole(context, warden.url);
    expect(await page.locator('#console-view').isHidden()).toBe(true);

    // A wrong key: an error, no figures, nothing kept.
    await enterKey(page, WRONG_KEY);
    await page.locator('#console-error').waitFor({ state: 'visible', timeout: 5000 });
    expect(await text(page, '#console-error')).toMatch(/key rejected/i);
    expect(await page.locator('#console-view').isHidden()).toBe(true);
    expect(await page.locator('#console-login').isVisible()).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.evaluate(`[...document.querySelectorAll('#console .stat-value, #console .stat-detail')].map((e) => e.textContent).join('')`)).toBe('');
    expect(await page.evaluate(`document.querySelectorAll('#tools-body tr, #events-body tr, #bans-list li').length`)).toBe(0);

    // The right key: figures from /api/status appear.
    await enterKey(page, warden.key);
    await page.locator('#console-view').waitFor({ state: 'visible', timeout: 5000 });
    expect(await page.locator('#console-error').isHidden()).toBe(true);
    expect(await page.locator('#console-login').isHidden()).toBe(true);
    expect(await text(page, '#stat-sessions')).toBe('0');
    expect(await figure(page, 'requests')).toBeGreaterThan(0);
    expect(await text(page, '#stat-uptime')).toMatch(/^\d+s$/);
    expect(await text(page, '#stat-memory')).toMatch(/MiB$/);
    expect(await text(page, '#stat-keys')).toBe('1');
    expect(await text(page, '#tools-body')).toContain('No tool calls yet.');
    const authFailuresBefore = await figure(page, 'auth-failures');
    expect(authFailuresBefore).toBe(1); // the page's own wrong key

    // Traffic from outside the page: an SDK session with a tool call, and two wrong keys.
    const { client } = await connectClient(warden);
    try {
      const result = await client.callTool({ name: 'calculate', arguments: { expression: '6*7' } });
      expect(JSON.stringify(result.content)).toContain('42');
      for (let i = 0; i < 2; i++) {
        expect((await apiStatus(warden, WRONG_KEY)).status).toBe(401);
      }

      // The page catches up on its next refresh, with no reload.
      const poll = { timeout: ONE_REFRESH_MS, interval: 100 };
      await expect.poll(() => text(page, '#stat-sessions'), poll).toBe('1');
      await expect.poll(() => figure(page, 'auth-failures'), poll).toBe(authFailuresBefore + 2);
      const toolRow = page.locator('#tools-body tr', { hasText: 'calculate' });
      expect((await toolRow.locator('td').allTextContents()).slice(0, 3)).toEqual(['calculate', '1', '0']);
      expect(await page.locator('#events-body tr', { hasText: 'auth_failure' }).count()).toBeGreaterThanOrEqual(3);
      // Two samples make a rate and a line for level series; a rate's line needs a third.
      expect(await text(page, '#stat-rps')).toMatch(/^\d+(\.\d+)?$/);
      expect(await page.locator('#chart-memory svg polyline').count()).toBe(1);
      expect(await page.locator('#chart-sessions svg polyline').count()).toBe(1);
      expect(await page.locator('#chart-rps svg').getAttribute('aria-label')).toBe('Requests per second: collecting data');
    } finally {
      await client.close();
    }

    // The key: in sessionStorage, and nowhere else the page could leak it.
    const stored = (await page.evaluate('JSON.stringify(Object.values(sessionStorage))')) as string;
    expect(JSON.parse(stored)).toEqual([warden.key]);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await context.cookies()).toEqual([]);
    expect(page.url()).toBe(`${warden.url}/`);
    expect(await page.locator('#console-key').inputValue()).toBe('');
    expect(await page.content()).not.toContain(warden.key);
    expect(watch.requests.every((request) => !request.url.includes(warden.key))).toBe(true);
    const statusRequests = watch.requests.filter((request) => new URL(request.url).pathname === '/api/status');
    expect(statusRequests.length).toBeGreaterThanOrEqual(3);
    expect(statusRequests.every((request) => request.url === `${warden.url}/api/status`)).toBe(true);
    expect(statusRequests.at(-1)?.authorization).toBe(`Bearer ${warden.key}`);

    // Phone width: the page never scrolls sideways (tables scroll inside their own box).
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForFunction('document.documentElement.clientWidth === 375', undefined, { timeout: 2000 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')).toBe(true);
    expect(await page.evaluate(`document.getElementById('console').getBoundingClientRect().right <= 375`)).toBe(true);
    expect(await page.locator('#console-forget').isVisible()).toBe(true);

    // Forget key: gone from storage, figures cleared, the form back, polling stopped.
    await page.locator('#console-forget').click();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.locator('#console-view').isHidden()).toBe(true);
    expect(await page.locator('#console-login').isVisible()).toBe(true);
    expect(await text(page, '#stat-sessions')).toBe('');
    const pollsAtForget = watch.requests.filter((request) => request.url.endsWith('/api/status')).length;
    await page.waitForTimeout(3500);
    expect(watch.requests.filter((request) => request.url.endsWith('/api/status')).length).toBe(pollsAtForget);

    expect(await cspViolations(page)).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  }, 30_000);

  it('writes hostile server strings as text, never as markup', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const hostile = '<img src=x onerror="window.__pwned=1">';
    await context.route('**/api/status', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          status: 'ok',
          version: '<b>1</b>',
          uptimeSeconds: 3725,
          requestsServed: 10,
          authFailures: 1,
          rateLimited: 0,
          activeSessions: 2,
          memory: { rssBytes: 50 * 1024 * 1024, heapUsedBytes: 10 * 1024 * 1024, heapTotalBytes: 20 * 1024 * 1024 },
          monitoring: true,
          forbidden: 0,
          scopeDenials: 1,
          tools: { [hostile]: { calls: 3, errors: 1, avgMs: 1.5 } },
          security: {
            keys: { active: 1, total: 2 },
            bans: [{ client: `${hostile}-client`, until: '2030-01-01T00:00:00.000Z' }],
            recentEvents: [{ time: '2030-01-01T00:00:00.000Z', type: 'scope_denied" class="x', ip: '<svg onload=alert(1)>', principal: hostile, tool: hostile, reason: `${'x'.repeat(5000)}` }],
          },
          config: {},
        }),
      }),
    );
    const { page, watch } = await openConsole(context, warden.url);
    await enterKey(page, 'fake-key-0123456789abcdefghijklmnopqrstuv');
    await page.locator('#console-view').waitFor({ state: 'visible', timeout: 5000 });

    expect(await text(page, '#stat-uptime')).toBe('1h 02m');
    expect(await text(page, '#stat-uptime-detail')).toBe('version <b>1</b>');
    expect(await text(page, '#tools-body')).toContain(hostile);
    expect(await text(page, '#events-body')).toContain('<svg onload=alert(1)>');
    expect(await text(page, '#bans-list')).toContain(`${hostile}-client`);
    expect(await page.evaluate(`document.querySelectorAll('#console img, #console b, #console script, #events-body svg, #console [onerror], #console [onload]').length`)).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    // Long fields are cut, and still no sideways page scroll at phone width.
    expect((await text(page, '#events-body')).length).toBeLessThan(1000);
    expect(await page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')).toBe(true);

    expect(await cspViolations(page)).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it('tells a key that is not an operator key so, shows no figures and forgets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-console-'));
    const limited = addKey(join(dir, 'keys.json'), { name: 'echo-only', tools: ['echo'] });
    const keyed = await useWarden({ options: { keysFile: join(dir, 'keys.json'), rateLimit: 600 } });
    const context = await browser.newContext();
    try {
      const { page, watch } = await openConsole(context, keyed.url);
      await enterKey(page, limited.key);
      await page.locator('#console-error').waitFor({ state: 'visible', timeout: 5000 });
      expect(await text(page, '#console-error')).toMatch(/not an operator key \(403\)/);
      expect(await page.locator('#console-view').isHidden()).toBe(true);
      expect(await page.locator('#console-login').isVisible()).toBe(true);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      expect(await page.evaluate(`[...document.querySelectorAll('#console .stat-value, #console .stat-detail')].map((e) => e.textContent).join('')`)).toBe('');
      // The same page then works with the operator key.
      await enterKey(page, keyed.key);
      await page.locator('#console-view').waitFor({ state: 'visible', timeout: 5000 });
      expect(await page.locator('#console-error').isHidden()).toBe(true);
      expect(await cspViolations(page)).toEqual([]);
      expect(watch.problems).toEqual([]);
    } finally {
      await context.close();
      await keyed.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the key and backs off for Retry-After when rate limited', async () => {
    const context = await browser.newContext();
    await context.route('**/api/status', (route) =>
      route.fulfill({ status: 429, headers: { 'retry-after': '45', 'content-type': 'application/json' }, body: '{"error":"rate_limited","message":"Too Many Requests"}' }),
    );
    const { page, watch } = await openConsole(context, warden.url);
    await enterKey(page, 'fake-key-0123456789abcdefghijklmnopqrstuv');
    await expect.poll(() => text(page, '#console-status'), { timeout: 5000, interval: 100 }).toMatch(/Rate limited \(429\); retrying in 45 s/);
    expect(await page.locator('#console-error').isHidden()).toBe(true);
    expect(await page.locator('#console-forget').isVisible()).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    expect(await page.locator('#console-view').isHidden()).toBe(true);

    expect(await cspViolations(page)).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });
});
