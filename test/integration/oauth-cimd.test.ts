/**
 * Client ID Metadata Documents through the real stack: mcp-warden as its own authorization
 * server takes an https URL as client id, fetches the client's metadata from a loopback https
 * server (the test allowance `--oauth-cimd-allow-loopback`, and `--oauth-cimd-ca-file` for the
 * test-only certificate), and signs in the official SDK v2 client that uses `clientMetadataUrl`.
 * Every refused document is an error page at /authorize (never a redirect to its unverified
 * redirect URIs) and invalid_client 401 at /token, with an `oauth_refused` audit record tagged
 * `cimd_<why>`, and the server goes on answering. Without the allowance, loopback is refused.
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { RawResponse } from '../helpers/http.js';
import { send } from '../helpers/http.js';
import { json, metadataFor, TEST_CA_FILE, useDocumentServer, type DocumentServer } from '../helpers/cimd.js';
import { manualClock } from '../helpers/clock.js';
import { authorizeUrl, memoryOAuthProvider, openConsent, pkce, postForm, submitConsent, useOAuthWarden } from '../helpers/oauth.js';
import { stillServing, type RunningWarden } from '../helpers/warden.js';

const CALLBACK = 'http://127.0.0.1:43119/callback';
const ALLOW = { oauthCimdAllowLoopback: true, oauthCimdCaFile: TEST_CA_FILE };

function auditPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'warden-cimd-audit-')), 'audit.log');
}

function authorize(warden: RunningWarden & { issuer: string }, clientId: string, redirectUri = CALLBACK): Promise<RawResponse> {
  const { challenge } = pkce();
  return send(authorizeUrl(warden.issuer, { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp`, state: 'st' }));
}

/** A refusal at the authorization endpoint: a 400 page, no redirect anywhere. */
function expectPage(response: RawResponse, text: string): void {
  expect(response.status).toBe(400);
  expect(response.headers['location']).toBeUndefined();
  expect(response.headers['content-type']).toContain('text/html');
  expect(response.text).toContain(text);
}

/** The `oauth_refused` records of an audit file, as `error/reason@route`. */
function refusals(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"event":"oauth_refused"'))
    .map((line) => JSON.parse(line) as { error: string; reason: string; route: string })
    .map((record) => `${record.error}/${record.reason}@${record.route}`);
}

