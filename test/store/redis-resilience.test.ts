/**
 * The parts of the Redis resilience that time or Redis drive, unit by unit: the health window
 * (an injectable clock moves it), readiness and its start timeout, the heartbeat's replica
 * count and boot marker on a real Redis, and the fallback limiter admitting only its share.
 */

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/store/memory/rate-limit.js';
import { failureKind, RedisHealth } from '../../src/store/redis/health.js';
import { Heartbeat } from '../../src/store/redis/heartbeat.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { RedisRateLimitStore } from '../../src/store/redis/rate-limit.js';
import { createReadiness } from '../../src/shared-state/readiness.js';
import { SharedRateLimitStore } from '../../src/shared-state/shared-rate-limit.js';
import { useRedis } from '../helpers/redis.js';

describe('RedisHealth', () => {
  it('keeps only the window of successes while Redis stays healthy (a day of calls, not a day of entries)', () => {
    let now = 0;
    const health = new RedisHealth({ now: () => now });
    for (let second = 0; second < 86_400; second += 1) {
      now = second * 1000;
      health.success();
      health.success();
    }
    expect(health.reason()).toBeUndefined();
    expect(health.trackedSeconds).toBeLessThanOrEqual(12);
  });

  it('is degraded by 3 failures within 10 s, with the most frequent kind as reason, and recovers as the window moves', () => {
    let now = 0;
    const health = new RedisHealth({ now: () => now });
    health.failure(new Error('Command timed out'));
    health.failure(new Error('Command timed out'));
    expect(health.reason()).toBeUndefined();
    health.failure(new Error("OOM command not allowed when used memory > 'maxmemory'."));
    expect(health.reason()).toBe('redis_timeouts');
    now = 9_000;
    for (let index = 0; index < 3; index++) health.failure(new Error("OOM command not allowed when used memory > 'maxmemory'."));
    expect(health.reason()).toBe('redis_oom');
    now = 10_500; // the failures at 0 left the window
    expect(health.reason()).toBe('redis_oom');
    now = 19_500;
    expect(health.reason()).toBeUndefined();
  });

  it('is not degraded by a few failures among many successes (under 5 %)', () => {
    let now = 0;
    const health = new RedisHealth({ now: () => now });
    for (let index = 0; index < 200; index++) health.success();
    for (let index = 0; index < 5; index++) health.failure(new Error('Command timed out'));
    expect(health.reason()).toBeUndefined();
    now = 12_000;
    for (let index = 0; index < 5; index++) health.failure(new Error('Command timed out'));
    expect(health.reason()).toBe('redis_timeouts');
  });

  it('sorts errors into reasons', () => {
    expect(failureKind(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('redis_down');
    expect(failureKind(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe('redis_down');
    expect(failureKind(new Error('ERR unknown command'))).toBe('redis_errors');
  });
});

describe('readiness', () => {
  it('is starting until synced; with open it serves after the start timeout (once warned), with closed it waits', () => {
    let now = 0;
    let synced = false;
    let warned = 0;
    const open = createReadiness({ synced: () => synced, policy: 'open', timeoutMs: 30_000, now: () => now, onGiveUp: () => warned++ });
    const closed = createReadiness({ synced: () => synced, policy: 'closed', timeoutMs: 30_000, now: () => now });
    open.start();
    closed.start();
    expect(open.state()).toBe('starting');
    now = 29_999;
    expect(open.ready()).toBe(false);
    now = 30_000;
    expect(open.state()).toBe('unsynced');
    expect(open.ready()).toBe(true);
    expect(closed.ready()).toBe(false);
    open.state();
    expect(warned).toBe(1);
    synced = true;
    expect(open.state()).toBe('synced');
    expect(closed.state()).toBe('synced');
  });
});

describe('with a real Redis', () => {
  const redis = useRedis();

  it('heartbeats count live replicas, drop those that stopped, and notice a Redis that lost its data', async () => {
    const keys = redisKeys('hb:');
    let resets = 0;
    const beats = ['a', 'b', 'c'].map((id) => new Heartbeat({ client: redis.client, replicasKey: keys.replicas, bootKey: keys.boot, replicaId: id, ttlMs: 5000, onReset: () => resets++ }));
    for (const beat of beats) await beat.beat();
    await (beats[0] as Heartbeat).beat();
    expect((beats[0] as Heartbeat).live).toBe(3);
    await (beats[2] as Heartbeat).stop();
    await (beats[0] as Heartbeat).beat();
    expect((beats[0] as Heartbeat).live).toBe(2);
    expect(resets).toBe(0);
    await redis.client.flushall();
    await (beats[0] as Heartbeat).beat();
    expect(resets).toBe(1);
    expect((beats[0] as Heartbeat).live).toBe(1);
  });

  it('the fallback admits only this replica’s share, counting what Redis admitted; reseed writes it back', async () => {
    const keys = redisKeys('share:');
    let healthy = true;
    const shared = new RedisRateLimitStore({ client: redis.client, keys, limiter: 'ip', windowMs: 60_000 });
    const fallback = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 100, sweep: false });
    const store = new SharedRateLimitStore({ shared, fallback, policy: 'open', healthy: () => healthy, replicas: () => 3, onFallback: () => undefined });
    for (let index = 0; index < 2; index++) expect((await store.consume('client', 12)).allowed).toBe(true);
    healthy = false;
    // Share: ceil(12 / 3) = 4, of which Redis already admitted 2 here.
    const fallen = [];
    for (let index = 0; index < 5; index++) fallen.push((await store.consume('client', 12)).allowed);
    expect(fallen).toEqual([true, true, false, false, false]);
    expect((await store.consume('client', 12)).limit).toBe(12);
    await redis.client.flushall();
    healthy = true;
    expect(await store.reseed()).toBe(1);
    // Redis now holds the 4 this replica admitted: 8 more fit.
    let admitted = 0;
    for (let index = 0; index < 10; index++) if ((await store.consume('client', 12)).allowed) admitted++;
    expect(admitted).toBe(8);
  });
});
