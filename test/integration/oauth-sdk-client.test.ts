/**
 * A real OAuth client against mcp-warden as its own authorization server: the official SDK v2
 * client (`@modelcontextprotocol/client`) with an `OAuthClientProvider` discovers the metadata
 * from the 401, registers dynamically, sends the user to the consent page with PKCE and the
 * resource indicator, redeems the code (checking `iss`, RFC 9207) and calls a tool with the
 * token. The browser step is played by a small HTTP client: it fetches the consent page,
 * submits the API key with the page's CSRF token and cookie, and follows the redirect.
 */

import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/client';
import { openConsent, submitConsent, useOAuthWarden } from '../helpers/oauth.js';
import { stillServing } from '../helpers/warden.js';

type Provider = OAuthClientProvider & { authorizationUrl: URL | undefined };

/** An in-memory provider for a native client listening on a loopback callback. */
function memoryProvider(redirectUrl: string): Provider {
  const saved: Record<string, unknown> = {};
  return {
    authorizationUrl: undefined,
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return { client_name: 'SDK v2 test client', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    state: () => 'sdk-state',
    clientInformation: () => saved['client'] as never,
    saveClientInformation: (info) => {
      saved['client'] = info;
    },
    tokens: () => saved['tokens'] as never,
    saveTokens: (tokens) => {
      saved['tokens'] = tokens;
    },
    saveCodeVerifier: (verifier) => {
      saved['verifier'] = verifier;
    },
    codeVerifier: () => saved['verifier'] as string,
    saveDiscoveryState: (state) => {
      saved['discovery'] = state;
    },
    discoveryState: () => saved['discovery'] as never,
    redirectToAuthorization(url) {
      this.authorizationUrl = url;
    },
  } as Provider;
}

describe('official SDK v2 client OAuth against mcp-warden as its own authorization server', () => {
  it('completes discovery, registration, PKCE, consent and the code exchange, then calls a tool', async () => {
    const warden = await useOAuthWarden();
    const provider = memoryProvider('http://127.0.0.1:43118/callback');
    const first = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider });
    const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
    await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);

    const authorization = provider.authorizationUrl as URL;
    expect(authorization.origin + authorization.pathname).toBe(`${warden.issuer}/oauth/authorize`);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('resource')).toBe(`${warden.issuer}/mcp`);

    // The user's browser: the consent page, the key, the redirect back to the client.
    const form = await openConsent(authorization.href);
    expect(form.page.text).toContain('SDK v2 test client');
    const approved = await submitConsent(warden.issuer, form, { api_key: warden.key });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers['location'] as string);
    expect(callback.origin + callback.pathname).toBe('http://127.0.0.1:43118/callback');
    expect(callback.searchParams.get('state')).toBe('sdk-state');
    await first.finishAuth(callback.searchParams);

    const transport = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider });
    const signedIn = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
    await signedIn.connect(transport);
    try {
      const tools = await signedIn.listTools();
      expect(tools.tools.map((tool) => tool.name)).toContain('echo');
      const result = await signedIn.callTool({ name: 'echo', arguments: { text: 'through the front door' } });
      expect(JSON.stringify(result)).toContain('through the front door');
    } finally {
      await signedIn.close();
    }
    expect(await stillServing(warden)).toBe(true);
  });
});
