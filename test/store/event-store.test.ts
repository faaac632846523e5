/**
 * The EventStore contract (resumable SSE events), against memory and a real Redis: replay after
 * a sequence number, the end marker, bounded length.
 */

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryEventStore } from '../../src/store/memory/event-store.js';
import { RedisEventStore } from '../../src/store/redis/event-store.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import type { EventStore } from '../../src/store/types.js';
import { testSeal, useRedis } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

const settle = (): Promise<void> => sleep(30);

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

let prefix = 0;
const redis = useRedis();
eventStoreContract('redis', () => new RedisEventStore({ client: redis.client, seal: testSeal(), keys: redisKeys(`e${++prefix}:`) }));

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

describe('byte budgets count UTF-8 bytes, not characters', () => {
  // 3,000 emoji: 6,000 UTF-16 characters, 12,000 bytes.
  const emoji = JSON.stringify({ text: '\u{1F600}'.repeat(3000) });
  const emojiBytes = Buffer.byteLength(emoji, 'utf8');

  it('memory: a multibyte flood stays within the total and per-principal budgets', () => {
    const owners = new Map<string, string>();
    const store = new MemoryEventStore({ maxBytes: 200_000, maxPrincipalBytes: 50_000, maxStreamBytes: 30_000, ownerOf: (id) => owners.get(id) });
    for (let stream = 0; stream < 40; stream++) {
      owners.set(`s${stream}/1`, `principal-${stream % 3}`);
      for (let seq = 1; seq <= 20; seq++) store.append(`s${stream}/1`, seq, emoji);
    }
    expect(emojiBytes).toBeGreaterThan(2 * emoji.length - 100);
    expect(store.bytes).toBeLessThanOrEqual(200_000);
    for (let owner = 0; owner < 3; owner++) expect(store.bytesOf(`principal-${owner}`)).toBeLessThanOrEqual(50_000);
    // Per stream: 30,000 bytes hold two of these events (a character count would allow five).
    expect(store.replay('s39/1', 0)?.events.map((event) => event.seq)).toEqual([19, 20]);
    // The principal's oldest streams went first; its newest keeps its newest events.
    expect(store.replay('s0/1', 0)).toBeUndefined();
  });

  it('redis: a flood of multibyte events keeps Redis within the total budget (+ overhead), evicting the oldest', async () => {
    const keys = redisKeys(`flood${++prefix}:`);
    const owners = new Map<string, string>();
    const budget = 1024 * 1024;
    const store = new RedisEventStore({ client: redis.client, seal: testSeal(), keys, maxBytes: budget, maxPrincipalBytes: 16 * 1024 * 1024, maxStreamBytes: 64 * 1024, ownerOf: (id) => owners.get(id) });
    const before = Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))?.[1]);
    // 40 streams × 20 events × 12 KB ≈ 9.6 MB offered, from three principals.
    for (let stream = 0; stream < 40; stream++) {
      owners.set(`f${stream}/1`, `principal-${stream % 3}`);
      for (let seq = 1; seq <= 20; seq++) store.append(`f${stream}/1`, seq, emoji);
    }
    await redis.client.ping();
    const total = Number(await redis.client.get(keys.streamBytes));
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(budget);
    // What the lists really hold, measured by Redis.
    let held = 0;
    let usage = 0;
    for (const key of await redis.client.keys(`${keys.stream('')}*`)) {
      for (const item of await redis.client.lrange(key, 0, -1)) held += Buffer.byteLength(item, 'utf8');
      usage += Number(await redis.client.memory('USAGE', key));
    }
    expect(held).toBe(total);
    expect(usage).toBeLessThanOrEqual(budget + 256 * 1024);
    const after = Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))?.[1]);
    expect(after - before).toBeLessThan(budget + 2 * 1024 * 1024);
    // The oldest streams were evicted; the newest is replayable.
    expect(await store.replay('f0/1', 0)).toBeUndefined();
    expect((await store.replay('f39/1', 0))?.events.at(-1)?.seq).toBe(20);
    // Every key written expires.
    for (const key of await redis.client.keys(`flood${prefix}:*`)) expect(await redis.client.pttl(key), key).toBeGreaterThan(0);
  });

  it('redis: one principal cannot hold more than its budget over all its streams', async () => {
    const keys = redisKeys(`owner${++prefix}:`);
    const owners = new Map<string, string>();
    const store = new RedisEventStore({ client: redis.client, seal: testSeal(), keys, maxBytes: 64 * 1024 * 1024, maxPrincipalBytes: 200 * 1024, ownerOf: (id) => owners.get(id) });
    for (let stream = 0; stream < 30; stream++) {
      owners.set(`o${stream}/1`, stream < 20 ? 'greedy' : 'other');
      for (let seq = 1; seq <= 10; seq++) store.append(`o${stream}/1`, seq, emoji);
    }
    await redis.client.ping();
    expect(Number(await redis.client.hget(keys.principalBytes, 'greedy'))).toBeLessThanOrEqual(200 * 1024);
    expect(Number(await redis.client.hget(keys.principalBytes, 'other'))).toBeLessThanOrEqual(200 * 1024);
    // The greedy principal lost its own oldest streams; the other principal's newest are intact.
    expect(await store.replay('o0/1', 0)).toBeUndefined();
    expect((await store.replay('o29/1', 0))?.events.at(-1)?.seq).toBe(10);
  });

  it('redis: the per-event cap counts bytes (a 280 KB event of 140k characters stays local)', async () => {
    const keys = redisKeys(`cap${++prefix}:`);
    const store = new RedisEventStore({ client: redis.client, seal: testSeal(), keys });
    store.append('c/1', 1, JSON.stringify({ text: '\u{1F600}'.repeat(70_000) }));
    store.append('c/1', 2, '{"small":true}');
    await redis.client.ping();
    expect((await store.replay('c/1', 0))?.events.map((event) => event.seq)).toEqual([2]);
  });
});
