/**
 * Upstream OpenID Connect sign-in against a real, certified provider (`oidc-provider` on
 * loopback, mcp-warden registered with it as a static confidential client): the official SDK v2
 * client's OAuth support gets a token through mcp-warden → provider → mcp-warden and calls a
 * tool with the scopes the rules mapped; then what an attacker or a stranger gets: a forged or
 * swapped `state`, a callback replayed from another browser, a tampered or forged ID token, an
 * ID token for another nonce, an account no rule admits. Each refusal is followed by a check
 * that the server still answers.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, decodeJwt } from 'jose';
import { authorizeUrl, memoryOAuthProvider, pkce, postForm, registerClient, REDIRECT_URI } from '../helpers/oauth.js';
import { approvalForm, Browser, ID_TOKEN_TTL, IDP_CLIENT_ID, IDP_CLIENT_SECRET, useIdp, type TestIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/port.js';
import { manualClock } from '../helpers/clock.js';
import { openSession, stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { until } from '../helpers/wait.js';
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';

const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, groups: ['mcp-users'] },
  mallory: { email: 'mallory@elsewhere.test', email_verified: true, groups: ['visitors'] },
};
const RULES = [{ group: 'mcp-users', scopes: ['mcp:tools:echo'] }];

async function setup(extra: Record<string, unknown> = {}, clock?: () => number): Promise<{ warden: RunningWarden; idp: TestIdp; issuer: string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const idp = await useIdp(issuer, ACCOUNTS);
  const rules = join(mkdtempSync(join(tmpdir(), 'mcpw-oidc-')), 'rules.json');
  writeFileSync(rules, JSON.stringify(RULES));
  const warden = await useWarden({
    clock,
    options: {
      port,
      oauthIssuer: issuer,
      oauthUpstreamIssuer: idp.issuer,
      oauthUpstreamClientId: IDP_CLIENT_ID,
      oauthUpstreamClientSecret: IDP_CLIENT_SECRET,
      oauthUpstreamRules: rules,
      oauthUpstreamScopes: ['openid', 'email', 'groups'],
      ...extra,
    },
  });
  return { warden, idp, issuer };
}

/** An MCP client's authorization request to mcp-warden (registered, PKCE, resource). */
async function mcpAuthorization(issuer: string): Promise<string> {
  const clientId = await registerClient(issuer);
  const { challenge } = pkce();
  return authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'mcp-state' });
}

/** The whole sign-in over plain HTTP: register, authorize with PKCE, sign in at the provider as `login`, redeem the code. */
async function oidcSignIn(issuer: string, login: string): Promise<{ tokens: { access_token: string; refresh_token: string; scope: string }; clientId: string }> {
  const clientId = await registerClient(issuer);
  const { verifier, challenge } = pkce();
  const start = authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'st' });
  const { final } = await new Browser().walk(start, login, REDIRECT_URI);
  const code = final?.searchParams.get('code') ?? '';
  const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
  if (token.status !== 200) throw new Error(`token: ${token.status} ${token.text}`);
  return { tokens: token.json(), clientId };
}

/** Asserts the sign-in ended at the MCP client's redirect URI with access_denied (RFC 6749 §4.1.2.1). */
function expectDenied(final: URL | undefined, status: number): void {
  expect(status).toBe(302);
  expect(final?.origin + (final?.pathname ?? '')).toBe(REDIRECT_URI);
  expect(final?.searchParams.get('error')).toBe('access_denied');
  expect(final?.searchParams.get('state')).toBe('mcp-state');
  expect(final?.searchParams.get('code')).toBeNull();
}


