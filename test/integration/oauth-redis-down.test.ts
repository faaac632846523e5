/**
 * The OAuth front door when Redis stops answering mid-flow (SIGSTOP: connections stay open,
 * every call times out after --redis-timeout): no grant is made without Redis, and each route says
 * so clearly (503 `temporarily_unavailable` with Retry-After, a page where a browser is, JSON
 * elsewhere), never a 500 or a token. Access tokens already issued: with `--redis-failure open`
 * (default) they are checked against this replica's own revocations; with `closed`, every request
 * is refused with 503 (the shared rate limiters answer before authentication) until Redis answers.
 * When Redis answers again, everything works.
 */

import { describe, expect, it } from 'vitest';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { authorizeUrl, openConsent, pkce, postForm, REDIRECT_URI, registerClient, signIn, submitConsent } from '../helpers/oauth.js';
import { freePort } from '../helpers/port.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { within } from '../helpers/wait.js';
import { stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';

const redis = useRedis();
let run = 0;

async function replica(extra: Record<string, unknown> = {}): Promise<{ warden: RunningWarden; issuer: string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const warden = await useWarden({ options: { port, redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: `oauthdown${++run}:`, oauthIssuer: issuer, redisTimeout: 250, ...extra } });
  return { warden, issuer };
}

function expectUnavailable(response: RawResponse): void {
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('1');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'The authorization server cannot reach its shared state; try again shortly' });
}

function expectUnavailablePage(response: RawResponse): void {
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('1');
  expect(response.headers['content-type']).toContain('text/html');
  expect(response.text).toContain('briefly unavailable');
}

/** Freezes Redis for `during`, then thaws it and waits until this replica can register again. */
async function withRedisFrozen(warden: RunningWarden, during: () => Promise<void>): Promise<void> {
  redis.server.pause();
  try {
    await during();
  } finally {
    redis.server.resume();
  }
  await within(5000, async () => (await send(`${warden.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) })).status === 201, 50);
}

describe('OAuth front door with Redis down mid-flow', () => {
  it('every grant step answers 503 temporarily_unavailable, none issues anything; afterwards sign-in works again', async () => {
    const { warden, issuer } = await replica();
    const { tokens, clientId } = await signIn(issuer, warden.key);
    const { verifier, challenge } = pkce();
    const authorize = authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'st' });
    const form = await openConsent(authorize);
    await withRedisFrozen(warden, async () => {
      expectUnavailable(await postForm(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId, resource: `${issuer}/mcp` }));
      expectUnavailable(await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code: 'mcpwc_x', redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` }));
      expectUnavailable(await send(`${issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) }));
      expectUnavailable(await postForm(`${issuer}/oauth/revoke`, { token: tokens.refresh_token }));
      expectUnavailablePage(await send(authorize));
      const consent = await submitConsent(issuer, form, { api_key: warden.key });
      expectUnavailablePage(consent);
      expect(consent.headers['location']).toBeUndefined();
      // Open policy: a token already issued is checked against this replica's own revocations meanwhile.
      expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(tokens.access_token), body: initializeBody() })).status).toBe(200);
    });
    // Logged with its reason (refusals of one kind from one address are aggregated), and never as a 500.
    expect(warden.logs().some((line) => line['failure'] === 'shared_state_unavailable' && line['status'] === 503)).toBe(true);
    expect(warden.logs().some((line) => line['status'] === 500)).toBe(false);
    expect((await signIn(issuer, warden.key)).tokens.access_token).toBeTruthy();
    expect(await stillServing(warden)).toBe(true);
  });

  it('with --redis-failure closed, a request with an access token is refused with 503 while Redis is down, and accepted again after', async () => {
    const { warden, issuer } = await replica({ redisFailure: 'closed' });
    const { tokens } = await signIn(issuer, warden.key);
    await withRedisFrozen(warden, async () => {
      const refused = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(tokens.access_token), body: initializeBody() });
      expect(refused.status).toBe(503);
      expect(refused.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/^Service Unavailable/) } });
      expectUnavailable(await send(`${issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) }));
    });
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(tokens.access_token), body: initializeBody() })).status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
  });
});
