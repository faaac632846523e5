/**
 * Least privilege for operator data (issue 9 §D): `/api/status`, `/metrics`, the full tool
 * catalog, the status resource, `server_status` and the security-review prompt need the
 * operator role; resources, templates, prompts and completions are filtered by the credential's
 * scopes like `tools/list`. Credentials: a `--tools echo` keys-file key, an unrestricted
 * keys-file key that is not an operator, JWTs with no scope / tools only / the operator scope
 * (signed here, JWKS on loopback), an operator keys-file key and the server's own key.
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { runCli } from '../helpers/cli.js';
import { apiStatus, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { openSession, startWarden, stillServing, useWarden, type RunningWarden } from '../helpers/warden.js';
import { addKey } from '../helpers/keys.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://mcp.example.test';
const ALL_TOOLS = ['calculate', 'confirm_action', 'current_time', 'echo', 'hash_text', 'server_status', 'system_info'];
const SCOPE_ERROR = { jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: insufficient scope' }, id: null };
const SCOPE_BODY = { error: 'insufficient_scope', message: 'Forbidden: insufficient scope' };

/** Sends one JSON-RPC request on a session and returns the raw answer. */
async function rpc(warden: RunningWarden, key: string, session: { sessionId: string; version: string }, method: string, params?: unknown): Promise<RawResponse> {
  return send(warden.mcpUrl, {
    method: 'POST',
    headers: mcpHeaders(key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, ...(params === undefined ? {} : { params }) }),
  });
}

function result<T>(response: RawResponse): T {
  expect(response.status).toBe(200);
  return response.json<{ result: T }>().result;
}

function expectOperatorRefusal(response: RawResponse, body: unknown, oauth: boolean): void {
  expect(response.status).toBe(403);
  expect(response.json()).toEqual(body);
  const challenge = String(response.headers['www-authenticate']);
  expect(challenge).toContain('error="insufficient_scope"');
  if (oauth) expect(challenge).toContain('scope="mcp:operator"');
}

