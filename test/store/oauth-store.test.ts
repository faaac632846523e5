/** The OAuthStore contract against the memory implementation, and its caps. */

import { describe, expect, it } from 'vitest';
import { MemoryOAuthStore } from '../../src/store/memory/oauth-store.js';
import { oauthStoreContract } from './oauth-store.contract.js';

oauthStoreContract('memory', () => new MemoryOAuthStore());

describe('MemoryOAuthStore caps', () => {
  it('holds at most maxClients clients (the oldest goes) and maxCodes codes', async () => {
    const store = new MemoryOAuthStore({ maxClients: 3, maxCodes: 2 });
    for (let index = 0; index < 5; index++) await store.putClient({ clientId: `c${index}`, clientName: undefined, redirectUris: [], createdAt: 0, expiresAt: 10 });
    expect(await store.getClient('c0', 1)).toBeUndefined();
    expect(await store.getClient('c1', 1)).toBeUndefined();
    expect(await store.getClient('c4', 1)).toBeDefined();
    const code = { clientId: 'c', redirectUri: 'u', codeChallenge: 'x', resource: 'r', scopes: [], keyId: 'k', expiresAt: 10 };
    for (let index = 0; index < 3; index++) await store.putCode(`d${index}`, code);
    expect((await store.takeCode('d0', 1)).kind).toBe('unknown');
    expect((await store.takeCode('d2', 1)).kind).toBe('fresh');
  });
});
