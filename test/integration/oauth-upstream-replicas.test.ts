/**
 * Upstream OpenID Connect sign-in on two replicas sharing one Redis behind a load balancer
 * (issue 14, Must 6): the sign-in starts on replica A (/oauth/authorize, the pending sign-in
 * stored in Redis), the provider's callback lands on replica B, which completes it and shows our
 * approval page (the consent stored in Redis); the Approve post lands on A, which issues the code; it is redeemed and the token calls a tool on A. The callback replayed on A finds the
 * sign-in spent (single use across replicas). With Redis frozen when the callback lands, B
 * answers a 503 page and issues nothing. A real provider (oidc-provider) on loopback.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { useBalancer, type Balancer } from '../helpers/balancer.js';
import { authorizeUrl, pkce, postForm, registerClient, REDIRECT_URI, type Tokens } from '../helpers/oauth.js';
import { Browser, IDP_CLIENT_ID, IDP_CLIENT_SECRET, useIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/port.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { connectClient, stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';

const redis = useRedis();
let run = 0;

const ACCOUNTS = { alice: { email: 'alice@example.com', email_verified: true, groups: ['mcp-users'] } };

/** Two replicas sharing Redis behind a balancer at the issuer's origin: the provider's callback goes to `route.callbackTo`, the rest to A. */
async function behindBalancer(): Promise<{ a: RunningWarden; b: RunningWarden; issuer: string; balancer: Balancer; route: { callbackTo: string } }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const idp = await useIdp(issuer, ACCOUNTS);
  const rules = join(mkdtempSync(join(tmpdir(), 'mcpw-oidc-rep-')), 'rules.json');
  writeFileSync(rules, JSON.stringify([{ group: 'mcp-users', scopes: ['mcp:tools:echo'] }]));
  const options = {
    redisUrl: redis.server.url,
    sharedSecret: TEST_SHARED_SECRET,
    redisPrefix: `oidcrep${++run}:`,
    // Generous: on a loaded machine a 50 ms timeout would fail the grant steps (closed), which is not what this test tests.
    redisTimeout: 1000,
    oauthIssuer: issuer,
    oauthUpstreamIssuer: idp.issuer,
    oauthUpstreamClientId: IDP_CLIENT_ID,
    oauthUpstreamClientSecret: IDP_CLIENT_SECRET,
    oauthUpstreamRules: rules,
    oauthUpstreamScopes: ['openid', 'email', 'groups'],
  };
  const [a, b] = await Promise.all([useWarden({ options }), useWarden({ options })]);
  const route = { callbackTo: 'b' };
  const balancer = await useBalancer({ a: a.url, b: b.url }, (_method, path) => (path === '/oauth/callback' ? route.callbackTo : 'a'), port);
  return { a, b, issuer, balancer, route };
}

describe('upstream OpenID Connect sign-in across replicas (Redis)', () => {
  it('started on A, the provider\'s callback lands on B, the token calls a tool on A; the callback replayed on A is refused', async () => {
    const { a, b, issuer, balancer, route } = await behindBalancer();
    const clientId = await registerClient(issuer);
    const { verifier, challenge } = pkce();
    const start = authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'mcp-state' });
    const browser = new Browser();
    let callback: URL | undefined;
    const { final } = await browser.walk(start, 'alice', REDIRECT_URI, (url) => {
      if (url.pathname === '/oauth/callback') callback = url;
      return url;
    });
    expect(balancer.served).toContain('a GET /oauth/authorize');
    expect(balancer.served).toContain('b GET /oauth/callback');
    // B showed the approval page (the consent kept in Redis); its Approve post landed on A.
    expect(balancer.served).toContain('a POST /oauth/authorize');
    expect(final?.searchParams.get('state')).toBe('mcp-state');
    expect(final?.searchParams.get('iss')).toBe(issuer);
    const code = final?.searchParams.get('code') ?? '';
    expect(code).toMatch(/^mcpwc_/);

    const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
    expect(token.status).toBe(200);
    const tokens = token.json<Tokens>();
    expect(tokens.scope).toBe('mcp:tools:echo');
    expect(decodeJwt(tokens.access_token).sub).toBe('oidc:alice');
    const { client } = await connectClient(a, tokens.access_token);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'signed in on B, calling on A' } });
      expect(JSON.stringify(result)).toContain('signed in on B, calling on A');
    } finally {
      await client.close();
    }

    // The same callback (same browser, same state) now landing on A: the sign-in was spent on B.
    route.callbackTo = 'a';
    const replay = await browser.request((callback as URL).href);
    expect(replay.status).toBe(400);
    expect(replay.headers['content-type']).toContain('text/html');
    expect(replay.text).toContain('expired, was already used or was started in another browser');
    expect(a.logs().some((line) => JSON.stringify(line).includes('"upstream_state"'))).toBe(true);
    expect(await stillServing(a)).toBe(true);
    expect(await stillServing(b)).toBe(true);
  });

  it('Redis frozen when the provider\'s callback lands on B: a 503 page, no code; sign-in works again once Redis answers', async () => {
    const { b, issuer } = await behindBalancer();
    const clientId = await registerClient(issuer);
    const { challenge } = pkce();
    const start = authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'mcp-state' });
    let frozen = false;
    try {
      const { final, response } = await new Browser().walk(start, 'alice', REDIRECT_URI, (url) => {
        if (url.pathname === '/oauth/callback') {
          redis.server.pause();
          frozen = true;
        }
        return url;
      });
      expect(frozen).toBe(true);
      expect(final).toBeUndefined();
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.headers['location']).toBeUndefined();
      expect(response.text).toContain('briefly unavailable');
    } finally {
      redis.server.resume();
    }
    expect(b.logs().some((line) => line['failure'] === 'shared_state_unavailable' && line['path'] === '/oauth/callback')).toBe(true);
    const again = await new Browser().walk(start, 'alice', REDIRECT_URI);
    expect(again.final?.searchParams.get('code')).toMatch(/^mcpwc_/);
    expect(await stillServing(b)).toBe(true);
  });
});
