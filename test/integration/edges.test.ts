/**
 * Edge cases of the refusal paths (issue 9 §E), over real HTTP and raw loopback sockets:
 * the failure table's overflow never bans an innocent client, malformed URLs and requests
 * Node's parser refuses are answered like every other refusal (IP rules, bans, rate limit,
 * our body and headers), duplicate Host, absolute-form targets and header-count overflow are
 * refused, and Retry-After is the real wait, never more than the window.
 */

import { describe, expect, it, onTestFinished } from 'vitest';
import { mcpHeaders, send } from '../helpers/http.js';
import { startWarden, stillServing, type RunningWarden } from '../helpers/warden.js';

const BEHIND_PROXY = { trustProxy: { kind: 'hops' as const, hops: 1 } };

function from(ip: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': ip, ...extra };
}

async function warden(options: Parameters<typeof startWarden>[0] = {}): Promise<RunningWarden> {
  const running = await startWarden(options);
  onTestFinished(() => running.stop());
  return running;
}

describe('brute-force guard: failure table overflow', () => {
  it('beyond --ban-max-clients nobody shares a failure count: an innocent typo is a 401, not a ban', async () => {
    const server = await warden({ options: { ...BEHIND_PROXY, banThreshold: 2, banSeconds: 60, banMaxClients: 5 } });
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
    const server = await warden({ options: { rateLimit: 3, rateWindow: 60 } });
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
