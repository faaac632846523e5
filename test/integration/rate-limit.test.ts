/**
 * The per-IP rate limit over real HTTP: 429 with Retry-After and RateLimit-* headers, applied
 * before authentication, not reset by a spoofed X-Forwarded-For, /health exempt, and released
 * once the window has passed.
 */

import { describe, expect, it } from 'vitest';
import { apiStatus, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { useWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';

const LIMIT = 5;

describe('per-IP rate limit', () => {
  it('admits N requests, then answers 429 with Retry-After and RateLimit headers', async () => {
    const warden = await useWarden({ options: { rateLimit: LIMIT, rateWindow: 2 } });
    const remaining: string[] = [];
    for (let index = 0; index < LIMIT; index++) {
      const response = await apiStatus(warden, warden.key);
      expect(response.status).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe(String(LIMIT));
      expect(response.headers['ratelimit-policy']).toBe(`${LIMIT};w=2`);
      remaining.push(String(response.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const limited = await apiStatus(warden, warden.key);
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({ error: 'rate_limited', message: 'Too Many Requests: per-IP limit' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);

    const mcp = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: initializeBody() });
    expect(mcp.status).toBe(429);
    expect(mcp.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Too Many Requests: per-IP limit' }, id: null });

    // The health probe is never limited.
    expect((await send(`${warden.url}/health`)).status).toBe(200);

    // After the window the client is admitted again.
    await sleep((retryAfter + 0.2) * 1000);
    expect((await apiStatus(warden, warden.key)).status).toBe(200);
  });

  it('is applied before authentication, so guessing keys spends the quota', async () => {
    const warden = await useWarden({ options: { rateLimit: LIMIT, rateWindow: 60 } });
    for (let index = 0; index < LIMIT; index++) {
      const guess = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(`guess-${index}-0123456789abcdef`), body: initializeBody() });
      expect(guess.status).toBe(401);
    }
    const next = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(warden.key), body: initializeBody() });
    expect(next.status).toBe(429);
    await warden.stop();
    // The first 401 is logged at once, the others in one summary line (see the request log).
    const refused = warden.logs().filter((line) => line['status'] === 401);
    expect(refused.map((line) => line['msg'])).toEqual(['request', 'requests refused (aggregated)']);
    expect(refused[1]).toMatchObject({ failure: 'auth_invalid:unknown_key', count: LIMIT - 1 });
  });

  it('a direct client cannot reset its limit with X-Forwarded-For', async () => {
    const warden = await useWarden({ options: { rateLimit: LIMIT, rateWindow: 60 } });
    for (let index = 0; index < LIMIT; index++) {
      await apiStatus(warden, warden.key, { 'x-forwarded-for': `198.51.100.${index}` });
    }
    const spoofed = await apiStatus(warden, warden.key, { 'x-forwarded-for': '203.0.113.99' });
    expect(spoofed.status).toBe(429);
    await warden.stop();
    expect(warden.logs().filter((line) => line['msg'] === 'request').every((line) => line['ip'] === '127.0.0.1')).toBe(true);
  });

  it('behind a trusted proxy (--trust-proxy 1) each forwarded client has its own limit, taken from the nearest hop', async () => {
    const warden = await useWarden({ options: { rateLimit: 2, rateWindow: 60, trustProxy: { kind: 'hops', hops: 1 } } });
    const as = (forwarded: string) => apiStatus(warden, warden.key, { 'x-forwarded-for': forwarded });
    expect((await as('198.51.100.1')).status).toBe(200);
    expect((await as('198.51.100.1')).status).toBe(200);
    expect((await as('198.51.100.1')).status).toBe(429);
    // A client that prepends a fake address is still identified by what the proxy appended.
    expect((await as('203.0.113.5, 198.51.100.1')).status).toBe(429);
    expect((await as('198.51.100.2')).status).toBe(200);
    await warden.stop();
    const ips = new Set(warden.logs().filter((line) => line['msg'] === 'request').map((line) => line['ip']));
    expect(ips).toEqual(new Set(['198.51.100.1', '198.51.100.2']));
  });

  it('IPv6 clients of one /64 share a limit', async () => {
    const warden = await useWarden({ options: { rateLimit: 2, rateWindow: 60, trustProxy: { kind: 'hops', hops: 1 } } });
    const as = (forwarded: string) => apiStatus(warden, warden.key, { 'x-forwarded-for': forwarded });
    expect((await as('2001:db8:1:2::1')).status).toBe(200);
    expect((await as('2001:db8:1:2:ffff::9')).status).toBe(200);
    expect((await as('2001:db8:1:2:abcd::1')).status).toBe(429);
    expect((await as('2001:db8:1:3::1')).status).toBe(200);
  });
});
