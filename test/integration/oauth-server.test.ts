/**
 * mcp-warden as its own authorization server (`--oauth-issuer`), black-box over HTTP: the
 * metadata documents, key sign-in through the consent page, tokens accepted on /mcp through the
 * resource-server path with the key's scopes, refresh rotation, revocation; and every bad input
 * the issue names, each with the RFC's error code and a check that the server still answers.
 */

import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importJWK, SignJWT, type JWK } from 'jose';
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { until } from '../helpers/wait.js';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { manualClock } from '../helpers/clock.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { authorizeUrl, openConsent, pkce, postForm, REDIRECT_URI, registerClient, signIn, submitConsent, useOAuthWarden } from '../helpers/oauth.js';
import { openSession, stillServing, type RunningWarden } from '../helpers/warden.js';
import { openSse } from '../helpers/sse.js';

async function initialize(warden: RunningWarden, token: string): Promise<RawResponse> {
  return send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
}

describe('OAuth front door: metadata', () => {
  it('publishes RFC 8414 metadata, RFC 9728 metadata pointing to it, and the JWKS', async () => {
    const warden = await useOAuthWarden();
    const as = await send(`${warden.issuer}/.well-known/oauth-authorization-server`);
    expect(as.status).toBe(200);
    const metadata = as.json<Record<string, unknown>>();
    expect(metadata).toMatchObject({
      issuer: warden.issuer,
      authorization_endpoint: `${warden.issuer}/oauth/authorize`,
      token_endpoint: `${warden.issuer}/oauth/token`,
      registration_endpoint: `${warden.issuer}/oauth/register`,
      revocation_endpoint: `${warden.issuer}/oauth/revoke`,
      jwks_uri: `${warden.issuer}/oauth/jwks`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    const prm = await send(`${warden.issuer}/.well-known/oauth-protected-resource/mcp`);
    expect(prm.json()).toMatchObject({ resource: `${warden.issuer}/mcp`, authorization_servers: [warden.issuer] });
    const jwks = (await send(`${warden.issuer}/oauth/jwks`)).json<{ keys: Array<Record<string, unknown>> }>();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const challenge = await initialize(warden, '');
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toContain(`resource_metadata="${warden.issuer}/.well-known/oauth-protected-resource"`);
  });
});

describe('OAuth front door: key sign-in', () => {
  it('issues tokens the resource-server path accepts, with the key as principal', async () => {
    const warden = await useOAuthWarden();
    const { tokens } = await signIn(warden.issuer, warden.key);
    expect(tokens.expires_in).toBe(600);
    expect(tokens.scope).toBe('mcp:tools mcp:operator');
    const response = await initialize(warden, tokens.access_token);
    expect(response.status).toBe(200);
    // The API key keeps working beside the tokens.
    expect((await initialize(warden, warden.key)).status).toBe(200);
  });
});

/** An authorization request for a registered client, with PKCE, for this server's /mcp. */
async function authorization(warden: { issuer: string }, overrides: Record<string, string | undefined> = {}): Promise<{ clientId: string; verifier: string; url: string }> {
  const clientId = await registerClient(warden.issuer);
  const { verifier, challenge } = pkce();
  const url = authorizeUrl(warden.issuer, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: `${warden.issuer}/mcp`,
    state: 'xyz',
    ...overrides,
  });
  return { clientId, verifier, url };
}

/** Consents with `key` and returns the code from the redirect. */
async function codeFor(warden: { issuer: string }, url: string, key: string): Promise<string> {
  const approved = await submitConsent(warden.issuer, await openConsent(url), { api_key: key });
  expect(approved.status).toBe(302);
  const location = new URL(approved.headers['location'] as string);
  expect(location.searchParams.get('iss')).toBe(warden.issuer);
  expect(location.searchParams.get('state')).toBe('xyz');
  return location.searchParams.get('code') as string;
}

function redeem(warden: { issuer: string }, form: Record<string, string>): Promise<RawResponse> {
  return postForm(`${warden.issuer}/oauth/token`, { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, resource: `${warden.issuer}/mcp`, ...form });
}

function refresh(warden: { issuer: string }, clientId: string, token: string): Promise<RawResponse> {
  return postForm(`${warden.issuer}/oauth/token`, { grant_type: 'refresh_token', client_id: clientId, refresh_token: token });
}

function expectOAuthError(response: RawResponse, status: number, error: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.json<{ error: string }>().error).toBe(error);
  expect(response.headers['cache-control']).toBe('no-store');
}

