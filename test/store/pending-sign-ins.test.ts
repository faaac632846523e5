/**
 * Pending upstream sign-ins: the contract against memory and against Redis (a real
 * redis-server), the memory cap, and what Redis holds: the record encrypted (no PKCE verifier,
 * nonce or state in clear), bound to its key (a record moved to another state does not open), a
 * forgery refused and counted, a TTL from the expiry, single use across two connections.
 */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { MemoryPendingSignIns } from '../../src/store/memory/pending-sign-ins.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { RedisPendingSignIns } from '../../src/store/redis/pending-sign-ins.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { pendingSignIn, pendingSignInContract } from './pending-sign-ins.contract.js';

const T0 = 1_800_000_000_000;
const redis = useRedis();
let run = 0;

function redisStore(prefix = `psi${++run}:`, options: { client?: ReturnType<typeof redis.connect>; secret?: string; onReject?: () => void } = {}): RedisPendingSignIns {
  return new RedisPendingSignIns({ client: options.client ?? redis.client, keys: redisKeys(prefix), secret: new SharedSecret({ current: options.secret ?? TEST_SHARED_SECRET }), onReject: options.onReject });
}

pendingSignInContract('memory', () => new MemoryPendingSignIns());
pendingSignInContract('redis', () => redisStore());

describe('MemoryPendingSignIns cap', () => {
  it('holds at most `max` sign-ins: the oldest goes', async () => {
    const store = new MemoryPendingSignIns({ max: 2 });
    for (const key of ['s1', 's2', 's3']) await store.put(key, pendingSignIn(), T0);
    expect(await store.take('s1', 'browser-digest-a', T0)).toBeUndefined();
    expect(await store.take('s3', 'browser-digest-a', T0)).toBeDefined();
  });
});

describe('RedisPendingSignIns: what Redis holds', () => {
  it('the record is encrypted: no verifier, nonce or client in clear; the TTL comes from the expiry', async () => {
    const prefix = `enc${++run}:`;
    const store = redisStore(prefix);
    const state = createHash('sha256').update('the-state').digest('base64url');
    await store.put(state, pendingSignIn('browser-digest-a', T0 + 600_000), T0);
    const key = redisKeys(prefix).oauthSignIn(state);
    const stored = (await redis.client.get(key)) ?? '';
    expect(stored.startsWith('browser-digest-a ')).toBe(true);
    for (const secret of ['verifier-0123456789', 'nonce-0123456789', 'mcpw_c1', 'codeChallenge']) expect(stored).not.toContain(secret);
    const ttl = await redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
  });

  it('a record moved to another state, a forged one and one sealed with another secret do not open (counted); none is spent into a sign-in', async () => {
    const prefix = `move${++run}:`;
    const keys = redisKeys(prefix);
    let rejected = 0;
    const store = redisStore(prefix, { onReject: () => rejected++ });
    await store.put('s1', pendingSignIn(), T0);
    await redis.client.set(keys.oauthSignIn('s2'), (await redis.client.get(keys.oauthSignIn('s1'))) as string);
    expect(await store.take('s2', 'browser-digest-a', T0)).toBeUndefined();
    await redis.client.set(keys.oauthSignIn('s3'), `browser-digest-a x.${Buffer.from(JSON.stringify(pendingSignIn())).toString('base64url')}.y.z`);
    expect(await store.take('s3', 'browser-digest-a', T0)).toBeUndefined();
    await redisStore(prefix, { secret: 'another-shared-secret-0123456789abcdefghij' }).put('s4', pendingSignIn(), T0);
    expect(await store.take('s4', 'browser-digest-a', T0)).toBeUndefined();
    expect(rejected).toBe(3);
    // The genuine one, where it was put, still opens.
    expect(await store.take('s1', 'browser-digest-a', T0)).toBeDefined();
  });

  it('a Redis writer who rewrites the browser digest in clear cannot hand the sign-in to another browser', async () => {
    const prefix = `brw${++run}:`;
    const keys = redisKeys(prefix);
    const store = redisStore(prefix);
    await store.put('s1', pendingSignIn('browser-digest-a'), T0);
    const stored = (await redis.client.get(keys.oauthSignIn('s1'))) as string;
    await redis.client.set(keys.oauthSignIn('s1'), stored.replace(/^browser-digest-a /, 'browser-digest-b '));
    expect(await store.take('s1', 'browser-digest-b', T0)).toBeUndefined();
  });

  it('two replicas (two connections) taking one state at once: exactly one gets it', async () => {
    const prefix = `race${++run}:`;
    const a = redisStore(prefix);
    const b = redisStore(prefix, { client: redis.connect() });
    await a.put('s1', pendingSignIn(), T0);
    const taken = await Promise.all([a.take('s1', 'browser-digest-a', T0), b.take('s1', 'browser-digest-a', T0)]);
    expect(taken.filter((pending) => pending !== undefined)).toHaveLength(1);
  });
});
