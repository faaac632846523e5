/**
 * The contract every OAuthStore must keep (security/oauth/store), run against each
 * implementation: clients expire when unused and a use moves the expiry; a code is returned
 * once, then answers `spent` with the grant it made; a refresh token is `fresh` once, then `reused` (peeking does not spend it); a revoked family answers `revoked`;
 * expired records are gone. Time is passed in (no clock inside the store).
 */

import { describe, expect, it } from 'vitest';
import type { FamilyRecord, OAuthStore } from '../../src/security/oauth/store.js';

export type OAuthStoreFactory = () => Promise<OAuthStore> | OAuthStore;

const T0 = 1_800_000_000_000;

function family(id: string, expiresAt = T0 + 1_000_000): FamilyRecord {
  return { familyId: id, clientId: 'c1', keyId: 'k1', resource: 'https://mcp.example/mcp', scopes: ['mcp:tools'], expiresAt };
}

export function oauthStoreContract(name: string, create: OAuthStoreFactory): void {
  describe(`OAuthStore contract: ${name}`, () => {
    it('clients: unknown, found, expired; a touch moves the expiry forward only', async () => {
      const store = await create();
      expect(await store.getClient('c1', T0)).toBeUndefined();
      await store.putClient({ clientId: 'c1', clientName: 'one', redirectUris: ['https://a.example/cb'], createdAt: T0, expiresAt: T0 + 1000 });
      expect((await store.getClient('c1', T0 + 999))?.clientName).toBe('one');
      expect((await store.getClient('c1', T0 + 500, T0 + 5000))?.expiresAt).toBe(T0 + 5000);
      expect((await store.getClient('c1', T0 + 600, T0 + 2000))?.expiresAt).toBe(T0 + 5000);
      expect(await store.getClient('c1', T0 + 4999)).toBeDefined();
      expect(await store.getClient('c1', T0 + 5000)).toBeUndefined();
    });

    it('codes: taken once, then spent (with the grant bound to it); an expired code is unknown', async () => {
      const store = await create();
      const code = { clientId: 'c1', redirectUri: 'https://a.example/cb', codeChallenge: 'x'.repeat(43), resource: 'r', scopes: [], keyId: 'k1', expiresAt: T0 + 60_000 };
      await store.putCode('d1', code);
      expect(await store.takeCode('d1', T0)).toEqual({ kind: 'fresh', code });
      expect(await store.bindCode('d1', 'f1')).toBe(true);
      expect(await store.takeCode('d1', T0 + 1)).toEqual({ kind: 'spent', familyId: 'f1' });
      await store.putCode('d2', code);
      expect(await store.takeCode('d2', T0 + 60_000)).toEqual({ kind: 'unknown' });
      expect(await store.takeCode('unknown', T0)).toEqual({ kind: 'unknown' });
    });

    it('a code replayed before its grant is bound: binding reports it', async () => {
      const store = await create();
      await store.putCode('d3', { clientId: 'c1', redirectUri: 'u', codeChallenge: 'x'.repeat(43), resource: 'r', scopes: [], keyId: 'k1', expiresAt: T0 + 60_000 });
      const kinds = (await Promise.all([store.takeCode('d3', T0), store.takeCode('d3', T0)])).map((take) => take.kind).sort();
      expect(kinds).toEqual(['fresh', 'spent']);
      expect(await store.bindCode('d3', 'f9')).toBe(false);
    });

    it('refresh tokens: fresh once, then reused; a revoked family answers revoked for every token of it', async () => {
      const store = await create();
      await store.putFamily(family('f1'));
      await store.putRefresh('r1', 'f1', T0 + 1000);
      await store.putRefresh('r2', 'f1', T0 + 1000);
      expect((await store.useRefresh('r1', T0)).kind).toBe('fresh');
      expect((await store.useRefresh('r1', T0)).kind).toBe('reused');
      expect(await store.isFamilyRevoked('f1')).toBe(false);
      await store.revokeFamily('f1');
      expect(await store.isFamilyRevoked('f1')).toBe(true);
      expect((await store.useRefresh('r2', T0)).kind).toBe('revoked');
      expect((await store.useRefresh('r1', T0)).kind).toBe('revoked');
      expect((await store.useRefresh('nope', T0)).kind).toBe('unknown');
    });

    it('peeking at a refresh token does not spend it: peeks answer fresh, the use is fresh once, then both answer reused', async () => {
      const store = await create();
      await store.putFamily(family('f5'));
      await store.putRefresh('r6', 'f5', T0 + 1000);
      expect(await store.peekRefresh('r6', T0)).toEqual({ kind: 'fresh', family: family('f5') });
      expect((await store.peekRefresh('r6', T0)).kind).toBe('fresh');
      expect((await store.useRefresh('r6', T0)).kind).toBe('fresh');
      expect((await store.peekRefresh('r6', T0)).kind).toBe('reused');
      expect((await store.useRefresh('r6', T0)).kind).toBe('reused');
      expect((await store.peekRefresh('nope', T0)).kind).toBe('unknown');
      expect((await store.peekRefresh('r6', T0 + 1000)).kind).toBe('unknown');
      await store.revokeFamily('f5');
      expect((await store.peekRefresh('r6', T0)).kind).toBe('revoked');
    });

    it('refresh tokens end at their own expiry and at their family\'s', async () => {
      const store = await create();
      await store.putFamily(family('f2', T0 + 500));
      await store.putRefresh('r3', 'f2', T0 + 1000);
      await store.putFamily(family('f3'));
      await store.putRefresh('r4', 'f3', T0 + 100);
      expect((await store.useRefresh('r3', T0 + 500)).kind).toBe('unknown');
      expect((await store.useRefresh('r4', T0 + 100)).kind).toBe('unknown');
    });

    it('one-time sign-in codes: fresh once, then spent until their expiry, then unknown; an expired code is told expired once', async () => {
      const store = await create();
      const code = { keyId: 'key_0123456789ab', issuedBy: 'key_operator0001', expiresAt: T0 + 900_000 };
      await store.putSignInCode('s1', code);
      expect(await store.takeSignInCode('s1', T0)).toEqual({ kind: 'fresh', code });
      expect(await store.takeSignInCode('s1', T0 + 1)).toEqual({ kind: 'spent', code });
      expect(await store.takeSignInCode('s1', T0 + 899_999)).toEqual({ kind: 'spent', code });
      expect(await store.takeSignInCode('s1', T0 + 900_000)).toEqual({ kind: 'unknown' });
      await store.putSignInCode('s2', code);
      expect(await store.takeSignInCode('s2', T0 + 899_999)).toEqual({ kind: 'fresh', code });
      await store.putSignInCode('s3', code);
      expect(await store.takeSignInCode('s3', T0 + 900_000)).toEqual({ kind: 'expired', code });
      expect(await store.takeSignInCode('s3', T0 + 900_000)).toEqual({ kind: 'unknown' });
      expect(await store.takeSignInCode('nope', T0)).toEqual({ kind: 'unknown' });
      // A sign-in code is not an authorization code, nor the other way round.
      expect(await store.takeCode('s2', T0)).toEqual({ kind: 'unknown' });
    });

    it('two concurrent takes of one sign-in code: exactly one is fresh', async () => {
      const store = await create();
      await store.putSignInCode('s4', { keyId: 'k1', issuedBy: 'op', expiresAt: T0 + 60_000 });
      const kinds = (await Promise.all([store.takeSignInCode('s4', T0), store.takeSignInCode('s4', T0), store.takeSignInCode('s4', T0)])).map((take) => take.kind).sort();
      expect(kinds).toEqual(['fresh', 'spent', 'spent']);
    });

    it('two concurrent uses of one refresh token: exactly one is fresh', async () => {
      const store = await create();
      await store.putFamily(family('f4'));
      await store.putRefresh('r5', 'f4', T0 + 1000);
      const kinds = (await Promise.all([store.useRefresh('r5', T0), store.useRefresh('r5', T0)])).map((lookup) => lookup.kind).sort();
      expect(kinds).toEqual(['fresh', 'reused']);
    });
  });
}