describe('OAuth front door: bad input at the authorization endpoint', () => {
  it('an unknown client gets an error page and no redirect', async () => {
    const warden = await useOAuthWarden();
    const { url } = await authorization(warden, { client_id: 'mcpw_unknown' });
    const response = await send(url);
    expect(response.status).toBe(400);
    expect(response.headers['location']).toBeUndefined();
    expect(response.text).toContain('Unknown client');
    expect(await stillServing(warden)).toBe(true);
  });

  it('a redirect URI that is not registered gets an error page and no redirect; a loopback port change is allowed (RFC 8252 §7.3)', async () => {
    const warden = await useOAuthWarden();
    for (const redirect of ['http://127.0.0.1:43117/other', 'https://attacker.example/callback', 'http://127.0.0.2:43117/callback', 'http://127.0.0.1:43117/callback?x=1']) {
      const response = await send((await authorization(warden, { redirect_uri: redirect })).url);
      expect(response.status, redirect).toBe(400);
      expect(response.headers['location']).toBeUndefined();
    }
    const otherPort = await send((await authorization(warden, { redirect_uri: 'http://127.0.0.1:50999/callback' })).url);
    expect(otherPort.status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
  });

  it('no PKCE, plain PKCE, no resource and another resource are sent back to the client with the RFC codes', async () => {
    const warden = await useOAuthWarden();
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ resource: undefined }, 'invalid_target'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
    ];
    for (const [overrides, error] of cases) {
      const response = await send((await authorization(warden, overrides)).url);
      expect(response.status, JSON.stringify(overrides)).toBe(302);
      const location = new URL(response.headers['location'] as string);
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error'), JSON.stringify(overrides)).toBe(error);
      expect(location.searchParams.get('state')).toBe('xyz');
      expect(location.searchParams.get('iss')).toBe(warden.issuer);
    }
    expect(await stillServing(warden)).toBe(true);
  });

  it('the consent page has a strict CSP, names the client, redirect host and scopes, and refuses a post without its CSRF token', async () => {
    const warden = await useOAuthWarden();
    const { url } = await authorization(warden, { scope: 'mcp:tools' });
    const form = await openConsent(url);
    const csp = form.page.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:43117");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(form.page.text).not.toMatch(/<script|style=/);
    expect(form.page.text).toContain('Test Client');
    expect(form.page.text).toContain('127.0.0.1:43117');
    expect(form.page.text).toContain('<code>mcp:tools</code>');
    expect(form.cookie).toMatch(/^mcpw-oauth=/);
    expect(String(form.page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);

    const noToken = await postForm(`${warden.issuer}/oauth/authorize`, { transaction: form.transaction, action: 'approve', api_key: warden.key }, { cookie: form.cookie });
    expect(noToken.status).toBe(403);
    const noCookie = await postForm(`${warden.issuer}/oauth/authorize`, { transaction: form.transaction, csrf: form.csrf, action: 'approve', api_key: warden.key });
    expect(noCookie.status).toBe(403);
    const otherCookie = await postForm(`${warden.issuer}/oauth/authorize`, { transaction: form.transaction, csrf: form.csrf, action: 'approve', api_key: warden.key }, { cookie: 'mcpw-oauth=forged' });
    expect(otherCookie.status).toBe(403);
    for (const response of [noToken, noCookie, otherCookie]) expect(response.headers['location']).toBeUndefined();
    // The genuine post still works: the refusals changed nothing.
    const approved = await submitConsent(warden.issuer, form, { api_key: warden.key });
    expect(approved.status).toBe(302);
    // ...once: the transaction is spent.
    expect((await submitConsent(warden.issuer, form, { api_key: warden.key })).status).toBe(400);
    expect(await stillServing(warden)).toBe(true);
  });

  it('a wrong key gets the page again (401) and counts as an authentication failure; Deny sends access_denied', async () => {
    const warden = await useOAuthWarden();
    const { url } = await authorization(warden);
    const form = await openConsent(url);
    const wrong = await submitConsent(warden.issuer, form, { api_key: 'not-the-key-0123456789abcdefghijklmnop' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That API key was not accepted.');
    expect(wrong.headers['location']).toBeUndefined();
    const denied = await submitConsent(warden.issuer, form, { action: 'deny' });
    expect(denied.status).toBe(302);
    expect(new URL(denied.headers['location'] as string).searchParams.get('error')).toBe('access_denied');
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth front door: bad input at the token endpoint', () => {
  it('a wrong, missing or plain PKCE verifier, another redirect URI, an unknown client and a missing resource are refused', async () => {
    const warden = await useOAuthWarden();
    const attempts: Array<[Record<string, string>, number, string]> = [];
    const { clientId, verifier, url } = await authorization(warden);
    const code = await codeFor(warden, url, warden.key);
    attempts.push([{ client_id: 'mcpw_unknown', code, code_verifier: verifier }, 401, 'invalid_client']);
    attempts.push([{ client_id: clientId, code, code_verifier: undefined as unknown as string }, 400, 'invalid_request']);
    attempts.push([{ client_id: clientId, code, code_verifier: verifier, resource: '' }, 400, 'invalid_request']);
    for (const [form, status, error] of attempts) {
      const clean = Object.fromEntries(Object.entries(form).filter(([, value]) => value !== undefined));
      expectOAuthError(await redeem(warden, clean), status, error);
    }
    // These refusals happen before the code is looked at; it still redeems.
    expect((await redeem(warden, { client_id: clientId, code, code_verifier: verifier })).status).toBe(200);

    const wrongVerifier = await authorization(warden);
    const code2 = await codeFor(warden, wrongVerifier.url, warden.key);
    expectOAuthError(await redeem(warden, { client_id: wrongVerifier.clientId, code: code2, code_verifier: pkce().verifier }), 400, 'invalid_grant');
    // A failed redemption spends the code (RFC 6749 §4.1.2): the right verifier is now too late.
    expectOAuthError(await redeem(warden, { client_id: wrongVerifier.clientId, code: code2, code_verifier: wrongVerifier.verifier }), 400, 'invalid_grant');

    const plain = await authorization(warden);
    const code3 = await codeFor(warden, plain.url, warden.key);
    // The challenge itself sent as verifier (what `plain` would accept).
    const challenge = new URL(plain.url).searchParams.get('code_challenge') as string;
    expectOAuthError(await redeem(warden, { client_id: plain.clientId, code: code3, code_verifier: `${challenge}` }), 400, 'invalid_grant');

    const otherRedirect = await authorization(warden);
    const code4 = await codeFor(warden, otherRedirect.url, warden.key);
    expectOAuthError(await redeem(warden, { client_id: otherRedirect.clientId, code: code4, code_verifier: otherRedirect.verifier, redirect_uri: 'http://127.0.0.1:43117/elsewhere' }), 400, 'invalid_grant');

    const otherResource = await authorization(warden);
    const code5 = await codeFor(warden, otherResource.url, warden.key);
    expectOAuthError(await redeem(warden, { client_id: otherResource.clientId, code: code5, code_verifier: otherResource.verifier, resource: 'https://other.example/mcp' }), 400, 'invalid_target');

    expectOAuthError(await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'password', client_id: clientId }), 400, 'unsupported_grant_type');
    // RFC 6749 §3.2: a parameter sent twice.
    const twice = await send(`${warden.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=authorization_code&client_id=${clientId}&code=a&code=b` });
    expectOAuthError(twice, 400, 'invalid_request');
    // Even where the request would otherwise succeed (a refresh asking for the same scope twice).
    const signedIn = await signIn(warden.issuer, warden.key);
    const body = `grant_type=refresh_token&client_id=${signedIn.clientId}&refresh_token=${signedIn.tokens.refresh_token}&scope=mcp:tools&scope=mcp:tools`;
    expectOAuthError(await send(`${warden.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }), 400, 'invalid_request');
    expect(await stillServing(warden)).toBe(true);
  });

  it('a reused code is invalid_grant and revokes the grant it made; an expired code is invalid_grant (manual clock)', async () => {
    const clock = manualClock();
    const warden = await useOAuthWarden({ clock: clock.now });
    const first = await authorization(warden);
    const code = await codeFor(warden, first.url, warden.key);
    const granted = await redeem(warden, { client_id: first.clientId, code, code_verifier: first.verifier });
    expect(granted.status).toBe(200);
    const grant = granted.json<{ access_token: string; refresh_token: string }>();
    expect((await initialize(warden, grant.access_token)).status).toBe(200);
    expectOAuthError(await redeem(warden, { client_id: first.clientId, code, code_verifier: first.verifier }), 400, 'invalid_grant');
    // A replayed code means it was intercepted: the grant its first redemption made is revoked.
    expect((await initialize(warden, grant.access_token)).status).toBe(401);
    expectOAuthError(await refresh(warden, first.clientId, grant.refresh_token), 400, 'invalid_grant');

    const late = await authorization(warden);
    const lateCode = await codeFor(warden, late.url, warden.key);
    clock.advance(60_000);
    expectOAuthError(await redeem(warden, { client_id: late.clientId, code: lateCode, code_verifier: late.verifier }), 400, 'invalid_grant');

    const inTime = await authorization(warden);
    const inTimeCode = await codeFor(warden, inTime.url, warden.key);
    clock.advance(59_999);
    expect((await redeem(warden, { client_id: inTime.clientId, code: inTimeCode, code_verifier: inTime.verifier })).status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth front door: tokens', () => {
  it('refresh rotates; a reused refresh token revokes the whole family, its access tokens included', async () => {
    const warden = await useOAuthWarden();
    const { tokens, clientId } = await signIn(warden.issuer, warden.key);
    const rotated = await refresh(warden, clientId, tokens.refresh_token);
    expect(rotated.status).toBe(200);
    const second = rotated.json<{ access_token: string; refresh_token: string }>();
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect((await initialize(warden, second.access_token)).status).toBe(200);

    expectOAuthError(await refresh(warden, clientId, tokens.refresh_token), 400, 'invalid_grant');
    // The family is gone: the newer refresh token and both access tokens stop working.
    expectOAuthError(await refresh(warden, clientId, second.refresh_token), 400, 'invalid_grant');
    for (const token of [tokens.access_token, second.access_token]) {
      const response = await initialize(warden, token);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    // Another sign-in (another family) is untouched.
    const other = await signIn(warden.issuer, warden.key);
    expect((await initialize(warden, other.tokens.access_token)).status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
  });

  it('the audit trail records the sign-in (key and client) and the reuse (warn log too); no token or key is logged', async () => {
    const auditLog = join(mkdtempSync(join(tmpdir(), 'warden-oauth-audit-')), 'audit.log');
    const warden = await useOAuthWarden({ options: { auditLog } });
    const { tokens, clientId } = await signIn(warden.issuer, warden.key);
    expect((await refresh(warden, clientId, tokens.refresh_token)).status).toBe(200);
    expectOAuthError(await refresh(warden, clientId, tokens.refresh_token), 400, 'invalid_grant');
    expect(warden.logs().some((line) => line['level'] === 40 && line['msg'] === 'refresh token reused: its grant is revoked')).toBe(true);
    await warden.stop();
    const audit = readFileSync(auditLog, 'utf8');
    expect(audit).toMatch(/"event":"oauth_sign_in","ip":"127\.0\.0\.1","principal":"key_[0-9a-f]{12}","client":"mcpw_/);
    expect(audit).toContain('"event":"oauth_refused"');
    expect(audit).toContain('"error":"invalid_grant","reason":"refresh_reused","route":"/oauth/token"');
    for (const secret of [warden.key, tokens.access_token, tokens.refresh_token]) {
      expect(audit).not.toContain(secret);
      expect(warden.logText()).not.toContain(secret);
    }
  });

  it('a refresh token of another client is invalid_grant', async () => {
    const warden = await useOAuthWarden();
    const { tokens } = await signIn(warden.issuer, warden.key);
    const otherClient = await registerClient(warden.issuer);
    expectOAuthError(await refresh(warden, otherClient, tokens.refresh_token), 400, 'invalid_grant');
    expect(await stillServing(warden)).toBe(true);
  });

  it('a tampered token is refused with invalid_token; an expired one too (manual clock)', async () => {
    const clock = manualClock();
    const warden = await useOAuthWarden({ clock: clock.now });
    const { tokens } = await signIn(warden.issuer, warden.key);
    const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'mcp:tools mcp:operator mcp:admin' })).toString('base64url');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const token of [`${header}.${widened}.${signature}`, `${header}.${payload}.${flipped}`]) {
      const response = await initialize(warden, token);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    expect((await initialize(warden, tokens.access_token)).status).toBe(200);
    // 600 s lifetime plus the verifier's 30 s leeway.
    clock.advance(630_000);
    expect((await initialize(warden, tokens.access_token)).status).toBe(401);
    expect(await stillServing(warden)).toBe(true);
  });

  it('RFC 7009: revoking the refresh token ends the grant; unknown tokens answer 200 all the same', async () => {
    const warden = await useOAuthWarden();
    const { tokens, clientId } = await signIn(warden.issuer, warden.key);
    const revoke = (form: Record<string, string>): Promise<RawResponse> => postForm(`${warden.issuer}/oauth/revoke`, { client_id: clientId, ...form });
    expect((await revoke({ token: 'mcpwr_unknown' })).status).toBe(200);
    expect((await revoke({ token: 'garbage' })).status).toBe(200);
    expectOAuthError(await revoke({ token: 'x', token_type_hint: 'id_token' }), 400, 'unsupported_token_type');
    expect((await initialize(warden, tokens.access_token)).status).toBe(200);
    expect((await revoke({ token: tokens.refresh_token, token_type_hint: 'refresh_token' })).status).toBe(200);
    // The family ends at once, before anyone presents the refresh token again.
    expect((await initialize(warden, tokens.access_token)).status).toBe(401);
    expectOAuthError(await refresh(warden, clientId, tokens.refresh_token), 400, 'invalid_grant');

    const another = await signIn(warden.issuer, warden.key);
    expect((await revoke({ token: another.tokens.access_token, client_id: another.clientId })).status).toBe(200);
    expect((await initialize(warden, another.tokens.access_token)).status).toBe(401);
    expectOAuthError(await refresh(warden, another.clientId, another.tokens.refresh_token), 400, 'invalid_grant');
    expect(await stillServing(warden)).toBe(true);
  });

  it("tokens carry the signing-in key's tools and end when the key is revoked", async () => {
    const path = tempKeysPath();
    const limited = addKey(path, { name: 'limited', tools: ['echo'] });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const { tokens, clientId } = await signIn(warden.issuer, limited.key);
    expect(tokens.scope).toBe('mcp:tools:echo');
    // Asking for more than the key has narrows to the key.
    const asked = await signIn(warden.issuer, limited.key, 'mcp:tools mcp:operator');
    expect(asked.tokens.scope).toBe('mcp:tools:echo');
    const listed = await send(`${warden.issuer}/api/tools`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.json())).toContain('echo');
    expect(JSON.stringify(listed.json())).not.toContain('server_status');

    updateKeysFile(path, (file) => {
      const record = file.keys.find((candidate) => candidate.id === limited.record.id) as KeyFileRecord;
      record.disabled = true;
    });
    expect(await until(async () => (await initialize(warden, tokens.access_token)).status === 401, 2000)).toBe(true);
    expectOAuthError(await refresh(warden, clientId, tokens.refresh_token), 400, 'invalid_grant');
    expect(await stillServing(warden)).toBe(true);
  });

  it('a token signed with our key for another audience is refused (key file read back)', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'warden-oauth-')), 'oauth-keys.json');
    const warden = await useOAuthWarden({ options: { oauthKeyFile: keyFile } });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: Array<{ kid: string; privateJwk: JWK }> };
    const key = await importJWK(stored.keys[0]?.privateJwk as JWK, 'ES256');
    const { tokens } = await signIn(warden.issuer, warden.key);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forge = (audience: string): Promise<string> =>
      new SignJWT({ ...claims, aud: audience }).setProtectedHeader({ alg: 'ES256', kid: stored.keys[0]?.kid as string, typ: 'at+jwt' }).sign(key);
    const wrongAudience = await initialize(warden, await forge('https://other.example/mcp'));
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(warden.logs().some((line) => line['failure'] === 'auth_invalid:jwt_bad_audience')).toBe(true);
    // The same forgery with the right audience passes: the audience alone made the difference.
    expect((await initialize(warden, await forge(`${warden.issuer}/mcp`))).status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('OAuth front door: the key behind the token', () => {
  it('a session opened with a token ends (its GET stream closes) when the signing-in key is revoked', async () => {
    const path = tempKeysPath();
    const victim = addKey(path, { name: 'victim' });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const { tokens } = await signIn(warden.issuer, victim.key);
    const session = await openSession(warden, '2025-11-25', tokens.access_token);
    const stream = await openSse(warden.mcpUrl, { headers: mcpHeaders(tokens.access_token, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version, accept: 'text/event-stream' }) });
    try {
      expect(stream.status).toBe(200);
      updateKeysFile(path, (file) => {
        (file.keys.find((record) => record.id === victim.record.id) as KeyFileRecord).disabled = true;
      });
      await stream.ended(2000);
      expect(warden.logs().some((line) => line['msg'] === 'session closed: its credential was revoked or expired' && line['principal'] === victim.record.id)).toBe(true);
    } finally {
      stream.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });

  it('a key bound to source addresses cannot sign in from elsewhere; wrong keys on the page count toward the ban', async () => {
    const path = tempKeysPath();
    const bound = addKey(path, { name: 'bound', allowIps: ['10.0.0.0/8'] });
    const warden = await useOAuthWarden({ options: { keysFile: path, banThreshold: 3 } });
    const { url } = await authorization(warden);
    const form = await openConsent(url);
    const refused = await submitConsent(warden.issuer, form, { api_key: bound.key });
    expect(refused.status).toBe(401);
    expect(refused.headers['location']).toBeUndefined();
    for (let attempt = 0; attempt < 3; attempt++) await submitConsent(warden.issuer, form, { api_key: `wrong-key-${attempt}-0123456789abcdefghijklmnop` });
    const banned = await send(`${warden.issuer}/api/tools`, { headers: { authorization: `Bearer ${warden.key}` } });
    expect(banned.status).toBe(403);
    expect(banned.json()).toMatchObject({ error: 'ip_banned' });
  });
});

describe('OAuth front door: registration', () => {
  it('refuses redirect URIs that are not https, loopback http or a private-use scheme, and bad metadata', async () => {
    const warden = await useOAuthWarden();
    const register = (body: unknown): Promise<RawResponse> => send(`${warden.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const uris of [['http://example.com/cb'], ['https://example.com/cb#frag'], ['javascript:alert(1)'], [], 'https://example.com/cb']) {
      expectOAuthError(await register({ redirect_uris: uris }), 400, 'invalid_redirect_uri');
    }
    expectOAuthError(await register({ redirect_uris: ['https://example.com/cb'], grant_types: ['client_credentials'] }), 400, 'invalid_client_metadata');
    expectOAuthError(await register([1]), 400, 'invalid_client_metadata');
    const ok = await register({ redirect_uris: ['https://example.com/cb', 'http://[::1]/cb', 'com.example.app:/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    expect(ok.status).toBe(201);
    expect(ok.json()).toMatchObject({ token_endpoint_auth_method: 'none' });
    expect(ok.json()).not.toHaveProperty('client_secret');
    expect(await stillServing(warden)).toBe(true);
  });

  it('is rate-limited per address; registrations unused for 30 days expire (manual clock)', async () => {
    const clock = manualClock();
    const warden = await useOAuthWarden({ clock: clock.now });
    const clientId = await registerClient(warden.issuer);
    for (let index = 1; index < 20; index++) await registerClient(warden.issuer);
    const refused = await send(`${warden.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) });
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await stillServing(warden)).toBe(true);

    clock.advance(30 * 86_400_000);
    const { challenge } = pkce();
    const expired = await send(authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp` }));
    expect(expired.status).toBe(400);
    expect(expired.text).toContain('Unknown client');
    // An hour later the address may register again.
    expect(await registerClient(warden.issuer)).toMatch(/^mcpw_/);
  });
});