describe('operator role and least privilege', () => {
  let jwksServer: Server;
  let warden: RunningWarden;
  let dir: string;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  const credentials: Record<string, string> = {};

  function token(scope: string | undefined, subject: string): Promise<string> {
    return new SignJWT(scope === undefined ? {} : { scope })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(subject)
      .setExpirationTime('5m')
      .sign(keys.privateKey);
  }

  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    jwksServer = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(jwks);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'warden-operator-'));
    const path = join(dir, 'keys.json');
    const add = (name: string, options: { tools?: string[]; operator?: boolean }): string => {
      return addKey(path, { name, ...options }).key;
    };
    credentials['echoKey'] = add('echo-only', { tools: ['echo'] });
    credentials['plainKey'] = add('all-tools', {});
    credentials['operatorKey'] = add('ops', { tools: ['echo'], operator: true });
    credentials['noScopeJwt'] = await token(undefined, 'no-scope');
    credentials['toolsJwt'] = await token('mcp:tools', 'tools-only');
    credentials['operatorJwt'] = await token('mcp:operator', 'operator');
    credentials['fullJwt'] = await token('mcp:tools mcp:operator', 'full');
    warden = await startWarden({
      options: {
        keysFile: path,
        rateLimit: 1000,
        jwtJwksUrl: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`,
        jwtIssuer: ISSUER,
        jwtAudience: AUDIENCE,
        publicUrl: AUDIENCE,
      },
    });
  });

  afterAll(async () => {
    await warden?.stop();
    await new Promise((resolve) => jwksServer?.close(resolve));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe.each([
    ['a --tools echo keys-file key', 'echoKey', ['echo']],
    ['a keys-file key without --operator', 'plainKey', ALL_TOOLS.filter((tool) => tool !== 'server_status')],
    ['a JWT with no scope', 'noScopeJwt', []],
    ['a JWT with mcp:tools only', 'toolsJwt', ALL_TOOLS.filter((tool) => tool !== 'server_status')],
  ])('%s (not an operator)', (_name, credential, tools) => {
    const key = (): string => credentials[credential] as string;

    it('gets 403 insufficient_scope on /api/status and /metrics, and only its own tools from /api/tools', async () => {
      const auth = { authorization: `Bearer ${key()}` };
      expectOperatorRefusal(await send(`${warden.url}/api/status`, { headers: auth }), SCOPE_BODY, true);
      expectOperatorRefusal(await send(`${warden.url}/metrics`, { headers: auth }), SCOPE_BODY, true);
      const catalog = await send(`${warden.url}/api/tools`, { headers: auth });
      expect(catalog.status).toBe(200);
      expect(catalog.json<{ tools: Array<{ name: string }> }>().tools.map((tool) => tool.name).sort()).toEqual(tools);
      expect(await stillServing(warden)).toBe(true);
    });

    it('sees only its tools, tool guides and completions over MCP; operator data → 403 -32000', async () => {
      const session = await openSession(warden, '2025-11-25', key());
      const listed = result<{ tools: Array<{ name: string }> }>(await rpc(warden, key(), session, 'tools/list'));
      expect(listed.tools.map((tool) => tool.name).sort()).toEqual(tools);
      const resources = result<{ resources: Array<{ uri: string }> }>(await rpc(warden, key(), session, 'resources/list'));
      expect(resources.resources.map((resource) => resource.uri).sort()).toEqual(tools.map((tool) => `warden://tools/${tool}`));
      const templates = result<{ resourceTemplates: Array<{ uriTemplate: string }> }>(await rpc(warden, key(), session, 'resources/templates/list'));
      expect(templates.resourceTemplates.map((template) => template.uriTemplate)).toEqual(['warden://tools/{name}']);
      const completion = result<{ completion: { values: string[] } }>(
        await rpc(warden, key(), session, 'completion/complete', { ref: { type: 'ref/resource', uri: 'warden://tools/{name}' }, argument: { name: 'name', value: '' } }),
      );
      expect([...completion.completion.values].sort()).toEqual(tools);
      expect(result<{ prompts: unknown[] }>(await rpc(warden, key(), session, 'prompts/list')).prompts).toEqual([]);

      for (const [method, params] of [
        ['tools/call', { name: 'server_status', arguments: {} }],
        ['resources/read', { uri: 'warden://server/status' }],
        ['resources/read', { uri: 'WARDEN://server/status' }],
        ['resources/read', { uri: 'warden://tools/server_status' }],
        ['resources/read', { uri: 'warden://tools/server%5Fstatus' }],
        ['prompts/get', { name: 'security_review', arguments: { focus: 'all' } }],
        ['completion/complete', { ref: { type: 'ref/prompt', name: 'security_review' }, argument: { name: 'focus', value: '' } }],
      ] as const) {
        const refused = await rpc(warden, key(), session, method, params);
        expect(refused.status, `${method} ${JSON.stringify(params)}`).toBe(403);
        expect(refused.json()).toEqual(SCOPE_ERROR);
        expect(String(refused.headers['www-authenticate'])).toContain('error="insufficient_scope"');
      }
      if (tools.includes('echo')) {
        const guide = result<{ contents: Array<{ text: string }> }>(await rpc(warden, key(), session, 'resources/read', { uri: 'warden://tools/echo' }));
        expect(guide.contents[0]?.text).toBe('echo: Returns its input.');
      }
      if (!tools.includes('calculate')) {
        const refused = await rpc(warden, key(), session, 'resources/read', { uri: 'warden://tools/calculate' });
        expect(refused.status).toBe(403);
        expect(String(refused.headers['www-authenticate'])).toContain('scope="mcp:tools:calculate"');
      }
      expect(await stillServing(warden)).toBe(true);
    });
  });

  it('the initialize answer names no tools (every credential reads it)', async () => {
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(credentials['noScopeJwt'] as string),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect(response.status).toBe(200);
    for (const tool of ALL_TOOLS) expect(response.text).not.toContain(tool);
  });

  it.each([
    ['the server’s own key', (): string => warden.key, ALL_TOOLS],
    ['a keys-file key with --operator (and --tools echo)', (): string => credentials['operatorKey'] as string, ['echo']],
    ['a JWT with mcp:operator', (): string => credentials['operatorJwt'] as string, []],
    ['a JWT with mcp:tools mcp:operator', (): string => credentials['fullJwt'] as string, ALL_TOOLS],
  ])('%s is an operator: 200 on every operator surface; its tool scope still applies', async (_name, key, tools) => {
    const auth = { authorization: `Bearer ${key()}` };
    const status = await send(`${warden.url}/api/status`, { headers: auth });
    expect(status.status).toBe(200);
    expect(status.json<{ security: { keys: { active: number } } }>().security.keys.active).toBe(4);
    const metrics = await send(`${warden.url}/metrics`, { headers: auth });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('# TYPE');
    const catalog = await send(`${warden.url}/api/tools`, { headers: auth });
    expect(catalog.json<{ tools: Array<{ name: string }> }>().tools.map((tool) => tool.name).sort()).toEqual(ALL_TOOLS);

    const session = await openSession(warden, '2025-11-25', key());
    expect(result<{ tools: Array<{ name: string }> }>(await rpc(warden, key(), session, 'tools/list')).tools.map((tool) => tool.name).sort()).toEqual(tools);
    const read = result<{ contents: Array<{ text: string }> }>(await rpc(warden, key(), session, 'resources/read', { uri: 'warden://server/status' }));
    expect(JSON.parse(read.contents[0]?.text ?? '{}')).toHaveProperty('config');
    const resources = result<{ resources: Array<{ uri: string }> }>(await rpc(warden, key(), session, 'resources/list'));
    expect(resources.resources.map((resource) => resource.uri)).toContain('warden://server/status');
    expect(result<{ prompts: Array<{ name: string }> }>(await rpc(warden, key(), session, 'prompts/list')).prompts.map((prompt) => prompt.name)).toEqual(['security_review']);
    expect(result<{ messages: unknown[] }>(await rpc(warden, key(), session, 'prompts/get', { name: 'security_review', arguments: { focus: 'all' } })).messages).toHaveLength(1);
    const call = await rpc(warden, key(), session, 'tools/call', { name: 'server_status', arguments: {} });
    if (tools.includes('server_status')) expect(result<{ structuredContent: Record<string, unknown> }>(call).structuredContent).toHaveProperty('uptimeSeconds');
    else expect(call.status).toBe(403);
  });

  it('refusals are counted as scope denials and recorded with who asked', async () => {
    const before = (await apiStatus(warden, warden.key)).json<{ scopeDenials: number }>().scopeDenials;
    expect((await apiStatus(warden, credentials['echoKey'] as string)).status).toBe(403);
    const after = (await apiStatus(warden, warden.key)).json<{ scopeDenials: number }>().scopeDenials;
    expect(after).toBe(before + 1);
    expect(warden.logs().some((line) => line['tool'] === 'operator:/api/status' && line['principal'] !== undefined)).toBe(true);
  });
});

