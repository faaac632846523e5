/**
 * The JWT verifier on its own: refetches the JWKS when a token names an unknown key, maps
 * scopes to tools, and refuses tokens without a subject.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { JwtVerifier, looksLikeJwt, scopesOf, toolsOfScopes } from '../../src/security/jwt.js';

describe('JwtVerifier', () => {
  const keys: JWK[] = [];
  let fetches = 0;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the JWKS again when a token names a key it has not seen', async () => {
    const first = await generateKeyPair('ES256', { extractable: true });
    keys.push({ ...(await exportJWK(first.publicKey)), kid: 'one', alg: 'ES256' });
    const verifier = new JwtVerifier({ jwksUrl: url, issuer: 'iss', audience: 'aud', algorithms: ['ES256'], scopePrefix: 'mcp:', cooldownMs: 0 });
    const token = (kid: string, key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']) =>
      new SignJWT({ scope: 'mcp:tools:echo' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('iss').setAudience('aud').setSubject('s').setExpirationTime('1m').sign(key);
    expect(await verifier.verify(await token('one', first.privateKey))).toMatchObject({ ok: true, principal: { kind: 'jwt', id: 'sub:s' } });
    const fetchesBefore = fetches;

    const second = await generateKeyPair('ES256', { extractable: true });
    keys.push({ ...(await exportJWK(second.publicKey)), kid: 'two', alg: 'ES256' });
    const verdict = await verifier.verify(await token('two', second.privateKey));
    expect(verdict).toMatchObject({ ok: true });
    expect(fetches).toBe(fetchesBefore + 1);
    expect(verdict.ok && [...(verdict.principal.tools ?? [])]).toEqual(['echo']);
  });

  it('refuses a token without a subject', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.push({ ...(await exportJWK(pair.publicKey)), kid: 'nosub', alg: 'ES256' });
    const verifier = new JwtVerifier({ jwksUrl: url, issuer: 'iss', audience: 'aud', algorithms: ['ES256'], scopePrefix: 'mcp:', cooldownMs: 0 });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'nosub' }).setIssuer('iss').setAudience('aud').setExpirationTime('1m').sign(pair.privateKey);
    expect(await verifier.verify(token)).toEqual({ ok: false, reason: 'jwt_no_subject' });
  });

  it('maps scopes to tools', () => {
    expect(scopesOf({ scope: 'a b  c' })).toEqual(['a', 'b', 'c']);
    expect(scopesOf({ scp: ['x', 1, 'y'] })).toEqual(['x', 'y']);
    expect(toolsOfScopes(['mcp:tools'], 'mcp:')).toBeUndefined();
    expect([...(toolsOfScopes(['mcp:tools:a', 'openid', 'mcp:tools:b'], 'mcp:') ?? [])]).toEqual(['a', 'b']);
    expect(toolsOfScopes(['openid'], 'mcp:')?.size).toBe(0);
    expect(looksLikeJwt('aa.bb.cc')).toBe(true);
    expect(looksLikeJwt('plain-api-key-0123456789')).toBe(false);
  });
});