describe('upstream OpenID Connect sign-in with a real provider', () => {
  it('the SDK v2 client signs in through the provider and calls a tool with the mapped scopes', async () => {
    const { warden, idp, issuer } = await setup();
    const callbackUri = 'http://127.0.0.1:43119/callback';
    const provider = memoryOAuthProvider(callbackUri, { clientName: 'SDK v2 OIDC test client' });
    const first = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 'sdk-oidc-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);

    const browser = new Browser();
    let sentToIdp: URL | undefined;
    const { final } = await browser.walk((provider.authorizationUrl as URL).href, 'alice', callbackUri, (url) => {
      if (url.origin === idp.issuer && url.pathname === '/auth') sentToIdp = url;
      return url;
    });
    // mcp-warden asked the provider for a code with PKCE S256, a state and a nonce.
    expect(sentToIdp?.searchParams.get('client_id')).toBe(IDP_CLIENT_ID);
    expect(sentToIdp?.searchParams.get('redirect_uri')).toBe(`${issuer}/oauth/callback`);
    expect(sentToIdp?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sentToIdp?.searchParams.get('nonce')?.length).toBeGreaterThan(20);
    expect(final?.searchParams.get('state')).toBe('sdk-state');
    expect(final?.searchParams.get('iss')).toBe(issuer);
    await first.finishAuth((final as URL).searchParams);

    const tokens = provider.saved['tokens'] as { access_token: string; scope: string };
    expect(tokens.scope).toBe('mcp:tools:echo');
    expect(decodeJwt(tokens.access_token).sub).toBe('oidc:alice');
    const signedIn = new Client({ name: 'sdk-oidc-test', version: '1.0.0' });
    await signedIn.connect(new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider }));
    try {
      const result = await signedIn.callTool({ name: 'echo', arguments: { text: 'signed in upstream' } });
      expect(JSON.stringify(result)).toContain('signed in upstream');
    } finally {
      await signedIn.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });

  it('refuses a callback whose state was swapped, and one replayed from another browser, without spending the sign-in', async () => {
    const { warden, issuer } = await setup();
    const start = await mcpAuthorization(issuer);
    const swapped = await new Browser().walk(start, 'alice', REDIRECT_URI, (url) => {
      if (url.pathname === '/oauth/callback') url.searchParams.set('state', 'forged-state');
      return url;
    });
    expect(swapped.final).toBeUndefined();
    expect(swapped.response.status).toBe(400);
    expect(warden.logText()).toContain('upstream_state');
    expect(await stillServing(warden)).toBe(true);

    // The genuine callback URL, stolen and opened in another browser (no binding cookie): refused.
    const victim = new Browser();
    const stolen = await victim.walk(await mcpAuthorization(issuer), 'alice', `${issuer}/oauth/callback`);
    const replay = await new Browser().request((stolen.final as URL).href);
    expect(replay.status).toBe(400);
    // The browser that started it still completes it (our approval page, then Approve): the replay spent nothing.
    const own = await victim.request((stolen.final as URL).href);
    expect(own.status).toBe(200);
    const approved = await victim.request(`${issuer}/oauth/authorize`, { ...(approvalForm(own.text) as { transaction: string; csrf: string }), action: 'approve' });
    expect(approved.status).toBe(302);
    expect(new URL(approved.headers['location'] as string).searchParams.get('code')).toMatch(/^mcpwc_/);
    expect(await stillServing(warden)).toBe(true);
  });

  it('refuses an ID token whose payload was altered (signature no longer matches)', async () => {
    const { warden, idp, issuer } = await setup();
    idp.tamper = (token) => {
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      // Mallory adds herself to the admitted group; the provider's signature no longer covers the payload.
      return [header, Buffer.from(JSON.stringify({ ...claims, groups: ['mcp-users'] })).toString('base64url'), signature].join('.');
    };
    const { final, response } = await new Browser().walk(await mcpAuthorization(issuer), 'mallory', REDIRECT_URI);
    expectDenied(final, response.status);
    expect(warden.logText()).toContain('upstream_id_token_invalid');
    expect(await stillServing(warden)).toBe(true);
  });

  it('refuses an ID token forged with a key that is not in the provider\'s JWKS', async () => {
    const { warden, idp, issuer } = await setup();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    void exportJWK(publicKey);
    idp.tamper = async (token) => {
      const claims = decodeJwt(token);
      const { kid } = decodeProtectedHeader(token);
      return new SignJWT({ ...claims, groups: ['mcp-users'] }).setProtectedHeader({ alg: 'ES256', kid: kid ?? 'x' }).sign(privateKey);
    };
    const { final, response } = await new Browser().walk(await mcpAuthorization(issuer), 'mallory', REDIRECT_URI);
    expectDenied(final, response.status);
    expect(warden.logText()).toContain('upstream_id_token_invalid');
    expect(await stillServing(warden)).toBe(true);
  });

  it('admits an ID token just before its expiry and refuses it after (manual clock)', async () => {
    const clock = manualClock();
    const { warden, issuer } = await setup({}, clock.now);
    // Just inside exp plus the 60 s leeway (58 s: the provider's iat is whole seconds): admitted.
    const inTime = await new Browser().walk(await mcpAuthorization(issuer), 'alice', REDIRECT_URI, (url) => {
      if (url.pathname === '/oauth/callback') clock.advance((ID_TOKEN_TTL + 58) * 1000);
      return url;
    });
    expect(inTime.final?.searchParams.get('code')).toMatch(/^mcpwc_/);
    // The user takes long at the provider: by the callback, mcp-warden's clock is past the ID token's exp plus the leeway.
    const late = await new Browser().walk(await mcpAuthorization(issuer), 'alice', REDIRECT_URI, (url) => {
      if (url.pathname === '/oauth/callback') clock.advance((ID_TOKEN_TTL + 61) * 1000);
      return url;
    });
    expectDenied(late.final, late.response.status);
    expect(warden.logText()).toContain('upstream_id_token_invalid');
    expect(await stillServing(warden)).toBe(true);
  });

  it('refuses ID tokens signed by the provider\'s own key but for another client or from another issuer', async () => {
    const { warden, idp, issuer } = await setup();
    const cases: Array<(claims: Record<string, unknown>) => Record<string, unknown>> = [
      (claims) => ({ ...claims, aud: 'another-client' }),
      (claims) => ({ ...claims, iss: 'https://idp.elsewhere.test' }),
    ];
    for (const change of cases) {
      // Mallory, admitted by the group in each token: only the claim under test keeps her out.
      idp.tamper = (token) => idp.sign(change({ ...decodeJwt(token), groups: ['mcp-users'] }));
      const { final, response } = await new Browser().walk(await mcpAuthorization(issuer), 'mallory', REDIRECT_URI);
      expectDenied(final, response.status);
    }
    // The same re-signing with nothing changed admits her: the claim alone made the difference.
    idp.tamper = (token) => idp.sign({ ...decodeJwt(token), groups: ['mcp-users'] });
    const admitted = await new Browser().walk(await mcpAuthorization(issuer), 'mallory', REDIRECT_URI);
    expect(admitted.final?.searchParams.get('code')).toMatch(/^mcpwc_/);
    expect(await stillServing(warden)).toBe(true);
  });

  it('refuses an ID token minted for another nonce', async () => {
    const { warden, idp, issuer } = await setup();
    const { final, response } = await new Browser().walk(await mcpAuthorization(issuer), 'alice', REDIRECT_URI, (url) => {
      if (url.origin === idp.issuer && url.pathname === '/auth') url.searchParams.set('nonce', 'attacker-chosen-nonce-0123456789');
      return url;
    });
    expectDenied(final, response.status);
    expect(warden.logText()).toContain('upstream_nonce_mismatch');
    expect(await stillServing(warden)).toBe(true);
  });

  it('answers access_denied to an account no rule admits', async () => {
    const { warden, issuer } = await setup();
    const { final, response } = await new Browser().walk(await mcpAuthorization(issuer), 'mallory', REDIRECT_URI);
    expectDenied(final, response.status);
    expect(warden.logText()).toContain('upstream_no_rule');
    // And no code was issued that a token request could redeem.
    const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code: 'mcpwc_none', redirect_uri: REDIRECT_URI, client_id: 'x', code_verifier: 'a'.repeat(43), resource: `${issuer}/mcp` });
    expect(token.status).toBe(401);
    expect(await stillServing(warden)).toBe(true);
  });

  it('the mapped scopes bound the token (one tool, no operator API), refresh keeps them, and the grant is not tied to any API key', async () => {
    const path = tempKeysPath();
    const other = addKey(path, { name: 'other' });
    const { warden, issuer } = await setup({ keysFile: path });
    const { tokens, clientId } = await oidcSignIn(issuer, 'alice');
    expect(tokens.scope).toBe('mcp:tools:echo');
    const listed = await send(`${issuer}/api/tools`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.json())).toContain('echo');
    expect(JSON.stringify(listed.json())).not.toContain('server_status');

    const refreshed = await postForm(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json<{ scope: string }>().scope).toBe('mcp:tools:echo');

    // A session opened with the token survives a keys reload (no key signed it in) and the periodic check.
    const session = await openSession(warden, '2025-11-25', tokens.access_token);
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === other.record.id) as KeyFileRecord).disabled = true;
    });
    expect(await until(() => warden.logs().some((line) => line['msg'] === 'keys file reloaded'), 2000)).toBe(true);
    const call = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(tokens.access_token, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
    });
    expect(call.status).toBe(200);
    expect(warden.logs().some((line) => line['msg'] === 'session closed: its credential was revoked or expired')).toBe(false);
    expect(await stillServing(warden)).toBe(true);
  });

  it('a user who declines at the provider comes back to the client with access_denied', async () => {
    const { warden, issuer } = await setup();
    const browser = new Browser();
    const { final } = await browser.walk(await mcpAuthorization(issuer), 'alice', `${issuer}/oauth/callback`);
    const declined = new URL(final as URL);
    declined.searchParams.delete('code');
    declined.searchParams.set('error', 'access_denied');
    const back = await browser.request(declined.href);
    expectDenied(new URL(back.headers['location'] as string), back.status);
    expect(warden.logText()).toContain('upstream_error');
    expect(await stillServing(warden)).toBe(true);
  });

  it('a provider that cannot be reached, or whose discovery names another issuer, gets temporarily_unavailable and no redirect to it', async () => {
    // A discovery document that names another issuer (OIDC Discovery §4.3: must be refused).
    const port = await freePort();
    const impostor = createHttpServer((_request, response) => {
      const at = `http://127.0.0.1:${port}`;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ issuer: 'https://idp.elsewhere.test', authorization_endpoint: `${at}/auth`, token_endpoint: `${at}/token`, jwks_uri: `${at}/jwks` }));
    });
    await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
    for (const upstream of [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${port}`]) {
      const { warden, issuer } = await setup({ oauthUpstreamIssuer: upstream });
      const response = await new Browser().request(await mcpAuthorization(issuer));
      expect(response.status, upstream).toBe(302);
      const location = new URL(response.headers['location'] as string);
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('temporarily_unavailable');
      expect(warden.logText()).toContain('upstream_discovery');
      expect(await stillServing(warden)).toBe(true);
    }
  });

  it('refuses to start with a rules file that is not a list of rules', async () => {
    const port = await freePort();
    const rules = join(mkdtempSync(join(tmpdir(), 'mcpw-oidc-')), 'rules.json');
    writeFileSync(rules, JSON.stringify([{ scopes: ['mcp:tools'] }]));
    const options = { port, oauthIssuer: `http://127.0.0.1:${port}`, oauthUpstreamIssuer: 'http://127.0.0.1:1', oauthUpstreamClientId: 'x', oauthUpstreamClientSecret: 'y', oauthUpstreamRules: rules };
    await expect(useWarden({ options })).rejects.toThrow(/--oauth-upstream-rules .*a rule needs subject, emailDomain or group/);
  });

  it('an upstream grant ends after 12 hours, refreshes included: then the user signs in at the provider again (manual clock)', async () => {
    const clock = manualClock();
    const { warden, issuer } = await setup({}, clock.now);
    const { tokens, clientId } = await oidcSignIn(issuer, 'alice');
    clock.advance(12 * 3600_000 - 1000);
    const before = await postForm(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
    expect(before.status).toBe(200);
    clock.advance(1000);
    const after = await postForm(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: before.json<{ refresh_token: string }>().refresh_token, client_id: clientId });
    expect(after.status).toBe(400);
    expect(after.json<{ error: string }>().error).toBe('invalid_grant');
    expect(await stillServing(warden)).toBe(true);
  });
});