describe('Client ID Metadata Documents', () => {
  it('is advertised when on, and off with --no-oauth-cimd (a URL client id is then an unknown client)', async () => {
    const docs = await useDocumentServer();
    const url = docs.document('/client.json');
    const on = await useOAuthWarden({ options: ALLOW });
    expect((await send(`${on.issuer}/.well-known/oauth-authorization-server`)).json<Record<string, unknown>>()['client_id_metadata_document_supported']).toBe(true);
    const off = await useOAuthWarden({ options: { oauthCimd: false } });
    expect((await send(`${off.issuer}/.well-known/oauth-authorization-server`)).json<Record<string, unknown>>()['client_id_metadata_document_supported']).toBe(false);
    expectPage(await authorize(off, url), 'Unknown client');
    expect(docs.hits('/client.json')).toBe(0);
  });

  it('signs a document client in by key: its name and redirect host on the consent page, the code redeemed with the URL as client id', async () => {
    const docs = await useDocumentServer();
    const url = docs.document('/client.json');
    const warden = await useOAuthWarden({ options: ALLOW });
    expect(warden.logs().some((line) => line['level'] === 40 && String(line['msg']).includes('--oauth-cimd-allow-loopback is on'))).toBe(true);
    const { verifier, challenge } = pkce();
    const form = await openConsent(authorizeUrl(warden.issuer, { response_type: 'code', client_id: url, redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp`, state: 'st' }));
    expect(form.page.text).toContain('CIMD Test Client');
    expect(form.page.text).toContain('127.0.0.1:43119');
    expect(form.page.text).toContain(url);
    const approved = await submitConsent(warden.issuer, form, { api_key: warden.key });
    expect(approved.status).toBe(302);
    const code = new URL(approved.headers['location'] as string).searchParams.get('code') ?? '';
    const token = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: url, code_verifier: verifier, resource: `${warden.issuer}/mcp` });
    expect(token.status).toBe(200);
    // A loopback redirect URI may differ in its port only (RFC 8252 §7.3).
    expect((await authorize(warden, url, 'http://127.0.0.1:50001/callback')).status).toBe(200);
    // Cached: one fetch for all of it.
    expect(docs.hits('/client.json')).toBe(1);
  });

  it('refuses every unusable document with invalid_client on a page, an audit record tagged cimd_<why>, and goes on serving', async () => {
    const docs = await useDocumentServer();
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { ...ALLOW, auditLog } });
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['https://10.0.0.1/client.json', 'cimd_private_address', 'could not be fetched'],
      ['https://169.254.169.254/latest/meta-data/client.json', 'cimd_private_address', 'could not be fetched'],
      [docs.route('/big.json', json({ ...metadataFor(`${docs.origin}/big.json`), padding: 'x'.repeat(6000) })), 'cimd_too_large', 'too large'],
      [docs.route('/moved.json', (_request, response) => response.writeHead(302, { location: `${docs.origin}/client.json` }).end()), 'cimd_redirect', 'could not be fetched'],
      [docs.route('/text.json', (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>')), 'cimd_content_type', 'application/json'],
      [docs.route('/broken.json', json('{"client_id":')), 'cimd_not_json', 'not JSON'],
      [docs.document('/other.json', { client_id: 'https://app.example/client.json' }), 'cimd_client_id_mismatch', 'another client_id'],
      [docs.document('/bad-uri.json', { redirect_uris: ['http://evil.example/cb'] }), 'cimd_redirect_uris', 'redirect_uris'],
      [docs.document('/secret.json', { token_endpoint_auth_method: 'client_secret_post' }), 'cimd_auth_method', 'public clients'],
      [`${docs.origin}/client.json#x`, 'cimd_url', 'not a usable'],
      [`${docs.origin}/a/../client.json`, 'cimd_url', 'not a usable'],
    ];
    for (const [url, reason, text] of cases) {
      const response = await authorize(warden, url);
      expectPage(response, text);
      expect(warden.logs().some((line) => line['failure'] === reason || line['reason'] === reason), reason).toBe(true);
    }
    // A good document, but a redirect URI it does not list: shown, never followed.
    expectPage(await authorize(warden, docs.document('/client.json'), 'https://evil.example/cb'), 'not registered');
    expect(docs.hits('/client.json')).toBe(1);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    const audit = refusals(auditLog);
    for (const [, reason] of cases) expect(audit, reason).toContain(`invalid_client/${reason}@/oauth/authorize`);
    expect(audit).toContain('invalid_request/redirect_uri_mismatch@/oauth/authorize');
  });

  it('gives up on a document server that does not answer within 5 seconds', { timeout: 20_000 }, async () => {
    const docs = await useDocumentServer();
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { ...ALLOW, auditLog } });
    const url = docs.route('/slow.json', () => {
      // Never answers.
    });
    const started = Date.now();
    expectPage(await authorize(warden, url), 'could not be fetched');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThan(15_000);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    expect(refusals(auditLog)).toContain('invalid_client/cimd_timeout@/oauth/authorize');
  });

  it('at the token endpoint a document that is gone is invalid_client 401 with a challenge', async () => {
    const docs = await useDocumentServer();
    const clock = manualClock();
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ clock: clock.now, options: { ...ALLOW, auditLog } });
    const url = docs.document('/client.json', {}, { 'cache-control': 'max-age=60' });
    const { verifier, challenge } = pkce();
    const form = await openConsent(authorizeUrl(warden.issuer, { response_type: 'code', client_id: url, redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', resource: `${warden.issuer}/mcp` }));
    const approved = await submitConsent(warden.issuer, form, { api_key: warden.key });
    const code = new URL(approved.headers['location'] as string).searchParams.get('code') ?? '';
    // The client takes its document down; once the cached copy is stale, the client is gone.
    docs.route('/client.json', (_request, response) => response.writeHead(404).end());
    clock.advance(61_000);
    const token = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: url, code_verifier: verifier, resource: `${warden.issuer}/mcp` });
    expect(token.status).toBe(401);
    expect(token.json<{ error: string }>().error).toBe('invalid_client');
    expect(token.headers['www-authenticate']).toContain('error="invalid_client"');
    expect(docs.hits('/client.json')).toBe(2);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    expect(refusals(auditLog)).toContain('invalid_client/cimd_status@/oauth/token');
  });

  it('one address starts at most 30 document fetches a minute: then a page (temporarily_unavailable), and the server goes on', async () => {
    const docs = await useDocumentServer();
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { ...ALLOW, auditLog, rateLimit: 1000 } });
    for (let index = 0; index < 30; index += 1) expectPage(await authorize(warden, `${docs.origin}/gone-${index}.json`), 'could not be fetched');
    const url = docs.document('/client.json');
    expectPage(await authorize(warden, url), 'Too many client metadata documents');
    expect(docs.hits('/client.json')).toBe(0);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    const audit = refusals(auditLog);
    expect(audit).toContain('invalid_client/cimd_status@/oauth/authorize');
    expect(audit).toContain('temporarily_unavailable/cimd_rate_limited@/oauth/authorize');
  });

  it('without the test allowance a document on loopback is refused, by address and by name (localhost), and never fetched', async () => {
    const docs = await useDocumentServer();
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { oauthCimdCaFile: TEST_CA_FILE, auditLog } });
    const url = docs.document('/client.json');
    expectPage(await authorize(warden, url), 'could not be fetched');
    expectPage(await authorize(warden, url.replace('127.0.0.1', 'localhost')), 'could not be fetched');
    // Plain http is refused before anything else.
    expectPage(await authorize(warden, 'http://127.0.0.1:1/client.json'), 'Unknown client');
    expect(docs.hits('/client.json')).toBe(0);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    expect(refusals(auditLog)).toContain('invalid_client/cimd_private_address@/oauth/authorize');
  });
});


