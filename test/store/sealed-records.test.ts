/**
 * Records at rest in a real Redis: bans and key restrictions written by a replica read back,
 * while forged, edited or moved ones (a Redis writer without the shared secret) are ignored
 * and counted. Session records and stored events are covered through the stores in
 * test/integration/replica-trust-sessions.test.ts.
 */

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/store/redis/keys.js';
import { openBan, openRestrictions, sealBan, sealRestriction, type RecordKind } from '../../src/store/redis/sealed-records.js';
import { RedisSessionStore } from '../../src/store/redis/session-store.js';
import { testSeal, useRedis } from '../helpers/redis.js';

const redis = useRedis();

describe('sealed records in Redis', () => {
  const keys = redisKeys('sealed:');

  it('reads back bans a replica wrote; ignores forged, edited and moved ones', async () => {
    const rejected: RecordKind[] = [];
    const seal = testSeal((kind) => rejected.push(kind));
    const until = 1_800_000_000_000;
    await redis.client.set(keys.ban('203.0.113.1'), sealBan(seal, keys.ban('203.0.113.1'), until));
    expect(openBan(seal, keys.ban('203.0.113.1'), await redis.client.get(keys.ban('203.0.113.1')))).toBe(until);
    // Forged (plain number, as before signing), edited (longer ban), moved (to another redis.client).
    await redis.client.set(keys.ban('203.0.113.2'), String(until));
    const genuine = (await redis.client.get(keys.ban('203.0.113.1'))) as string;
    await redis.client.set(keys.ban('203.0.113.3'), genuine.replace(String(until), String(until + 1)));
    await redis.client.set(keys.ban('203.0.113.4'), genuine);
    for (const ip of ['203.0.113.2', '203.0.113.3', '203.0.113.4']) expect(openBan(seal, keys.ban(ip), await redis.client.get(keys.ban(ip)))).toBeUndefined();
    expect(rejected).toEqual(['ban', 'ban', 'ban']);
  });

  it('reads back restrictions a replica wrote; ignores forged, edited, moved and malformed ones', async () => {
    const rejected: RecordKind[] = [];
    const seal = testSeal((kind) => rejected.push(kind));
    const key = keys.keyRestrictions;
    const genuine = sealRestriction(seal, key, { id: 'k_good', disabled: true });
    await redis.client.hset(key, {
      k_good: genuine,
      k_forged: JSON.stringify({ id: 'k_forged', disabled: false, expiresAt: 'x' }),
      k_edited: genuine.replace('"disabled":true', '"disabled":false'),
      k_moved: genuine,
      k_expired: sealRestriction(seal, key, { id: 'k_expired', disabled: false, expiresAt: 1 }),
    });
    expect(openRestrictions(seal, key, await redis.client.hgetall(key))).toEqual([
      { id: 'k_good', disabled: true },
      { id: 'k_expired', disabled: false, expiresAt: 1 },
    ]);
    expect(rejected).toEqual(['restriction', 'restriction', 'restriction']);
  });

  it('a session record that was not written with the secret, or was edited, does not exist', async () => {
    const rejected: RecordKind[] = [];
    const store = new RedisSessionStore({ client: redis.client, keys, seal: testSeal((kind) => rejected.push(kind)) });
    const meta = { id: 'sess-1', principalId: 'key:owner', protocolVersion: '2025-11-25', clientInfo: { name: 'c' }, clientCapabilities: {}, createdAt: 1 };
    await store.save(meta, 60_000);
    expect(await store.load('sess-1')).toEqual(meta);
    await redis.client.hset(keys.session('sess-1'), 'principal', 'key:attacker');
    expect(await store.load('sess-1')).toBeUndefined();
    await redis.client.hset(keys.session('sess-2'), { principal: 'key:attacker', version: '2025-11-25', clientInfo: 'null', capabilities: 'null', created: '1' });
    expect(await store.load('sess-2')).toBeUndefined();
    expect(rejected).toEqual(['session', 'session']);
  });
});
