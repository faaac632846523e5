/**
 * Per-tool rate limits (`--tool-rate-limit`) over real HTTP: the call past the limit gets 429
 * with the exact JSON-RPC error and RateLimit headers, other tools and other keys keep their own
 * quota, the window expires on the injected clock, a batch consumes one per call (and is
 * refused whole), 2026-07-28 calls share the key's count and are counted once each, stateless
 * mode is limited the same way, and two replicas on Redis share one count.
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { manualClock } from '../helpers/clock.js';
import { apiStatus, mcpHeaders, modernBody, modernHeaders, send, type RawResponse } from '../helpers/http.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { OTHER_KEY, TEST_KEY, openSession, stillServing, useSharedWarden, useWarden, type RunningWarden } from '../helpers/warden.js';

type Message = { jsonrpc: '2.0'; id: number; method: 'tools/call'; params: { name: string; arguments: Record<string, unknown> } };

const calc = (id: number): Message => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'calculate', arguments: { expression: '6*7' } } });
const echo = (id: number): Message => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
const hash = (id: number): Message => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'hash_text', arguments: { text: 'hi' } } });

const CALC_LIMITED = (retryAfter: number): Record<string, string> => ({
  'retry-after': String(retryAfter),
  'ratelimit-limit': '3',
  'ratelimit-remaining': '0',
  'ratelimit-reset': String(retryAfter),
  'ratelimit-policy': '3;w=60;comment="per key per tool"',
});
const CALC_REFUSAL = { jsonrpc: '2.0', error: { code: -32000, message: 'Too Many Requests: per-tool limit for tool "calculate"' }, id: null };

/** Sends `body` as `key` in a session (or with no session, in stateless mode). */
function post(warden: { mcpUrl: string }, key: string, session: { sessionId: string; version: string } | undefined, body: Message | Message[]): Promise<RawResponse> {
  const extra: Record<string, string> = session === undefined ? { 'mcp-protocol-version': '2025-11-25' } : { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version };
  return send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(key, extra), body: JSON.stringify(body) });
}

function expectRefused(response: RawResponse, retryAfter = 60): void {
  expect(response.status).toBe(429);
  expect(response.json()).toEqual(CALC_REFUSAL);
  expect(response.headers).toMatchObject(CALC_LIMITED(retryAfter));
}

function expectAnswered(response: RawResponse, text: string): void {
  expect(response.status, response.text).toBe(200);
  expect(response.text).toContain(text);
}

const LIMITS = {
  // hash_text shares calculate's window (one store): the key must tell the tools apart.
  toolRateLimit: [
    { tool: 'calculate', limit: 3, windowMs: 60_000 },
    { tool: 'hash_text', limit: 3, windowMs: 60_000 },
  ],
  apiKeys: [TEST_KEY, OTHER_KEY],
  rateLimit: 1000,
};

