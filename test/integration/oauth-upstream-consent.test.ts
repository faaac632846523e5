/**
 * Our own approval page after an upstream OpenID Connect sign-in (red-team finding on issue 14:
 * with the provider's single sign-on, a link naming an openly registered client and its
 * redirect URI used to hand that client a code with no screen at all). A real provider
 * (oidc-provider) on loopback. The attack now stops at a page naming the client, its id, the
 * redirect host, the signed-in user and the scopes; only an Approve post carrying the CSRF token
 * of that browser's page, with its cookie, issues the code; without the cookie, with a forged
 * token, replayed, or after expiry (manual clock) it is refused with the exact status. Deny
 * sends access_denied. Also here: the callback's `iss` (RFC 9207), domain rules and an absent
 * `email_verified`, client names with format characters, and the loopback warning on both pages.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { authorizeUrl, pkce, postForm, registerClient, REDIRECT_URI, useOAuthWarden } from '../helpers/oauth.js';
import { approvalForm, Browser, IDP_CLIENT_ID, IDP_CLIENT_SECRET, useIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/port.js';
import { manualClock } from '../helpers/clock.js';
import { stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';
import { send } from '../helpers/http.js';
import { UpstreamOidc } from '../../src/security/oauth/upstream-oidc.js';
import { MemoryPendingSignIns } from '../../src/store/memory/pending-sign-ins.js';

const ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { email: 'alice@example.com', email_verified: true, groups: ['mcp-users'] },
  // A provider that never sends email_verified (as Microsoft Entra ID), and one that says false.
  carol: { email: 'carol@example.org' },
  dave: { email: 'dave@example.org', email_verified: false },
};
const RULES: unknown[] = [{ group: 'mcp-users', scopes: ['mcp:tools:echo'] }];
const ATTACKER_CB = 'https://attacker.example/cb';

function rulesFile(rules: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mcpw-oidc-consent-')), 'rules.json');
  writeFileSync(path, JSON.stringify(rules));
  return path;
}

async function setup(options: { rules?: unknown[]; clock?: () => number } = {}): Promise<{ warden: RunningWarden; issuer: string; idpIssuer: string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const idp = await useIdp(issuer, ACCOUNTS);
  const warden = await useWarden({
    clock: options.clock,
    options: {
      port,
      oauthIssuer: issuer,
      oauthUpstreamIssuer: idp.issuer,
      oauthUpstreamClientId: IDP_CLIENT_ID,
      oauthUpstreamClientSecret: IDP_CLIENT_SECRET,
      oauthUpstreamRules: rulesFile(options.rules ?? RULES),
      oauthUpstreamScopes: ['openid', 'email', 'groups'],
    },
  });
  return { warden, issuer, idpIssuer: idp.issuer };
}

/** A link to mcp-warden's authorization endpoint for a freshly registered client. */
async function link(issuer: string, redirectUri = REDIRECT_URI, name = 'Test Client'): Promise<{ url: string; clientId: string; verifier: string }> {
  const clientId = await registerClient(issuer, [redirectUri], name);
  const { verifier, challenge } = pkce();
  const url = authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'mcp-state', scope: 'mcp:tools:echo' });
  return { url, clientId, verifier };
}

function denied(response: { status: number; headers: Record<string, unknown> }, redirectUri = REDIRECT_URI): URL {
  expect(response.status).toBe(302);
  const location = new URL(response.headers['location'] as string);
  expect(location.origin + location.pathname).toBe(redirectUri);
  expect(location.searchParams.get('error')).toBe('access_denied');
  expect(location.searchParams.get('state')).toBe('mcp-state');
  expect(location.searchParams.get('code')).toBeNull();
  return location;
}

