/**
 * The brute-force guard with Redis: two in-process replicas on one real Redis. The failure
 * that crosses the threshold is counted on the request path (the hook waits for Redis within
 * its timeout), so the very next request on that replica is refused with 403, even when Redis
 * is slow to answer, and the other replica learns the ban over the bus.
 */

import { describe, expect, it } from 'vitest';
import { apiStatus, apiTools } from '../helpers/http.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { TEST_KEY, useSharedWarden } from '../helpers/warden.js';
import { until } from '../helpers/wait.js';

describe('brute-force guard across replicas (Redis)', () => {
  const redis = useRedis();
  const replica = () => ({
    options: {
      apiKeys: [TEST_KEY],
      redisUrl: redis.server.url,
      redisPrefix: 'brute:',
      sharedSecret: TEST_SHARED_SECRET,
      // Generous: on a busy machine a short timeout falls back to per-replica state.
      redisTimeout: 2000,
      trustProxy: { kind: 'hops' as const, hops: 1 },
      banThreshold: 3,
      banSeconds: 60,
    },
  });
  const a = useSharedWarden(replica);
  const b = useSharedWarden(replica);

  it('the request right after the failure that crossed the threshold gets 403 on that replica, without waiting', async () => {
    const attacker = { 'x-forwarded-for': '203.0.113.60' };
    const statuses: number[] = [];
    // Three failures spread over both replicas: the shared count reaches the threshold.
    for (const [index, target] of [a, b, a].entries()) statuses.push((await apiStatus(target, `wrong-${index}-0123456789abcdef`, attacker)).status);
    // Redis is slow (within the timeout) when the fourth failure is counted: the answer waits for it.
    const slow = redis.connect();
    const sleeping = slow.call('DEBUG', 'SLEEP', '0.3');
    statuses.push((await apiStatus(b, 'wrong-3-0123456789abcdef', attacker)).status);
    // At once, with a valid key: refused, not served.
    const next = await apiStatus(b, TEST_KEY, attacker);
    await sleeping;
    statuses.push(next.status);
    expect(statuses).toEqual([401, 401, 401, 401, 403]);
    expect(JSON.parse(next.text)).toEqual({ error: 'ip_banned', message: 'Forbidden: temporarily banned after repeated authentication failures' });
    expect(Number(next.headers['retry-after'])).toBeGreaterThan(55);
    // The other replica learns the ban over the bus.
    expect(await until(async () => (await apiStatus(a, TEST_KEY, attacker)).status === 403, 2000, 25)).toBe(true);
    // Still serving everyone else, on both replicas.
    expect((await apiTools(a, TEST_KEY, { 'x-forwarded-for': '203.0.113.61' })).status).toBe(200);
    expect((await apiTools(b, TEST_KEY, { 'x-forwarded-for': '203.0.113.61' })).status).toBe(200);
  });
});
