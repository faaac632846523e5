/**
 * A real OAuth client against mcp-warden as its own authorization server: the official SDK v2
 * client (`@modelcontextprotocol/client`) with an `OAuthClientProvider` discovers the metadata
 * from the 401, registers dynamically, sends the user to the consent page with PKCE and the
 * resource indicator, redeems the code (checking `iss`, RFC 9207) and calls a tool with the
 * token. The browser step is Debian's Chromium driven by playwright-core: it opens the
 * authorization URL the client hands over, the key is typed into the consent page, Approve
 * sends the browser to the client's loopback listener.
 *
 * Then refresh token reuse through the same client: when its access token has expired (manual
 * clock) the client refreshes by itself; the refresh token it replaced, presented again by
 * someone else, is `invalid_grant` and revokes the whole family, so the client's current access
 * token is refused (401) on its next call, its own refresh fails and it must sign in again.
 */

import { describe, expect, it, onTestFinished } from 'vitest';
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthTokens } from '@modelcontextprotocol/client';
import { consentWithKey, HAS_CHROMIUM, newPage, useCallbackListener, useChromium } from '../helpers/chromium.js';
import { manualClock } from '../helpers/clock.js';
import { initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { memoryOAuthProvider, postForm, useOAuthWarden, type MemoryOAuthProvider } from '../helpers/oauth.js';
import { stillServing, type RunningWarden } from '../helpers/warden.js';

type Provider = MemoryOAuthProvider;


/** The SDK client's first connect: refused (401), it registers and hands over the authorization URL; Chromium approves with `key`; the client finishes. */
async function signInThroughChromium(warden: RunningWarden, provider: Provider, redirectUri: string, key: string): Promise<URL> {
  const first = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider });
  await expect(new Client({ name: 'sdk-oauth-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  const authorization = provider.authorizationUrl as URL;
  const browser = await useChromium();
  const page = await newPage(browser);
  const { callback } = await consentWithKey(page, authorization.href, key, redirectUri);
  expect(await page.locator('body').textContent()).toBe('signed in; you may close this window');
  await first.finishAuth(callback.searchParams);
  return authorization;
}

async function connected(warden: RunningWarden, provider: Provider): Promise<Client> {
  const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider }));
  onTestFinished(() => client.close());
  return client;
}

describe.skipIf(!HAS_CHROMIUM)('official SDK v2 client OAuth against mcp-warden as its own authorization server (Chromium)', () => {
  it('completes discovery, registration, PKCE, consent in the browser and the code exchange, then calls a tool', async () => {
    const warden = await useOAuthWarden();
    const listener = await useCallbackListener();
    const provider = memoryOAuthProvider(listener.redirectUri, { clientName: 'SDK v2 test client' });
    const authorization = await signInThroughChromium(warden, provider, listener.redirectUri, warden.key);
    expect(authorization.origin + authorization.pathname).toBe(`${warden.issuer}/oauth/authorize`);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('resource')).toBe(`${warden.issuer}/mcp`);
    const callback = listener.received.filter((url) => url.pathname === '/callback').at(-1) as URL;
    expect(callback.searchParams.get('state')).toBe('sdk-state');
    expect(callback.searchParams.get('iss')).toBe(warden.issuer);

    const signedIn = await connected(warden, provider);
    const tools = await signedIn.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('echo');
    const result = await signedIn.callTool({ name: 'echo', arguments: { text: 'through the front door' } });
    expect(result.content).toEqual([{ type: 'text', text: 'through the front door' }]);
    expect(await stillServing(warden)).toBe(true);
  }, 40_000);

  it('refreshes by itself once its token expired; the replaced refresh token replayed revokes the family, and the next call is refused', async () => {
    const clock = manualClock();
    const warden = await useOAuthWarden({ clock: clock.now });
    const listener = await useCallbackListener();
    const provider = memoryOAuthProvider(listener.redirectUri, { clientName: 'SDK v2 test client' });
    const authorization = await signInThroughChromium(warden, provider, listener.redirectUri, warden.key);
    const client = await connected(warden, provider);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'one' } })).content).toEqual([{ type: 'text', text: 'one' }]);
    const original = provider.saved['tokens'] as OAuthTokens;

    // The access token expires (600 s, plus the verifier's 30 s leeway): the next call gets a 401,
    // the client refreshes by itself and the call goes through with the rotated tokens.
    clock.advance(630_000);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'two' } })).content).toEqual([{ type: 'text', text: 'two' }]);
    const rotated = provider.saved['tokens'] as OAuthTokens;
    expect(rotated.refresh_token).toMatch(/^mcpwr_/);
    expect(rotated.refresh_token).not.toBe(original.refresh_token);
    expect(rotated.access_token).not.toBe(original.access_token);
    const refreshes = (): number => warden.logs().filter((line) => line['path'] === '/oauth/token' && line['status'] === 200).length;
    expect(refreshes()).toBe(2); // the code exchange and the one refresh

    // Someone else presents the refresh token the client replaced: invalid_grant, the family is revoked.
    const clientId = (provider.saved['client'] as { client_id: string }).client_id;
    const replay = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: original.refresh_token as string, client_id: clientId });
    expect(replay.status).toBe(400);
    expect(replay.json<{ error: string }>().error).toBe('invalid_grant');
    expect(warden.logs().some((line) => line['level'] === 40 && line['msg'] === 'refresh token reused: its grant is revoked')).toBe(true);

    // The client's current access token stops working: its next call is a 401, its own refresh
    // (the newer refresh token, same family) is invalid_grant, and it is sent to sign in again.
    const before = warden.logs().length;
    await expect(client.callTool({ name: 'echo', arguments: { text: 'three' } })).rejects.toBeInstanceOf(UnauthorizedError);
    const after = warden.logs().slice(before);
    expect(after.map((line) => [line['method'], line['path'], line['status'], line['failure']])).toEqual([
      ['POST', '/mcp', 401, 'auth_invalid:jwt_revoked'],
      ['POST', '/oauth/token', 400, 'refresh_revoked'],
    ]);
    expect(provider.authorizationUrl?.href).not.toBe(authorization.href);
    expect(`${provider.authorizationUrl?.origin}${provider.authorizationUrl?.pathname}`).toBe(`${warden.issuer}/oauth/authorize`);
    const refused = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(rotated.access_token), body: initializeBody() });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    const ownRefresh = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token as string, client_id: clientId });
    expect(ownRefresh.json<{ error: string }>().error).toBe('invalid_grant');
    expect(await stillServing(warden)).toBe(true);
  }, 40_000);
});
