/**
 * The contract every PendingSignInStore keeps (security/oauth/pending-sign-ins), run against each
 * implementation: a pending sign-in is taken once, only by the browser that started it (another
 * browser's callback neither completes nor spends it), not after its expiry; two takes racing get
 * it once. Time is passed in.
 */

import { describe, expect, it } from 'vitest';
import type { PendingSignIn, PendingSignInStore } from '../../src/security/oauth/pending-sign-ins.js';

export type PendingSignInStoreFactory = () => Promise<PendingSignInStore> | PendingSignInStore;

const T0 = 1_800_000_000_000;

/** A pending sign-in as upstream-oidc makes one (optional parts absent, as JSON would drop them). */
export function pendingSignIn(browser = 'browser-digest-a', expiresAt = T0 + 600_000): PendingSignIn {
  return {
    request: {
      client: { clientId: 'mcpw_c1', clientName: undefined, redirectUris: ['http://127.0.0.1:8976/cb'], createdAt: T0, expiresAt: T0 + 86_400_000 },
      redirectUri: 'http://127.0.0.1:8976/cb',
      state: undefined,
      codeChallenge: 'c'.repeat(43),
      resource: 'https://mcp.example/mcp',
      scopes: undefined,
    },
    nonce: 'nonce-0123456789',
    verifier: 'verifier-0123456789abcdefghijklmnopqrstuvwxyz',
    browser,
    expiresAt,
  };
}

export function pendingSignInContract(name: string, create: PendingSignInStoreFactory): void {
  describe(`PendingSignInStore contract: ${name}`, () => {
    it('taken once by the browser that started it, with everything it held', async () => {
      const store = await create();
      const pending = { ...pendingSignIn(), request: { ...pendingSignIn().request, state: 'mcp-state', scopes: ['mcp:tools'], client: { ...pendingSignIn().request.client, clientName: 'Client' } } };
      await store.put('s1', pending, T0);
      expect(await store.take('s1', 'browser-digest-a', T0 + 1)).toEqual(pending);
      expect(await store.take('s1', 'browser-digest-a', T0 + 2)).toBeUndefined();
      // Optional parts absent come back absent (undefined), not as something else.
      await store.put('s2', pendingSignIn(), T0);
      expect(await store.take('s2', 'browser-digest-a', T0)).toEqual(pendingSignIn());
    });

    it("another browser's callback neither completes nor spends it", async () => {
      const store = await create();
      await store.put('s1', pendingSignIn(), T0);
      expect(await store.take('s1', 'browser-digest-b', T0)).toBeUndefined();
      expect(await store.take('s1', 'browser-digest-a', T0)).toBeDefined();
    });

    it('unknown and expired sign-ins are not found', async () => {
      const store = await create();
      expect(await store.take('nothing', 'browser-digest-a', T0)).toBeUndefined();
      await store.put('s1', pendingSignIn('browser-digest-a', T0 + 1000), T0);
      expect(await store.take('s1', 'browser-digest-a', T0 + 1000)).toBeUndefined();
    });

    it('two callbacks racing on one state: exactly one gets it', async () => {
      const store = await create();
      await store.put('s1', pendingSignIn(), T0);
      const taken = await Promise.all([store.take('s1', 'browser-digest-a', T0), store.take('s1', 'browser-digest-a', T0), store.take('s1', 'browser-digest-a', T0)]);
      expect(taken.filter((pending) => pending !== undefined)).toHaveLength(1);
    });
  });
}
