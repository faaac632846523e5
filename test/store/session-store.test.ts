/**
 * The SessionStore contract, run against the memory store and a real Redis.
 */

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/store/memory/session-store.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { RedisSessionStore } from '../../src/store/redis/session-store.js';
import type { SessionMeta, SessionStore } from '../../src/store/types.js';
import { testSeal, useRedis } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

const META: SessionMeta = {
  id: '6f1c2a4e-0000-4000-8000-000000000001',
  principalId: 'key_0123456789ab',
  protocolVersion: '2025-06-18',
  clientInfo: { name: 'client', version: '1.0.0' },
  clientCapabilities: { sampling: {}, roots: { listChanged: true } },
  createdAt: 1_700_000_000_000,
};

/**
 * `make` returns the store and how to let time pass for it: an injected clock for the memory
 * store; for Redis, whose TTLs run on the Redis server's own clock, a real wait, with every
 * duration multiplied by `scale` so a busy machine's late timers cannot cross a TTL.
 */
function sessionStoreContract(name: string, make: () => { store: SessionStore; advance: (ms: number) => Promise<void>; scale?: number }): void {
  describe(`SessionStore contract: ${name}`, () => {
    it('saves, loads and deletes metadata', async () => {
      const { store } = make();
      expect(await store.load(META.id)).toBeUndefined();
      await store.save(META, 60_000);
      expect(await store.load(META.id)).toEqual(META);
      await store.delete(META.id);
      expect(await store.load(META.id)).toBeUndefined();
    });

    it('forgets a session after its TTL unless touched', async () => {
      const { store, advance, scale = 1 } = make();
      await store.save({ ...META, id: 'short' }, 300 * scale);
      await store.save({ ...META, id: 'touched' }, 300 * scale);
      await advance(200 * scale);
      await store.touch('touched', 600 * scale);
      await advance(250 * scale);
      expect(await store.load('short')).toBeUndefined();
      expect(await store.load('touched')).toMatchObject({ id: 'touched', principalId: META.principalId });
    });
  });
}

sessionStoreContract('memory', () => {
  let now = 1_700_000_000_000;
  return {
    store: new MemorySessionStore({ now: () => now }),
    advance: async (ms) => {
      now += ms;
    },
  };
});

const redis = useRedis();

let prefix = 0;
sessionStoreContract('redis', () => ({
  store: new RedisSessionStore({ client: redis.client, seal: testSeal(), keys: redisKeys(`s${++prefix}:`) }),
  advance: (ms) => sleep(ms),
  scale: 4,
}));

describe('RedisSessionStore footprint', () => {
  it('keeps one small hash per session', async () => {
    const keys = redisKeys('size:');
    const store = new RedisSessionStore({ client: redis.client, seal: testSeal(), keys });
    await store.save(META, 60_000);
    const bytes = Number(await redis.client.memory('USAGE', keys.session(META.id)));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(1024);
  });
});