describe('per-tool rate limit (2025 sessions)', () => {
  it('refuses the call past the limit with 429, the JSON-RPC error and RateLimit headers; other tools and keys keep their quota', async () => {
    const auditLog = join(mkdtempSync(join(tmpdir(), 'warden-tool-limit-')), 'audit.log');
    const warden = await useWarden({ options: { ...LIMITS, auditLog }, clock: manualClock().now });
    const session = await openSession(warden);
    for (let id = 1; id <= 3; id++) expectAnswered(await post(warden, TEST_KEY, session, calc(id)), '"42"');
    expectRefused(await post(warden, TEST_KEY, session, calc(4)));
    // Another session of the same key shares the key's quota (a session id is never authority).
    expectRefused(await post(warden, TEST_KEY, await openSession(warden), calc(5)));

    // Other tools of the same key (limited in the same window, or not at all), and the same tool for another key, are unaffected.
    expectAnswered(await post(warden, TEST_KEY, session, hash(6)), '8f434346648f6b96');
    expectAnswered(await post(warden, TEST_KEY, session, echo(6)), 'hi');
    const other = await openSession(warden, '2025-11-25', OTHER_KEY);
    for (let id = 7; id <= 9; id++) expectAnswered(await post(warden, OTHER_KEY, other, calc(id)), '"42"');
    expectRefused(await post(warden, OTHER_KEY, other, calc(10)));

    // Counted and visible like the other rate limits: status counters, recent events, metrics, the request log.
    const status = (await apiStatus(warden, TEST_KEY)).json<{ config: { rateLimit: { perTool: unknown } }; security: { recentEvents: Array<Record<string, unknown>> } }>();
    expect(status.config.rateLimit.perTool).toEqual([
      { tool: 'calculate', limit: 3, windowMs: 60_000, per: 'key or token subject' },
      { tool: 'hash_text', limit: 3, windowMs: 60_000, per: 'key or token subject' },
    ]);
    expect(status.security.recentEvents.filter((event) => event['type'] === 'rate_limited')).toEqual([
      expect.objectContaining({ reason: 'tool', tool: 'calculate', principal: expect.stringMatching(/^key_/) }),
      expect.objectContaining({ reason: 'tool', tool: 'calculate', principal: expect.stringMatching(/^key_/) }),
      expect.objectContaining({ reason: 'tool', tool: 'calculate', principal: expect.stringMatching(/^key_/) }),
    ]);
    const metrics = await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    const families = parsePrometheusTextFormat(metrics.text) as Array<{ name: string; metrics: Array<{ labels?: Record<string, string>; value?: string }> }>;
    expect(families.find((family) => family.name === 'mcp_warden_rate_limited_total')?.metrics).toEqual([{ labels: { limit: 'tool' }, value: '3' }]);
    await warden.stop();
    expect(warden.logs().filter((line) => line['status'] === 429)[0]).toMatchObject({ failure: 'tool_rate_limited:tool', tool: 'calculate' });
    const audit = readFileSync(auditLog, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.find((record) => record['event'] === 'rate_limited')).toMatchObject({ ip: '127.0.0.1', limit: 'tool', tool: 'calculate', principal: expect.stringMatching(/^key_/) });
  });

  it('admits the tool again once the window has passed on the injected clock, and not a millisecond before', async () => {
    const clock = manualClock();
    const warden = await useWarden({ options: LIMITS, clock: clock.now });
    const session = await openSession(warden);
    for (let id = 1; id <= 3; id++) expectAnswered(await post(warden, TEST_KEY, session, calc(id)), '"42"');
    expectRefused(await post(warden, TEST_KEY, session, calc(4)), 60);
    clock.advance(59_999);
    expectRefused(await post(warden, TEST_KEY, session, calc(5)), 1);
    clock.advance(1);
    expectAnswered(await post(warden, TEST_KEY, session, calc(6)), '"42"');
    expect(await stillServing(warden)).toBe(true);
  });

  it('a batch consumes one per call, and a batch holding a refused call is refused whole (none of its calls runs)', async () => {
    const warden = await useWarden({ options: LIMITS, clock: manualClock().now });
    // Batches exist in 2025-03-26 only.
    const session = await openSession(warden, '2025-03-26');
    const first = await post(warden, TEST_KEY, session, [calc(1), calc(2), echo(3)]);
    expect(first.status).toBe(200);
    expect(first.json<Array<{ id: number }>>().map((answer) => answer.id).sort()).toEqual([1, 2, 3]);
    // One call left: a batch of [echo, calculate, calculate] needs two.
    expectRefused(await post(warden, TEST_KEY, session, [echo(4), calc(5), calc(6)]));
    // The calculate counted before the refusal stays counted: a single call is now refused too.
    expectRefused(await post(warden, TEST_KEY, session, calc(7)));

    // A batch larger than the quota, from a fresh key: refused, only up to the limit counted.
    const other = await openSession(warden, '2025-03-26', OTHER_KEY);
    expectRefused(await post(warden, OTHER_KEY, other, [calc(1), calc(2), calc(3), calc(4), hash(5)]));
    expectRefused(await post(warden, OTHER_KEY, other, calc(6)));
    // Other tools still pass, in a batch or alone.
    const unlimited = await post(warden, OTHER_KEY, other, [echo(7), hash(8)]);
    expect(unlimited.status).toBe(200);
    expect(unlimited.json<unknown[]>()).toHaveLength(2);
    expectAnswered(await post(warden, TEST_KEY, session, echo(9)), 'hi');
  });

  it('never echoes a tool name from the request', async () => {
    const warden = await useWarden({ options: LIMITS, clock: manualClock().now });
    const session = await openSession(warden);
    const probe = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call' as const, params: { name: '<script>x</script>', arguments: {} } };
    const unknown = await post(warden, TEST_KEY, session, probe);
    expect(unknown.status).toBe(200);
    for (let id = 2; id <= 4; id++) await post(warden, TEST_KEY, session, calc(id));
    const refused = await post(warden, TEST_KEY, session, [calc(5), probe]);
    expect(refused.status).toBe(429);
    expect(refused.text).not.toContain('script');
  });
});

