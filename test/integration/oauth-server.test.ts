/**
 * mcp-warden as its own authorization server (`--oauth-issuer`), black-box over HTTP: the
 * metadata documents, key sign-in through the consent page, tokens accepted on /mcp through the
 * resource-server path with the key's scopes, refresh rotation, revocation; and every bad input
 * the issue names, each with the RFC's error code and a check that the server still answers.
 */

import { describe, expect, it } from 'vitest';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { manualClock } from '../helpers/clock.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { authorizeUrl, openConsent, pkce, postForm, REDIRECT_URI, registerClient, signIn, submitConsent, useOAuthWarden } from '../helpers/oauth.js';
import { stillServing, type RunningWarden } from '../helpers/warden.js';

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
