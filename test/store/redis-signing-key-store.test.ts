/**
 * Signing keys in Redis: sealed at rest (AES-256-GCM, key from the shared secret), refused when
 * forged, moved to another key name or sealed with another secret; accepted under the previous
 * secret during a rotation; replicas starting together agree on one key; a rotation by one
 * replica is picked up by another when a token names the new key (manual clock).
 */

import { describe, expect, it } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { SigningKeys } from '../../src/security/oauth/signing-keys.js';
import { RedisSigningKeyStore, SealedKeysError } from '../../src/store/redis/signing-key-store.js';
import { manualClock } from '../helpers/clock.js';
import { signWithCurrentKey, verifiesWith } from '../helpers/oauth.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';

const redis = useRedis();
let run = 0;
const secret = new SharedSecret({ current: TEST_SHARED_SECRET });

function keyStore(key: string, shared = secret): RedisSigningKeyStore {
  return new RedisSigningKeyStore({ client: redis.client, key, secret: shared });
}

describe('RedisSigningKeyStore', () => {
  it('a Redis too busy for the 50 ms call timeout delays opening the keys, it does not fail it', async () => {
    const key = `sk${++run}`;
    // The request path's settings: 50 ms per call, nothing queued while disconnected.
    const client = redis.connect({ commandTimeout: 50, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await new Promise((resolve) => client.once('ready', resolve));
    const store = new RedisSigningKeyStore({ client, key, secret, readyTimeoutMs: 5000 });
    // Redis answers no one for 400 ms: the first calls time out, later ones succeed.
    await redis.client.call('CLIENT', 'PAUSE', '400', 'ALL');
    const keys = await SigningKeys.open({ store, overlapMs: 60_000 });
    expect(await redis.client.hget(key, 'cur')).toBe(keys.current.kid);
  });

  it('replicas opening together on an empty store agree on one key (compare-and-set)', async () => {
    const key = `sk${++run}`;
    const opened = await Promise.all([0, 1, 2, 3].map(() => SigningKeys.open({ store: keyStore(key), overlapMs: 60_000 })));
    expect(new Set(opened.map((keys) => keys.current.kid)).size).toBe(1);
    expect(await redis.client.hget(key, 'cur')).toBe(opened[0]?.current.kid);
  });

  it('replace is a compare-and-set on the current kid: of two proposals on an empty store one wins and both see it', async () => {
    const key = `sk${++run}`;
    const proposal = (kid: string) => [{ kid, createdAt: 0, privateJwk: { kty: 'EC' } }];
    const results = await Promise.all([keyStore(key).replace(undefined, proposal('one')), keyStore(key).replace(undefined, proposal('two'))]);
    expect(results[0]?.[0]?.kid).toBe(results[1]?.[0]?.kid);
    const winner = results[0]?.[0]?.kid as string;
    // A proposal made over a stale current kid loses too.
    expect((await keyStore(key).replace('stale', proposal('three')))[0]?.kid).toBe(winner);
    expect((await keyStore(key).replace(winner, proposal('four')))[0]?.kid).toBe('four');
  });

  it('refuses keys forged, moved to another key name, or sealed with another secret; accepts the previous secret', async () => {
    const key = `sk${++run}`;
    await SigningKeys.open({ store: keyStore(key), overlapMs: 60_000 });
    const sealed = (await redis.client.hget(key, 'keys')) as string;
    const moved = `sk${++run}`;
    await redis.client.hset(moved, { cur: 'x', keys: sealed });
    await expect(keyStore(moved).load()).rejects.toBeInstanceOf(SealedKeysError);
    const forged = `sk${++run}`;
    const parts = sealed.split('.');
    parts[2] = Buffer.from(JSON.stringify({ keys: [] })).toString('base64url');
    await redis.client.hset(forged, { cur: 'x', keys: parts.join('.') });
    await expect(keyStore(forged).load()).rejects.toBeInstanceOf(SealedKeysError);
    await expect(keyStore(key, new SharedSecret({ current: 'another-secret-0123456789abcdefghijklmnopq' })).load()).rejects.toBeInstanceOf(SealedKeysError);
    const rotatedSecret = new SharedSecret({ current: 'another-secret-0123456789abcdefghijklmnopq', previous: TEST_SHARED_SECRET });
    expect(await keyStore(key, rotatedSecret).load()).toHaveLength(1);
  });

  it('a rotation on replica A: B signs with A\'s new key after its own rotation check, and verifies A\'s tokens before it (reload on unknown kid)', async () => {
    const key = `sk${++run}`;
    const clock = manualClock();
    const options = { overlapMs: 660_000, rotateAfterMs: 86_400_000, now: clock.now };
    const a = await SigningKeys.open({ store: keyStore(key), ...options });
    const b = await SigningKeys.open({ store: keyStore(key), ...options });
    const c = await SigningKeys.open({ store: keyStore(key), ...options });
    const first = a.current.kid;
    expect(b.current.kid).toBe(first);
    clock.advance(86_400_000);
    expect(await a.rotateIfDue()).toBe(true);
    const token = await signWithCurrentKey(a);
    expect(a.current.kid).not.toBe(first);
    // B, due too, adopts A's rotation instead of making a key of its own.
    expect(await b.rotateIfDue()).toBe(false);
    expect(b.current.kid).toBe(a.current.kid);
    expect(b.jwks().keys.map((jwk) => jwk.kid)).toEqual(a.jwks().keys.map((jwk) => jwk.kid));
    // C has not checked yet: a token naming the new key makes it reload, once per 5 s at most.
    expect(await verifiesWith(c, token)).toBe(true);
    expect(c.jwks().keys).toHaveLength(2);
  });

  it('requests arriving together on a replica with tokens naming a key it has not loaded yet: every one verifies (one reload, shared)', async () => {
    const key = `sk${++run}`;
    const clock = manualClock();
    const options = { overlapMs: 660_000, rotateAfterMs: 86_400_000, now: clock.now };
    const a = await SigningKeys.open({ store: keyStore(key), ...options });
    const b = await SigningKeys.open({ store: keyStore(key), ...options });
    clock.advance(86_400_000);
    expect(await a.rotateIfDue()).toBe(true);
    const tokens = await Promise.all([signWithCurrentKey(a), signWithCurrentKey(a), signWithCurrentKey(a)]);
    expect(await Promise.all(tokens.map((token) => verifiesWith(b, token)))).toEqual([true, true, true]);
  });

  it('keys sealed under the previous shared secret are sealed again under the current one when loaded, so the previous secret can be dropped', async () => {
    const key = `sk${++run}`;
    const opened = await SigningKeys.open({ store: keyStore(key), overlapMs: 60_000 });
    const next = 'rotated-secret-0123456789abcdefghijklmnopq';
    // Step 2 of the secret's rotation: the new one signs, the old one is still accepted.
    expect((await keyStore(key, new SharedSecret({ current: next, previous: TEST_SHARED_SECRET })).load()).map((stored) => stored.kid)).toEqual([opened.current.kid]);
    // Step 3: the new secret alone still opens the keys.
    const later = await SigningKeys.open({ store: keyStore(key, new SharedSecret({ current: next })), overlapMs: 60_000 });
    expect(later.current.kid).toBe(opened.current.kid);
  });
});
