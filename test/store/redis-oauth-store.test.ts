/**
 * The OAuthStore contract against Redis (a real redis-server), and what a Redis writer cannot
 * do: forge a client, a code or a refresh token, or move a genuine record to another key.
 */

import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/store/redis/keys.js';
import { RedisOAuthStore } from '../../src/store/redis/oauth-store.js';
import { testSeal, useRedis } from '../helpers/redis.js';
import { oauthStoreContract } from './oauth-store.contract.js';

const T0 = 1_800_000_000_000;
const redis = useRedis();
let run = 0;

/** A store on its own prefix (tests share one server), its clock at T0. */
function store(prefix = `t${++run}:`, onReject?: (kind: string) => void): RedisOAuthStore {
  return new RedisOAuthStore({ client: redis.client, keys: redisKeys(prefix), seal: testSeal(onReject), now: () => T0 });
}

oauthStoreContract('redis', () => store());

describe('RedisOAuthStore: records a Redis writer did not seal do not exist', () => {
  const code = { clientId: 'c1', redirectUri: 'https://a.example/cb', codeChallenge: 'x'.repeat(43), resource: 'r', scopes: ['mcp:tools'], keyId: 'k1', expiresAt: T0 + 60_000 };

  it('a forged client, code and refresh token are unknown; each rejection is counted', async () => {
    const rejected: string[] = [];
    const prefix = `forge${++run}:`;
    const keys = redisKeys(prefix);
    const oauth = store(prefix, (kind) => rejected.push(kind));
    const client = { clientId: 'evil', redirectUris: ['https://evil.example/cb'], createdAt: T0, expiresAt: T0 + 10_000 };
    await redis.client.set(keys.oauthClient('evil'), `bad.tag ${JSON.stringify(client)}`);
    expect(await oauth.getClient('evil', T0)).toBeUndefined();
    await redis.client.hset(keys.oauthCode('d'), { rec: `x.y ${JSON.stringify(code)}`, exp: String(T0 + 60_000), spent: '0' });
    expect(await oauth.takeCode('d', T0)).toEqual({ kind: 'unknown' });
    await oauth.putFamily({ familyId: 'f1', clientId: 'c1', keyId: 'k1', resource: 'r', scopes: [], expiresAt: T0 + 100_000 });
    await redis.client.hset(keys.oauthRefresh('r'), { fam: 'f1', exp: String(T0 + 100_000), used: '0', mac: 'x.y' });
    expect((await oauth.useRefresh('r', T0)).kind).toBe('unknown');
    expect(rejected).toEqual(['oauth', 'oauth', 'oauth']);
  });

  it('a genuine record moved to another key is refused; editing its expiry is refused', async () => {
    const prefix = `move${++run}:`;
    const keys = redisKeys(prefix);
    const oauth = store(prefix);
    await oauth.putCode('d1', code);
    const fields = await redis.client.hgetall(keys.oauthCode('d1'));
    await redis.client.hset(keys.oauthCode('d2'), fields);
    expect(await oauth.takeCode('d2', T0)).toEqual({ kind: 'unknown' });
    await oauth.putFamily({ familyId: 'f1', clientId: 'c1', keyId: 'k1', resource: 'r', scopes: [], expiresAt: T0 + 100_000 });
    await oauth.putRefresh('r1', 'f1', T0 + 1000);
    await redis.client.hset(keys.oauthRefresh('r1'), 'exp', String(T0 + 99_000));
    expect((await oauth.useRefresh('r1', T0 + 5000)).kind).toBe('unknown');
    expect((await oauth.takeCode('d1', T0)).kind).toBe('fresh');
  });

  it('two replicas (two connections) racing on one refresh token: exactly one fresh; a revocation by one is seen by the other', async () => {
    const prefix = `race${++run}:`;
    const a = store(prefix);
    const b = new RedisOAuthStore({ client: redis.connect(), keys: redisKeys(prefix), seal: testSeal(), now: () => T0 });
    await a.putFamily({ familyId: 'f1', clientId: 'c1', keyId: 'k1', resource: 'r', scopes: [], expiresAt: T0 + 100_000 });
    await a.putRefresh('r1', 'f1', T0 + 50_000);
    const kinds = (await Promise.all([a.useRefresh('r1', T0), b.useRefresh('r1', T0)])).map((lookup) => lookup.kind).sort();
    expect(kinds).toEqual(['fresh', 'reused']);
    expect(await b.isFamilyRevoked('f1')).toBe(false);
    await a.revokeFamily('f1');
    expect(await b.isFamilyRevoked('f1')).toBe(true);
  });

  it('a forged or moved one-time sign-in code is unknown; a second replica cannot take a spent one', async () => {
    const rejected: string[] = [];
    const prefix = `otc${++run}:`;
    const keys = redisKeys(prefix);
    const a = store(prefix, (kind) => rejected.push(kind));
    const forged = { keyId: 'key_admin', issuedBy: 'me', expiresAt: T0 + 60_000 };
    await redis.client.hset(keys.oauthSignInCode('f'), { rec: `x.y ${JSON.stringify(forged)}`, exp: String(T0 + 60_000), spent: '0' });
    expect(await a.takeSignInCode('f', T0)).toEqual({ kind: 'unknown' });
    expect(rejected).toEqual(['oauth']);
    await a.putSignInCode('s1', { keyId: 'k1', issuedBy: 'op', expiresAt: T0 + 60_000 });
    await redis.client.hset(keys.oauthSignInCode('s2'), await redis.client.hgetall(keys.oauthSignInCode('s1')));
    expect(await a.takeSignInCode('s2', T0)).toEqual({ kind: 'unknown' });
    // Its plain expiry moved forward: the sealed one still decides.
    await redis.client.hset(keys.oauthSignInCode('s1'), 'exp', String(T0 + 999_000));
    expect((await a.takeSignInCode('s1', T0 + 60_000)).kind).toBe('expired');
    await a.putSignInCode('s3', { keyId: 'k1', issuedBy: 'op', expiresAt: T0 + 60_000 });
    const b = new RedisOAuthStore({ client: redis.connect(), keys, seal: testSeal(), now: () => T0 });
    expect((await a.takeSignInCode('s3', T0)).kind).toBe('fresh');
    expect((await b.takeSignInCode('s3', T0)).kind).toBe('spent');
    const ttl = await redis.client.pttl(keys.oauthSignInCode('s3'));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('records carry a TTL from their expiry (collected by Redis, not kept forever)', async () => {
    const prefix = `ttl${++run}:`;
    const keys = redisKeys(prefix);
    const oauth = store(prefix);
    await oauth.putCode('d1', code);
    const ttl = await redis.client.pttl(keys.oauthCode('d1'));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    await oauth.takeCode('d1', T0);
    expect(await redis.client.pttl(keys.oauthCode('d1'))).toBeGreaterThan(600_000);
  });
});