describe('operator role elsewhere', () => {
  it('the metrics token keeps working for /metrics, and only for it', async () => {
    const metricsToken = 'scrape-token-0123456789abcdefghijkl';
    const warden = await useWarden({ options: { metricsToken } });
    try {
      expect((await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(200);
      expect((await apiStatus(warden, metricsToken)).status).toBe(401);
      expect((await apiStatus(warden, warden.key)).status).toBe(200);
      expect(await stillServing(warden)).toBe(true);
    } finally {
      await warden.stop();
    }
  });

  it('the one-time generated key is an operator key', async () => {
    const warden = await useWarden({ options: { apiKeys: [] } });
    try {
      expect(warden.server.generatedKey).toBeDefined();
      expect((await apiStatus(warden, warden.server.generatedKey as string)).status).toBe(200);
    } finally {
      await warden.stop();
    }
  });

  it('keys create --operator grants the role, keys list shows it, and rotate carries it over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-operator-cli-'));
    try {
      const file = join(dir, 'keys.json');
      expect(runCli(['keys', 'create', '--keys-file', file, '--name', 'ops', '--operator']).status).toBe(0);
      expect(runCli(['keys', 'create', '--keys-file', file, '--name', 'ci', '--tools', 'echo']).status).toBe(0);
      const records = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ id: string; name: string; operator?: boolean }> }).keys;
      expect(records.map((record) => [record.name, record.operator])).toEqual([
        ['ops', true],
        ['ci', false],
      ]);
      const table = runCli(['keys', 'list', '--keys-file', file]).stdout;
      expect(table.split('\n')[0]).toContain('OPERATOR');
      expect(table.split('\n').find((line) => line.includes('ops'))).toMatch(/yes$/);
      expect(runCli(['keys', 'rotate', records[0]?.id as string, '--keys-file', file, '--overlap', '0s']).status).toBe(0);
      const rotated = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ rotatedFrom?: string; operator?: boolean }> }).keys.find((record) => record.rotatedFrom === records[0]?.id);
      expect(rotated?.operator).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