describe('official SDK v2 client with a Client ID Metadata Document', () => {
  async function publish(docs: DocumentServer, redirectUrl: string): Promise<string> {
    const url = `${docs.origin}/oauth/sdk-client.json`;
    docs.route('/oauth/sdk-client.json', json({ ...metadataFor(url, redirectUrl), client_name: 'SDK v2 CIMD client' }));
    return url;
  }

  it('completes the flow with its URL as client id (no registration) and calls a tool', async () => {
    const docs = await useDocumentServer();
    const redirectUrl = 'http://127.0.0.1:43120/callback';
    const clientId = await publish(docs, redirectUrl);
    const warden = await useOAuthWarden({ options: ALLOW });
    const provider = memoryOAuthProvider(redirectUrl, { clientName: 'SDK v2 CIMD client', state: 'cimd-state', clientMetadataUrl: clientId });
    const first = new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 'sdk-cimd-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);

    const authorization = provider.authorizationUrl as URL;
    // The URL itself is the client id: no registration happened (registered ids are mcpw_...).
    expect(authorization.searchParams.get('client_id')).toBe(clientId);

    const form = await openConsent(authorization.href);
    expect(form.page.text).toContain('SDK v2 CIMD client');
    const approved = await submitConsent(warden.issuer, form, { api_key: warden.key });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers['location'] as string);
    expect(callback.origin + callback.pathname).toBe(redirectUrl);
    expect(callback.searchParams.get('state')).toBe('cimd-state');
    await first.finishAuth(callback.searchParams);

    const signedIn = new Client({ name: 'sdk-cimd-test', version: '1.0.0' });
    await signedIn.connect(new StreamableHTTPClientTransport(new URL(warden.mcpUrl), { authProvider: provider }));
    try {
      const result = await signedIn.callTool({ name: 'echo', arguments: { text: 'identified by a document' } });
      expect(JSON.stringify(result)).toContain('identified by a document');
    } finally {
      await signedIn.close();
    }
    expect(docs.hits('/oauth/sdk-client.json')).toBe(1);
    expect(await stillServing(warden)).toBe(true);
  });
});
