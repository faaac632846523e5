/**
 * The EventStore contract (resumable SSE events), against memory and a real Redis: replay after
 * a sequence number, the end marker, bounded length.
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventStore } from '../../src/store/memory/event-store.js';
import { RedisEventStore } from '../../src/store/redis/event-store.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import type { EventStore } from '../../src/store/types.js';
import { startRedis, testSeal, type TestRedis } from '../helpers/redis.js';

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

function eventStoreContract(name: string, make: () => EventStore): void {
  describe(`EventStore contract: ${name}`, () => {
    it('replays the events after a sequence number, in order, and says when the stream ended', async () => {
      const store = make();
      for (let seq = 1; seq <= 5; seq++) store.append('s1/1', seq, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: seq } }));
      await settle();
      expect((await store.replay('s1/1', 3))?.events.map((event) => event.seq)).toEqual([4, 5]);
      expect(JSON.parse((await store.replay('s1/1', 4))?.events[0]?.data ?? 'null')).toMatchObject({ params: { progress: 5 } });
      expect((await store.replay('s1/1', 3))?.ended).toBe(false);
      store.end('s1/1');
      await settle();
      expect(await store.replay('s1/1', 5)).toEqual({ events: [], ended: true });
      expect(await store.replay('unknown/1', 0)).toBeUndefined();
    });

    it('keeps only the most recent events of a stream', async () => {
      const store = make();
      for (let seq = 1; seq <= 100; seq++) store.append('s2/1', seq, JSON.stringify({ seq }));
      await settle();
      const all = await store.replay('s2/1', 0);
      expect(all?.events).toHaveLength(64);
      expect(all?.events[0]?.seq).toBe(37);
    });
  });
}

eventStoreContract('memory', () => new MemoryEventStore());

let redis: TestRedis;
let client: Redis;
let prefix = 0;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});
eventStoreContract('redis', () => new RedisEventStore({ client, seal: testSeal(), keys: redisKeys(`e${++prefix}:`) }));

describe('MemoryEventStore bounds', () => {
  it('keeps within its byte budgets: per stream and in all', () => {
    const store = new MemoryEventStore({ maxStreamBytes: 1000, maxBytes: 3000 });
    const big = 'x'.repeat(400);
    for (let seq = 1; seq <= 10; seq++) store.append('one/1', seq, big);
    expect(store.replay('one/1', 0)?.events.map((event) => event.seq)).toEqual([9, 10]);
    for (let stream = 2; stream <= 10; stream++) for (let seq = 1; seq <= 3; seq++) store.append(`s/${stream}`, seq, big);
    expect(store.bytes).toBeLessThanOrEqual(3000);
    expect(store.replay('one/1', 0)).toBeUndefined();
    expect(store.replay('s/10', 0)?.events).toHaveLength(2);
  });

  it('forgets streams after their TTL and keeps at most maxStreams', () => {
    let now = 0;
    const store = new MemoryEventStore({ ttlMs: 1000, maxStreams: 3, now: () => now });
    for (let index = 0; index < 5; index++) store.append(`s/${index}`, 1, '{}');
    expect(store.size).toBe(3);
    expect(store.replay('s/0', 0)).toBeUndefined();
    now = 2000;
    expect(store.replay('s/4', 0)).toBeUndefined();
  });
});
