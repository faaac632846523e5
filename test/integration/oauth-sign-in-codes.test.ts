/**
 * One-time sign-in codes (issue 14, Must 3, key sign-in): the operator makes a code for an API
 * key with the built CLI (`mcp-warden oauth code`, operator key from the environment) against a
 * running server; the user types it on the consent page instead of the key; the tokens carry
 * that key's scopes and die with it. Reused, expired, wrong codes and codes for a revoked key
 * are refused as failed sign-ins (audit, brute-force guard); only an operator API key makes
 * codes; codes work across replicas sharing Redis. Time moves on a manual clock. The CLI runs
 * from the build (`npm run build` first, as for test/cli).
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateKeysFile, type KeyFileRecord } from '../../src/security/keys-file.js';
import { keyFingerprint } from '../../src/security/api-keys.js';
import { runCliAsync } from '../helpers/cli.js';
import { manualClock } from '../helpers/clock.js';
import { initializeBody, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { addKey, tempKeysPath } from '../helpers/keys.js';
import { authorizeUrl, openConsent, pkce, postForm, REDIRECT_URI, registerClient, signIn, submitConsent, useOAuthWarden, type Tokens } from '../helpers/oauth.js';
import { freePort } from '../helpers/port.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { openSession, stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';

/** Makes a code through the operator endpoint (what the CLI calls). */
function makeCode(issuer: string, operatorKey: string, body: Record<string, unknown>): Promise<RawResponse> {
  return send(`${issuer}/api/oauth/sign-in-codes`, { method: 'POST', headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function codeFor(issuer: string, operatorKey: string, keyId: string, ttlSeconds?: number): Promise<string> {
  const response = await makeCode(issuer, operatorKey, { keyId, ttlSeconds });
  expect(response.status, response.text).toBe(201);
  return response.json<{ code: string }>().code;
}

/** Registers a client, opens the consent page, types `fields` and returns the answer, with what redeeming needs. */
async function consent(issuer: string, fields: Record<string, string>): Promise<{ answer: RawResponse; clientId: string; verifier: string }> {
  const clientId = await registerClient(issuer);
  const { verifier, challenge } = pkce();
  const form = await openConsent(
    authorizeUrl(issuer, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp`, state: 'st' }),
  );
  return { answer: await submitConsent(issuer, form, fields), clientId, verifier };
}

/** Consent with a sign-in code, then the token exchange. */
async function signInWithCode(issuer: string, code: string): Promise<{ tokens: Tokens; clientId: string }> {
  const { answer, clientId, verifier } = await consent(issuer, { sign_in_code: code });
  expect(answer.status, answer.text.slice(0, 300)).toBe(302);
  const location = new URL(answer.headers['location'] as string);
  expect(location.searchParams.get('iss')).toBe(issuer);
  const token = await postForm(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
  expect(token.status, token.text).toBe(200);
  return { tokens: token.json<Tokens>(), clientId };
}

function expectCodeRefused(answer: RawResponse): void {
  expect(answer.status).toBe(401);
  expect(answer.text).toContain('That one-time code was not accepted.');
  expect(answer.headers['location']).toBeUndefined();
}

async function callTool(warden: RunningWarden, token: string, name: string, args: Record<string, unknown>): Promise<RawResponse> {
  const session = await openSession(warden, '2025-11-25', token);
  return send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(token, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } }),
  });
}

function auditPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'warden-otc-audit-')), 'audit.log');
}

describe('one-time sign-in codes: the CLI against a running server', () => {
  it('the operator makes a code with the CLI; the user signs in with it; the tokens carry the named key\'s tools and call a tool', async () => {
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user', tools: ['echo'] });
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { keysFile: path, auditLog } });
    const made = await runCliAsync(['oauth', 'code', '--key-id', user.record.id, '--server', warden.issuer, '--ttl', '10m'], { env: { MCP_API_KEY: warden.key } });
    expect(made.status, made.stderr).toBe(0);
    const code = made.stdout.trim();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    expect(made.stderr).toContain(`one-time sign-in code for key ${user.record.id}: single use, valid until`);

    // Typed as a person would: lower case, spaces for dashes.
    const { tokens } = await signInWithCode(warden.issuer, code.toLowerCase().replace(/-/g, ' '));
    expect(tokens.scope).toBe('mcp:tools:echo');
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims['sub']).toBe(user.record.id);
    const echoed = await callTool(warden, tokens.access_token, 'echo', { text: 'through a one-time code' });
    expect(echoed.status).toBe(200);
    expect(echoed.text).toContain('through a one-time code');
    const outside = await callTool(warden, tokens.access_token, 'calculate', { expression: '1+1' });
    expect(outside.text).not.toContain('"2"');

    await warden.stop();
    const audit = readFileSync(auditLog, 'utf8');
    expect(audit).toMatch(new RegExp(`"event":"oauth_code_issued","ip":"127\\.0\\.0\\.1","principal":"${keyFingerprint(warden.key)}","key":"${user.record.id}","expires":"`));
    expect(audit).toMatch(new RegExp(`"event":"oauth_sign_in","ip":"127\\.0\\.0\\.1","principal":"${user.record.id}","client":"mcpw_[^"]+","method":"one_time_code"`));
    for (const secret of [code, code.replace(/-/g, ''), warden.key, user.key, tokens.access_token]) {
      expect(audit).not.toContain(secret);
      expect(warden.logText()).not.toContain(secret);
    }
  });

  it('CLI refusals: no key in the environment or plain http to a remote host (exit 2); a non-operator key, an unknown key id (exit 1)', async () => {
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user' });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const noKey = await runCliAsync(['oauth', 'code', '--key-id', user.record.id, '--server', warden.issuer]);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain('set MCP_API_KEY to an operator API key');
    const remote = await runCliAsync(['oauth', 'code', '--key-id', user.record.id, '--server', 'http://mcp.example.com'], { env: { MCP_API_KEY: warden.key } });
    expect(remote.status).toBe(2);
    expect(remote.stderr).toContain('--server must be https');
    const badTtl = await runCliAsync(['oauth', 'code', '--key-id', user.record.id, '--server', warden.issuer, '--ttl', '2d'], { env: { MCP_API_KEY: warden.key } });
    expect(badTtl.status).toBe(2);
    const notOperator = await runCliAsync(['oauth', 'code', '--key-id', user.record.id, '--server', warden.issuer], { env: { MCP_API_KEY: user.key } });
    expect(notOperator.status).toBe(1);
    expect(notOperator.stderr).toContain('the key in MCP_API_KEY is not an operator key');
    expect(notOperator.stdout).toBe('');
    const unknown = await runCliAsync(['oauth', 'code', '--key-id', 'key_000000000000', '--server', warden.issuer], { env: { MCP_API_KEY: warden.key } });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('keyId names no active API key');
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('one-time sign-in codes: the operator endpoint', () => {
  it('only an operator API key makes codes: no key 401, a non-operator key 403, an operator-scoped token 403; bad input 400', async () => {
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user' });
    const warden = await useOAuthWarden({ options: { keysFile: path } });
    const body = { keyId: user.record.id };
    const none = await send(`${warden.issuer}/api/oauth/sign-in-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(none.status).toBe(401);
    const notOperator = await makeCode(warden.issuer, user.key, body);
    expect(notOperator.status).toBe(403);
    expect(notOperator.json()).toEqual({ error: 'insufficient_scope', message: 'Forbidden: insufficient scope' });
    expect(notOperator.headers['www-authenticate']).toContain('error="insufficient_scope"');
    // A token signed in with the operator key carries mcp:operator, and still may not mint codes.
    const { tokens } = await signIn(warden.issuer, warden.key);
    expect(tokens.scope).toContain('mcp:operator');
    const token = await makeCode(warden.issuer, tokens.access_token, body);
    expect(token.status).toBe(403);
    expect(token.json()).toMatchObject({ error: 'insufficient_scope' });
    expect(token.headers['www-authenticate']).toContain('not with a token');
    for (const bad of [{}, { keyId: 7 }, { keyId: user.record.id, ttlSeconds: 59 }, { keyId: user.record.id, ttlSeconds: 86_401 }, { keyId: user.record.id, ttlSeconds: 1.5 }, { keyId: 'key_000000000000' }]) {
      const response = await makeCode(warden.issuer, warden.key, bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.json()).toMatchObject({ error: 'invalid_request' });
    }
    const ok = await makeCode(warden.issuer, warden.key, body);
    expect(ok.status).toBe(201);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.json()).toMatchObject({ keyId: user.record.id, ttlSeconds: 900 });
    expect(await stillServing(warden)).toBe(true);
  });
});

describe('one-time sign-in codes: refusals on the consent page', () => {
  it('a code is single use: the second sign-in with it is refused and audited as reused; the first grant stands', async () => {
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user' });
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { keysFile: path, auditLog } });
    const code = await codeFor(warden.issuer, warden.key, user.record.id);
    const first = await signInWithCode(warden.issuer, code);
    const again = await consent(warden.issuer, { sign_in_code: code });
    expectCodeRefused(again.answer);
    const initialized = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(first.tokens.access_token), body: initializeBody() });
    expect(initialized.status).toBe(200);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    const audit = readFileSync(auditLog, 'utf8');
    expect(audit).toContain(`"event":"auth_failure","ip":"127.0.0.1","reason":"sign_in_code_reused","route":"/oauth/authorize","method":"one_time_code","key":"${user.record.id}"`);
    expect(audit).not.toContain(code);
  });

  it('a code expires (manual clock): valid until its last millisecond, refused from its end on', async () => {
    const clock = manualClock();
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user' });
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ clock: clock.now, options: { keysFile: path, auditLog } });
    const late = await codeFor(warden.issuer, warden.key, user.record.id, 60);
    const inTime = await codeFor(warden.issuer, warden.key, user.record.id, 60);
    clock.advance(59_999);
    await signInWithCode(warden.issuer, inTime);
    clock.advance(1);
    expectCodeRefused((await consent(warden.issuer, { sign_in_code: late })).answer);
    expect(warden.logs().some((line) => line['failure'] === 'sign_in_code_expired')).toBe(true);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    expect(readFileSync(auditLog, 'utf8')).toContain(`"event":"auth_failure","ip":"127.0.0.1","reason":"sign_in_code_expired","route":"/oauth/authorize","method":"one_time_code","key":"${user.record.id}"`);
  });

  it('a wrong code is a failed sign-in: refused, counted toward the ban like a wrong key', async () => {
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { banThreshold: 3, auditLog } });
    const wrong = await consent(warden.issuer, { sign_in_code: 'ABCDE-FGHJK-MNPQR-STVWX' });
    expectCodeRefused(wrong.answer);
    expect(warden.logs().some((line) => line['failure'] === 'sign_in_code_unknown')).toBe(true);
    expectCodeRefused((await consent(warden.issuer, { sign_in_code: 'not a code at all' })).answer);
    const both = await consent(warden.issuer, { sign_in_code: 'ABCDE-FGHJK-MNPQR-STVWX', api_key: warden.key });
    expect(both.answer.status).toBe(400);
    expect(both.answer.text).toContain('Enter an API key or a one-time code, not both.');
    expect(await stillServing(warden)).toBe(true);
    for (let attempt = 0; attempt < 2; attempt++) expectCodeRefused((await consent(warden.issuer, { sign_in_code: `ABCDE-FGHJK-MNPQR-STVW${attempt}` })).answer);
    const banned = await send(`${warden.issuer}/api/tools`, { headers: { authorization: `Bearer ${warden.key}` } });
    expect(banned.status).toBe(403);
    expect(banned.json()).toMatchObject({ error: 'ip_banned' });
    await warden.stop();
    const audit = readFileSync(auditLog, 'utf8');
    // A wrong code names no key; the typed text is not recorded.
    expect(audit).toContain('"event":"auth_failure","ip":"127.0.0.1","reason":"sign_in_code_unknown","route":"/oauth/authorize","method":"one_time_code","prev"');
    expect(audit).toContain('"event":"ip_banned"');
    expect(audit).not.toContain('ABCDE');
  });

  it('revoking the key ends the code and the tokens made with it', async () => {
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user' });
    const auditLog = auditPath();
    const warden = await useOAuthWarden({ options: { keysFile: path, auditLog } });
    const used = await codeFor(warden.issuer, warden.key, user.record.id);
    const unused = await codeFor(warden.issuer, warden.key, user.record.id);
    const { tokens, clientId } = await signInWithCode(warden.issuer, used);
    expect((await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(tokens.access_token), body: initializeBody() })).status).toBe(200);
    updateKeysFile(path, (file) => {
      (file.keys.find((record) => record.id === user.record.id) as KeyFileRecord).disabled = true;
    });
    await expect.poll(async () => (await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(tokens.access_token), body: initializeBody() })).status, { timeout: 2000 }).toBe(401);
    const refreshed = await postForm(`${warden.issuer}/oauth/token`, { grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(400);
    expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    expectCodeRefused((await consent(warden.issuer, { sign_in_code: unused })).answer);
    expect(warden.logs().some((line) => line['failure'] === 'sign_in_code_key_inactive')).toBe(true);
    // A revoked key gets no new code either.
    const none = await makeCode(warden.issuer, warden.key, { keyId: user.record.id });
    expect(none.status).toBe(400);
    expect(await stillServing(warden)).toBe(true);
    await warden.stop();
    expect(readFileSync(auditLog, 'utf8')).toContain(`"reason":"sign_in_code_key_inactive","route":"/oauth/authorize","method":"one_time_code","key":"${user.record.id}"`);
  });
});

describe('one-time sign-in codes across replicas (Redis)', () => {
  const redis = useRedis();

  it('a code made on A signs in on B, once: presented again on A it is refused', async () => {
    const path = tempKeysPath();
    const user = addKey(path, { name: 'user' });
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const shared = { redisUrl: redis.server.url, sharedSecret: TEST_SHARED_SECRET, redisPrefix: 'otcrep:', oauthIssuer: issuer, keysFile: path };
    const [a, b] = await Promise.all([useWarden({ options: { ...shared, port } }), useWarden({ options: shared })]);
    const code = await codeFor(a.url, a.key, user.record.id);
    const keys = await redis.client.keys('otcrep:oauth:otc:*');
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(await redis.client.hgetall(keys[0] as string))).not.toContain(code.replace(/-/g, ''));
    // B consents (its consent page, its form post); the client redeems on B too.
    const clientId = await registerClient(b.url);
    const { verifier, challenge } = pkce();
    const form = await openConsent(authorizeUrl(b.url, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: `${issuer}/mcp` }));
    const approved = await submitConsent(b.url, form, { sign_in_code: code });
    expect(approved.status).toBe(302);
    const redeemed = await postForm(`${b.url}/oauth/token`, { grant_type: 'authorization_code', code: new URL(approved.headers['location'] as string).searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: `${issuer}/mcp` });
    expect(redeemed.status).toBe(200);
    expect((await send(a.mcpUrl, { method: 'POST', headers: mcpHeaders(redeemed.json<Tokens>().access_token), body: initializeBody() })).status).toBe(200);
    expectCodeRefused((await consent(a.url, { sign_in_code: code })).answer);
    expect(a.logs().some((line) => line['failure'] === 'sign_in_code_reused')).toBe(true);
    expect(await stillServing(a)).toBe(true);
    expect(await stillServing(b)).toBe(true);
  });
});
