/**
 * mcp-warden's own authorization server on two replicas sharing one Redis (issue 14, Must 6):
 * the registration limit counts across replicas, a consent page served by A is posted to B, a token issued by A is accepted by B, a refresh on B of a token from A works, a reuse on A of
 * the token B rotated out revokes the family on both, a code is single use across replicas, the
 * signing keys in Redis are sealed (no private key in clear) and two replicas starting together
 * agree on one key.
 */

import { describe, expect, it } from 'vitest';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { authorizeUrl, openConsent, pkce, postForm, REDIRECT_URI, registerClient, signIn, submitConsent, type Tokens } from '../helpers/oauth.js';
import { freePort } from '../helpers/port.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';

const redis = useRedis();
let run = 0;

/** Two replicas behind one public origin (A's): the issuer and the audience are the same on both. */
async function twoReplicas(): Promise<{ a: RunningWarden; b: RunningWarden; issuer: string; prefix: string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const prefix = `oauthrep${++run}:`;
  // A generous Redis timeout: on a loaded machine a 50 ms timeout would fall back to per-replica state, which is not what these tests test.
  const shared = { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: prefix, oauthIssuer: issuer, redisTimeout: 1000 };
  const [a, b] = await Promise.all([useWarden({ options: { ...shared, port } }), useWarden({ options: shared })]);
  return { a, b, issuer, prefix };
}

function initialize(warden: RunningWarden, token: string): Promise<RawResponse> {
  return send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
}

function refresh(warden: RunningWarden, issuer: string, clientId: string, token: string): Promise<RawResponse> {
  return postForm(`${warden.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId, resource: `${issuer}/mcp` });
}

function registration(warden: RunningWarden): Promise<RawResponse> {
  return send(`${warden.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) });
}

describe('OAuth front door across replicas (Redis)', () => {
  it('the registration limit (20 per address per hour) counts across replicas', async () => {
    const { a, b } = await twoReplicas();
    for (let index = 0; index < 10; index++) {
      expect((await registration(a)).status).toBe(201);
      expect((await registration(b)).status).toBe(201);
    }
    for (const replica of [a, b]) {
      const refused = await registration(replica);
      expect(refused.status).toBe(429);
      expect(refused.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(await stillServing(a)).toBe(true);
    expect(await stillServing(b)).toBe(true);
  });

  it('two replicas starting together publish one signing key; it is sealed in Redis', async () => {
    const { a, b, prefix } = await twoReplicas();
    const jwksA = (await send(`${a.url}/oauth/jwks`)).json<{ keys: Array<{ kid: string }> }>();
    const jwksB = (await send(`${b.url}/oauth/jwks`)).json<{ keys: Array<{ kid: string }> }>();
    expect(jwksA.keys).toHaveLength(1);
    expect(jwksB.keys.map((key) => key.kid)).toEqual(jwksA.keys.map((key) => key.kid));
    const stored = await redis.client.hgetall(`${prefix}oauth:signing-keys`);
    expect(stored['cur']).toBe(jwksA.keys[0]?.kid);
    // AES-GCM: neither the private part nor any JSON is readable in Redis.
    expect(stored['keys']).not.toContain('"d"');
    expect(stored['keys']).not.toContain('privateJwk');
  });

  it('a token issued by A is accepted by B; a refresh on B of A\'s token works; reuse on A revokes the family on both', async () => {
    const { a, b, issuer } = await twoReplicas();
    const { tokens, clientId } = await signIn(issuer, a.key);
    expect((await initialize(b, tokens.access_token)).status).toBe(200);
    const rotated = await refresh(b, issuer, clientId, tokens.refresh_token);
    expect(rotated.status).toBe(200);
    const next = rotated.json<Tokens>();
    expect((await initialize(a, next.access_token)).status).toBe(200);
    // The token B rotated out, presented to A: reuse, detected through Redis.
    const reused = await refresh(a, issuer, clientId, tokens.refresh_token);
    expect(reused.status).toBe(400);
    expect(reused.json()).toMatchObject({ error: 'invalid_grant' });
    // The whole family is revoked on both replicas: the refresh token B issued, the access tokens.
    const after = await refresh(b, issuer, clientId, next.refresh_token);
    expect(after.status).toBe(400);
    expect(after.json()).toMatchObject({ error: 'invalid_grant' });
    for (const replica of [a, b]) {
      const refused = await initialize(replica, next.access_token);
      expect(refused.status).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/^Unauthorized: /) } });
      expect(refused.headers['www-authenticate']).toContain('invalid_token');
    }
    expect(await stillServing(a)).toBe(true);
    expect(await stillServing(b)).toBe(true);
  });

  it('a client registered on A signs in on B; a code redeemed on A is spent on B', async () => {
    const { a, b, issuer } = await twoReplicas();
    const clientId = await registerClient(a.url);
    const { verifier, challenge } = pkce();
    const form = await openConsent(
      authorizeUrl(b.url, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 's' }),
    );
    const approved = await submitConsent(b.url, form, { api_key: b.key });
    expect(approved.status).toBe(302);
    const code = new URL(approved.headers['location'] as string).searchParams.get('code') ?? '';
    const redeem = (replica: RunningWarden): Promise<RawResponse> =>
      postForm(`${replica.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
    const first = await redeem(a);
    expect(first.status).toBe(200);
    const second = await redeem(b);
    expect(second.status).toBe(400);
    expect(second.json()).toMatchObject({ error: 'invalid_grant' });
    // The replay revoked the grant the first redemption made, on both replicas.
    const refused = await initialize(a, first.json<Tokens>().access_token);
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ error: { code: -32000 } });
    expect(await stillServing(b)).toBe(true);
  });

  it('the consent page served by A is posted to B: B checks its CSRF tag and issues the code; a forged tag is refused on B', async () => {
    const { a, b, issuer } = await twoReplicas();
    const clientId = await registerClient(a.url);
    const { verifier, challenge } = pkce();
    const form = await openConsent(
      authorizeUrl(a.url, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 's' }),
    );
    const forged = await submitConsent(b.url, { ...form, csrf: `${form.csrf.slice(0, -2)}AA` }, { api_key: b.key });
    expect(forged.status).toBe(403);
    expect(forged.headers['location']).toBeUndefined();
    const approved = await submitConsent(b.url, form, { api_key: b.key });
    expect(approved.status).toBe(302);
    const location = new URL(approved.headers['location'] as string);
    expect(location.searchParams.get('state')).toBe('s');
    const token = await postForm(`${a.url}/oauth/token`, { grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
    expect(token.status).toBe(200);
    expect((await initialize(a, token.json<Tokens>().access_token)).status).toBe(200);
    // Closed on B: posting it again to A finds it gone.
    const again = await submitConsent(a.url, form, { api_key: a.key });
    expect(again.status).toBe(400);
    expect(await stillServing(a)).toBe(true);
    expect(await stillServing(b)).toBe(true);
  });
});
