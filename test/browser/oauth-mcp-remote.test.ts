/**
 * `mcp-remote` (npm, pinned), a real OAuth-only MCP client with no pre-shared secret, against a
 * key-protected mcp-warden that is its own authorization server, with a real browser step:
 * mcp-remote discovers the metadata from the 401, registers, starts its loopback callback
 * listener and "opens the browser" (the URL is captured, see test/helpers/mcp-remote.ts);
 * Debian's Chromium, driven by playwright-core, signs in there and lands on mcp-remote's
 * callback; then the official SDK client, talking to mcp-remote over stdio as a desktop MCP
 * client does, lists and calls tools with exactly the scopes the sign-in granted.
 *
 * - Key sign-in: the key's tools only (a tool outside them is refused even after mcp-remote's
 *   step-up sign-in, because the key grants no more), and when the key is revoked the client
 *   loses access: its token is refused with 401 `invalid_token`, its refresh with
 *   `invalid_grant`, and signing in again with the revoked key is refused on the consent page.
 * - Upstream OpenID Connect sign-in: Chromium logs in at a real provider (`oidc-provider`,
 *   started on loopback), approves the client on mcp-warden's own approval page, and the client
 *   gets the scopes the rules map to that identity.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { consentWithKey, HAS_CHROMIUM, newPage, refusedKey, signInAtProvider, useChromium } from '../helpers/chromium.js';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { useMcpRemote, type McpRemote } from '../helpers/mcp-remote.js';
import { postForm, useOAuthWarden } from '../helpers/oauth.js';
import { IDP_CLIENT_ID, IDP_CLIENT_SECRET, useIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/port.js';
import { until } from '../helpers/wait.js';
import { stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';

/**
 * mcp-remote's wait for a browser sign-in it started mid-session, bounded for the tests (seconds).
 * The client is the v1 SDK's: the v2 SDK's stdio transport probes the protocol era on a second,
 * short-lived child process, which here would be a second mcp-remote starting its own sign-in.
 */
const AUTH_TIMEOUT = ['--auth-timeout', '10'];

function toolNames(listed: { tools: Array<{ name: string }> }): string[] {
  return listed.tools.map((tool) => tool.name).sort();
}

/** Starts mcp-remote's client and, when it opens the browser, approves in Chromium with `key`; resolves once the client is connected. */
async function connectWithKey(browser: Browser, remote: McpRemote, key: string): Promise<{ authorization: URL; shown: string }> {
  const connected = remote.client.connect(remote.transport);
  connected.catch(() => undefined);
  const authorization = await remote.browserUrl(1);
  const { callback, shown } = await consentWithKey(await newPage(browser), authorization.href, key, remote.redirectUri);
  expect(callback.searchParams.get('code')).toMatch(/^mcpwc_/);
  await connected;
  return { authorization, shown };
}

/** POSTs an initialize to /mcp with `token`, as mcp-remote would with the token it holds. */
function initialize(warden: RunningWarden, token: string): Promise<RawResponse> {
  return send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
}

