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

  it('a client in use outlives a registration flood: never-used clients go first, then the least recently used (t12)', async () => {
    const store = new MemoryOAuthStore({ maxClients: 3 });
    const client = (id: string): Parameters<MemoryOAuthStore['putClient']>[0] => ({ clientId: id, clientName: undefined, redirectUris: [], createdAt: 0, expiresAt: 10 });
    await store.putClient(client('used1'));
    await store.putClient(client('used2'));
    await store.putClient(client('spam0'));
    // Both used at the token endpoint (touched), used1 first.
    expect(await store.getClient('used1', 1, 20)).toBeDefined();
    expect(await store.getClient('used2', 1, 20)).toBeDefined();
    for (let index = 1; index <= 5; index++) await store.putClient(client(`spam${index}`));
    expect(await store.getClient('used1', 1)).toBeDefined();
    expect(await store.getClient('used2', 1)).toBeDefined();
    expect(await store.getClient('spam4', 1)).toBeUndefined();
    expect(await store.getClient('spam5', 1)).toBeDefined();
    // With no never-used client left, the least recently used goes: used1 touched again, used2 goes.
    expect(await store.getClient('used1', 2, 20)).toBeDefined();
    expect(await store.getClient('spam5', 2, 20)).toBeDefined();
    await store.putClient(client('late'));
    expect(await store.getClient('used2', 2)).toBeUndefined();
    expect(await store.getClient('used1', 2)).toBeDefined();
    expect(await store.getClient('spam5', 2)).toBeDefined();
    expect(await store.getClient('late', 2)).toBeDefined();
  });
});
