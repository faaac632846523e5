/**
 * Pending consents (key sign-in, and approval after an upstream sign-in, with its identity): the same behaviour from memory and from Redis (a real
 * redis-server): found until expiry, gone once deleted; and what Redis holds: encrypted (no
 * client id or state in clear), bound to its key (moved, forged or sealed with another secret:
 * not found, counted), with a TTL from its expiry. The shared CSRF tag verifies on another
 * replica (another signer instance) and not for another nonce.
 */

import { describe, expect, it } from 'vitest';
import { MemoryConsentStore, type ConsentStore, type PendingConsent } from '../../src/security/oauth/consent.js';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { RedisConsentStore, sharedCsrfSigner } from '../../src/store/redis/consents.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { pendingSignIn } from './pending-sign-ins.contract.js';

const T0 = 1_800_000_000_000;
const redis = useRedis();
let run = 0;

function consent(id = 'tx1', expiresAt = T0 + 600_000): PendingConsent {
  return { id, request: { ...pendingSignIn().request, state: 'client-state-xyz' }, expiresAt };
}

function redisStore(prefix = `cs${++run}:`, secret = TEST_SHARED_SECRET, onReject?: () => void): RedisConsentStore {
  return new RedisConsentStore({ client: redis.client, keys: redisKeys(prefix), secret: new SharedSecret({ current: secret }), onReject });
}

for (const [name, create] of [
  ['memory', () => new MemoryConsentStore()],
  ['redis', () => redisStore()],
] as const satisfies ReadonlyArray<readonly [string, () => ConsentStore]>) {
  describe(`ConsentStore: ${name}`, () => {
    it('found (with everything it held) until its expiry; gone once deleted', async () => {
      const store = create();
      await store.put(consent('tx1', T0 + 1000), T0);
      expect(await store.get('tx1', T0 + 999)).toEqual(consent('tx1', T0 + 1000));
      expect(await store.get('tx1', T0 + 1000)).toBeUndefined();
      await store.put(consent('tx2'), T0);
      await store.delete('tx2');
      expect(await store.get('tx2', T0)).toBeUndefined();
      expect(await store.get('unknown', T0)).toBeUndefined();
    });

    it('keeps the identity an upstream sign-in vouched for (the approval page\'s consent), and its absence', async () => {
      const store = create();
      const withIdentity: PendingConsent = { ...consent('tx5'), identity: { subject: 'alice-subject', email: 'alice@example.com', scopes: ['mcp:tools:echo'] } };
      await store.put(withIdentity, T0);
      expect(await store.get('tx5', T0)).toEqual(withIdentity);
      const noEmail: PendingConsent = { ...consent('tx6'), identity: { subject: 'bob-subject', email: undefined, scopes: ['mcp:tools'] } };
      await store.put(noEmail, T0);
      expect((await store.get('tx6', T0))?.identity).toEqual({ subject: 'bob-subject', email: undefined, scopes: ['mcp:tools'] });
      await store.put(consent('tx7'), T0);
      expect((await store.get('tx7', T0))?.identity).toBeUndefined();
    });
  });
}

describe('RedisConsentStore: what Redis holds', () => {
  it('encrypted, with a TTL from the expiry; a record moved, forged or sealed with another secret is not found (counted)', async () => {
    const prefix = `csr${++run}:`;
    const keys = redisKeys(prefix);
    let rejected = 0;
    const store = redisStore(prefix, TEST_SHARED_SECRET, () => rejected++);
    await store.put(consent('tx1'), T0);
    const stored = (await redis.client.get(keys.oauthConsent('tx1'))) as string;
    for (const clear of ['client-state-xyz', 'mcpw_c1', '127.0.0.1']) expect(stored).not.toContain(clear);
    await store.put({ ...consent('tx9'), identity: { subject: 'alice-subject', email: 'alice@example.com', scopes: ['mcp:tools:echo'] } }, T0);
    const sealedIdentity = (await redis.client.get(keys.oauthConsent('tx9'))) as string;
    for (const clear of ['alice-subject', 'alice@example.com', 'mcp:tools:echo']) expect(sealedIdentity).not.toContain(clear);
    const ttl = await redis.client.pttl(keys.oauthConsent('tx1'));
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    await redis.client.set(keys.oauthConsent('tx2'), stored);
    expect(await store.get('tx2', T0)).toBeUndefined();
    await redis.client.set(keys.oauthConsent('tx3'), `x.${Buffer.from(JSON.stringify(consent('tx3'))).toString('base64url')}.y.z`);
    expect(await store.get('tx3', T0)).toBeUndefined();
    await redisStore(prefix, 'another-shared-secret-0123456789abcdefghij').put(consent('tx4'), T0);
    expect(await store.get('tx4', T0)).toBeUndefined();
    expect(rejected).toBe(3);
    expect(await store.get('tx1', T0)).toBeDefined();
  });

  it('the shared CSRF tag verifies on another replica, not for another transaction or nonce, and not with another secret', () => {
    const a = sharedCsrfSigner(new SharedSecret({ current: TEST_SHARED_SECRET }));
    const b = sharedCsrfSigner(new SharedSecret({ current: TEST_SHARED_SECRET }));
    const tag = a.sign('tx1.nonce1');
    expect(b.verify('tx1.nonce1', tag)).toBe(true);
    expect(b.verify('tx1.nonce2', tag)).toBe(false);
    expect(b.verify('tx2.nonce1', tag)).toBe(false);
    expect(sharedCsrfSigner(new SharedSecret({ current: 'another-shared-secret-0123456789abcdefghij' })).verify('tx1.nonce1', tag)).toBe(false);
  });
});