describe.skipIf(!HAS_CHROMIUM)('mcp-remote through key sign-in (Chromium)', () => {
  it("signs in with an API key in the browser and calls the key's tools; a tool outside them stays refused after step-up", async () => {
    const path = tempKeysPath();
    const limited = addKey(path, { name: 'limited', tools: ['echo'] });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const browser = await useChromium();
    const remote = await useMcpRemote(warden.mcpUrl, AUTH_TIMEOUT);
    const { authorization, shown } = await connectWithKey(browser, remote, limited.key);
    // The consent page named the client (mcp-remote registers as "MCP CLI Proxy") and where the browser goes back.
    expect(shown).toContain('MCP CLI Proxy');
    expect(shown).toContain(new URL(remote.redirectUri).host);

    // What mcp-remote asked for: our authorization endpoint, PKCE S256, the resource indicator (RFC 8707).
    expect(`${authorization.origin}${authorization.pathname}`).toBe(`${warden.issuer}/oauth/authorize`);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('resource')).toBe(warden.mcpUrl);
    expect(authorization.searchParams.get('redirect_uri')).toBe(remote.redirectUri);
    // It asked for every scope the protected resource metadata lists; the key's tools are all it got.
    const metadata = (await send(`${warden.issuer}/.well-known/oauth-protected-resource/mcp`)).json<{ scopes_supported: string[] }>();
    expect(authorization.searchParams.get('scope')?.split(' ').sort()).toEqual([...metadata.scopes_supported].sort());
    expect(remote.savedTokens()?.scope).toBe('mcp:tools:echo');

    expect(toolNames(await remote.client.listTools())).toEqual(['echo']);
    const echoed = await remote.client.callTool({ name: 'echo', arguments: { text: 'through mcp-remote' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'through mcp-remote' }]);

    // A tool outside the key's scopes: 403 insufficient_scope naming `mcp:tools:calculate`, so
    // mcp-remote opens the browser again asking for it (step-up); approving with the same key
    // still grants only echo, and the client gets the error.
    const refused = remote.client.callTool({ name: 'calculate', arguments: { expression: '1+1' } });
    refused.catch(() => undefined);
    const stepUp = await remote.browserUrl(2);
    expect(stepUp.searchParams.get('scope')?.split(' ').sort()).toEqual(['mcp:tools:calculate', 'mcp:tools:echo']);
    await consentWithKey(await newPage(browser), stepUp.href, limited.key, remote.redirectUri);
    await expect(refused).rejects.toMatchObject({ code: -32001, message: 'MCP error -32001: mcp-remote: Unauthorized' });
    expect(remote.savedTokens()?.scope).toBe('mcp:tools:echo');
    // The server refused the call twice (before and after the step-up), each a 403 for the tool scope.
    // The server refused the call once (403 for the tool scope). The token the step-up got does
    // not cover `mcp:tools:calculate`, so mcp-remote asks for it a third time instead of retrying;
    // that sign-in is left unanswered and the call has already failed.
    const calculateCalls = warden.logs().filter((line) => line['mcpMethod'] === 'tools/call' && line['tool'] === 'calculate');
    expect(calculateCalls.map((line) => [line['status'], line['failure']])).toEqual([[403, 'insufficient_scope:tool_scope']]);
    expect((await remote.browserUrl(3)).searchParams.get('scope')?.split(' ').sort()).toEqual(['mcp:tools:calculate', 'mcp:tools:echo']);

    // The client still works for what the key grants.
    const again = await remote.client.callTool({ name: 'echo', arguments: { text: 'still here' } });
    expect(again.content).toEqual([{ type: 'text', text: 'still here' }]);
    expect(await stillServing(warden)).toBe(true);
  }, 50_000);

  it('loses access when the key is revoked: 401 invalid_token, invalid_grant on refresh, the revoked key refused on the consent page', async () => {
    const path = tempKeysPath();
    const member = addKey(path, { name: 'member' });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const browser = await useChromium();
    const remote = await useMcpRemote(warden.mcpUrl, AUTH_TIMEOUT);
    await connectWithKey(browser, remote, member.key);
    expect((await remote.client.callTool({ name: 'echo', arguments: { text: 'before' } })).content).toEqual([{ type: 'text', text: 'before' }]);
    const held = remote.savedTokens() as { access_token: string; refresh_token: string };
    expect(held.refresh_token).toMatch(/^mcpwr_/);

    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === member.record.id) as KeyFileRecord).disabled = true;
    });
    // The token mcp-remote holds is refused as soon as the server has read the keys file again.
    expect(await until(async () => (await initialize(warden, held.access_token)).status === 401, 3000)).toBe(true);
    const refusedToken = await initialize(warden, held.access_token);
    expect(refusedToken.headers['www-authenticate']).toContain('error="invalid_token"');

    // The client's next call: 401, its refresh is refused, so mcp-remote sends the user to sign in again.
    const call = remote.client.callTool({ name: 'echo', arguments: { text: 'after' } });
    call.catch(() => undefined);
    const again = await remote.browserUrl(2);
    expect(`${again.origin}${again.pathname}`).toBe(`${warden.issuer}/oauth/authorize`);
    // The revoked key does not sign in again: the consent page refuses it (401)...
    const page = await newPage(browser);
    expect(await refusedKey(page, again.href, member.key)).toEqual({ status: 401, alert: 'That API key was not accepted.' });
    // ...and when the user gives up (Deny), mcp-remote's callback gets access_denied and the call fails.
    await Promise.all([page.waitForURL((url) => url.href.startsWith(remote.redirectUri)), page.click('button[value="deny"]')]);
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    await expect(call).rejects.toMatchObject({ code: -32001 });
    await expect(call).rejects.toThrow(/mcp-remote: Authorization failed: access_denied/);
    // The refresh token the client held is dead too (the server refused mcp-remote's refresh).
    const refreshed = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: held.refresh_token, client_id: remote.savedClient()?.client_id ?? '' });
    expect(refreshed.status).toBe(400);
    expect(refreshed.json<{ error: string }>().error).toBe('invalid_grant');
    expect(await stillServing(warden)).toBe(true);
  }, 50_000);
});

