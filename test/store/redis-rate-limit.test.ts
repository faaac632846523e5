/**
 * The Redis rate limiter against a real redis-server: the shared contract (with a simulated
 * clock passed to the script), the real Redis TIME path, a limit shared by two clients (as
 * two replicas would), keys expiring by themselves, and the failure policy.
 */

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/store/memory/rate-limit.js';
import { bucketMsFor } from '../../src/store/rolling-window.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { RedisRateLimitStore } from '../../src/store/redis/rate-limit.js';
import { SharedRateLimitStore } from '../../src/shared-state/shared-rate-limit.js';
import { useRedis } from '../helpers/redis.js';
import { rateLimitContract } from './rate-limit.contract.js';
import { sleep } from '../helpers/wait.js';

let namespace = 0;
const redis = useRedis();

rateLimitContract('redis', (windowMs) => {
  // Start on a bucket boundary, as the memory store's clock does (see the contract).
  let time = 1_700_000_000_000 - (1_700_000_000_000 % bucketMsFor(windowMs));
  const store = new RedisRateLimitStore({ client: redis.client, keys: redisKeys(`test${++namespace}:`), limiter: 'ip', windowMs, now: () => time });
  return { store, advance: (ms) => void (time += ms), close: () => store.close() };
});

describe('RedisRateLimitStore with Redis TIME', () => {
  it('limits with the server clock and shares the count between connections (replicas)', async () => {
    const keys = redisKeys('time:');
    const other = redis.connect();
    const a = new RedisRateLimitStore({ client: redis.client, keys, limiter: 'ip', windowMs: 60_000 });
    const b = new RedisRateLimitStore({ client: other, keys, limiter: 'ip', windowMs: 60_000 });
    const decisions = [];
    for (let index = 0; index < 10; index++) decisions.push(await (index % 2 === 0 ? a : b).consume('203.0.113.1', 6));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(6);
    const denied = decisions[9];
    expect(denied?.allowed).toBe(false);
    expect(denied?.resetMs).toBeGreaterThan(55_000);
    expect(denied?.resetMs).toBeLessThanOrEqual(60_000);
    other.disconnect();
  });

  it('each client is one hash that expires by itself', async () => {
    const keys = redisKeys('ttl:');
    const store = new RedisRateLimitStore({ client: redis.client, keys, limiter: 'ip', windowMs: 1000 });
    await store.consume('198.51.100.9', 5);
    const key = keys.rateLimit('ip', '198.51.100.9');
    expect(await redis.client.type(key)).toBe('hash');
    const ttl = await redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1100);
    await sleep(1300);
    expect(await redis.client.exists(key)).toBe(0);
  });
});

describe('SharedRateLimitStore failure policy', () => {
  const unreachable = (): RedisRateLimitStore => {
    const dead = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => undefined);
    return new RedisRateLimitStore({ client: dead, keys: redisKeys('dead:'), limiter: 'ip', windowMs: 60_000 });
  };

  it('open: answers from the local limiter and counts the fallback', async () => {
    let fallbacks = 0;
    const store = new SharedRateLimitStore({
      shared: unreachable(),
      fallback: new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 10, sweep: false }),
      policy: 'open',
      healthy: () => true,
      onFallback: () => fallbacks++,
    });
    const results = [];
    for (let index = 0; index < 4; index++) results.push((await store.consume('c', 3)).allowed);
    expect(results).toEqual([true, true, true, false]);
    expect(fallbacks).toBe(4);
  });

  it('closed: refuses with a 503 error', async () => {
    const store = new SharedRateLimitStore({
      shared: unreachable(),
      fallback: new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 10, sweep: false }),
      policy: 'closed',
      healthy: () => false,
      onFallback: () => undefined,
    });
    await expect(store.consume('c', 3)).rejects.toMatchObject({ code: 'WARDEN_ERR_SHARED_STATE_UNAVAILABLE', status: 503 });
  });
});

describe('SharedRateLimitStore local cap', () => {
  it('a Redis writer deleting the counter before every request cannot lift the limit: admitted ≤ N per window', async () => {
    const keys = redisKeys('cap:');
    let time = 5_000_000;
    let capped = 0;
    const shared = new RedisRateLimitStore({ client: redis.client, keys, limiter: 'ip', windowMs: 60_000 });
    const fallback = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 100, sweep: false, now: () => time });
    const store = new SharedRateLimitStore({ shared, fallback, policy: 'open', healthy: () => true, onFallback: () => undefined, onLocalCap: () => capped++ });
    try {
      const counter = keys.rateLimit('ip', '203.0.113.7');
      const decisions = [];
      for (let index = 0; index < 30; index++) {
        await redis.client.del(counter); // the attacker's DEL loop
        decisions.push(await store.consume('203.0.113.7', 5));
      }
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
      const refused = decisions[29];
      expect(refused).toMatchObject({ allowed: false, limit: 5, remaining: 0 });
      expect(refused?.resetMs).toBeGreaterThan(0);
      expect(refused?.resetMs).toBeLessThanOrEqual(60_000);
      expect(capped).toBe(25);
      // Still serving: once the local window has passed, the client is admitted again.
      time += 60_000;
      expect((await store.consume('203.0.113.7', 5)).allowed).toBe(true);
      // An honest Redis still decides first: another client is limited by the shared count.
      for (let index = 0; index < 5; index++) expect((await store.consume('203.0.113.8', 5)).allowed).toBe(true);
      expect((await store.consume('203.0.113.8', 5)).allowed).toBe(false);
      expect(capped).toBe(25);
    } finally {
      store.close();
    }
  });
});