describe('per-tool rate limit (2026-07-28 requests)', () => {
  it('counts each modern call once, in the same count as the 2025 calls of the key', async () => {
    const warden = await useWarden({ options: LIMITS, clock: manualClock().now });
    const modern = (key: string, id: number, name = 'calculate', args: Record<string, unknown> = { expression: '6*7' }) =>
      send(warden.mcpUrl, { method: 'POST', headers: modernHeaders(key, 'tools/call', name), body: modernBody(id, 'tools/call', { name, arguments: args }) });
    // Counted once per call (not once from the headers and again from the body): three calls fit.
    expectAnswered(await modern(TEST_KEY, 1), '"42"');
    expectAnswered(await modern(TEST_KEY, 2), '"42"');
    expectAnswered(await post(warden, TEST_KEY, await openSession(warden), calc(3)), '"42"');
    expectRefused(await modern(TEST_KEY, 4));
    expectRefused(await post(warden, TEST_KEY, await openSession(warden), calc(5)));
    expectAnswered(await modern(TEST_KEY, 6, 'echo', { text: 'hi' }), 'hi');
    expectAnswered(await modern(OTHER_KEY, 7), '"42"');
  });
});

describe('per-tool rate limit (--stateless)', () => {
  it('limits calls without sessions the same way', async () => {
    const warden = await useWarden({ options: { ...LIMITS, stateless: true }, clock: manualClock().now });
    for (let id = 1; id <= 3; id++) expectAnswered(await post(warden, TEST_KEY, undefined, calc(id)), '"42"');
    expectRefused(await post(warden, TEST_KEY, undefined, calc(4)));
    expectAnswered(await post(warden, TEST_KEY, undefined, echo(5)), 'hi');
    expectAnswered(await post(warden, OTHER_KEY, undefined, calc(6)), '"42"');
  });

  it('counts every call of a batch (2025-03-26)', async () => {
    const warden = await useWarden({ options: { ...LIMITS, stateless: true }, clock: manualClock().now });
    const batch = (key: string, body: Message[]) => send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(key, { 'mcp-protocol-version': '2025-03-26' }), body: JSON.stringify(body) });
    // A batch over the transport's maximum (100) is refused before any call runs, and spends no quota.
    const tooLarge = await batch(TEST_KEY, Array.from({ length: 101 }, (_, index) => calc(index + 1)));
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.json()).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: batch too large' }, id: null });
    expect((await batch(TEST_KEY, [calc(1), calc(2), calc(3)])).status).toBe(200);
    expectRefused(await batch(TEST_KEY, [calc(4)]));
    expectRefused(await batch(OTHER_KEY, [calc(1), calc(2), calc(3), calc(4)]));
  });
});

describe('per-tool rate limit across replicas (Redis)', () => {
  const redis = useRedis();
  const replica = () => ({
    options: {
      ...LIMITS,
      stateless: true,
      redisUrl: redis.server.url,
      redisPrefix: 'toollimit:',
      sharedSecret: TEST_SHARED_SECRET,
      // Generous: on a busy machine a short timeout falls back to per-replica state.
      redisTimeout: 2000,
    },
  });
  const a = useSharedWarden(replica);
  const b = useSharedWarden(replica);

  it('one count for the key and tool on every replica', async () => {
    const replicas: RunningWarden[] = [a, b, a, b];
    // Per-replica counts would admit all four (two each); the shared count refuses the fourth.
    const statuses: number[] = [];
    for (const [index, target] of replicas.entries()) statuses.push((await post(target, TEST_KEY, undefined, calc(index + 1))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expectRefused(await post(a, TEST_KEY, undefined, calc(5)));
    const keys = await redis.client.keys('toollimit:rl:tool:60000:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^toollimit:rl:tool:60000:key_[0-9a-f]{12}\u0000calculate$/);
    // Other tools and keys, on both replicas.
    expectAnswered(await post(b, TEST_KEY, undefined, echo(6)), 'hi');
    expectAnswered(await post(a, OTHER_KEY, undefined, calc(7)), '"42"');
    expectAnswered(await post(b, OTHER_KEY, undefined, calc(8)), '"42"');
  });
});