describe.skipIf(!HAS_CHROMIUM)('mcp-remote through upstream OpenID Connect sign-in (Chromium at a real provider)', () => {
  it('signs in at the provider in the browser and calls the tools the rules map to that identity', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const idp = await useIdp(issuer, { alice: { email: 'alice@example.com', email_verified: true, groups: ['mcp-users'] } });
    const rules = join(mkdtempSync(join(tmpdir(), 'mcpw-oidc-remote-')), 'rules.json');
    writeFileSync(rules, JSON.stringify([{ group: 'mcp-users', scopes: ['mcp:tools:echo', 'mcp:tools:current_time'] }]));
    const warden = await useWarden({
      options: {
        port,
        oauthIssuer: issuer,
        oauthUpstreamIssuer: idp.issuer,
        oauthUpstreamClientId: IDP_CLIENT_ID,
        oauthUpstreamClientSecret: IDP_CLIENT_SECRET,
        oauthUpstreamRules: rules,
        oauthUpstreamScopes: ['openid', 'email', 'groups'],
      },
    });
    const browser = await useChromium();
    const remote = await useMcpRemote(warden.mcpUrl, AUTH_TIMEOUT);
    const connected = remote.client.connect(remote.transport);
    connected.catch(() => undefined);
    const authorization = await remote.browserUrl(1);
    const { callback, visited, approvalShown } = await signInAtProvider(await newPage(browser), authorization.href, 'alice', remote.redirectUri);
    // The browser went mcp-warden → the provider's login and consent → mcp-warden's approval page (at its callback) → Approve → mcp-remote.
    expect(visited.some((url) => url.startsWith(`${idp.issuer}/interaction/`))).toBe(true);
    expect(visited.some((url) => url.startsWith(`${issuer}/oauth/callback?`))).toBe(true);
    expect(approvalShown).toContain('alice@example.com');
    expect(approvalShown).toContain(new URL(remote.redirectUri).host);
    expect(approvalShown).toContain('this computer (localhost)');
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(callback.searchParams.get('code')).toMatch(/^mcpwc_/);
    await connected;

    expect(remote.savedTokens()?.scope?.split(' ').sort()).toEqual(['mcp:tools:current_time', 'mcp:tools:echo']);
    expect(toolNames(await remote.client.listTools())).toEqual(['current_time', 'echo']);
    const echoed = await remote.client.callTool({ name: 'echo', arguments: { text: 'signed in at the provider' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'signed in at the provider' }]);
    // The principal is the provider's subject, in the request log of the call.
    expect(warden.logs().some((line) => line['mcpMethod'] === 'tools/call' && line['tool'] === 'echo' && line['status'] === 200 && line['keyId'] === 'oidc:alice')).toBe(true);
    expect(await stillServing(warden)).toBe(true);
  }, 50_000);
});