describe('approval page after an upstream sign-in', () => {
  it('the red-team link (open registration, SSO at the provider) stops at a page naming the attacker\'s client; only Approve with that browser\'s cookie and token issues a code, once', async () => {
    const { warden, issuer } = await setup();
    // The attacker registers a client of their own and sends the victim the link.
    const attack = await link(issuer, ATTACKER_CB, 'Totally Legit');
    const victim = new Browser({ consent: 'stop' });
    const { final, response: page } = await victim.walk(attack.url, 'alice', ATTACKER_CB);
    // Nothing went to the attacker: the victim's browser is on our page.
    expect(final).toBeUndefined();
    expect(page.status).toBe(200);
    expect(page.headers['location']).toBeUndefined();
    expect(page.text).toContain('<strong><bdi>Totally Legit</bdi></strong>');
    expect(page.text).toContain(`<code>${attack.clientId}</code>`);
    expect(page.text).toContain('<strong>attacker.example</strong>');
    expect(page.text).toContain('alice@example.com (subject <code>alice</code>)');
    expect(page.text).toContain('<li><code>mcp:tools:echo</code></li>');
    expect(page.text).not.toContain('loopback-warning');
    expect(page.text).not.toMatch(/<script|style=/);
    expect(page.headers['content-security-policy']).toBe("default-src 'none'; form-action 'self' https://attacker.example; frame-ancestors 'none'; base-uri 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(String(page.headers['set-cookie'])).toMatch(/^mcpw-oauth=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=600$/);
    const form = approvalForm(page.text) as { transaction: string; csrf: string };

    // The attacker (another browser: no cookie) cannot post the approval, even with the right fields.
    const noCookie = await new Browser().request(`${issuer}/oauth/authorize`, { ...form, action: 'approve' });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers['location']).toBeUndefined();
    // The victim's browser with a forged token, or with another transaction's token: refused.
    const forged = await victim.request(`${issuer}/oauth/authorize`, { transaction: form.transaction, csrf: 'A'.repeat(43), action: 'approve' });
    expect(forged.status).toBe(403);
    expect(warden.logText()).toContain('"csrf"');
    // Without an action: neither approved nor spent.
    const noAction = await victim.request(`${issuer}/oauth/authorize`, form);
    expect(noAction.status).toBe(400);
    expect(noAction.headers['location']).toBeUndefined();

    // The user approves on the page: now, and only now, the client gets its code.
    const approved = await victim.request(`${issuer}/oauth/authorize`, { ...form, action: 'approve' });
    expect(approved.status).toBe(302);
    const back = new URL(approved.headers['location'] as string);
    expect(back.origin + back.pathname).toBe(ATTACKER_CB);
    expect(back.searchParams.get('code')).toMatch(/^mcpwc_/);
    expect(back.searchParams.get('iss')).toBe(issuer);
    const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code: back.searchParams.get('code') as string, redirect_uri: ATTACKER_CB, client_id: attack.clientId, code_verifier: attack.verifier, resource: `${issuer}/mcp` });
    expect(token.status).toBe(200);
    expect(token.json<{ scope: string }>().scope).toBe('mcp:tools:echo');
    // Single use: the same post again finds nothing.
    const replayed = await victim.request(`${issuer}/oauth/authorize`, { ...form, action: 'approve' });
    expect(replayed.status).toBe(400);
    expect(replayed.headers['location']).toBeUndefined();
    expect(await stillServing(warden)).toBe(true);
  });

  it('Deny sends access_denied to the client and spends the approval; a loopback redirect gets the warning line', async () => {
    const { warden, issuer } = await setup();
    const browser = new Browser({ consent: 'stop' });
    const { response: page } = await browser.walk((await link(issuer)).url, 'alice', REDIRECT_URI);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="loopback-warning"');
    const form = approvalForm(page.text) as { transaction: string; csrf: string };
    denied(await browser.request(`${issuer}/oauth/authorize`, { ...form, action: 'deny' }));
    expect(warden.logText()).toContain('consent_denied');
    const after = await browser.request(`${issuer}/oauth/authorize`, { ...form, action: 'approve' });
    expect(after.status).toBe(400);
    expect(after.headers['location']).toBeUndefined();
    expect(await stillServing(warden)).toBe(true);
  });

  it('an approval page left open past its 10 minutes is refused (manual clock)', async () => {
    const clock = manualClock();
    const { warden, issuer } = await setup({ clock: clock.now });
    const browser = new Browser({ consent: 'stop' });
    const first = await browser.walk((await link(issuer)).url, 'alice', REDIRECT_URI);
    clock.advance(600_000 - 1000);
    const inTime = await browser.request(`${issuer}/oauth/authorize`, { ...(approvalForm(first.response.text) as { transaction: string; csrf: string }), action: 'approve' });
    expect(inTime.status).toBe(302);
    expect(new URL(inTime.headers['location'] as string).searchParams.get('code')).toMatch(/^mcpwc_/);
    const second = await browser.walk((await link(issuer)).url, 'alice', REDIRECT_URI);
    clock.advance(600_000);
    const late = await browser.request(`${issuer}/oauth/authorize`, { ...(approvalForm(second.response.text) as { transaction: string; csrf: string }), action: 'approve' });
    expect(late.status).toBe(400);
    expect(late.headers['location']).toBeUndefined();
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('the provider\'s iss in the callback (RFC 9207)', () => {
  it('a callback naming another issuer, or none while the provider advertises it, gets access_denied (upstream_iss_mismatch) and no approval page', async () => {
    const { warden, issuer } = await setup();
    for (const change of [(url: URL) => url.searchParams.set('iss', 'https://idp.elsewhere.test'), (url: URL) => url.searchParams.delete('iss')]) {
      const { final, response } = await new Browser().walk((await link(issuer)).url, 'alice', REDIRECT_URI, (url) => {
        if (url.pathname === '/oauth/callback') change(url);
        return url;
      });
      expect(response.status).toBe(302);
      denied({ status: response.status, headers: { location: final?.href } });
    }
    expect(warden.logText()).toContain('upstream_iss_mismatch');
    // The provider's own iss passes (oidc-provider sends it and advertises it).
    const { final } = await new Browser().walk((await link(issuer)).url, 'alice', REDIRECT_URI);
    expect(final?.searchParams.get('code')).toMatch(/^mcpwc_/);
    expect(await stillServing(warden)).toBe(true);
  });

  it('a provider that does not advertise the parameter may omit it, but a present iss must still match', async () => {
    const port = await freePort();
    const at = `http://127.0.0.1:${port}`;
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ issuer: at, authorization_endpoint: `${at}/auth`, token_endpoint: `${at}/token`, jwks_uri: `${at}/jwks` }));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const upstream = new UpstreamOidc({ issuer: at, clientId: 'c', clientSecret: 's', redirectUri: 'http://127.0.0.1:1/oauth/callback', scopes: ['openid'], rules: [], groupsClaim: 'groups', pending: new MemoryPendingSignIns() });
    expect(await upstream.checkIssuer(undefined)).toBeUndefined();
    expect(await upstream.checkIssuer(at)).toBeUndefined();
    expect((await upstream.checkIssuer('https://idp.elsewhere.test'))?.reason).toBe('upstream_iss_mismatch');
  });
});

