/**
 * What an OAuth grant of mcp-warden's own authorization server may do after it was made (issue
 * 14, red-team review): a key narrowed in the keys file narrows its tokens at once and at refresh;
 * a refresh refused for its scope or resource leaves the token usable; revocation checks the
 * client; a retired signing key stops verifying when its overlap ends (manual clock), without a
 * JWKS fetch; only tokens typed at+jwt are ours; a loopback redirect URI with a port past 65535
 * is a normal refusal. Black-box over HTTP, each with the exact status and a still-serving check.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { manualClock } from '../helpers/clock.js';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { authorizeUrl, pkce, postForm, registerClient, signIn, useOAuthWarden } from '../helpers/oauth.js';
import { until } from '../helpers/wait.js';
import { stillServing, type RunningWarden } from '../helpers/warden.js';

function expectOAuthError(response: RawResponse, status: number, error: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.json<{ error: string }>().error).toBe(error);
}

function refresh(warden: { issuer: string }, clientId: string, token: string, extra: Record<string, string> = {}): Promise<RawResponse> {
  return postForm(`${warden.issuer}/oauth/token`, { grant_type: 'refresh_token', client_id: clientId, refresh_token: token, ...extra });
}

function initialize(warden: RunningWarden, token: string): Promise<RawResponse> {
  return send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
}

async function toolNames(warden: { issuer: string }, token: string): Promise<string[]> {
  const listed = await send(`${warden.issuer}/api/tools`, { headers: { authorization: `Bearer ${token}` } });
  expect(listed.status).toBe(200);
  return [...JSON.stringify(listed.json()).matchAll(/"name":"([^"]+)"/g)].map((match) => match[1] as string);
}

function status(warden: { issuer: string }, token: string): Promise<number> {
  return send(`${warden.issuer}/api/status`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.status);
}

describe('OAuth grants: a key narrowed in the keys file narrows its tokens', () => {
  it('an existing token loses the operator role and tools at once; refresh issues the narrowed scope; nothing left is invalid_grant', async () => {
    const path = tempKeysPath();
    const admin = addKey(path, { name: 'admin', operator: true });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const { tokens, clientId } = await signIn(warden.issuer, admin.key);
    expect(tokens.scope).toBe('mcp:tools mcp:operator');
    expect(await status(warden, tokens.access_token)).toBe(200);
    expect(await toolNames(warden, tokens.access_token)).toContain('server_status');

    updateKeysFile(path, (file) => {
      const record = file.keys.find((candidate) => candidate.id === admin.record.id) as KeyFileRecord;
      record.operator = false;
      record.tools = ['echo'];
    });
    // The same access token, not refreshed: the key's current rights, not those of the sign-in.
    expect(await until(async () => (await status(warden, tokens.access_token)) === 403, 2000)).toBe(true);
    expect(await toolNames(warden, tokens.access_token)).toEqual(['echo']);
    expect((await initialize(warden, tokens.access_token)).status).toBe(200);

    const refreshed = await refresh(warden, clientId, tokens.refresh_token);
    expect(refreshed.status, refreshed.text).toBe(200);
    const narrowed = refreshed.json<{ access_token: string; refresh_token: string; scope: string }>();
    expect(narrowed.scope).toBe('mcp:tools:echo');
    expect(await status(warden, narrowed.access_token)).toBe(403);

    // Asking only for what the key no longer has leaves nothing to issue: refused, and the token stays usable.
    expectOAuthError(await refresh(warden, clientId, narrowed.refresh_token, { scope: 'mcp:operator' }), 400, 'invalid_grant');
    expect(warden.logs().some((line) => line['failure'] === 'key_narrowed')).toBe(true);
    expect((await refresh(warden, clientId, narrowed.refresh_token)).json<{ scope: string }>().scope).toBe('mcp:tools:echo');
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth grants: a refused refresh does not spend the token', () => {
  it('a too-wide scope or a wrong resource from the right client leaves the token usable; another client revokes the grant', async () => {
    const warden = await useOAuthWarden();
    const { tokens, clientId } = await signIn(warden.issuer, warden.key, 'mcp:tools');
    expectOAuthError(await refresh(warden, clientId, tokens.refresh_token, { scope: 'mcp:tools mcp:operator' }), 400, 'invalid_scope');
    expectOAuthError(await refresh(warden, clientId, tokens.refresh_token, { resource: 'https://other.example/mcp' }), 400, 'invalid_target');
    // Not spent by the refusals: the retry is a refresh, not a reuse.
    const retried = await refresh(warden, clientId, tokens.refresh_token);
    expect(retried.status, retried.text).toBe(200);
    const next = retried.json<{ access_token: string; refresh_token: string }>();
    expect((await initialize(warden, next.access_token)).status).toBe(200);

    // Presented by another client, a refresh token has leaked: its grant is revoked on purpose.
    const otherClient = await registerClient(warden.issuer);
    expectOAuthError(await refresh(warden, otherClient, next.refresh_token), 400, 'invalid_grant');
    expect(warden.logs().some((line) => line['failure'] === 'refresh_other_client')).toBe(true);
    expectOAuthError(await refresh(warden, clientId, next.refresh_token), 400, 'invalid_grant');
    expect((await initialize(warden, next.access_token)).status).toBe(401);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth grants: revocation checks the client (RFC 7009 §2.1)', () => {
  it('another client_id is unauthorized_client and revokes nothing; the own client_id, or none, revokes', async () => {
    const warden = await useOAuthWarden();
    const first = await signIn(warden.issuer, warden.key);
    const second = await signIn(warden.issuer, warden.key);
    const revoke = (form: Record<string, string>): Promise<RawResponse> => postForm(`${warden.issuer}/oauth/revoke`, form);

    for (const token of [first.tokens.refresh_token, first.tokens.access_token]) {
      const refused = await revoke({ token, client_id: second.clientId });
      expectOAuthError(refused, 400, 'unauthorized_client');
      expect(refused.headers['cache-control']).toBe('no-store');
    }
    expect(warden.logs().some((line) => line['failure'] === 'revoke_other_client')).toBe(true);
    expect((await initialize(warden, first.tokens.access_token)).status).toBe(200);
    // An unknown token is still 200 whoever asks (§2.2).
    expect((await revoke({ token: 'mcpwr_unknown', client_id: second.clientId })).status).toBe(200);

    expect((await revoke({ token: first.tokens.access_token, client_id: first.clientId })).status).toBe(200);
    expect((await initialize(warden, first.tokens.access_token)).status).toBe(401);
    // Without client_id the holder of the token may revoke it.
    expect((await revoke({ token: second.tokens.refresh_token })).status).toBe(200);
    expect((await initialize(warden, second.tokens.access_token)).status).toBe(401);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth grants: signing keys and token type', () => {
  it('a token signed by a retired key is refused once the overlap has passed, with no JWKS fetch (manual clock)', async () => {
    const clock = manualClock();
    const keyFile = join(mkdtempSync(join(tmpdir(), 'warden-oauth-')), 'oauth-keys.json');
    const made = async (createdAt: number): Promise<{ kid: string; createdAt: number; privateJwk: JWK }> => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(privateKey);
      const kid = await calculateJwkThumbprint(jwk);
      return { kid, createdAt, privateJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
    };
    // The current key made 100 s ago; the previous one retired then, published for 660 s (600 s tokens + 60 s).
    const current = await made(clock.now() - 100_000);
    const retired = await made(clock.now() - 10 * 86_400_000);
    writeFileSync(keyFile, JSON.stringify({ keys: [current, retired] }), { mode: 0o600 });
    const warden = await useOAuthWarden({ clock: clock.now, options: { oauthKeyFile: keyFile } });
    const { tokens } = await signIn(warden.issuer, warden.key);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, number>;
    const oldKey = await importJWK(retired.privateJwk, 'ES256');
    // Valid for an hour by its own claims: only the key's retirement can end it.
    const signedByRetired = await new SignJWT({ ...claims, exp: (claims['exp'] as number) + 3600 }).setProtectedHeader({ alg: 'ES256', kid: retired.kid, typ: 'at+jwt' }).sign(oldKey);
    expect((await initialize(warden, signedByRetired)).status).toBe(200);

    clock.advance(560_001);
    const refused = await initialize(warden, signedByRetired);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(warden.logs().some((line) => line['failure'] === 'auth_invalid:jwt_unknown_key')).toBe(true);
    expect((await initialize(warden, tokens.access_token)).status).toBe(200);
    expect(readFileSync(keyFile, 'utf8')).not.toContain(retired.kid);
    expect(await stillServing(warden)).toBe(true);
  });

  it('a token signed by our key without typ at+jwt is invalid_token', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'warden-oauth-')), 'oauth-keys.json');
    const warden = await useOAuthWarden({ options: { oauthKeyFile: keyFile } });
    const stored = JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: Array<{ kid: string; privateJwk: JWK }> };
    const key = await importJWK(stored.keys[0]?.privateJwk as JWK, 'ES256');
    const { tokens } = await signIn(warden.issuer, warden.key);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    const kid = stored.keys[0]?.kid as string;
    for (const header of [{ alg: 'ES256', kid }, { alg: 'ES256', kid, typ: 'JWT' }]) {
      const response = await initialize(warden, await new SignJWT(claims).setProtectedHeader(header).sign(key));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    expect(warden.logs().some((line) => line['failure'] === 'auth_invalid:jwt_bad_type')).toBe(true);
    // The same claims typed at+jwt pass: the type alone made the difference.
    expect((await initialize(warden, await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(key))).status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth grants: loopback redirect ports', () => {
  it('a loopback redirect URI with a port past 65535 (or 0) is the normal refusal, not a 500', async () => {
    const warden = await useOAuthWarden();
    const clientId = await registerClient(warden.issuer, ['http://127.0.0.1/cb']);
    const { challenge } = pkce();
    for (const redirect of ['http://127.0.0.1:99999/cb', 'http://127.0.0.1:65536/cb', 'http://127.0.0.1:0/cb']) {
      for (const resource of [`${warden.issuer}/mcp`, 'https://other.example/mcp']) {
        const response = await send(authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', resource, state: 's' }));
        expect(response.status, redirect).toBe(400);
        expect(response.headers['location']).toBeUndefined();
        expect(response.text).toContain('The redirect URI is not registered for this client');
      }
    }
    const ok = await send(authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:65535/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp` }));
    expect(ok.status).toBe(200);
    const register = (uri: string): Promise<RawResponse> =>
      send(`${warden.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [uri] }) });
    for (const uri of ['http://127.0.0.1:0/cb', 'http://127.0.0.1:99999/cb']) expectOAuthError(await register(uri), 400, 'invalid_redirect_uri');
    expect(await stillServing(warden)).toBe(true);
  });
});