describe('domain rules and email_verified', () => {
  it('an email without email_verified is refused by default and admitted where the rule allows it; email_verified false never is', async () => {
    const strict = await setup({ rules: [{ emailDomain: 'example.org', scopes: ['mcp:tools:echo'] }] });
    const refused = await new Browser().walk((await link(strict.issuer)).url, 'carol', REDIRECT_URI);
    denied({ status: refused.response.status, headers: { location: refused.final?.href } });
    expect(strict.warden.logText()).toContain('upstream_no_rule');
    expect(await stillServing(strict.warden)).toBe(true);

    const lenient = await setup({ rules: [{ emailDomain: 'example.org', allowMissingEmailVerified: true, scopes: ['mcp:tools:echo'] }] });
    const admitted = await new Browser().walk((await link(lenient.issuer)).url, 'carol', REDIRECT_URI);
    expect(admitted.final?.searchParams.get('code')).toMatch(/^mcpwc_/);
    const unverified = await new Browser().walk((await link(lenient.issuer)).url, 'dave', REDIRECT_URI);
    denied({ status: unverified.response.status, headers: { location: unverified.final?.href } });
    expect(await stillServing(lenient.warden)).toBe(true);
  });

  it('refuses to start with allowMissingEmailVerified that is not a boolean or not on a domain rule', async () => {
    for (const [rule, message] of [
      [{ emailDomain: 'example.org', allowMissingEmailVerified: 'yes', scopes: ['mcp:tools'] }, /--oauth-upstream-rules .*allowMissingEmailVerified/],
      [{ group: 'g', allowMissingEmailVerified: true, scopes: ['mcp:tools'] }, /--oauth-upstream-rules .*allowMissingEmailVerified goes with emailDomain/],
    ] as const) {
      const port = await freePort();
      const options = { port, oauthIssuer: `http://127.0.0.1:${port}`, oauthUpstreamIssuer: 'http://127.0.0.1:1', oauthUpstreamClientId: 'x', oauthUpstreamClientSecret: 'y', oauthUpstreamRules: rulesFile([rule]) };
      await expect(useWarden({ options })).rejects.toThrow(message);
    }
  });
});

describe('client names and the key sign-in page', () => {
  it('registration removes format characters from client_name; the page shows the name in <bdi>', async () => {
    const warden = await useOAuthWarden();
    const registered = await send(`${warden.issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: '\u202eTotally\u200b Legit\u2066\u00ad\ufeff', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId, client_name: name } = registered.json<{ client_id: string; client_name: string }>();
    expect(name).toBe('Totally Legit');
    const { challenge } = pkce();
    const page = await send(authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp` }));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<strong><bdi>Totally Legit</bdi></strong>');
    expect(page.text).not.toMatch(/[\u202e\u200b\u2066\u00ad\ufeff]/);
    expect(await stillServing(warden)).toBe(true);
  });

  it('the key sign-in page warns for a loopback redirect URI and not for an https one', async () => {
    const warden = await useOAuthWarden();
    for (const [redirectUri, warned] of [[REDIRECT_URI, true], ['http://localhost:8765/cb', true], ['https://app.example/cb', false]] as const) {
      const clientId = await registerClient(warden.issuer, [redirectUri]);
      const { challenge } = pkce();
      const page = await send(authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp` }));
      expect(page.status, redirectUri).toBe(200);
      expect(page.text.includes('id="loopback-warning"'), redirectUri).toBe(warned);
    }
    expect(await stillServing(warden)).toBe(true);
  });
});
